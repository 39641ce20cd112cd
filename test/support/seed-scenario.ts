/**
 * The seed scenario (docs SEED-SCENARIO.md) as a test harness: one bridge with the primary (192.168.102.100),
 * the secondary (192.168.102.101) and clients, all in network namespaces the test creates; the two example
 * configs (examples/dhcpd-primary.conf, examples/dhcpd-secondary.conf) with only MCLT and lease times made
 * small; either server role played by dhcpd-ts (`bin/dhcpd-ts`, the drop-in command line) or by the real ISC
 * dhcpd 4.4.3; ISC's dhclient with a script that only sets the address (never Debian's dhclient-script).
 *
 * Used by test/integration/seed-*.test.ts.
 */
import { execFile } from 'node:child_process';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTopology,
  dhclientArgs,
  ISC_DHCPD,
  type LanHost,
  type LanInfo,
  type NsProcess,
  type Topology,
  waitUntil,
} from './netns.js';

/** Repository root (works from test/support/*.ts and from dist/test/support/*.js). */
export const REPO_ROOT = fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url));
/** The drop-in launcher (runs dist/: `make build` first). */
export const DHCPD_TS = join(REPO_ROOT, 'bin', 'dhcpd-ts');

export const PRIMARY_ADDRESS = '192.168.102.100';
export const SECONDARY_ADDRESS = '192.168.102.101';
/** The seed's client. */
export const SEED_CLIENT_MAC = '52:54:00:02:bf:f8';
/** The failover relationship name of the example configs. */
export const PEER = 'dhcp-failover';

/** Small timers so the MCLT rule shows within seconds. */
export interface SeedTimes {
  /** `mclt` (primary only). */
  readonly mclt: number;
  /** `default-lease-time` of the pool. */
  readonly defaultLeaseTime: number;
  /** `max-lease-time` of the pool (default: unchanged, 86400). */
  readonly maxLeaseTime?: number;
  /** Add `auto-partner-down N;` to the failover block (the one config change beyond times). */
  readonly autoPartnerDown?: number;
}

/**
 * The example config of `role` with only `mclt`, `default-lease-time` (and optionally `max-lease-time`,
 * `auto-partner-down`) changed; every replaced line must exist, so a changed example fails loudly.
 */
export async function seedConfig(role: 'primary' | 'secondary', times: SeedTimes): Promise<string> {
  let text = await readFile(join(REPO_ROOT, 'examples', `dhcpd-${role}.conf`), 'utf8');
  const replace = (re: RegExp, by: string): void => {
    if (!re.test(text)) throw new Error(`examples/dhcpd-${role}.conf: no match for ${re}`);
    text = text.replace(re, by);
  };
  if (role === 'primary') replace(/\bmclt 1800;/, `mclt ${times.mclt};`);
  replace(/\bdefault-lease-time 3600;/, `default-lease-time ${times.defaultLeaseTime};`);
  if (times.maxLeaseTime !== undefined) replace(/\bmax-lease-time 86400;/, `max-lease-time ${times.maxLeaseTime};`);
  if (times.autoPartnerDown !== undefined) {
    replace(/(load balance max seconds 3;)/, `$1\n  auto-partner-down ${times.autoPartnerDown};`);
  }
  return text;
}

/** Which implementation plays a role. */
export type Impl = 'dhcpd-ts' | 'isc';

/** A server of the pair, either implementation, started with dhcpd's command line in its namespace. */
export interface SeedServer {
  readonly role: 'primary' | 'secondary';
  readonly impl: Impl;
  readonly host: LanHost;
  readonly dir: string;
  readonly configFile: string;
  readonly leasesFile: string;
  readonly pidFile: string;
  /** dhcpd-ts: the SQLite database beside the lease file. */
  readonly dbFile: string;
  /** The running process (replaced by {@link restart}). */
  process: NsProcess;
  /** Every line logged by every run of this server, in order. */
  log(): string;
  /** Starts again with the same files (after a kill); waits for "Server starting service.". */
  restart(): Promise<void>;
  /** SIGKILL by PID and wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM by PID and wait for the exit. */
  stop(): Promise<void>;
  /**
   * The lease bindings this server has stored: ISC's dhcpd.leases, or dhcpd-ts's database exported with
   * `dhcpd-ts export` (ISC's lease-file syntax); the last record of each address wins, as when ISC reads it.
   */
  bindings(): Promise<Map<string, LeaseRecord>>;
}

/** The fields of one `lease A { … }` record that the scenario checks. */
export interface LeaseRecord {
  readonly address: string;
  readonly bindingState: string | undefined;
  readonly hardware: string | undefined;
  readonly ends: string | undefined;
  readonly tsfp: string | undefined;
}

