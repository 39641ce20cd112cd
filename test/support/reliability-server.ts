/**
 * Shared pieces of the reliability tests (issue 8, test/integration/reliability-*.test.ts) and of the
 * long runs in soak/: how to start the real product (src/cli/main, as `bin/dhcpd-ts` does) inside a test
 * namespace, how to read its memory and credentials from /proc, how to read ACKs from a client-side
 * capture, and the scale knob that turns a bounded `make test` run into a soak run.
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NsProcess, Topology } from './netns.js';

const here = dirname(fileURLToPath(import.meta.url));
/** True when running from the TypeScript sources (node --import tsx), false from dist/. */
export const FROM_SOURCE = import.meta.url.endsWith('.ts');
const EXT = FROM_SOURCE ? 'ts' : 'js';
/** src/cli/main.(ts|js): the dhcpd-ts entry point. */
export const MAIN = join(here, '..', '..', 'src', 'cli', `main.${EXT}`);
/** Node arguments that run a module of this tree (with tsx when running from source). */
export function nodeArgs(script: string): string[] {
  return FROM_SOURCE ? ['--import', import.meta.resolve('tsx'), script] : [script];
}
/** A support script of this directory (e.g. `reliability-fuzz-sender`), .ts or .js to match. */
export function supportScript(name: string): string {
  return join(here, `${name}.${EXT}`);
}
/** True when the server and CLI exist in this build. */
export const HAVE_SERVER = existsSync(MAIN) && existsSync(join(here, '..', '..', 'src', 'server', `dhcp-server.${EXT}`));

/**
 * Scale: `RELIABILITY_SOAK=1` (set by soak/run.sh) selects the long figures; otherwise the bounded
 * `make test` figures. Individual figures can be overridden with the named environment variable.
 */
export function scaled(envName: string, test: number, soak: number): number {
  const v = process.env[envName];
  if (v !== undefined && /^\d+$/.test(v)) return Number(v);
  return process.env.RELIABILITY_SOAK === '1' ? soak : test;
}

/** True in a soak run. */
export const SOAK = process.env.RELIABILITY_SOAK === '1';

/** Files of one server instance. */
export interface ServerFiles {
  readonly dir: string;
  readonly conf: string;
  readonly leases: string;
  readonly db: string;
  readonly pid: string;
}

/** Writes `conf` text and an empty lease file into `dir`. */
export async function serverFiles(dir: string, confText: string, leasesText = ''): Promise<ServerFiles> {
  const f = { dir, conf: join(dir, 'dhcpd.conf'), leases: join(dir, 'dhcpd.leases'), db: join(dir, 'dhcpd.leases.sqlite'), pid: join(dir, 'dhcpd.pid') };
  await writeFile(f.conf, confText);
  await writeFile(f.leases, leasesText);
  return f;
}

/** dhcpd's own command line for `files` (`-4 -f -d -cf … -lf … -pf … [extra] IFACE…`). */
export function dhcpdArgs(files: ServerFiles, ifaces: readonly string[], extra: readonly string[] = []): string[] {
  return ['-4', '-f', '-d', '-cf', files.conf, '-lf', files.leases, '-pf', files.pid, ...extra, ...ifaces];
}

/** The full argv (node + main + dhcpd arguments) that runs dhcpd-ts. */
export function serverArgv(files: ServerFiles, ifaces: readonly string[], extra: readonly string[] = []): string[] {
  return [...nodeArgs(MAIN), ...dhcpdArgs(files, ifaces, extra)];
}

/**
 * Starts dhcpd-ts in namespace `ns` (tracked by `topo`) and waits for "Server starting service.".
 * `wrap` lets a test run it under another command (e.g. `unshare -m … sh -c`), given the argv.
 */
