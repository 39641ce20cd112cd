/**
 * Network-namespace harness for root-only integration tests.
 *
 * Everything a test builds lives in namespaces named `<prefix>-<name>`; the bridges live in a dedicated
 * "switch" namespace `<prefix>-sw`, so the host's own interfaces and the root namespace are never touched
 * (veth pairs are created inside the switch namespace with their peer placed directly in the host namespace).
 *
 * Typical use:
 * ```ts
 * const lan = await createLan('nt-disc', [
 *   { name: 'srv', address: '10.99.0.1/24' },
 *   { name: 'cli', mac: '52:54:00:02:bf:f8' },
 * ]);
 * try {
 *   const r = await lan.host('cli').exec('udhcpc', ['-i', 'eth0', '-n', '-q']);
 * } finally {
 *   await lan.destroy();
 * }
 * ```
 * For several LANs (relays, multi-homed servers) use {@link createTopology} and {@link Topology.lan}.
 *
 * Cleanup: {@link Topology.destroy} kills (by PID) every process started through the topology and every
 * process still inside its namespaces, then deletes the namespaces. It is idempotent, and
 * {@link createTopology} first removes leftovers of a crashed earlier run with the same prefix. A synchronous
 * last-resort cleanup also runs on process exit for topologies that were never destroyed.
 *
 * Test files run side by side (`make test`), and several people or a soak may run tests on one machine: every
 * namespace made here records its creator (PID and start time, in {@link OWNER_DIR}), and leftover cleanup
 * never touches a namespace whose creator still runs; {@link createTopology} refuses, with a clear error, a
 * prefix that a running process is using.
 */
import { execFile, execFileSync, spawn as spawnChild, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Result of a finished command. */
export interface ExecResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Options for {@link exec} and {@link run}. */
export interface ExecOptions {
  /** Throw when the command exits non-zero (default true). */
  readonly check?: boolean;
  /** Kill the command after this many milliseconds (default 20000). */
  readonly timeoutMs?: number;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
}

/** An error carrying the failed command's result. */
export class CommandError extends Error {
  constructor(
    readonly command: readonly string[],
    readonly result: ExecResult,
  ) {
    super(
      `command failed (code ${result.code ?? 'none'}${result.signal ? `, signal ${result.signal}` : ''}): ` +
        `${command.join(' ')}\n${result.stderr.trim() || result.stdout.trim()}`,
    );
    this.name = 'CommandError';
  }
}

/** Why integration tests cannot run here, or undefined when they can (root, and iproute2 present). */
export function integrationSkipReason(): string | undefined {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return 'needs root (network namespaces)';
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' });
  } catch {
    return 'iproute2 (ip) not installed';
  }
  return undefined;
}

/** True when running as root. */
export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

/** Runs a command in the current (root) namespace. Used for `ip netns …` management only. */
export function run(cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  const { check = true, timeoutMs = 20_000, env } = options;
  return new Promise((resolve, reject) => {
    execFile(
      cmd,
      [...args],
      {
        timeout: timeoutMs,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        env: env ? { ...process.env, ...env } : process.env,
      },
      (error, stdout, stderr) => {
        const err = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null }) | null;
        const result: ExecResult = {
          code: err ? (typeof err.code === 'number' ? err.code : null) : 0,
          signal: err?.signal ?? null,
          stdout,
          stderr,
        };
        if (err && typeof err.code === 'string') {
          // Spawn failure such as ENOENT: always an error.
          reject(new CommandError([cmd, ...args], { ...result, stderr: `${err.message}\n${stderr}` }));
          return;
        }
        if (check && result.code !== 0) reject(new CommandError([cmd, ...args], result));
        else resolve(result);
      },
    );
  });
}

/** Runs `cmd args` inside namespace `ns` and waits for it to finish. */
export function exec(ns: string, cmd: string, args: readonly string[], options: ExecOptions = {}): Promise<ExecResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], options);
}

