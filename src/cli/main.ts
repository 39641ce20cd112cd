/**
 * dhcpd-ts entry point: `bin/dhcpd-ts` runs `node dist/src/cli/main.js "$@"`.
 *
 * Follows ISC dhcpd 4.4.3's main() (server/dhcpd.c) step by step: arguments, banner, user/group lookup,
 * config (errors in ISC's words), `-t`/`-T` exits, then serving (serve.ts); without `-f`/`-d` it
 * daemonizes first (see daemon.ts), enters the `-chroot` jail after reading the config (chroot.ts), writes
 * the pid file once serving, drops privileges after the sockets are bound, and handles SIGTERM/SIGINT (clean stop) and SIGHUP (checked reload, an improvement on ISC,
 * which needs a restart).
 */
import { existsSync, realpathSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { resolveServerParameters } from '../config/parameters.js';
import type { Config } from '../config/model.js';
import { createCommandLogger, createLogger, nativeSyslogSend, type Logger, type LogLevel, type SyslogSend } from '../log/logger.js';
import { getFormatIscError, getLoadConfig, type IscConfigError } from './adapters.js';
import {
  defaultDbFile,
  DEFAULT_PORT,
  EXTRA_USAGE_TEXT,
  parseArgv,
  USAGE_TEXT,
  type ServerArgs,
} from './argv.js';
import { isDaemonChild, notifyDaemonFailed, runDaemonParent } from './daemon.js';
import { fatalLines, usageErrorLines, writeLines } from './isc-output.js';
import { preparePrivilegeDrop } from './privileges.js';
import { bannerLines, versionLine } from './version.js';

// Only what `--version`, `-h`, `-t` and `-T` need is imported above (no winston: those use the direct
// command logger). The subcommands (subcommands.ts), the lease file test (lease-test.ts: the lease
// parser) and serving (serve.ts: server, engine, native transport, better-sqlite3, winston) are
// imported when they run: Node's start-up and module loading are most of `dhcpd -t` on a small file.

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

/**
 * A syslog sender that loads the native addon at the first line sent, not at start (loading dhcpsock.node
 * is ~20 ms of a check: STARTUP-SPEED-4.md Part 2), and not at all while nothing exists at `path`: such a
 * line could not be sent anyway (glibc's syslog() drops it too when the connect fails, and tries again at
 * the next line, as this does). Only for runs that never chroot nor drop privileges (checks, a fatal exit
 * before serving): a server connects /dev/log before those. Without the addon each line is dropped and
 * counted, as the eager sender's queue does.
 */
function lazySyslogSend(path: string): SyslogSend {
  let send: SyslogSend | null | undefined;
  return (datagram) => {
    if (send === undefined && !existsSync(path)) {
      throw Object.assign(new Error(`${path}: no such socket: syslog line dropped`), { code: 'ENOENT' });
    }
    if (send === undefined) send = nativeSyslogSend(path) ?? null;
    if (send === null) throw Object.assign(new Error('no dhcpsock addon: syslog line dropped'), { code: 'ENOENT' });
    send(datagram);
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
        const logger = createCommandLogger({ foreground: true, quiet: outcome.quiet, sink: { stream: io.stderr, send: lazySyslogSend(syslogPath(io.env)) } });
        if (!outcome.quiet) for (const line of bannerLines()) logger.info(line);
        const code = await fatal(logger, outcome.message);
        await logger.close();
        return code;
      }
    case 'unsupported':
      writeLines(io.stderr, [outcome.message, '', 'exiting.']);
      return 1;
    case 'subcommand': {
      const { runSubcommand } = await import('./subcommands.js');
      return runSubcommand(outcome.name, outcome.argv, io);
    }
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
  // A check (-t/-T) is over in a moment: the direct logger, no winston; a server gets the winston one.
  const startupOptions = {
    foreground: true,
    quiet: args.quiet,
    syslogInForeground: !testOnly && !args.debug,
    // A check never chroots nor drops privileges: its addon may load at its first syslog line.
    sink: testOnly ? { stream: io.stderr, send: lazySyslogSend(syslogPath(io.env)) } : { stream: io.stderr, syslogPath: syslogPath(io.env) },
  };
  const logger = testOnly ? createCommandLogger(startupOptions) : createLogger(startupOptions);
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

  let leaseTest: typeof import('./lease-test.js') | undefined;
  if (args.chroot !== undefined) {
    // Where Debian's ISC build chroots: after the config is read, before -t's exit, the pid file, the lease
    // file and the sockets (which are then all paths inside the jail). See chroot.ts.
    const { enterChrootAsIsc, preloadProgram } = await import('./chroot.js');
    if (args.test === 'config+leases') leaseTest = await import('./lease-test.js');
    else if (args.test === 'none') {
      await preloadProgram();
      // Syslog goes on through the socket connected before the jail is entered, as ISC's does; only a
      // socket nobody listens on now (and that the jail lacks) means the lines from inside are lost.
      const log = syslogPath(io.env);
      if (!args.debug) {
        const { connectUnixDatagram } = await import('../native/index.js');
        if (!connectUnixDatagram(log) && !existsSync(join(args.chroot, log))) {
          logger.error(`nobody listens on ${log} and ${join(args.chroot, log)} does not exist: syslog lines from inside the jail will be lost.`);
        }
      }
    }
    // The config's own path is kept as given (a relative one against today's folder) for SIGHUP.
    s.configFile = resolvePath(s.configFile);
    const err = enterChrootAsIsc(args.chroot);
    if (err) return failed(await fatal(logger, err));
  }

  if (args.test === 'config') {
    await logger.close();
    return 0;
  }
  if (args.test === 'config+leases') {
    const { testLeaseFile } = leaseTest ?? (await import('./lease-test.js'));
    const r = testLeaseFile(s.leaseFile, config, logger);
    if (!r.ok) return fatal(logger, r.fatal);
    await logger.close();
    return 0;
  }

  const { serve, switchable } = await import('./serve.js');
  return serve({
    args,
    config,
    settings: s,
    logger: switchable(logger),
    drop: priv.drop,
    syslogPath: syslogPath(io.env),
    child,
    failed,
  });
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