export async function startServer(
  topo: Topology,
  ns: string,
  files: ServerFiles,
  ifaces: readonly string[],
  options: { extra?: readonly string[]; wrap?: (argv: string[]) => [string, string[]]; timeoutMs?: number; wait?: boolean } = {},
): Promise<NsProcess> {
  const argv = [process.execPath, ...serverArgv(files, ifaces, options.extra)];
  const [cmd, args] = options.wrap ? options.wrap(argv) : [argv[0]!, argv.slice(1)];
  const p = topo.spawn(ns, cmd, args);
  if (options.wait !== false) await p.waitFor('Server starting service.', { timeoutMs: options.timeoutMs ?? 30_000 });
  return p;
}

/** What /proc/PID/status says about memory and credentials. */
export interface ProcStatus {
  /** Peak resident set size (VmHWM), KiB. */
  vmHwmKiB: number;
  /** Current resident set size (VmRSS), KiB. */
  vmRssKiB: number;
  /** Real, effective, saved, filesystem uid. */
  uid: number[];
  gid: number[];
  groups: number[];
  /** Effective / permitted capability sets as hex strings. */
  capEff: string;
  capPrm: string;
  /** Inheritable, bounding and ambient capability sets as hex strings. */
  capInh: string;
  capBnd: string;
  capAmb: string;
  /** The no_new_privs flag ("0" or "1"). */
  noNewPrivs: string;
}

/** Reads /proc/PID/status (undefined when the process is gone). */
export function procStatus(pid: number): ProcStatus | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const field = (name: string): string => new RegExp(`^${name}:[ \\t]*(.*)$`, "m").exec(text)?.[1]?.trim() ?? '';
  const nums = (name: string): number[] => field(name).split(/\s+/).filter((s) => s.length > 0).map(Number);
  const kib = (name: string): number => Number(/^(\d+)/.exec(field(name))?.[1] ?? 0);
  return {
    vmHwmKiB: kib('VmHWM'),
    vmRssKiB: kib('VmRSS'),
    uid: nums('Uid'),
    gid: nums('Gid'),
    groups: nums('Groups'),
    capEff: field('CapEff'),
    capPrm: field('CapPrm'),
    capInh: field('CapInh'),
    capBnd: field('CapBnd'),
    capAmb: field('CapAmb'),
    noNewPrivs: field('NoNewPrivs'),
  };
}

/** (yiaddr → chaddr) of every DHCPACK in a `tcpdump -vv` capture (joined packets, see netns.ts). */
export function ackedLeases(packets: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const p of packets) {
    if (!/DHCP-Message[^:]*: ACK/.test(p)) continue;
    const ip = /Your-IP (\d+\.\d+\.\d+\.\d+)/.exec(p)?.[1];
    const mac = /Client-Ethernet-Address ([0-9a-f:]{17})/.exec(p)?.[1];
    if (ip && mac) out.set(ip, mac);
  }
  return out;
}

/** Lines of `text` matching `re`. */
export function countLines(text: string, re: RegExp): number {
  let n = 0;
  for (const l of text.split('\n')) if (re.test(l)) n++;
  return n;
}

/** Hex hardware address as aa:bb:… */
export function macText(b: Buffer | Uint8Array | undefined): string | undefined {
  return b ? Buffer.from(b).toString('hex').match(/../g)?.join(':') : undefined;
}

/**
 * Appends the figures of one test to `RELIABILITY_FIGURES` (a JSON-lines file, set by soak/run.sh), so
 * that the soak can print and record them; always also returns them as one line for t.diagnostic.
 */
export async function recordFigures(name: string, figures: Readonly<Record<string, number | string | boolean>>): Promise<string> {
  const line = JSON.stringify({ test: name, soak: SOAK, at: new Date().toISOString(), ...figures });
  const file = process.env.RELIABILITY_FIGURES;
  if (file) {
    const { appendFile } = await import('node:fs/promises');
    await appendFile(file, `${line}\n`);
  }
  return line;
}

/**
 * Namespace prefix of a reliability test: `rl-NAME` in `make test`, `rls-NAME` in a soak, so that a soak
 * and a test suite running at the same time never clean up each other's namespaces (createTopology removes
 * leftovers of its own prefix first).
 */
export function topologyPrefix(name: string): string {
  return `${SOAK ? 'rls' : 'rl'}-${name}`;
}
