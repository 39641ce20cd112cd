/**
 * dhcpd-ts logging: syslog severities, ISC's line format, on winston 3.
 *
 * - Foreground (`-d`/`-f`): every line goes to stderr as ISC writes it there: the bare message and a
 *   newline, no prefix (common/errwarn.c writes `mbuf` + "\n" to STDERR_FILENO).
 * - Daemon: every line goes to syslog over the `/dev/log` AF_UNIX datagram socket, formatted like
 *   glibc syslog(3) with `openlog("dhcpd", LOG_PID, facility)`: `<PRI>Mmm dd hh:mm:ss dhcpd[PID]: msg`
 *   (RFC 3164 local form, local time, day of month space-padded).
 *
 * Node has no AF_UNIX datagram socket, so the syslog transport is written against an injected
 * {@link SyslogSend} (the native addon's `unixDatagramSend`). It keeps a bounded queue, retries on
 * EAGAIN/ENOBUFS, counts what it had to drop and says so in the log once it can; it never throws
 * into the caller. glibc's syslog(3) blocks instead; a server must not, so lines wait in the queue.
 */
import { createRequire } from 'node:module';
import type TransportStream from 'winston-transport';
import { addonAvailable, unixDatagramSend } from '../native/index.js';
import { syslogLine } from './syslog-format.js';
import { SyslogQueue, type SyslogSend, type SyslogTransportStats } from './syslog-transport.js';

type Winston = typeof import('winston');

/**
 * winston, loaded on the first {@link createLogger} call rather than at import: it costs ~70 ms of CPU
 * (a hundred CommonJS files), more than all of `dhcpd -t` on a small file, and modules that import this
 * one only for types or the rate limiter (the engine) must not pay for it.
 */
let winstonModule: Winston | undefined;
function winstonLib(): Winston {
  winstonModule ??= createRequire(import.meta.url)('winston') as Winston;
  return winstonModule;
}

export { syslogLine, type SyslogSend, type SyslogTransportStats };
export { formatSyslogDate } from './syslog-format.js';

