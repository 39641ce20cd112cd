/**
 * Test helpers for engine tests: configs built through the config compiler's ConfigBuilder (the same
 * object model loadConfig produces), request packets, a fake clock, and a real SQLite lease store.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigBuilder } from '../../src/config/builder.js';
import type { Config, Host, OptionStatement, Pool, Scope, SourceLoc, Subnet } from '../../src/config/model.js';
import { openSqliteLeaseStore, type SqliteLeaseStore } from '../../leases/sqlite-lease-store.js';
import { createMemoryLogger, type MemoryLogger } from '../../src/log/logger.js';
import { noFailover, noPingCheck, type Clock, type EnginePorts, type PingCheck } from '../../src/engine/ports.js';
import { type DhcpPacket, DhcpOption, emptyPacket, ipv4FromString, ipv4ToBytes } from '../../src/wire/packet.js';
import type { NetInterface } from '../../src/net/transport.js';

export const LOC: SourceLoc = { file: 'test.conf', line: 1, column: 1 };
export const ip = (s: string): number => ipv4FromString(s)!;

/** A clock tests move by hand. */
export class FakeClock implements Clock {
  constructor(public t = 1_800_000_000) {}
  now(): number {
    return this.t;
  }
  advance(s: number): void {
    this.t += s;
  }
}

/** An option statement with constant bytes. */
export function opt(space: string, name: string, code: number, data: Uint8Array | number[], mode: OptionStatement['mode'] = 'option'): OptionStatement {
  return { kind: 'option', loc: LOC, mode, space, name, code, value: { kind: 'const', data: Buffer.from(data) } };
}
export const u32 = (n: number): Buffer => ipv4ToBytes(n);
export const flag = (b: boolean | 0 | 1 | 2): Buffer => Buffer.from([typeof b === 'boolean' ? (b ? 1 : 0) : b]);

/** A small builder on top of ConfigBuilder for the shapes the tests need. */
export class TestConfig {
  readonly b = new ConfigBuilder('test.conf');
  get global(): Scope {
    return this.b.config.global;
  }
  set(scope: Scope, ...sts: OptionStatement[]): this {
    for (const st of sts) this.b.addStatement(scope, st);
    return this;
  }
  subnet(net: string, mask: string, body: (s: Subnet) => void = () => undefined): Subnet {
    const s = this.b.beginSubnet(this.global, null, ip(net), ip(mask), LOC, LOC);
    body(s);
    this.b.endSubnet(s);
    return s;
  }
  /** A bare `range` in a subnet (ISC's implicit pool). Call inside subnet() before it ends. */
  range(s: Subnet, lo: string, hi: string, dynamicBootp = false): void {
    this.b.addRange({ subnet: s, share: s.sharedNetwork, draft: null }, ip(lo), ip(hi), dynamicBootp, LOC, LOC);
  }
  pool(s: Subnet, ranges: [string, string][], body: (p: Pool, scope: Scope) => void = () => undefined): Pool {
    const d = this.b.beginPool(s.sharedNetwork, s.scope, LOC);
    for (const [lo, hi] of ranges) this.b.addRange({ subnet: s, share: s.sharedNetwork, draft: d }, ip(lo), ip(hi), false, LOC, LOC);
    body(d.pool, d.pool.scope);
    // Allow/deny lists set by body via d.pool.permitList/prohibitList.
    this.b.endPool(d, LOC);
    return d.pool;
  }
  host(name: string, h: { mac?: string; uid?: Buffer; fixed?: string[] }, ...sts: OptionStatement[]): Host {
    const host = this.b.beginHost(this.global, name, LOC);
    if (h.mac !== undefined) host.hardware = { htype: 1, address: Buffer.from(h.mac.split(':').map((x) => parseInt(x, 16))) };
    if (h.uid !== undefined) host.clientId = h.uid;
    for (const f of h.fixed ?? []) host.fixedAddresses.push({ kind: 'address', address: ip(f) });
    for (const st of sts) this.b.addStatement(host.scope, st);
    this.b.endHost(host, LOC);
    return host;
  }
  done(): Config {
    const c = this.b.finish();
    const errs = this.b.diagnostics.filter((d) => d.severity === 'error');
    if (errs.length > 0) throw new Error(errs.map((e) => e.message).join('; '));
    return c;
  }
}

/** The seed scenario's subnet without failover (authoritative, pool .110-.210, 3600/86400). */
export function seedConfig(): Config {
  const t = new TestConfig();
  t.b.setAuthoritative(t.global, true, LOC);
  t.subnet('192.168.102.0', '255.255.255.0', (s) => {
    t.set(
      s.scope,
      opt('dhcp', 'subnet-mask', 1, u32(ip('255.255.255.0'))),
      opt('dhcp', 'broadcast-address', 28, u32(ip('192.168.102.255'))),
      opt('dhcp', 'routers', 3, u32(ip('192.168.102.1'))),
      opt('dhcp', 'domain-name-servers', 6, u32(ip('192.168.102.1'))),
    );
    t.pool(s, [['192.168.102.110', '192.168.102.210']], (_p, scope) => {
      t.set(scope, opt('server', 'default-lease-time', 1, u32(3600)), opt('server', 'max-lease-time', 2, u32(86400)));
    });
  });
  return t.done();
}

/** A temp-dir SQLite lease store, removed by `cleanup`. */
export function tempStore(): { store: SqliteLeaseStore; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'engine-test-'));
  const store = openSqliteLeaseStore(join(dir, 'leases.sqlite'));
  return {
    store,
    cleanup: () => {
      try {
        store.close();
      } catch {
        /* already closed */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function ports(clock: Clock, ping: PingCheck = noPingCheck): EnginePorts & { logger: MemoryLogger } {
  return { clock, logger: createMemoryLogger(), pingCheck: ping, failover: noFailover };
}

/** A client request. */
export function request(type: number, mac: string, opts: { xid?: number; ciaddr?: string; giaddr?: string; flags?: number; options?: [number, Buffer][] } = {}): DhcpPacket {
  const p = emptyPacket();
  p.xid = opts.xid ?? 0x1234;
  const m = Buffer.from(mac.split(':').map((x) => parseInt(x, 16)));
  m.copy(p.chaddr);
  p.hlen = m.length;
  if (opts.ciaddr) p.ciaddr = ip(opts.ciaddr);
  if (opts.giaddr) p.giaddr = ip(opts.giaddr);
  if (opts.flags) p.flags = opts.flags;
  if (type !== 0) p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));
  for (const [c, v] of opts.options ?? []) p.options.set(c, v);
  return p;
}

/** The seed primary's interface (192.168.102.100/24 on eth0), for tests that start the server on a fake transport. */
export const ETH0: NetInterface = {
  name: 'eth0',
  ifindex: 2,
  addresses: [{ address: '192.168.102.100', prefixLength: 24 }],
  mac: '02:00:00:00:00:01',
  mtu: 1500,
  hardwareType: 1,
  up: true,
  loopback: false,
  broadcast: true,
  pointToPoint: false,
};