/** Parses ISC lease-file text; the last record of an address wins (ISC's reading rule). */
export function parseLeaseFile(text: string): Map<string, LeaseRecord> {
  const out = new Map<string, LeaseRecord>();
  for (const m of text.matchAll(/^lease (\d+\.\d+\.\d+\.\d+) \{([\s\S]*?)^\}/gm)) {
    const body = m[2]!;
    const field = (re: RegExp): string | undefined => re.exec(body)?.[1];
    out.set(m[1]!, {
      address: m[1]!,
      // `binding state` but not `next binding state` / `rewind binding state`.
      bindingState: field(/^\s+binding state (\S+);/m),
      hardware: field(/^\s+hardware ethernet ([0-9a-f:]+);/m),
      ends: field(/^\s+ends ([^;]+);/m),
      tsfp: field(/^\s+tsfp ([^;]+);/m),
    });
  }
  return out;
}

/** Runs a command on the host side (not in a namespace) and returns stdout; rejects on failure. */
function runHost(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, [...args], { timeout: timeoutMs, maxBuffer: 64 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** `bin/dhcpd-ts export -db DB -lf -`: the database as an ISC lease file. */
export async function exportDb(dbFile: string): Promise<string> {
  const text = await runHost(DHCPD_TS, ['export', '-db', dbFile, '-lf', '-']);
  // An export always has ISC's header; nothing at all means the launcher did not run (e.g. dist/ being rebuilt).
  if (!/authoring-byte-order|^# /m.test(text)) throw new Error(`dhcpd-ts export -db ${dbFile} printed no lease file`);
  return text;
}

/** Starts one server of the pair in `host`'s namespace with the files in a fresh directory of the topology. */
export async function startSeedServer(
  topology: Topology,
  host: LanHost,
  role: 'primary' | 'secondary',
  impl: Impl,
  config: string,
): Promise<SeedServer> {
  const dir = await topology.tempDir();
  const configFile = join(dir, 'dhcpd.conf');
  const leasesFile = join(dir, 'dhcpd.leases');
  const pidFile = join(dir, 'dhcpd.pid');
  const dbFile = `${leasesFile}.sqlite`;
  await writeFile(configFile, config);
  await writeFile(leasesFile, '');
  const runs: NsProcess[] = [];
  const launch = async (): Promise<NsProcess> => {
    const args = ['-4', ...(impl === 'isc' ? ['-f'] : []), '-d', '-cf', configFile, '-lf', leasesFile, '-pf', pidFile, host.ifname];
    const p = impl === 'isc' ? host.spawn(ISC_DHCPD, args) : host.spawn(DHCPD_TS, args);
    runs.push(p);
    await p.waitFor('Server starting service.', { timeoutMs: 20_000 });
    return p;
  };
  const server: SeedServer = {
    role,
    impl,
    host,
    dir,
    configFile,
    leasesFile,
    pidFile,
    dbFile,
    process: await launch(),
    log: () => runs.map((p) => p.output).join('\n'),
    async restart() {
      server.process = await launch();
    },
    async kill() {
      await server.process.stop('SIGKILL', 0);
    },
    async stop() {
      await server.process.stop('SIGTERM', 3000);
    },
    async bindings() {
      const text = impl === 'isc' ? await readFile(leasesFile, 'utf8') : await exportDb(dbFile);
      return parseLeaseFile(text);
    },
  };
  return server;
}

/** The seed LAN: primary, secondary, the seed client, and `extraClients` more client hosts. */
export interface SeedLan {
  readonly topology: Topology;
  readonly lan: LanInfo;
  readonly pri: LanHost;
  readonly sec: LanHost;
  readonly cli: LanHost;
  destroy(): Promise<void>;
}

/**
 * When SEED_LOG_DIR is set (debugging), writes each server's whole log there as `<prefix>-<role>.log`.
 */
export async function keepLogs(prefix: string, servers: readonly (SeedServer | undefined)[]): Promise<void> {
  const dir = process.env['SEED_LOG_DIR'];
  if (!dir) return;
  for (const s of servers) {
    if (!s) continue;
    await writeFile(join(dir, `${prefix}-${s.role}.log`), s.log());
    const leases = s.impl === 'isc' ? await readFile(s.leasesFile, 'utf8').catch(() => '') : await exportDb(s.dbFile).catch((e: Error) => e.message);
    await writeFile(join(dir, `${prefix}-${s.role}.leases`), leases);
  }
}

/** Builds the seed topology (namespaces `<prefix>-pri`, `-sec`, `-cli`, extra hosts, bridge in `-sw`). */
export async function createSeedLan(
  prefix: string,
  extra: readonly { name: string; address?: string; mac?: string }[] = [],
): Promise<SeedLan> {
  const topology = await createTopology(prefix);
  try {
    const lan = await topology.lan('seed', [
      { name: 'pri', address: `${PRIMARY_ADDRESS}/24` },
      { name: 'sec', address: `${SECONDARY_ADDRESS}/24` },
      { name: 'cli', mac: SEED_CLIENT_MAC },
      ...extra,
    ]);
    return { topology, lan, pri: lan.host('pri'), sec: lan.host('sec'), cli: lan.host('cli'), destroy: () => topology.destroy() };
  } catch (e) {
    await topology.destroy();
    throw e;
  }
}

/** The failover lines ISC logs when a relationship reaches normal (both, either order). */
export async function waitBothNormal(server: SeedServer, timeoutMs: number): Promise<void> {
  await server.process.waitFor(new RegExp(`failover peer ${PEER}: I move from \\S+ to normal`), { timeoutMs });
  await server.process.waitFor(new RegExp(`failover peer ${PEER}: peer moves from \\S+ to normal`), { timeoutMs });
}

/** One `lease { … }` block of dhclient's lease file. */
export interface ClientLease {
  readonly address: string;
  readonly leaseTime: number;
  readonly serverIdentifier: string;
}

/** Parses dhclient's lease file (every block, in order). */
export function parseDhclientLeases(text: string): ClientLease[] {
  const out: ClientLease[] = [];
  for (const m of text.matchAll(/^lease \{([\s\S]*?)^\}/gm)) {
    const b = m[1]!;
    const address = /fixed-address (\S+);/.exec(b)?.[1];
    const leaseTime = /option dhcp-lease-time (\d+);/.exec(b)?.[1];
    const sid = /option dhcp-server-identifier (\S+);/.exec(b)?.[1];
    if (address && leaseTime && sid) out.push({ address, leaseTime: Number(leaseTime), serverIdentifier: sid });
  }
  return out;
}

/** A running dhclient with its own files. */
export interface Dhclient {
  readonly process: NsProcess;
  readonly leaseFile: string;
  /** The leases recorded so far. */
  leases(): Promise<ClientLease[]>;
  /** Waits until the lease file holds at least `n` leases. */
  waitLeases(n: number, timeoutMs: number): Promise<ClientLease[]>;
}

/**
 * Starts ISC dhclient in the foreground on `host` (it keeps renewing), with an empty dhclient.conf and a
 * script that only sets the address with `ip` (so unicast renewals have a source address) — never
 * Debian's dhclient-script.
 */
export async function startDhclient(topology: Topology, host: LanHost): Promise<Dhclient> {
  const dir = await topology.tempDir();
  const script = join(dir, 'script.sh');
  await writeFile(
    script,
    [
      '#!/bin/sh',
      'case "$reason" in',
      '  BOUND|RENEW|REBIND|REBOOT) /usr/sbin/ip addr replace "$new_ip_address/24" dev "$interface" ;;',
      '  EXPIRE|FAIL|RELEASE|STOP) [ -n "$old_ip_address" ] && /usr/sbin/ip addr del "$old_ip_address/24" dev "$interface" ;;',
      'esac',
      'exit 0',
      '',
    ].join('\n'),
  );
  await chmod(script, 0o755);
  const conf = join(dir, 'dhclient.conf');
  await writeFile(conf, '# empty: dhclient defaults only\n');
  const leaseFile = join(dir, 'dhclient.leases');
  await writeFile(leaseFile, '');
  const p = host.spawn('dhclient', dhclientArgs(dir, host.ifname, { script, once: false, extra: ['-cf', conf] }));
  const leases = async (): Promise<ClientLease[]> => parseDhclientLeases(await readFile(leaseFile, 'utf8').catch(() => ''));
  return {
    process: p,
    leaseFile,
    leases,
    waitLeases: (n, timeoutMs) =>
      waitUntil(
        async () => {
          const l = await leases();
          return l.length >= n ? l : undefined;
        },
        { timeoutMs, intervalMs: 200, what: `${n} lease(s) in dhclient's lease file` },
      ).catch(async (e: Error) => {
        throw new Error(`${e.message}\n--- dhclient output:\n${p.output}\n--- lease file:\n${await readFile(leaseFile, 'utf8').catch(() => '')}`);
      }),
  };
}

/** 192.168.102.110 … .210: the seed's range. */
export function inSeedRange(address: string): boolean {
  const m = /^192\.168\.102\.(\d+)$/.exec(address);
  return m !== null && Number(m[1]) >= 110 && Number(m[1]) <= 210;
}

/** `DHCPACK on A to MAC` lines of a log, as [address, mac] pairs in order. */
export function acks(log: string): { address: string; mac: string }[] {
  return [...log.matchAll(/DHCPACK on (\d+\.\d+\.\d+\.\d+) to ([0-9a-f:]{17})/g)].map((m) => ({ address: m[1]!, mac: m[2]! }));
}