/** What {@link NsProcess.waitFor} looks at. */
export type OutputStream = 'stdout' | 'stderr' | 'both';

/**
 * A long-running process inside a namespace. `ip netns exec` execs the command in place, so {@link pid} is
 * the PID of the command itself (kill it by PID; never by name).
 */
export class NsProcess {
  /** Collected standard output so far. */
  stdout = '';
  /** Collected standard error so far. */
  stderr = '';
  /** Both streams interleaved in arrival order. */
  output = '';
  /** Resolves when the process has exited (never rejects). */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  private readonly listeners = new Set<() => void>();

  constructor(
    readonly ns: string,
    readonly command: readonly string[],
    readonly child: ChildProcess,
  ) {
    const onData = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = chunk.toString('utf8');
      this[stream] += text;
      this.output += text;
      for (const l of [...this.listeners]) l();
    };
    child.stdout?.on('data', onData('stdout'));
    child.stderr?.on('data', onData('stderr'));
    this.exited = new Promise((resolve) => {
      child.once('error', (e) => {
        this.stderr += `\nspawn error: ${e.message}`;
        this.exitInfo ??= { code: null, signal: null };
        for (const l of [...this.listeners]) l();
        resolve(this.exitInfo);
      });
      child.once('close', (code, signal) => {
        this.exitInfo = { code, signal };
        for (const l of [...this.listeners]) l();
        resolve(this.exitInfo);
      });
    });
  }

  /** The process ID (throws if the spawn failed). */
  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`spawn failed: ${this.command.join(' ')}: ${this.stderr}`);
    return this.child.pid;
  }

  /** True once the process has exited. */
  get hasExited(): boolean {
    return this.exitInfo !== undefined;
  }

  /**
   * Waits until the collected output matches `pattern` (output already received counts). Rejects on timeout
   * or when the process exits first, with the output so far in the message.
   */
  waitFor(
    pattern: string | RegExp,
    options: { timeoutMs?: number; stream?: OutputStream } = {},
  ): Promise<RegExpMatchArray> {
    const { timeoutMs = 10_000, stream = 'both' } = options;
    const text = (): string => (stream === 'both' ? this.output : this[stream]);
    const test = (): RegExpMatchArray | null => {
      if (typeof pattern === 'string') {
        const i = text().indexOf(pattern);
        if (i < 0) return null;
        const m = [pattern] as unknown as RegExpMatchArray;
        m.index = i;
        return m;
      }
      return text().match(pattern);
    };
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        this.listeners.delete(check);
        if (timer) clearTimeout(timer);
      };
      const check = (): void => {
        const m = test();
        if (m) {
          done();
          resolve(m);
        } else if (this.exitInfo) {
          done();
          reject(
            new Error(
              `${this.command.join(' ')} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal}) ` +
                `before printing ${String(pattern)}; output:\n${this.output}`,
            ),
          );
        }
      };
      timer = setTimeout(() => {
        done();
        reject(new Error(`timeout after ${timeoutMs} ms waiting for ${String(pattern)} from ${this.command.join(' ')}; output:\n${this.output}`));
      }, timeoutMs);
      this.listeners.add(check);
      check();
    });
  }

  /**
   * Stops the process by PID: `signal` (default SIGTERM), then SIGKILL after `graceMs` (default 2000).
   * Resolves with the exit status; a no-op if already exited.
   */
  async stop(signal: NodeJS.Signals = 'SIGTERM', graceMs = 2000): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.exitInfo || this.child.pid === undefined) return this.exited;
    try {
      process.kill(this.child.pid, signal);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      if (!this.exitInfo && this.child.pid !== undefined) {
        try {
          process.kill(this.child.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    }, graceMs);
    const r = await this.exited;
    clearTimeout(timer);
    return r;
  }
}

