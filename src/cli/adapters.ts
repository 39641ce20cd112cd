/**
 * The CLI's view of modules other engineers own, each imported only when a command needs it: `dhcpd -t`
 * must not load the server, the lease store (better-sqlite3) or the native socket code, and `--version`
 * not even the config compiler. The types state the contracts the CLI relies on (team-contracts.md); the
 * imports below are type-checked against the real modules.
 */
import type { Config } from '../config/model.js';
import type { Logger } from '../log/logger.js';
import type { ConfigError } from '../../grammar/errors.js';
import type { LeaseStore } from '../../leases/lease-store.js';

/** grammar/errors.ts ConfigError. */
export type IscConfigError = ConfigError;

/** src/config/load.ts LoadResult. */
export type LoadResult =
  | { ok: true; config: Config; warnings: IscConfigError[] }
  | { ok: false; errors: IscConfigError[]; warnings?: IscConfigError[] };

export type LoadConfigFn = (path: string) => LoadResult | Promise<LoadResult>;

/** src/config/load.ts `loadConfig(path)` (parser and compiler are loaded by this call). */
export async function getLoadConfig(): Promise<LoadConfigFn> {
  const { loadConfig } = await import('../config/load.js');
  return loadConfig;
}

/** grammar/errors.ts `formatIscError(err)`: ISC's `FILE line N: MESSAGE`, source line, caret. */
export async function getFormatIscError(): Promise<(err: IscConfigError) => string> {
  const { formatIscError } = await import('../../grammar/errors.js');
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
  /** Call once, as soon as every socket is bound: drops privileges (-user/-group). */
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

/** src/server/dhcp-server.ts `startDhcpServer` (loads the server, engine, transport and native addon). */
export async function getStartDhcpServer(): Promise<StartDhcpServerFn> {
  const { startDhcpServer } = await import('../server/dhcp-server.js');
  return startDhcpServer;
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

/** The server's lease store: the CLI opens it, hands it to the server and closes it after stop. */
export type LeaseStoreLike = LeaseStore;

/** leases/commands.ts (loads the SQLite lease store, better-sqlite3). */
export async function getLeaseCommands(): Promise<LeaseCommands> {
  const { importLeases, formatImportSummary, exportLeases, openServerLeaseStore } = await import('../../leases/commands.js');
  return { importLeases, formatImportSummary, exportLeases, openServerLeaseStore };
}

/** The text to show for an error from the lease commands: ISC's three-line display when it has one. */
export function leaseErrorText(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'display' in e && typeof (e as { display: unknown }).display === 'string') {
    return (e as { display: string }).display;
  }
  return e instanceof Error ? e.message : String(e);
}
