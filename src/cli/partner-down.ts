/**
 * `dhcpd partner-down [-cf config-file] [-lf lease-file] [-db sqlite-file] [-pf pid-file] [peer-name]`.
 *
 * ISC's offline procedure for a partner that is known to be down (dhcpd.conf(5), "failover"): with the
 * server stopped, record `my state partner-down` for the relationship in its lease database, then start
 * it. ISC does this by appending a `failover peer "NAME" state { my state partner-down at …; }` record to
 * dhcpd.leases; dhcpd-ts writes the same record into its SQLite database. The partner's recorded state and
 * the MCLT are kept. The peer name may be omitted when the configuration declares exactly one.
 *
 * With a server running (a live process in the pid file), the command is sent to it over its local
 * control socket `<pid file>.ctl` (src/server/control-socket.ts) instead, as ISC's `omshell` sets
 * `local-state` of the `failover-state` object: the server moves at once (logging ISC's
 * `failover peer NAME: I move from communications-interrupted to partner-down`) and this prints the result.
 */
import { existsSync } from 'node:fs';
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { openSqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import type { FailoverStateRecord } from '../../leases/lease.js';
import { processAlive, readPidFile } from './pid-file.js';
import { controlSocketPath, sendControlRequest } from '../server/control-socket.js';

export interface PartnerDownOptions {
  config: Config;
  dbFile: string;
  pidFile: string;
  peer: string | undefined;
  logger: Logger;
  /** Seconds since the epoch; default now. */
  now?: number;
}

/** Puts one failover relationship into partner-down (live or recorded); resolves to the exit code. */
export async function partnerDown(o: PartnerDownOptions): Promise<number> {
  const names = [...o.config.failoverPeers.keys()];
  let peer = o.peer;
  if (peer === undefined) {
    if (names.length !== 1) {
      o.logger.error(names.length === 0 ? 'partner-down: the configuration declares no failover peer.' : `partner-down: name the failover peer (one of: ${names.join(', ')}).`);
      return 1;
    }
    peer = names[0];
  }
  if (!o.config.failoverPeers.has(peer)) {
    o.logger.error(`partner-down: unknown failover peer "${peer}" (declared: ${names.join(', ') || 'none'}).`);
    return 1;
  }
  const running = readPidFile(o.pidFile);
  if (running !== undefined && processAlive(running)) {
    const ctl = controlSocketPath(o.pidFile);
    if (!existsSync(ctl)) {
      o.logger.error(`partner-down: a server is running (pid ${running} in ${o.pidFile}) but has no control socket ${ctl}; stop it first, then start it again after this.`);
      return 1;
    }
    let res;
    try {
      res = await sendControlRequest(ctl, { command: 'partner-down', peer });
    } catch (e) {
      o.logger.error(`partner-down: a server is running (pid ${running}) but its control socket ${ctl} does not answer: ${e instanceof Error ? e.message : String(e)}`);
      return 1;
    }
    if (!res.ok) {
      o.logger.error(`partner-down: ${res.error}`);
      return 1;
    }
    if (res.command !== 'partner-down') {
      o.logger.error('partner-down: unexpected answer from the server.');
      return 1;
    }
    o.logger.info(res.message);
    o.logger.info(`failover peer ${res.peer}: my state ${res.state}, partner state ${res.partnerState}, mclt ${res.mclt} (server pid ${running}).`);
    return 0;
  }
  if (!existsSync(o.dbFile)) {
    o.logger.error(`partner-down: no lease database ${o.dbFile} (start the server once, or run dhcpd import).`);
    return 1;
  }
  const now = o.now ?? Math.floor(Date.now() / 1000);
  const store = openSqliteLeaseStore(o.dbFile);
  try {
    const old = store.getFailoverState(peer);
    const next: FailoverStateRecord = {
      peer,
      myState: 'partner-down',
      myStateTime: now,
      partnerState: old?.partnerState ?? 'unknown-state',
      partnerStateTime: old?.partnerStateTime ?? now,
      mclt: old?.mclt ?? null,
    };
    store.write((w) => w.putFailoverState(next));
    o.logger.info(`failover peer ${peer}: my state recorded as partner-down (was ${old?.myState ?? 'not recorded'}) in ${o.dbFile}.`);
  } finally {
    store.close();
  }
  return 0;
}
