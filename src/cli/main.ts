/**
 * dhcpd-ts entry point: `bin/dhcpd-ts` runs `node dist/src/cli/main.js "$@"`.
 *
 * Follows ISC dhcpd 4.4.3's main() (server/dhcpd.c) step by step: arguments, banner, user/group lookup,
 * config (errors in ISC's words), `-t`/`-T` exits, then serving; without `-f`/`-d` it daemonizes first
 * (see daemon.ts), writes the pid file once serving, drops privileges after the sockets are bound, and
 * handles SIGTERM/SIGINT (clean stop) and SIGHUP (checked reload, an improvement on ISC, which needs a
 * restart).
 */
import { realpathSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveServerParameters } from '../config/parameters.js';
import type { Config } from '../config/model.js';
import { createLogger, type Logger, type LogLevel } from '../log/logger.js';
import {
  getFormatIscError,
  getLeaseCommands,
  getLoadConfig,
  getStartDhcpServer,
  leaseErrorText,
  type LeaseStoreLike,
  type CliRunningServer,
  type IscConfigError,
} from './adapters.js';
import {
  defaultDbFile,
  DEFAULT_PORT,
  EXTRA_USAGE_TEXT,
  parseArgv,
  USAGE_TEXT,
  type ServerArgs,
} from './argv.js';
import { isDaemonChild, notifyDaemonFailed, notifyDaemonReady, runDaemonParent } from './daemon.js';
import { fatalLines, usageErrorLines, writeLines } from './isc-output.js';
import { testLeaseFile } from './lease-test.js';
import { claimPidFile, releasePidFile } from './pid-file.js';
import { chownForUser, enterChroot, preparePrivilegeDrop } from './privileges.js';
import { controlSocketPath } from '../server/control-socket.js';
import { runSubcommand } from './subcommands.js';
import { bannerLines, versionLine } from './version.js';

