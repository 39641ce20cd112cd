/**
 * JIT warm-up before serving: the first few hundred requests of a freshly started Node process run in V8's
 * interpreter and baseline tiers, several times slower than once the hot functions are optimised (measured
 * with DHCPD_TS_TRACE at 500 DORA/s: the first 0.5 s of traffic took 10-60 ms per turn instead of < 1 ms,
 * which alone put the p99 DORA latency of a 10 s run above 40 ms). So before the socket is opened the
 * server runs a bounded number of synthetic DORAs through the same code a real one takes — decode, the
 * engine with the real configuration, a SQLite commit, encode, a log line — against a private in-memory
 * lease store, with logging discarded, no ping, no failover and no `execute()`. Nothing leaves the process
 * and the real lease store is not touched.
 *
 * @module
 */
import { Writable } from 'node:stream';
import type { Config } from '../config/model.js';
import { decodePacket } from '../wire/decode.js';
import { encodePacket } from '../wire/encode.js';
import { DHCPDISCOVER, DHCPOFFER, DHCPREQUEST, DhcpOption, emptyPacket, messageType, type DhcpPacket } from '../wire/packet.js';
import { DhcpEngine, type EngineInterface } from '../engine/dhcp-engine.js';
import { noFailover, noPingCheck, type Clock } from '../engine/ports.js';
import type { AddressResolver } from '../policy/hosts.js';
import { createLogger } from '../log/logger.js';
import { setStatementExecutor, statementExecutor } from '../policy/execute-hook.js';

/** What a warm-up did. */
export interface WarmUpResult {
  /** Synthetic DORAs run (an exchange that got no OFFER counts too). */
  readonly exchanges: number;
  readonly elapsedMs: number;
}

/** Options of {@link warmUp}. */
export interface WarmUpOptions {
  readonly config: Config;
  /** The served interface the synthetic clients are on (its subnet's pools are used). */
  readonly iface: EngineInterface;
  readonly clock: Clock;
  readonly resolveAddresses: AddressResolver;
  readonly serverPort: number;
  readonly clientPort: number;
  /** At most this many DORAs (default 256: ~0.1-0.3 s of CPU on this class of machine). */
  readonly exchanges?: number;
  /** And at most this long, ms (default 300: start-up is never held up by more on a loaded machine). */
  readonly budgetMs?: number;
}

/** Environment variable that turns the warm-up off (`DHCPD_TS_WARMUP=0`). */
export const WARMUP_ENV = 'DHCPD_TS_WARMUP';

function clientPacket(type: number, n: number, xid: number, options: Array<[number, Buffer]>): DhcpPacket {
  const p = emptyPacket();
  p.xid = xid;
  // locally administered unicast MACs 02:77:xx:xx:xx:xx (never a real client's)
  p.chaddr[0] = 0x02;
  p.chaddr[1] = 0x77;
  p.chaddr.writeUInt32BE(n >>> 0, 2);
  p.hlen = 6;
  p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));
  p.options.set(DhcpOption.PARAMETER_REQUEST_LIST, Buffer.from([1, 3, 6, 15, 28, 51, 54]));
  for (const [c, v] of options) p.options.set(c, v);
  return p;
}

/**
 * Runs synthetic DORAs through a private engine on an in-memory store (see the module comment). Never
 * throws: a failure ends the warm-up early.
 */
export async function warmUp(o: WarmUpOptions): Promise<WarmUpResult> {
  const start = Date.now();
  const max = o.exchanges ?? 256;
  const budget = o.budgetMs ?? 300;
  let n = 0;
  const { openSqliteLeaseStore } = await import('../../leases/sqlite-lease-store.js');
  const store = openSqliteLeaseStore(':memory:');
  const logger = createLogger({ foreground: true, sink: { stream: new Writable({ write: (_c, _e, cb) => cb() }) } });
  const executor = statementExecutor();
  setStatementExecutor(undefined);
  try {
    const engine = new DhcpEngine({
      config: o.config,
      leases: store,
      ports: { clock: o.clock, logger, pingCheck: noPingCheck, failover: noFailover },
      resolveAddresses: o.resolveAddresses,
      serverPort: o.serverPort,
      clientPort: o.clientPort,
    });
    const handle = (p: DhcpPacket): DhcpPacket[] => {
      const raw = encodePacket(p);
      const d = decodePacket(raw);
      if (!d.ok) return [];
      const out = engine.handle({ packet: d.packet, raw, iface: o.iface, sourceAddress: 0, sourcePort: o.clientPort });
      const writes = engine.takeCommits();
      if (writes.length > 0) store.commit(writes);
      engine.committed();
      for (const r of out.replies) encodePacket(r.packet, r.encode);
      return out.replies.map((r) => r.packet);
    };
    // Turns of 8 clients: DISCOVERs, then their REQUESTs (as a burst of real clients arrives).
    while (n < max && Date.now() - start < budget) {
      const offers: DhcpPacket[] = [];
      for (let k = 0; k < 8; k++, n++) {
        for (const r of handle(clientPacket(DHCPDISCOVER, n, n, []))) if (messageType(r) === DHCPOFFER) offers.push(r);
      }
      for (const offer of offers) {
        const sid = offer.options.get(DhcpOption.SERVER_IDENTIFIER);
        const req: Array<[number, Buffer]> = [[DhcpOption.REQUESTED_ADDRESS, Buffer.from([offer.yiaddr >>> 24, (offer.yiaddr >>> 16) & 255, (offer.yiaddr >>> 8) & 255, offer.yiaddr & 255])]];
        if (sid !== undefined) req.push([DhcpOption.SERVER_IDENTIFIER, sid]);
        handle(clientPacket(DHCPREQUEST, offer.chaddr.readUInt32BE(2), offer.xid, req));
      }
      if (offers.length === 0 && n >= 64) break; // nothing to offer here: the REQUEST path cannot be warmed
    }
  } catch {
    // the warm-up is an optimisation only
  } finally {
    setStatementExecutor(executor);
    store.close();
    await logger.close();
  }
  return { exchanges: n, elapsedMs: Date.now() - start };
}
