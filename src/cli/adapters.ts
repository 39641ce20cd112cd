/**
 * The CLI's view of modules other engineers own, loaded on demand so that `dhcpd -t` works while the
 * server is still being written, and so that a missing piece gives a clear message instead of a crash.
 * Each adapter states the contract it expects (team-contracts.md) and checks it at run time.
 */
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import { formatIscError, type ConfigError } from '../../grammar/errors.js';

/** grammar/errors.ts ConfigError. */
export type IscConfigError = ConfigError;

/** src/config/load.ts LoadResult. */
export type LoadResult =
  | { ok: true; config: Config; warnings: IscConfigError[] }
  | { ok: false; errors: IscConfigError[]; warnings?: IscConfigError[] };

/** Imports a module by a path relative to this file; undefined when it does not exist (yet). */
async function tryImport(spec: string): Promise<Record<string, unknown> | undefined> {
  try {
    const mod: unknown = await import(spec);
    return typeof mod === 'object' && mod !== null ? (mod as Record<string, unknown>) : undefined;
  } catch (e) {
    const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
    if (code === 'ERR_MODULE_NOT_FOUND') {
      const msg = String((e as Error).message);
      // Only "the module itself is missing" means "not there yet"; a broken import inside it is a bug.
      const base = spec.replace(/^.*\//, '').replace(/\.js$/, '');
      if (msg.includes(base)) return undefined;
    }
    throw e;
  }
}

export type LoadConfigFn = (path: string) => LoadResult | Promise<LoadResult>;

/** src/config/load.ts `loadConfig(path)`, or undefined if that module is not there yet. */
export async function getLoadConfig(): Promise<LoadConfigFn | undefined> {
  const mod = await tryImport('../config/load.js');
  const fn = mod?.loadConfig;
  return typeof fn === 'function' ? (fn as LoadConfigFn) : undefined;
}

/** grammar/errors.ts `formatIscError(err)`: ISC's `FILE line N: MESSAGE`, source line, caret. */
export async function getFormatIscError(): Promise<(err: IscConfigError) => string> {
  return formatIscError;
}

/** What the CLI passes to src/server/dhcp-server.ts `startDhcpServer(options)`. */
export interface CliServerOptions {
  config: Config;
  /** The open lease store (leases/commands.ts openServerLeaseStore); absent = the server opens `dbFile`. */
  leaseStore?: LeaseStoreLike;
  /** Absolute path of the config file (for reloads and messages). */
  configFile: string;
  /** Absolute path of the ISC lease file (dhcpd.leases). */
  leaseFile: string;
  /** SQLite database path (-db, default `<leaseFile>.sqlite`). */
  dbFile: string;
  /** Interfaces named on the command line; empty = every interface with a subnet (ISC's rule). */
  interfaces: string[];
  /** UDP port to listen on (67 or -p / DHCPD_PORT / local-port); replies to clients go to port + 1. */
  port: number;
  /** `-s SERVER`: send broadcast replies here instead of 255.255.255.255 (ISC testing aid). */
  broadcastOverride: string | undefined;
  /** `-q`: ISC's quiet_interface_discovery (no "Listening on"/"Sending on" lines). */
  quiet: boolean;
  logger: Logger;
  /** Call once, as soon as every socket is bound: drops privileges (-user/-group/-chroot). */
  afterBind: () => void;
  /** The operator control socket (`<pid file>.ctl`, src/server/control-socket.ts); absent = none. */
  controlSocket?: string;
  /** The -user/-group the control socket is given to. */
  controlSocketOwner?: { uid?: number | undefined; gid?: number | undefined };
}

/** What `startDhcpServer` resolves to. */
export interface CliRunningServer {
  /** Flushes leases, tells the failover partner, closes sockets. */
  stop(): Promise<void>;
  /** Switches to a new, already checked configuration (SIGHUP). Optional. */
  reload?(config: Config): Promise<void> | void;
}

export type StartDhcpServerFn = (options: CliServerOptions) => Promise<CliRunningServer> | CliRunningServer;

/** src/server/dhcp-server.ts `startDhcpServer`, or undefined while it does not exist. */
export async function getStartDhcpServer(): Promise<StartDhcpServerFn | undefined> {
  const mod = await tryImport('../server/dhcp-server.js');
  const fn = mod?.startDhcpServer;
  return typeof fn === 'function' ? (fn as StartDhcpServerFn) : undefined;
}

/** The parts of leases/commands.ts (the lease engineer's) that the CLI calls. */
export interface LeaseCommands {
  /** dhcpd.leases -> database in one transaction; throws LeaseImportError (with `display`) on a bad file. */
  importLeases(opts: { leaseFile: string; database: string; configFile?: string; replace?: boolean }): unknown;
  /** One fact per line, for `dhcpd import`'s output. */
  formatImportSummary(summary: unknown): string;
  /** database -> ISC dhcpd.leases (`-` = stdout). */
  exportLeases(opts: { database: string; output: string; configFile?: string }): Promise<{ leases: number; bytes: number }>;
  /** The server's store: opens the database, importing the lease file first when the database is new. */
  openServerLeaseStore(opts: { leaseFile: string; database?: string; configFile?: string; log?: (line: string) => void }): {
    store: LeaseStoreLike;
    imported: unknown;
  };
}

/** What the CLI does with the server's lease store itself: hand it over, and close it after stop. */
export interface LeaseStoreLike {
  close(): void;
}

/** leases/commands.ts, or undefined while it (or one of these functions) does not exist. */
export async function getLeaseCommands(): Promise<LeaseCommands | undefined> {
  const mod = await tryImport('../../leases/commands.js');
  if (!mod) return undefined;
  const names = ['importLeases', 'formatImportSummary', 'exportLeases', 'openServerLeaseStore'] as const;
  if (!names.every((n) => typeof mod[n] === 'function')) return undefined;
  return mod as unknown as LeaseCommands;
}

/** The text to show for an error from the lease commands: ISC's three-line display when it has one. */
export function leaseErrorText(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'display' in e && typeof (e as { display: unknown }).display === 'string') {
    return (e as { display: string }).display;
  }
  return e instanceof Error ? e.message : String(e);
}
