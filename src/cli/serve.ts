/**
 * Serving, after the configuration has loaded and `-t`/`-T` have had their exit (main.ts): pid file,
 * lease database, the server itself, signals (SIGTERM/SIGINT stop, SIGHUP checked reload) and the switch
 * to syslog once daemonized. A module of its own so that main.ts imports it, and with it the server,
 * the engine, the native transport, better-sqlite3 and winston, only when it is going to serve.
 */
import { resolve as resolvePath } from 'node:path';
import { resolveServerParameters } from '../config/parameters.js';
import { indexHosts, type Config } from '../config/model.js';
import { createLogger, levelMethods, type Logger, type LogLevel } from '../log/logger.js';
import {
  getFormatIscError,
  getLeaseCommands,
  getLoadConfig,
  getStartDhcpServer,
  leaseErrorText,
  type LeaseStoreLike,
  type CliRunningServer,
} from './adapters.js';
import type { ServerArgs } from './argv.js';
import { notifyDaemonReady } from './daemon.js';
import { fatalLines } from './isc-output.js';
import { claimPidFile, releasePidFile } from './pid-file.js';
import { chownForUser, type PrivilegeDrop } from './privileges.js';
import { controlSocketPath } from '../server/control-socket.js';
import type { EffectiveSettings } from './main.js';

/** A Logger whose destination can be swapped (start-up on stderr, then syslog once daemonized). */
export interface SwitchableLogger extends Logger {
  switchTo(next: Logger): Promise<void>;
}

/** Wraps `initial` so that its destination can be swapped later. */
export function switchable(initial: Logger): SwitchableLogger {
  let current = initial;
  const log = (level: LogLevel, m: string): void => current.log(level, m);
  return {
    ...levelMethods(log),
    log,
    setFacility: (f) => current.setFacility(f),
    droppedLines: () => current.droppedLines(),
    flush: () => current.flush(),
    close: () => current.close(),
    async switchTo(next) {
      const old = current;
      current = next;
      await old.close();
    },
  };
}

/** Logs a multi-line message one line per call, as ISC's log functions receive them. */
function logLines(logger: Logger, level: LogLevel, text: string): void {
  for (const line of text.split('\n')) logger.log(level, line);
}

/** log_fatal: the message, the bug paragraph, `exiting.`; returns exit code 1. */
async function fatal(logger: Logger, message: string): Promise<number> {
  for (const line of fatalLines(message)) logger.error(line);
  await logger.flush();
  return 1;
}

/** What main.ts has settled before serving. */
export interface ServeContext {
  args: ServerArgs;
  config: Config;
  settings: EffectiveSettings;
  /** The start-up logger (stderr and/or syslog), switched to syslog once daemonized. */
  logger: SwitchableLogger;
  /** -user/-group, looked up before the config was read (ISC's order). */
  drop: PrivilegeDrop | undefined;
  /** The syslog socket path for the daemon's logger. */
  syslogPath: string;
  /** True in the daemon child (see daemon.ts). */
  child: boolean;
  /** Reports a start-up failure to the daemon parent (if any) and returns `code`. */
  failed(code: number): Promise<number>;
}