/** The process-level things main() touches, injectable for tests. */
export interface MainIo {
  stderr: NodeJS.WritableStream;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

const defaultIo = (): MainIo => ({ stderr: process.stderr, stdout: process.stdout, env: process.env });

/**
 * The syslog socket: /dev/log, or `DHCPD_TS_SYSLOG_SOCKET` (for containers whose syslog listens elsewhere,
 * and for tests).
 */
export const SYSLOG_SOCKET_ENV = 'DHCPD_TS_SYSLOG_SOCKET';
function syslogPath(env: NodeJS.ProcessEnv): string {
  return env[SYSLOG_SOCKET_ENV] || '/dev/log';
}

/** A Logger whose destination can be swapped (start-up on stderr, then syslog once daemonized). */
interface SwitchableLogger extends Logger {
  switchTo(next: Logger): Promise<void>;
}

function switchable(initial: Logger): SwitchableLogger {
  let current = initial;
  const log = (level: LogLevel, m: string): void => current.log(level, m);
  return {
    emerg: (m) => log('emerg', m),
    alert: (m) => log('alert', m),
    crit: (m) => log('crit', m),
    error: (m) => log('error', m),
    warning: (m) => log('warning', m),
    notice: (m) => log('notice', m),
    info: (m) => log('info', m),
    debug: (m) => log('debug', m),
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

/** Runs dhcpd with `argv` (process.argv.slice(2)); resolves with the exit code. */
export async function main(argv: readonly string[], io: MainIo = defaultIo()): Promise<number> {
  const outcome = parseArgv(argv, { env: io.env });
  switch (outcome.kind) {
    case 'version':
      io.stderr.write(`${versionLine()}\n`);
      return 0;
    case 'help':
      io.stderr.write(USAGE_TEXT + EXTRA_USAGE_TEXT);
      return 0;
    case 'usage-error':
      writeLines(io.stderr, [...outcome.notes, ...usageErrorLines(outcome.message)]);
      return 1;
    case 'fatal':
      if (!outcome.afterBanner) {
        writeLines(io.stderr, [...outcome.notes, ...fatalLines(outcome.message)]);
        return 1;
      }
      // Past ISC's banner: with -q, stderr is silent and the lines go to syslog only.
      writeLines(io.stderr, outcome.notes);
      {
        const logger = createLogger({ foreground: true, quiet: outcome.quiet, sink: { stream: io.stderr, syslogPath: syslogPath(io.env) } });
        if (!outcome.quiet) for (const line of bannerLines()) logger.info(line);
        const code = await fatal(logger, outcome.message);
        await logger.close();
        return code;
      }
    case 'unsupported':
      writeLines(io.stderr, [outcome.message, '', 'exiting.']);
      return 1;
    case 'subcommand':
      return runSubcommand(outcome.name, outcome.argv, io);
    case 'server':
      return runServer(outcome.args, argv, io);
  }
}

/** ISC's line after the list of configuration errors. */
const SUMMARY = 'Configuration file errors encountered -- exiting';

/** Loads and checks the config, logging errors and warnings in ISC's format. */
async function loadAndReport(
  file: string,
  logger: Logger,
): Promise<{ ok: true; config: Config } | { ok: false; code: number }> {
  const loadConfig = await getLoadConfig();
  if (!loadConfig) {
    return {
      ok: false,
      code: await fatal(logger, `dhcpd-ts: cannot read ${file}: the configuration compiler (src/config/load.ts) is not in this build.`),
    };
  }
  const format = await getFormatIscError();
  let result;
  try {
    result = await loadConfig(file);
  } catch (e) {
    return { ok: false, code: await fatal(logger, `dhcpd-ts: internal error reading ${file}: ${String((e as Error).stack ?? e)}`) };
  }
  if (!result.ok) {
    const errors: IscConfigError[] = result.errors.filter((e) => e.message !== SUMMARY);
    for (const w of result.warnings ?? []) logLines(logger, 'error', format(w));
    for (const err of errors) {
      // ISC's "Can't open FILE" (the config or an include) is a log_fatal of its own: it ends the run there.
      if (!err.line && err.message.startsWith("Can't open ")) return { ok: false, code: await fatal(logger, err.message) };
      logLines(logger, 'error', format(err));
    }
    return { ok: false, code: await fatal(logger, SUMMARY) };
  }
  for (const w of result.warnings) logLines(logger, 'error', format(w));
  return { ok: true, config: result.config };
}

/** The paths and port after the config's statements (which apply only where the command line is silent). */
export interface EffectiveSettings {
  configFile: string;
  leaseFile: string;
  pidFile: string;
  dbFile: string;
  port: number;
  facility: string;
}

export function effectiveSettings(args: ServerArgs, config: Config | undefined): EffectiveSettings {
  const p = config ? resolveServerParameters([config.global]) : undefined;
  const leaseFile = !args.explicit.leaseFile && p?.leaseFileName ? p.leaseFileName : args.leaseFile;
  const pidFile = !args.explicit.pidFile && p?.pidFileName ? p.pidFileName : args.pidFile;
  const port = args.port ?? (p && p.localPort !== DEFAULT_PORT ? p.localPort : DEFAULT_PORT);
  return {
    configFile: args.configFile,
    leaseFile,
    pidFile,
    dbFile: args.dbFile ?? defaultDbFile(leaseFile),
    port,
    facility: p?.logFacility ?? 'daemon',
  };
}

async function runServer(args: ServerArgs, argv: readonly string[], io: MainIo): Promise<number> {
  const testOnly = args.test !== 'none';
  const daemonize = !args.foreground && !testOnly;
  const child = isDaemonChild(io.env);
  if (daemonize && !child) return runDaemonParent({ argv, env: io.env, stderr: io.stderr });

  // Until we serve, lines go to stderr (unless -q, ISC's log_perror = 0) and, for a server, to syslog.
  const startup = createLogger({
    foreground: true,
    quiet: args.quiet,
    syslogInForeground: !testOnly && !args.debug,
    sink: { stream: io.stderr, syslogPath: syslogPath(io.env) },
  });
  const logger = switchable(startup);
  const failed = async (code: number): Promise<number> => {
    await logger.flush();
    if (child) await notifyDaemonFailed(code);
    return code;
  };

  for (const n of args.notes) io.stderr.write(`${n}\n`);
  if (!args.quiet) for (const line of bannerLines()) logger.info(line);
  for (const n of args.lateNotes) logger.debug(n);

  const priv = preparePrivilegeDrop(args.user, args.group);
  if (!priv.ok) return failed(await fatal(logger, priv.message));

  const loaded = await loadAndReport(args.configFile, logger);
  if (!loaded.ok) return failed(loaded.code);
  const config = loaded.config;
  const s = effectiveSettings(args, config);
  logger.setFacility(s.facility);

  logger.info(`Config file: ${s.configFile}`);
  logger.info(`Database file: ${s.leaseFile}`);
  logger.info(`PID file: ${s.pidFile}`);

  if (args.test === 'config') {
    await logger.close();
    return 0;
  }
  if (args.test === 'config+leases') {
    const r = testLeaseFile(s.leaseFile, config, logger);
    if (!r.ok) return fatal(logger, r.fatal);
    await logger.close();
    return 0;
  }

  // Serving.
  const startDhcpServer = await getStartDhcpServer();
  if (!startDhcpServer) {
    return failed(await fatal(logger, 'dhcpd-ts: serving is not in this build yet (src/server/dhcp-server.ts); use -t to check a configuration.'));
  }
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
  if (cmds) {
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
      ...(store ? { leaseStore: store } : {}),
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
        if (args.chroot !== undefined) enterChroot(args.chroot);
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

  if (!earlySignal) logger.info('Server starting service.');
  if (child) {
    // ISC: setsid, chdir("/"), status byte to the parent, stderr closed: from now on syslog only.
    try {
      process.chdir('/');
    } catch {
      /* keep going */
    }
    notifyDaemonReady();
    await logger.switchTo(createLogger({ foreground: false, facility: s.facility, sink: { syslogPath: syslogPath(io.env) } }));
  }
  return done;
}

/** SIGHUP: like loadAndReport, but a bad file is refused and the old configuration kept. */
async function loadAndReportReload(file: string, logger: Logger): Promise<Config | undefined> {
  const loadConfig = await getLoadConfig();
  if (!loadConfig) return undefined;
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

/** True when this module is the program being run (not imported by a test). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    return import.meta.url === pathToFileURL(realpathSync(script)).href;
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  main(process.argv.slice(2)).then(
    (code) => {
      // Serving ends only through a signal; everything exits now, even with handles left open.
      process.exit(code);
    },
    (e: unknown) => {
      process.stderr.write(`dhcpd-ts: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(70);
    },
  );
}