/** Options of {@link spawn}. */
export interface SpawnOptions {
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory. */
  readonly cwd?: string;
  /** Give the process a writable stdin (`proc.child.stdin`); default: stdin is /dev/null. */
  readonly stdin?: boolean;
}

/** Starts `cmd args` inside namespace `ns` without waiting; stdout/stderr are collected. */
export function spawn(ns: string, cmd: string, args: readonly string[], options: SpawnOptions = {}): NsProcess {
  const command = ['ip', 'netns', 'exec', ns, cmd, ...args];
  const child = spawnChild(command[0]!, command.slice(1), {
    stdio: [options.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    env: options.env ? { ...process.env, ...options.env } : process.env,
    cwd: options.cwd,
  });
  return new NsProcess(ns, [cmd, ...args], child);
}

/** Sleeps `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `probe` every `intervalMs` until it returns a non-undefined value, or throws after `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 50, what = 'condition' } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timeout after ${timeoutMs} ms waiting for ${what}`);
    await delay(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Namespaces

/** Lists the network namespaces that exist (names only). */
export async function listNamespaces(): Promise<string[]> {
  const r = await run('ip', ['netns', 'list'], { check: false });
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter((n) => n.length > 0);
}

/** PIDs of the processes inside namespace `ns`. */
export async function namespacePids(ns: string): Promise<number[]> {
  const r = await run('ip', ['netns', 'pids', ns], { check: false });
  return r.stdout
    .split(/\s+/)
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((p) => p !== process.pid);
}

/** Where each namespace made here records its creator: one file per namespace, `<pid> <start time>`. */
export const OWNER_DIR = '/run/dhcpd-ts-test-netns';

/** Start time of process `pid` in clock ticks since boot (/proc/PID/stat field 22), or undefined if gone. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function recordOwner(ns: string): void {
  try {
    mkdirSync(OWNER_DIR, { recursive: true });
    writeFileSync(join(OWNER_DIR, ns), `${process.pid} ${processStartTime(process.pid) ?? '?'}\n`);
  } catch {
    /* best effort: without the record the namespace is only treated as a leftover sooner */
  }
}

function forgetOwner(ns: string): void {
  rmSync(join(OWNER_DIR, ns), { force: true });
}

/**
 * The PID of another, still running process that created namespace `ns` through this module, or undefined
 * (no record, the creator has exited, or it is this process).
 */
export function liveOwner(ns: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(join(OWNER_DIR, ns), 'utf8');
  } catch {
    return undefined;
  }
  const [pid, start] = text.trim().split(' ');
  const n = Number(pid);
  if (!Number.isInteger(n) || n <= 0 || n === process.pid) return undefined;
  return start !== undefined && processStartTime(n) === start ? n : undefined;
}

/** Creates namespace `ns` with loopback up and IPv6 disabled (keeps captures free of IPv6 noise). */
export async function createNamespace(ns: string, options: { ipv6?: boolean } = {}): Promise<void> {
  await run('ip', ['netns', 'add', ns]);
  recordOwner(ns);
  await run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
  if (!options.ipv6) {
    await exec(ns, 'sysctl', ['-qw', 'net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1'], {
      check: false,
    });
  }
}

/**
 * Deletes namespace `ns` after killing, by PID, the processes still inside it (processes this test harness
 * started there; the namespace is ours). Missing namespaces are ignored.
 */
export async function deleteNamespace(ns: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const pids = await namespacePids(ns);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, attempt === 0 ? 'SIGTERM' : 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await delay(attempt === 0 ? 300 : 100);
  }
  await run('ip', ['netns', 'delete', ns], { check: false });
  forgetOwner(ns);
}

/**
 * Deletes every namespace named `<prefix>-…` (leftovers of a crashed run), except those that another running
 * process created (see {@link liveOwner}); returns the names left alone.
 */