/** Syslog severities, most severe first (RFC 5424 §6.2.1 numbering: emerg = 0 … debug = 7). */
export const LOG_LEVELS = ['emerg', 'alert', 'crit', 'error', 'warning', 'notice', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** One method a syslog level, each calling `log` with its level (the shape every Logger shares). */
export function levelMethods(log: (level: LogLevel, message: string) => void): Record<LogLevel, (message: string) => void> {
  return {
    emerg: (m) => log('emerg', m),
    alert: (m) => log('alert', m),
    crit: (m) => log('crit', m),
    error: (m) => log('error', m),
    warning: (m) => log('warning', m),
    notice: (m) => log('notice', m),
    info: (m) => log('info', m),
    debug: (m) => log('debug', m),
  };
}

/** Severity number of a level (emerg 0 … debug 7), as used in the syslog PRI. */
export function severityOf(level: LogLevel): number {
  return LOG_LEVELS.indexOf(level);
}

/** Facility codes from <syslog.h> (value >> 3), the names ISC's `log-facility` accepts. */
export const FACILITIES: Readonly<Record<string, number>> = Object.freeze({
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
});

/** A facility name as written in `log-facility NAME;` (ISC also accepts `security` = auth). */
export type SyslogFacility = string;

/** Facility code for a name; ISC's parser also knows `security` (= auth) and `console`/`ntp`-less sets. */
export function facilityCode(name: SyslogFacility): number | undefined {
  const n = name.toLowerCase();
  if (n === 'security') return FACILITIES.auth;
  return FACILITIES[n];
}

/** What every module logs through. Methods never throw. */
export interface Logger {
  emerg(message: string): void;
  alert(message: string): void;
  crit(message: string): void;
  error(message: string): void;
  warning(message: string): void;
  notice(message: string): void;
  info(message: string): void;
  debug(message: string): void;
  log(level: LogLevel, message: string): void;
  /** Changes the syslog facility (applied after the config's `log-facility` is known). */
  setFacility(facility: SyslogFacility): void;
  /** Lines dropped so far (queue overflow or syslog unreachable); 0 in foreground mode. */
  droppedLines(): number;
  /** Resolves once every line logged so far has been handed to the OS (or counted as dropped). */
  flush(): Promise<void>;
  /** Flushes, then releases the transports. Further calls are ignored. */
  close(): Promise<void>;
}

/** Where lines go: a stream (foreground) or a syslog datagram sender (daemon). For tests and main.ts. */
export interface LogSink {
  /** Foreground output; default process.stderr. */
  stream?: NodeJS.WritableStream;
  /** Sends one syslog datagram; default: the native addon's unixDatagramSend to `syslogPath`. */
  send?: SyslogSend;
  /** Syslog socket path; default /dev/log. */
  syslogPath?: string;
}

export interface LoggerOptions {
  /** `-d`/`-f`: lines to stderr, bare. Otherwise syslog. */
  foreground: boolean;
  /** Syslog facility name (config `log-facility`); default `daemon` (ISC's DHCPD_LOG_FACILITY). */
  facility?: SyslogFacility;
  /** `-q`: ISC sets log_perror = 0 after the (suppressed) banner, so nothing goes to stderr even with
   * `-d`; lines then go to syslog only. */
  quiet?: boolean;
  /** Least severe level written; default `debug` (ISC logs everything it emits). */
  level?: LogLevel;
  /** Syslog identity; default `dhcpd` so that existing log tooling matches. */
  ident?: string;
  /** Pid written in syslog lines; default process.pid. */
  pid?: number;
  /** Clock for syslog timestamps; default the wall clock. */
  now?: () => Date;
  /** Also log to syslog in foreground mode (ISC always calls syslog(3) too); default false, because
   * under systemd stderr and /dev/log both reach the journal and lines would be doubled. */
  syslogInForeground?: boolean;
  /** Bounded queue size of the syslog transport; default 10 000 lines. */
  maxQueue?: number;
  sink?: LogSink;
}

const SYSLOG_LEVELS: Record<LogLevel, number> = {
  emerg: 0,
  alert: 1,
  crit: 2,
  error: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
};

/** The bare foreground line: the message and "\n" (ISC ignores write(2) errors here, so do we). */
function writeBare(out: NodeJS.WritableStream, message: string): void {
  try {
    out.write(`${message}\n`);
  } catch {
    // A closed stderr must not take the server down.
  }
}

interface WinstonTransports {
  /** Writes the bare message plus "\n" to a stream. */
  bare(out: NodeJS.WritableStream, level: string): TransportStream;
  /** Hands each line to a {@link SyslogQueue}. */
  syslog(queue: SyslogQueue, level: string): TransportStream;
}

/** The two winston transports, defined once winston is loaded (their base class comes from it). */
let transportClasses: WinstonTransports | undefined;
function winstonTransports(): WinstonTransports {
  if (transportClasses) return transportClasses;
  // winston's Transport base class (its typings expose it as a namespace, so re-type it here).
  const TransportBase = (winstonLib() as unknown as { Transport: typeof TransportStream }).Transport;
  /** `lines`: a batch of lines of one level (see createLogger), each its own line/datagram. */
  type Info = { level: string; message: unknown; lines?: readonly string[] };
  class BareStreamTransport extends TransportBase {
    constructor(private readonly out: NodeJS.WritableStream, level: string) {
      super({ level });
    }
    override log(info: Info, next: () => void): void {
      writeBare(this.out, String(info.message));
      next();
    }
  }
  class SyslogQueueTransport extends TransportBase {
    constructor(private readonly queue: SyslogQueue, level: string) {
      super({ level });
    }
    override log(info: Info, next: () => void): void {
      const sev = SYSLOG_LEVELS[info.level as LogLevel] ?? 6;
      if (info.lines !== undefined) for (const line of info.lines) this.queue.log(sev, line);
      else this.queue.log(sev, String(info.message));
      next();
    }
    override close(): void {
      this.queue.close();
    }
  }
  transportClasses = {
    bare: (out, level) => new BareStreamTransport(out, level),
    syslog: (queue, level) => new SyslogQueueTransport(queue, level),
  };
  return transportClasses;
}

/**
 * The native addon's AF_UNIX datagram sender bound to `path`, or undefined when the addon is not built.
 * The addon throws an ErrnoError with `code` 'EAGAIN' on a full receiver, which the transport retries.
 */
export function nativeSyslogSend(path = '/dev/log'): SyslogSend | undefined {
  if (!addonAvailable()) return undefined;
  return (datagram: Buffer) => {
    unixDatagramSend(path, datagram);
  };
}

/** What both loggers share: where lines go, decided once from the options. */
interface Destinations {
  level: LogLevel;
  /** Foreground stream, or undefined (daemon, or -q). */
  stream: NodeJS.WritableStream | undefined;
  /** The syslog queue, or undefined (foreground without syslogInForeground). */
  syslog: SyslogQueue | undefined;
  setFacility(name: SyslogFacility): void;
}

function destinations(options: LoggerOptions): Destinations {
  const ident = options.ident ?? 'dhcpd';
  const pid = options.pid ?? process.pid;
  const now = options.now ?? (() => new Date());
  let facility = facilityCode(options.facility ?? 'daemon') ?? FACILITIES.daemon;
  const stream = options.sink?.stream ?? process.stderr;
  const toStream = options.foreground && !options.quiet;
  const toSyslog = !toStream || options.syslogInForeground === true;
  let syslog: SyslogQueue | undefined;
  if (toSyslog) {
    const send = options.sink?.send ?? nativeSyslogSend(options.sink?.syslogPath ?? '/dev/log');
    syslog = new SyslogQueue({
      send,
      maxQueue: options.maxQueue ?? 10_000,
      format: (sev, msg) => syslogLine(facility * 8 + sev, now(), ident, pid, msg),
      fallback: options.foreground ? undefined : (line) => writeBare(stream, line),
    });
    // No addon: lines go to the fallback (stderr; under systemd that is the journal).
    if (!send) syslog.attach(undefined);
  }
  return {
    level: options.level ?? 'debug',
    stream: toStream ? stream : undefined,
    syslog,
    setFacility(name) {
      const code = facilityCode(name);
      if (code !== undefined) facility = code;
    },
  };
}

/** The Logger methods around a line writer; `beforeFlush` hands over lines the writer still holds. */
function loggerOf(d: Destinations, write: (level: LogLevel, message: string) => void, release: () => void, beforeFlush?: () => void): Logger {
  let closed = false;
  const log = (lvl: LogLevel, message: string): void => {
    if (closed) return;
    try {
      write(lvl, message);
    } catch {
      /* logging never throws into callers */
    }
  };
  const flush = async (): Promise<void> => {
    beforeFlush?.();
    // Let winston's internal pipe deliver what is queued, then drain the syslog queue.
    await new Promise<void>((r) => setImmediate(r));
    if (d.syslog) await d.syslog.drain();
  };
  return {
    ...levelMethods(log),
    log,
    // Held lines keep the facility and queue accounting of the moment they were logged.
    setFacility: (name) => {
      beforeFlush?.();
      d.setFacility(name);
    },
    droppedLines: () => {
      beforeFlush?.();
      return d.syslog ? d.syslog.stats().dropped : 0;
    },
    flush,
    async close() {
      if (closed) return;
      await flush();
      closed = true;
      release();
    },
  };
}

/**
 * Creates the process logger (winston). In daemon mode without an injected `sink.send`, lines go to
 * /dev/log through the native addon; if the addon is not built they fall back to the stream (stderr, which
 * under systemd is the journal).
 */
export function createLogger(options: LoggerOptions): Logger {
  const d = destinations(options);
  const winston = winstonLib();
  const make = winstonTransports();
  const transports: TransportStream[] = [];
  if (d.stream) transports.push(make.bare(d.stream, d.level));
  if (d.syslog) transports.push(make.syslog(d.syslog, d.level));
  const w = winston.createLogger({
    levels: SYSLOG_LEVELS,
    level: d.level,
    format: winston.format.printf((info) => String(info.message)),
    transports,
    exitOnError: false,
  });
  // A transport error must never become an uncaught 'error' event (winston-syslog crashed that way).
  w.on('error', () => undefined);
  for (const t of transports) t.on('error', () => undefined);
  // Lines are handed to winston once per event-loop turn, consecutive lines of one level as one entry
  // (the stream transport writes them with one write(2), the syslog one sends a datagram per line): a busy
  // server logs two lines a packet, and winston's per-entry pipeline and a write(2) per line were ~5 % of
  // its CPU. The text is unchanged, and flush()/close() hand over what is held first.
  const max = SYSLOG_LEVELS[d.level];
  let held: string[] = [];
  let heldLevel: LogLevel = 'info';
  let scheduled = false;
  const emit = (): void => {
    if (held.length === 0) return;
    const lines = held;
    held = [];
    if (lines.length === 1) w.log(heldLevel, lines[0]!);
    else w.log({ level: heldLevel, message: lines.join('\n'), lines });
  };
  const onTurnEnd = (): void => {
    scheduled = false;
    emit();
  };
  const write = (lvl: LogLevel, message: string): void => {
    if (SYSLOG_LEVELS[lvl] > max) return;
    if (lvl !== heldLevel) {
      emit();
      heldLevel = lvl;
    }
    held.push(message);
    if (!scheduled) {
      scheduled = true;
      setImmediate(onTurnEnd);
    }
  };
  return loggerOf(d, write, () => void w.close(), emit);
}

/**
 * The same lines to the same places as {@link createLogger}, written directly instead of through winston:
 * for short-lived commands (`dhcpd -t`, `-T`, the subcommands, a fatal exit before serving), where
 * loading winston would be most of the run time. Stream lines are written synchronously in order; syslog
 * lines go through the same bounded, retrying queue.
 */
export function createCommandLogger(options: LoggerOptions): Logger {
  const d = destinations(options);
  const max = SYSLOG_LEVELS[d.level];
  return loggerOf(
    d,
    (lvl, message) => {
      const sev = SYSLOG_LEVELS[lvl];
      if (sev > max) return;
      if (d.stream) writeBare(d.stream, message);
      d.syslog?.log(sev, message);
    },
    () => d.syslog?.close(),
  );
}

/** A logger that discards everything (for tests and library use without output). */
export function createNullLogger(): Logger {
  const noop = (): void => undefined;
  return {
    emerg: noop,
    alert: noop,
    crit: noop,
    error: noop,
    warning: noop,
    notice: noop,
    info: noop,
    debug: noop,
    log: noop,
    setFacility: noop,
    droppedLines: () => 0,
    flush: async () => undefined,
    close: async () => undefined,
  };
}

/** A logger that records lines in memory, for tests of other modules' log output. */
export interface MemoryLogger extends Logger {
  readonly lines: { level: LogLevel; message: string }[];
}

export function createMemoryLogger(): MemoryLogger {
  const lines: { level: LogLevel; message: string }[] = [];
  const log = (level: LogLevel, message: string): void => {
    lines.push({ level, message });
  };
  return {
    lines,
    ...levelMethods(log),
    log,
    setFacility: () => undefined,
    droppedLines: () => 0,
    flush: async () => undefined,
    close: async () => undefined,
  };
}

export {
  createRateLimiter,
  logRateLimited,
  type RateLimiter,
  type RateLimiterOptions,
  type RateDecision,
} from './rate-limit.js';
