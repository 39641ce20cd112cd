/**
 * ISC `get-lease-hostnames` (server/dhcp.c ack_lease): when the parameter is true and no `host-name` option
 * is in effect for the reply (not configured, and not supplied by `use-host-decl-names` from the host
 * declaration), the server looks up the PTR name of the leased address with gethostbyaddr(3) — on every
 * OFFER and ACK, without a cache — and sends it as option 12. A failed lookup is logged at error level
 * ("No hostname for ADDR") and the reply goes out without a host name. Fixed-address BOOTP replies
 * (server/bootp.c) never look up.
 *
 * ISC's gethostbyaddr blocks the whole server; here the engine hands the lookup out as a
 * {@link HostnameLookupRequest} (like a ping-check) and the server resumes the reply when the answer (or a
 * timeout) arrives. This module is the pure part: when to look up and how the answer lands in the reply.
 *
 * @module
 */
import { type DhcpPacket, DhcpOption, ipv4ToString } from '../wire/packet.js';
import type { Logger } from '../log/logger.js';

/** A reply waiting for the PTR name of `address`; `resume` gives what the reply step gives next. */
export interface HostnameLookupRequest<O> {
  readonly address: number;
  /** Call with the looked-up name, or undefined when the lookup failed or timed out. */
  resume(name: string | undefined): O;
}

/** What decides whether ISC looks the name up. */
export interface HostnameLookupFacts {
  /** `get-lease-hostnames` evaluated in the reply's scopes (ISC 'f' parameter: 1 = true). */
  readonly getLeaseHostnames: number | undefined;
  /** A `host-name` option (dhcp space) is configured for the reply. */
  readonly hostNameConfigured: boolean;
  /** `use-host-decl-names` will supply the host declaration's name (ISC use_host_decl_name ran first). */
  readonly hostDeclNameApplies: boolean;
  /** The reply is a BOOTREPLY for a host's fixed address (bootp.c, which never looks up). */
  readonly fixedBootp: boolean;
}

/** ISC ack_lease's condition for the gethostbyaddr call. */
export function wantsLeaseHostname(f: HostnameLookupFacts): boolean {
  return f.getLeaseHostnames === 1 && !f.hostNameConfigured && !f.hostDeclNameApplies && !f.fixedBootp;
}

/**
 * Puts the looked-up name into the reply as ISC does: option 12 holds the name and its terminating NUL
 * (ISC stores `strlen(h_name) + 1` bytes), sent only when the client's (or the config's) parameter request
 * list asks for host-name, or when there is none. A failed lookup logs ISC's line.
 */
export function applyLeaseHostname(reply: DhcpPacket, address: number, name: string | undefined, prl: Buffer | undefined, logger: Logger): void {
  if (name === undefined || name.length === 0) {
    logger.error(`No hostname for ${ipv4ToString(address)}`);
    return;
  }
  if (prl !== undefined && prl.length > 0 && !prl.includes(DhcpOption.HOST_NAME)) return;
  const bytes = Buffer.from(name, 'latin1');
  reply.options.set(DhcpOption.HOST_NAME, Buffer.concat([bytes.subarray(0, 254), Buffer.alloc(1)]));
}
