/**
 * Helpers for the features' differential tests (test/integration/server-*-diff.test.ts): run ISC dhcpd
 * 4.4.3 or dhcpd-ts (its real command line) in a test namespace with the same dhcpd.conf — optionally with a private
 * /etc/resolv.conf bind-mounted in that process's own mount namespace (`ip netns exec` already gives each
 * process a private one), so name lookups go only to a DNS server inside the test topology — and query
 * them with test/support/dhcp-query.ts.
 */
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ISC_DHCPD, type NsProcess, type Topology } from './netns.js';
import type { LeasequeryResult, QueryResult, QuerySpec } from './dhcp-query.js';

const here = fileURLToPath(import.meta.url);
const fromSource = here.endsWith('.ts');

/** `node [--import tsx] test/support/NAME.(ts|js)` with the repository root as cwd. */
export function supportScript(name: string): { cmd: string; args: string[]; cwd: string } {
  const script = fileURLToPath(new URL(`./${name}.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const root = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));
  return { cmd: process.execPath, args: [...(fromSource ? ['--import', 'tsx'] : []), script], cwd: root };
}

/** Which server. */
export type ServerKind = 'isc' | 'ts';

/** A server started by {@link startServer}. */
export interface RunningServer {
  readonly process: NsProcess;
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * Starts ISC dhcpd or dhcpd-ts (`-4 -f -d -cf -lf -pf IFACE…`) in `ns` on `ifaces` with `config`.
 * With `resolvConf` / `hosts`, the process sees that text as /etc/resolv.conf / /etc/hosts (bind mounts in
 * its own mount namespace; the host's files are untouched).
 */
export async function startServer(
  topo: Topology,
  ns: string,
  kind: ServerKind,
  config: string,
  ifaces: readonly string[],
  options: { resolvConf?: string; hosts?: string; leases?: string; env?: Record<string, string> } = {},
): Promise<RunningServer> {
  const dir = await topo.tempDir();
  const conf = join(dir, 'dhcpd.conf');
  await writeFile(conf, config);
  let cmd: string;
  let args: string[];
  let cwd: string | undefined;
  if (kind === 'isc') {
    await writeFile(join(dir, 'dhcpd.leases'), options.leases ?? '');
    cmd = ISC_DHCPD;
    args = ['-4', '-f', '-d', '-cf', conf, '-lf', join(dir, 'dhcpd.leases'), '-pf', join(dir, 'dhcpd.pid'), ...ifaces];
  } else {
    // The real command line (src/cli/main.ts), as a user runs it: the config stays on disk, so `on release`
    // / `on expiry` text is read from it as in production.
    if (options.leases !== undefined) await writeFile(join(dir, 'dhcpd.leases'), options.leases);
    const root = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));
    cmd = process.execPath;
    args = [
      ...(fromSource ? ['--import', 'tsx'] : []),
      join(root, fromSource ? 'src/cli/main.ts' : 'dist/src/cli/main.js'),
      '-4', '-f', '-d', '-cf', conf, '-lf', join(dir, 'dhcpd.leases'), '-pf', join(dir, 'dhcpd.pid'), ...ifaces,
    ];
    cwd = root;
  }
  const mounts: string[] = [];
  if (options.resolvConf !== undefined) {
    await writeFile(join(dir, 'resolv.conf'), options.resolvConf);
    mounts.push(`mount --bind ${join(dir, 'resolv.conf')} /etc/resolv.conf`);
  }
  if (options.hosts !== undefined) {
    await writeFile(join(dir, 'hosts'), options.hosts);
    mounts.push(`mount --bind ${join(dir, 'hosts')} /etc/hosts`);
  }
  if (mounts.length > 0) {
    args = ['-c', `${mounts.join(' && ')} && exec "$@"`, 'sh', cmd, ...args];
    cmd = 'sh';
  }
  const p = topo.spawn(ns, cmd, args, { ...(cwd !== undefined ? { cwd } : {}), ...(options.env ? { env: options.env } : {}) });
  await p.waitFor('Server starting service.', { timeoutMs: 20_000 });
  return {
    process: p,
    dir,
    async stop(): Promise<void> {
      await p.stop('SIGTERM', 2000);
    },
  };
}

/** Runs test/support/dhcp-query.ts in `ns` and returns its client results. */
export async function runQuery(topo: Topology, ns: string, spec: QuerySpec): Promise<QueryResult[]> {
  return (await runQueryAll(topo, ns, spec)).clients;
}

/** Runs test/support/dhcp-query.ts in `ns`: client results and leasequery results. */
export async function runQueryAll(topo: Topology, ns: string, spec: QuerySpec): Promise<{ clients: QueryResult[]; leasequeries: LeasequeryResult[] }> {
  const s = supportScript('dhcp-query');
  const p = topo.spawn(ns, s.cmd, [...s.args, JSON.stringify(spec)], { cwd: s.cwd });
  const r = await p.exited;
  if (r.code !== 0) throw new Error(`dhcp-query failed (${String(r.code ?? r.signal)}): ${p.output}`);
  const lines = p.output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as QueryResult | LeasequeryResult);
  return {
    clients: lines.filter((l): l is QueryResult => 'mac' in l),
    leasequeries: lines.filter((l): l is LeasequeryResult => 'leasequery' in l),
  };
}

/** The server's log lines (ISC's -d stderr, dhcpd-ts's foreground log) that match `re`. */
export function logLines(p: NsProcess, re: RegExp): string[] {
  return p.output.split('\n').filter((l) => re.test(l));
}
