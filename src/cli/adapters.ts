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
  | { ok: false; errors: IscConfigError[] };

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

/** leases/commands.ts, the lease engineer's entry points for the subcommands and for `-T`. */
export interface LeaseCommands {
  /** `dhcpd import`: reads an ISC dhcpd.leases file into the SQLite database; returns an exit code. */
  importLeases?: (opts: LeaseCommandOptions) => number | Promise<number>;
  /** `dhcpd export`: writes the database as an ISC dhcpd.leases file (`-` = stdout); returns an exit code. */
  exportLeases?: (opts: LeaseCommandOptions) => number | Promise<number>;
  /** `dhcpd -T`: reads the lease file, logging ISC's messages; returns an exit code. */
  testLeaseFile?: (opts: LeaseCommandOptions) => number | Promise<number>;
}

export interface LeaseCommandOptions {
  config: Config | undefined;
  leaseFile: string;
  dbFile: string;
  /** import: the file to read; export: the file to write ('-' = stdout). */
  file: string | undefined;
  logger: Logger;
}

export async function getLeaseCommands(): Promise<LeaseCommands | undefined> {
  const mod = await tryImport('../../leases/commands.js');
  if (!mod) return undefined;
  const pick = <K extends keyof LeaseCommands>(k: K): LeaseCommands[K] =>
    typeof mod[k] === 'function' ? (mod[k] as LeaseCommands[K]) : undefined;
  return { importLeases: pick('importLeases'), exportLeases: pick('exportLeases'), testLeaseFile: pick('testLeaseFile') };
}