/** Serves until SIGTERM/SIGINT; resolves with the exit code. */
export async function serve(ctx: ServeContext): Promise<number> {
  const { args, config, logger, child, failed } = ctx;
  const s = ctx.settings;
  const priv = { drop: ctx.drop };
  const startDhcpServer = await getStartDhcpServer();
  // The host tables are built on first use; build them now rather than while the first client waits.
  indexHosts(config);
  // The pid file is claimed before the sockets are opened (ISC checks it after binding): a second instance
  // then fails on the pid file rather than on a busy port, and it is written while we are still root.
  // Absolute, because the daemon changes to "/" and must still find it to remove it.
  const pidPath = resolvePath(s.pidFile);
  if (!args.noPid) {
    const claim = claimPidFile(pidPath);
    if (!claim.ok) return failed(await fatal(logger, claim.message));
    if (claim.warning) logger.error(claim.warning);
  }
  const releasePid = (): void => {
    if (!args.noPid) releasePidFile(pidPath);
  };
  // A SIGTERM/SIGINT while starting must not leave the pid file behind: note it, act once started.
  let earlySignal: NodeJS.Signals | undefined;
  const onEarly = (sig: NodeJS.Signals): void => {
    earlySignal ??= sig;
  };
  process.on('SIGTERM', onEarly);
  process.on('SIGINT', onEarly);
  const absConfig = resolvePath(s.configFile);
  // The lease database: opened here (importing the ISC lease file on first start, the drop-in path), handed
  // to the server, closed after it stops.
  let store: LeaseStoreLike | undefined;
  const cmds = await getLeaseCommands();
  try {
    store = cmds.openServerLeaseStore({
      leaseFile: resolvePath(s.leaseFile),
      database: resolvePath(s.dbFile),
      configFile: absConfig,
      log: (text) => logLines(logger, 'info', text),
    }).store;
  } catch (e) {
    releasePid();
    return failed(await fatal(logger, leaseErrorText(e)));
  }
  const closeStore = (): void => {
    try {
      store?.close();
    } catch {
      /* already closed */
    }
  };
  let server: CliRunningServer;
  try {
    server = await startDhcpServer({
      leaseStore: store,
      config,
      configFile: absConfig,
      leaseFile: resolvePath(s.leaseFile),
      dbFile: resolvePath(s.dbFile),
      interfaces: args.interfaces,
      port: s.port,
      broadcastOverride: args.server,
      quiet: args.quiet,
      logger,
      ...(args.noPid ? {} : { controlSocket: controlSocketPath(pidPath) }),
      ...(priv.drop ? { controlSocketOwner: { uid: priv.drop.uid, gid: priv.drop.gid } } : {}),
      afterBind: () => {
        // ISC chowns its lease file to -user/-group at start so that it can keep writing it; the same for
        // the -lf file and the database (with its WAL and shared-memory files), before the switch.
        if (priv.drop) chownForUser([resolvePath(s.leaseFile), resolvePath(s.dbFile), `${resolvePath(s.dbFile)}-wal`, `${resolvePath(s.dbFile)}-shm`], priv.drop, logger);
        priv.drop?.apply();
      },
    });
  } catch (e) {
    closeStore();
    releasePid();
    return failed(await fatal(logger, e instanceof Error ? e.message : String(e)));
  }

  let stopping: Promise<number> | undefined;
  const done = new Promise<number>((resolveDone) => {
    const shutdown = (signal: NodeJS.Signals): void => {
      if (stopping) return;
      logger.info(`Received ${signal}, shutting down.`);
      stopping = (async () => {
        let code = 0;
        try {
          await server.stop();
        } catch (e) {
          logger.error(`shutdown: ${e instanceof Error ? e.message : String(e)}`);
          code = 1;
        }
        closeStore();
        releasePid();
        await logger.close();
        return code;
      })();
      void stopping.then(resolveDone);
    };
    process.off('SIGTERM', onEarly);
    process.off('SIGINT', onEarly);
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
    if (earlySignal) shutdown(earlySignal);
  });

  process.on('SIGHUP', () => {
    void (async () => {
      logger.info(`Received SIGHUP, checking ${absConfig} before reloading.`);
      const next = await loadAndReportReload(absConfig, logger);
      if (!next) return;
      indexHosts(next);
      if (!server.reload) {
        logger.error('Reload is not supported by this server build; restart to apply the new configuration.');
        return;
      }
      try {
        await server.reload(next);
        // log-facility follows the new file; paths and port need a restart (as they would for ISC).
        logger.setFacility(resolveServerParameters([next.global]).logFacility);
        logger.info(`Configuration reloaded from ${absConfig}.`);
      } catch (e) {
        logger.error(`Reload failed, keeping the running configuration: ${e instanceof Error ? e.message : String(e)}`);
      }
    })();
  });

  // A crash of the daemon must at least reach the log (its stderr is gone): ISC's log_fatal equivalent.
  process.on('uncaughtException', (e) => {
    logger.crit(`dhcpd-ts: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    releasePid();
    void logger.flush().finally(() => process.exit(70));
  });
  process.on('unhandledRejection', (e) => {
    logger.crit(`dhcpd-ts: internal error (unhandled rejection): ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  });

  // ISC, once bound: keeps logging to stderr only with -d (log_perror == -1), so a daemon and -f alone go on
  // with syslog only; a daemon then sends its status byte to the parent, setsid, chdir("/"), closes stdio;
  // and only then "Server starting service." (so it is never on the terminal without -d).
  if (child || !args.debug) await logger.switchTo(createLogger({ foreground: false, facility: s.facility, sink: { syslogPath: ctx.syslogPath } }));
  if (child) {
    notifyDaemonReady();
    try {
      process.chdir('/');
    } catch {
      /* keep going */
    }
  }
  if (!earlySignal) logger.info('Server starting service.');
  return done;
}

/** SIGHUP: like loadAndReport, but a bad file is refused and the old configuration kept. */
async function loadAndReportReload(file: string, logger: Logger): Promise<Config | undefined> {
  const loadConfig = await getLoadConfig();
  const format = await getFormatIscError();
  try {
    const result = await loadConfig(file);
    if (result.ok) {
      for (const w of result.warnings) logLines(logger, 'error', format(w));
      return result.config;
    }
    for (const err of result.errors) logLines(logger, 'error', format(err));
  } catch (e) {
    logger.error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  logger.error('Configuration file errors encountered -- keeping the running configuration.');
  return undefined;
}