export async function cleanupPrefix(prefix: string): Promise<string[]> {
  const all = await listNamespaces();
  const ours = all.filter((n) => n.startsWith(`${prefix}-`));
  const busy: string[] = [];
  // Delete hosts before the switch; order does not matter to the kernel, but keeps logs readable.
  for (const ns of ours) {
    if (liveOwner(ns) !== undefined) busy.push(ns);
    else await deleteNamespace(ns);
  }
  return busy;
}

function deleteNamespacesSync(names: readonly string[]): void {
  for (const ns of names) {
    try {
      const out = execFileSync('ip', ['netns', 'pids', ns], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      for (const s of out.split(/\s+/)) {
        if (/^\d+$/.test(s) && Number(s) !== process.pid) {
          try {
            process.kill(Number(s), 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      execFileSync('ip', ['netns', 'delete', ns], { stdio: 'ignore' });
      forgetOwner(ns);
    } catch {
      /* best effort */
    }
  }
}

const liveTopologies = new Set<Topology>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const t of liveTopologies) {
      for (const p of t.processes) {
        if (!p.hasExited && p.child.pid !== undefined) {
          try {
            process.kill(p.child.pid, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
      }
      deleteNamespacesSync([...t.namespaces]);
    }
  });
}

// ---------------------------------------------------------------------------------------------------------
// Topologies and LANs

/** One host's attachment to a LAN. */
export interface LanMemberSpec {
  /** Host name; the namespace is `<prefix>-<name>` (created on first use). */
  readonly name: string;
  /** IPv4 address with prefix length, e.g. "10.99.0.1/24" (default length /24). Omit for an unconfigured client. */
  readonly address?: string;
  /** MAC address of the host's interface (default: a stable locally administered address). */
  readonly mac?: string;
  /** Interface name inside the host namespace (default eth0, eth1, … per host). At most 15 characters. */
  readonly ifname?: string;
}

/** A host's interface on a LAN, as created. */
export interface LanHost {
  /** Host name as given. */
  readonly name: string;
  /** Namespace name. */
  readonly ns: string;
  /** Interface name inside {@link ns}. */
  readonly ifname: string;
  /** Interface index inside {@link ns}. */
  readonly ifindex: number;
  /** MAC address, lower case, colon separated. */
  readonly mac: string;
  /** IPv4 address without prefix length, if configured. */
  readonly address: string | undefined;
  /** Prefix length of {@link address}, if configured. */
  readonly prefixLength: number | undefined;
  /** Runs a command in this host's namespace. */
  exec(cmd: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult>;
  /** Starts a tracked process in this host's namespace (killed by {@link Topology.destroy}). */
  spawn(cmd: string, args: readonly string[], options?: SpawnOptions): NsProcess;
}

/** A LAN: one bridge in the switch namespace, one veth per member. */
export interface LanInfo {
  readonly name: string;
  /** Bridge name inside the switch namespace. */
  readonly bridge: string;
  readonly hosts: readonly LanHost[];
  /** The member named `name` (throws if absent). */
  host(name: string): LanHost;
}

const PREFIX_RE = /^[a-z0-9][a-z0-9-]{0,23}$/;
const IFNAME_RE = /^[A-Za-z0-9_.-]{1,15}$/;

/**
 * A set of namespaces sharing a prefix: host namespaces `<prefix>-<host>` and the switch namespace
 * `<prefix>-sw` holding one bridge per LAN. Create with {@link createTopology}.
 */
export class Topology {
  /** Namespaces created by this topology. */
  readonly namespaces = new Set<string>();
  /** Processes started through this topology. */
  readonly processes: NsProcess[] = [];
  /** Temporary directories to remove on destroy. */
  readonly tempDirs: string[] = [];
  private readonly ifCount = new Map<string, number>();
  private portCount = 0;
  private hostCount = 0;
  private readonly lans = new Map<string, LanInfo>();
  private destroyed = false;

  constructor(readonly prefix: string) {}

  /** The switch namespace name. */
  get switchNs(): string {
    return `${this.prefix}-sw`;
  }

  /** Namespace name of host `name`. */
  nsOf(name: string): string {
    return `${this.prefix}-${name}`;
  }

  /** Creates (once) the namespace of host `name` and returns its name. */
  async namespace(name: string): Promise<string> {
    if (this.destroyed) throw new Error('topology destroyed');
    if (!/^[a-z0-9][a-z0-9-]{0,15}$/.test(name) || name === 'sw') throw new Error(`bad host name ${JSON.stringify(name)}`);
    const ns = this.nsOf(name);
    if (!this.namespaces.has(ns)) {
      this.namespaces.add(ns);
      await createNamespace(ns);
    }
    return ns;
  }

  private async ensureSwitch(): Promise<void> {
    const ns = this.switchNs;
    if (this.namespaces.has(ns)) return;
    this.namespaces.add(ns);
    await createNamespace(ns);
  }

  /**
   * Creates LAN `lanName` (bridge `br-<lanName>` in the switch namespace) and attaches each member with a
   * veth pair. A host may be on several LANs (its interfaces are then eth0, eth1, … unless named).
   */
  async lan(lanName: string, members: readonly LanMemberSpec[]): Promise<LanInfo> {
    if (this.destroyed) throw new Error('topology destroyed');
    if (!/^[a-z0-9]{1,12}$/.test(lanName)) throw new Error(`bad LAN name ${JSON.stringify(lanName)} (1-12 of [a-z0-9])`);
    if (this.lans.has(lanName)) throw new Error(`LAN ${lanName} exists`);
    await this.ensureSwitch();
    const sw = this.switchNs;
    const bridge = `br-${lanName}`;
    await run('ip', ['-n', sw, 'link', 'add', bridge, 'type', 'bridge', 'forward_delay', '0', 'stp_state', '0']);
    await run('ip', ['-n', sw, 'link', 'set', bridge, 'up']);
    const hosts: LanHost[] = [];
    for (const m of members) {
      const ns = await this.namespace(m.name);
      const n = this.ifCount.get(ns) ?? 0;
      const ifname = m.ifname ?? `eth${n}`;
      if (!IFNAME_RE.test(ifname)) throw new Error(`bad interface name ${JSON.stringify(ifname)}`);
      this.ifCount.set(ns, n + 1);
      const port = `p${++this.portCount}`;
      const mac = (m.mac ?? this.defaultMac(++this.hostCount)).toLowerCase();
      // Created inside the switch namespace with the peer placed straight into the host namespace: the root
      // namespace never sees either end.
      await run('ip', ['-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', ns]);
      await run('ip', ['-n', sw, 'link', 'set', port, 'master', bridge]);
      await run('ip', ['-n', sw, 'link', 'set', port, 'up']);
      await run('ip', ['-n', ns, 'link', 'set', ifname, 'address', mac]);
      let address: string | undefined;
      let prefixLength: number | undefined;
      if (m.address) {
        const [a, p] = m.address.split('/');
        address = a;
        prefixLength = p === undefined ? 24 : Number(p);
        await run('ip', ['-n', ns, 'addr', 'add', `${address}/${prefixLength}`, 'dev', ifname]);
      }
      await run('ip', ['-n', ns, 'link', 'set', ifname, 'up']);
      const ifindex = await interfaceIndex(ns, ifname);
      hosts.push({
        name: m.name,
        ns,
        ifname,
        ifindex,
        mac,
        address,
        prefixLength,
        exec: (cmd, args, options) => exec(ns, cmd, args, options),
        spawn: (cmd, args, options) => this.spawn(ns, cmd, args, options),
      });
    }
    const info: LanInfo = {
      name: lanName,
      bridge,
      hosts,
      host(name: string): LanHost {
        const h = hosts.find((x) => x.name === name);
        if (!h) throw new Error(`no host ${name} on LAN ${lanName}`);
        return h;
      },
    };
    this.lans.set(lanName, info);
    return info;
  }

  private defaultMac(n: number): string {
    // Locally administered unicast (02:…), stable per prefix so captures are reproducible.
    const h = createHash('sha256').update(this.prefix).digest();
    const b = [0x02, h[0]!, h[1]!, h[2]!, (n >> 8) & 0xff, n & 0xff];
    return b.map((x) => x.toString(16).padStart(2, '0')).join(':');
  }

  /** Runs a command in host `name`'s namespace. */
  exec(name: string, cmd: string, args: readonly string[], options?: ExecOptions): Promise<ExecResult> {
    return exec(this.nsOf(name), cmd, args, options);
  }

  /** Starts a tracked process in namespace `ns` (a full namespace name). */
  spawn(ns: string, cmd: string, args: readonly string[], options?: SpawnOptions): NsProcess {
    if (this.destroyed) throw new Error('topology destroyed');
    const p = spawn(ns, cmd, args, options);
    this.processes.push(p);
    return p;
  }

  /** Registers a process started elsewhere so that {@link destroy} stops it. */
  adopt(p: NsProcess): NsProcess {
    this.processes.push(p);
    return p;
  }

  /** Adds a route in host `name`'s namespace: `ip route add <destination> via <via>`. */
  async addRoute(name: string, destination: string, via: string): Promise<void> {
    await run('ip', ['-n', this.nsOf(name), 'route', 'add', destination, 'via', via]);
  }

  /** Turns on IPv4 forwarding in host `name`'s namespace (for a router/relay host). */
  async enableForwarding(name: string): Promise<void> {
    await exec(this.nsOf(name), 'sysctl', ['-qw', 'net.ipv4.ip_forward=1']);
  }

  /** Creates a temporary directory removed by {@link destroy}. */
  async tempDir(): Promise<string> {
    const d = await mkdtemp(join(tmpdir(), `${this.prefix}-`));
    this.tempDirs.push(d);
    return d;
  }

  /** Stops every tracked process, deletes every namespace and temp dir. Idempotent; never throws. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    await Promise.all(this.processes.map((p) => p.stop('SIGTERM', 1000).catch(() => undefined)));
    for (const ns of [...this.namespaces]) {
      await deleteNamespace(ns).catch(() => undefined);
      this.namespaces.delete(ns);
    }
    // Anything with our prefix that we did not track (e.g. created by hand in a test).
    await cleanupPrefix(this.prefix).catch(() => undefined);
    for (const d of this.tempDirs.splice(0)) await rm(d, { recursive: true, force: true }).catch(() => undefined);
    liveTopologies.delete(this);
  }
}

/**
 * Starts a topology with `prefix` (lower-case letters, digits, '-'; at most 24 characters; unique per test
 * file). Leftovers of an earlier run with the same prefix are removed first.
 */
export async function createTopology(prefix: string): Promise<Topology> {
  if (!PREFIX_RE.test(prefix)) throw new Error(`bad prefix ${JSON.stringify(prefix)}`);
  const busy = await cleanupPrefix(prefix);
  if (busy.length > 0) {
    throw new Error(
      `namespaces ${busy.join(', ')} belong to running process ${liveOwner(busy[0]!)} (another run of this test?); ` +
        'not touching them: run one at a time',
    );
  }
  const t = new Topology(prefix);
  liveTopologies.add(t);
  installExitHook();
  return t;
}

/** A single LAN with its topology. */
export interface Lan extends LanInfo {
  readonly topology: Topology;
  /** Same as `topology.destroy()`. */
  destroy(): Promise<void>;
}

/**
 * Creates a topology with one LAN named "lan" and the given hosts, each in its own namespace.
 * On failure everything created so far is destroyed before the error propagates.
 */
export async function createLan(prefix: string, hosts: readonly LanMemberSpec[]): Promise<Lan> {
  const topology = await createTopology(prefix);
  try {
    const info = await topology.lan('lan', hosts);
    return { ...info, host: info.host, topology, destroy: () => topology.destroy() };
  } catch (e) {
    await topology.destroy();
    throw e;
  }
}

/** Interface index of `ifname` inside namespace `ns`. */
export async function interfaceIndex(ns: string, ifname: string): Promise<number> {
  const r = await run('ip', ['-n', ns, '-o', 'link', 'show', 'dev', ifname]);
  const m = /^(\d+):/.exec(r.stdout);
  if (!m) throw new Error(`cannot read ifindex of ${ifname} in ${ns}: ${r.stdout}`);
  return Number(m[1]);
}

/**
 * Sends ICMP echo requests from namespace `ns` to `address` (busybox ping: iputils is not installed here).
 * Resolves true when a reply came back.
 */
export async function ping(ns: string, address: string, options: { count?: number; timeoutS?: number } = {}): Promise<boolean> {
  const { count = 1, timeoutS = 2 } = options;
  const r = await exec(ns, 'busybox', ['ping', '-c', String(count), '-W', String(timeoutS), address], {
    check: false,
    timeoutMs: (timeoutS + 2) * 1000 * count,
  });
  return r.code === 0;
}

/** The neighbour (ARP) table of namespace `ns`, as printed by `ip neigh show` (one entry a line). */
export async function neighbours(ns: string): Promise<string[]> {
  const r = await run('ip', ['-n', ns, 'neigh', 'show']);
  return r.stdout.split('\n').filter((l) => l.trim().length > 0);
}

// ---------------------------------------------------------------------------------------------------------
// tcpdump

/**
 * tcpdump -v prints one packet over several lines (continuations are indented); joins them so each returned
 * string is one whole packet.
 */
export function joinPacketLines(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    if (line.trim().length === 0) continue;
    if (/^\s/.test(line) && out.length > 0) out[out.length - 1] += ` ${line.trim()}`;
    else out.push(line);
  }
  return out;
}

/** A running tcpdump; {@link stop} returns the decoded packets. */
export interface Capture {
  readonly process: NsProcess;
  /** Stops the capture (SIGINT lets tcpdump flush) and returns one string per packet (see {@link joinPacketLines}). */
  stop(): Promise<string[]>;
}

/**
 * Starts `tcpdump -l -n -e -vv -i <ifname> <filter>` inside `ns` and waits until it is listening.
 * `-e` prints link-level addresses so tests can check the destination MAC.
 */
export async function startCapture(
  ns: string,
  ifname: string,
  filter: string,
  options: { topology?: Topology } = {},
): Promise<Capture> {
  const args = ['-l', '-n', '-e', '-vv', '-i', ifname, ...(filter ? filter.split(/\s+/) : [])];
  const p = options.topology ? options.topology.spawn(ns, 'tcpdump', args) : spawn(ns, 'tcpdump', args);
  await p.waitFor(/listening on/, { timeoutMs: 5000, stream: 'stderr' });
  return {
    process: p,
    async stop(): Promise<string[]> {
      // Give packets already on the wire time to be printed.
      await delay(200);
      await p.stop('SIGINT', 2000);
      return joinPacketLines(p.stdout);
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// DHCP clients

/**
 * Arguments for ISC dhclient that keep every file in `dir` (lease file, pid file, DUID file) and run no
 * configuration script by default, so a test never writes /var/lib/dhcp, /run or /etc/resolv.conf of the host.
 * Without `-df`, dhclient creates /var/lib/dhcp/dhclient.leases to store its DUID even when `-lf` is given.
 */
export function dhclientArgs(
  dir: string,
  ifname: string,
  options: { script?: string; once?: boolean; extra?: readonly string[] } = {},
): string[] {
  return [
    '-4',
    '-d',
    ...(options.once === false ? [] : ['-1']),
    '-v',
    '-lf',
    join(dir, 'dhclient.leases'),
    '-pf',
    join(dir, 'dhclient.pid'),
    '-df',
    join(dir, 'dhclient.duid'),
    '-sf',
    options.script ?? '/bin/true',
    ...(options.extra ?? []),
    ifname,
  ];
}

/** Arguments for busybox udhcpc in the foreground on `ifname` (script /bin/true: configure nothing). */
export function udhcpcArgs(
  ifname: string,
  options: { tries?: number; timeoutS?: number; broadcast?: boolean; quitAfterLease?: boolean; script?: string; extra?: readonly string[] } = {},
): string[] {
  return [
    '-f',
    '-n',
    ...(options.quitAfterLease === false ? [] : ['-q']),
    ...(options.broadcast ? ['-B'] : []),
    '-i',
    ifname,
    '-t',
    String(options.tries ?? 3),
    '-T',
    String(options.timeoutS ?? 1),
    '-s',
    options.script ?? '/bin/true',
    ...(options.extra ?? []),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// ISC dhcpd

/** Options for {@link startIscDhcpd}. */
export interface IscDhcpdOptions {
  /** Namespace to run in. */
  readonly ns: string;
  /** dhcpd.conf text. */
  readonly config: string;
  /** Interfaces to serve (passed on the command line); default: let dhcpd choose. */
  readonly interfaces?: readonly string[];
  /** Initial dhcpd.leases text (default empty). */
  readonly leases?: string;
  /** Extra command-line arguments before the interfaces. */
  readonly extraArgs?: readonly string[];
  /** Topology to register the process and temp dir with (so destroy() cleans up). */
  readonly topology?: Topology;
  /** How long to wait for "Server starting service." (default 10000 ms). */
  readonly startTimeoutMs?: number;
}

/** A real ISC dhcpd 4.4 running in a namespace. */
export interface IscDhcpd {
  readonly process: NsProcess;
  readonly dir: string;
  readonly configFile: string;
  readonly leasesFile: string;
  readonly pidFile: string;
  /** Current contents of the lease file. */
  readLeases(): Promise<string>;
  /** Stops dhcpd by PID and removes its directory unless the topology owns it. */
  stop(): Promise<void>;
}

/** Path of the ISC dhcpd binary. */
export const ISC_DHCPD = '/usr/sbin/dhcpd';

/**
 * Runs `/usr/sbin/dhcpd -4 -f -d -cf … -lf … -pf … [interfaces]` inside `ns`, with all files in a fresh temp
 * directory, and waits for "Server starting service.".
 */
export async function startIscDhcpd(options: IscDhcpdOptions): Promise<IscDhcpd> {
  const dir = options.topology ? await options.topology.tempDir() : await mkdtemp(join(tmpdir(), 'isc-dhcpd-'));
  const configFile = join(dir, 'dhcpd.conf');
  const leasesFile = join(dir, 'dhcpd.leases');
  const pidFile = join(dir, 'dhcpd.pid');
  await writeFile(configFile, options.config);
  await writeFile(leasesFile, options.leases ?? '');
  const args = [
    '-4',
    '-f',
    '-d',
    '-cf',
    configFile,
    '-lf',
    leasesFile,
    '-pf',
    pidFile,
    ...(options.extraArgs ?? []),
    ...(options.interfaces ?? []),
  ];
  const p = options.topology ? options.topology.spawn(options.ns, ISC_DHCPD, args) : spawn(options.ns, ISC_DHCPD, args);
  try {
    await p.waitFor('Server starting service.', { timeoutMs: options.startTimeoutMs ?? 10_000 });
  } catch (e) {
    await p.stop('SIGKILL');
    if (!options.topology) await rm(dir, { recursive: true, force: true });
    throw e;
  }
  return {
    process: p,
    dir,
    configFile,
    leasesFile,
    pidFile,
    readLeases: () => readFile(leasesFile, 'utf8'),
    async stop(): Promise<void> {
      await p.stop('SIGTERM', 2000);
      if (!options.topology) await rm(dir, { recursive: true, force: true });
    },
  };
}
