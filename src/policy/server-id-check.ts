/**
 * ISC `server-id-check` (server/dhcpd.c reads it once from the global scope at start and logs "Setting
 * server-id-check true"; server/dhcp.c dhcprequest uses it): for a lease of a failover pool, a DHCPREQUEST
 * whose server identifier is set, not 0.0.0.0 and not the one this server would send — the
 * `server-identifier` of the packet's network scope (its shared network's first subnet and first pool),
 * else the arrival interface's address — is dropped with the debug line "…: not our server id", so that
 * only the server the client chose answers a SELECTING request. Off by default; only failover pools.
 *
 * @module
 */
import { type Config, resolveServerParameters } from '../config/model.js';

const enabled = new WeakMap<Config, boolean>();

/** The global `server-id-check` value (ISC reads it once, from the global scope only). */
export function serverIdCheckEnabled(config: Config): boolean {
  let v = enabled.get(config);
  if (v === undefined) {
    v = resolveServerParameters([config.global]).serverIdCheck;
    enabled.set(config, v);
  }
  return v;
}

/**
 * True when ISC would drop the request: the check is on, the lease is in a failover pool, and the request
 * names a server identifier (not 0.0.0.0) other than ours. `ourServerId` is evaluated only when needed.
 */
export function notOurServerId(config: Config, failoverPool: boolean, requested: number | undefined, ourServerId: () => number): boolean {
  if (!failoverPool || requested === undefined || requested === 0 || !serverIdCheckEnabled(config)) return false;
  return requested >>> 0 !== ourServerId() >>> 0;
}
