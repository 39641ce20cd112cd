/**
 * dhcpd's command line, parsed exactly as ISC dhcpd 4.4.3 (server/dhcpd.c) does: flags are compared
 * whole, one by one (`-cf` is one flag, never `-c -f`), in two passes:
 *
 * 1. `--version`, `--help`/`-h` are looked for anywhere first, even in the place of another flag's
 *    argument (`dhcpd -cf --help` prints the usage), and win over every error.
 * 2. Then left to right: a flag missing its argument or an unknown `-x` is a usage error (banner, the
 *    specific message, usage text, exit 1); a bad port or an over-long interface name is fatal at once
 *    (message, no banner, exit 1); anything not starting with `-` is an interface name.
 *
 * dhcpd-ts additions, none of which change the meaning of a command line ISC accepts:
 * - `-db FILE`: the SQLite lease database (default `<lease file>.sqlite`).
 * - `--`: every later argument is an interface name (ISC rejects `--` as "Unknown command --").
 * - Subcommands `import`, `export`, `partner-down`, `probe`: recognised ONLY as the very first argument.
 *   ISC would take such a word for an interface name; every launcher of dhcpd (Debian's init script,
 *   systemd units, start-stop-daemon lines) passes flags before interfaces, so a first argument that is
 *   a bare word does not occur in practice. To serve an interface literally named like a subcommand,
 *   put any flag before it (`dhcpd -4 import`) or use `--` (`dhcpd -- import`).
 */
import { realpathSync } from 'node:fs';

/** Debian's build-time defaults (isc-dhcp-server 4.4.3-P1-2). */
export const DEFAULT_CONFIG_FILE = '/etc/dhcp/dhcpd.conf';
export const DEFAULT_LEASE_FILE = '/var/lib/dhcp/dhcpd.leases';
export const DEFAULT_PID_FILE = '/var/run/dhcpd.pid';
export const DEFAULT_PORT = 67;

/** Subcommands (first argument only); see the module comment. */
export const SUBCOMMANDS = ['import', 'export', 'partner-down', 'probe'] as const;
export type Subcommand = (typeof SUBCOMMANDS)[number];

/** What the server command line asks for. Paths are as given (lease file made absolute like ISC). */
export interface ServerArgs {
  /** -p PORT (or DHCPD_PORT); undefined = 67 (replies to PORT+1). */
  port: number | undefined;
  /** -f: do not daemonize. */
  foreground: boolean;
  /** -d: log to stderr; implies foreground. */
  debug: boolean;
  /** -q: no banner, and (as ISC's log_perror = 0) nothing on stderr afterwards. */
  quiet: boolean;
  /** -t: test the config; -T: config and lease file. */
  test: 'none' | 'config' | 'config+leases';
  /** -4 (default) or -6. */
  family: 4 | 6;
  configFile: string;
  leaseFile: string;
  pidFile: string;
  /** -db FILE; undefined = `<lease file>.sqlite` (after the config's lease-file-name is applied). */
  dbFile: string | undefined;
  noPid: boolean;
  user: string | undefined;
  group: string | undefined;
  chroot: string | undefined;
  /** -s SERVER: send broadcast replies to this address instead (ISC testing aid). */
  server: string | undefined;
  traceOutput: string | undefined;
  tracePlay: string | undefined;
  /** Interfaces named on the command line, in order. */
  interfaces: string[];
  /** Which paths/port came from the command line or environment; the config's lease-file-name,
   * pid-file-name and local-port apply only where these are false (ISC's have_dhcpd_* flags). */
  explicit: { configFile: boolean; leaseFile: boolean; pidFile: boolean; port: boolean };
  /** Lines ISC logs while parsing (before the banner), e.g. "binding to user-specified port 67". */
  notes: string[];
  /** Lines ISC logs right after the banner ("binding to environment-specified port N"). */
  lateNotes: string[];
}

/** The result of parsing; main.ts turns each kind into output and an exit code. */
export type ParseOutcome =
  | { kind: 'version' }
  | { kind: 'help' }
  /** Banner, `message` (if any), usage text, ISC's bug boilerplate, exit 1. */
  | { kind: 'usage-error'; message: string | undefined; notes: string[] }
  /** `message` + boilerplate, exit 1 (ISC's log_fatal during argument parsing). `afterBanner`: ISC
   * reaches this check after printing its banner (and, with -q, after silencing stderr). */
  | { kind: 'fatal'; message: string; notes: string[]; afterBanner?: boolean; quiet?: boolean }
  /** A valid ISC flag that dhcpd-ts does not implement; exit 1. */
  | { kind: 'unsupported'; message: string }
  | { kind: 'server'; args: ServerArgs }
  | { kind: 'subcommand'; name: Subcommand; argv: string[] };

/** The specific message ISC prints for a flag without its argument (note the trailing space). */
export function noArgumentMessage(flag: string): string {
  return `No argument for command: ${flag} `;
}

/** ISC's usage text (to stderr), as `dhcpd --help` prints it; the program name is always `dhcpd`. */
export const USAGE_TEXT =
  'Usage: dhcpd [-p <UDP port #>] [-f] [-d] [-q] [-t|-T]\n' +
  '             [-4|-6] [-cf config-file] [-lf lease-file]\n' +
  '             [-user user] [-group group] [-chroot dir]\n' +
  '             [-tf trace-output-file]\n' +
  '             [-play trace-input-file]\n' +
  '             [-pf pid-file] [--no-pid] [-s server]\n' +
  '             [if0 [...ifN]]\n' +
  '       dhcpd {--version|--help|-h}\n';

/** Our additions, printed after ISC's usage by `--help` (only there, so ISC's text stays intact). */
export const EXTRA_USAGE_TEXT =
  '\n' +
  'dhcpd-ts additions:\n' +
  '       dhcpd [...] [-db sqlite-file] [--] [if0 [...ifN]]\n' +
  '       dhcpd import [-cf config-file] [-lf lease-file] [-db sqlite-file] [--replace] [leases-file-to-import]\n' +
  '       dhcpd export [-cf config-file] [-lf lease-file] [-db sqlite-file] [output-file|-]\n' +
  '       dhcpd partner-down [-cf config-file] [-db sqlite-file] [-pf pid-file] [peer-name]\n' +
  '                 (server stopped: record my state partner-down, as ISC\'s lease-file edit)\n' +
  '       dhcpd probe -s server -g giaddr [-m mac] [-p port] [-request address]\n' +
  '                 (ask a server once, as a relay would, and print its reply)\n' +
  'A subcommand is recognised only as the first argument; an interface named like one\n' +
  'can be given after a flag or after "--".\n' +
  'Environment: PATH_DHCPD_CONF, PATH_DHCPD_DB, PATH_DHCPD_PID, DHCPD_PORT (as ISC dhcpd);\n' +
  'DHCPD_TS_SYSLOG_SOCKET (syslog socket, default /dev/log).\n';

/** Linux IFNAMSIZ: ISC refuses names of 16 characters or more. */
const IFNAMSIZ = 16;

/**
 * ISC's validate_port(): strtol base 10 (leading blanks and a sign allowed), the whole string must be
 * consumed, 1..65535. Returns the port or the fatal message.
 */
export function validatePort(text: string): number | { error: string } {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d*)$/.exec(text);
  if (!m) return { error: `Invalid port number specification: ${text}` };
  // strtol("") and strtol("-") give 0 with nothing consumed; ISC only checks *endptr, so that is 0.
  const n = m[2] === '' ? 0 : Number(m[2]) * (m[1] === '-' ? -1 : 1);
  if (n < 1 || n > 65535) return { error: 'Port number specified is out of range (1-65535).' };
  return n;
}

/** strerror(3) texts for the errno values realpath(3) can give. */
const STRERROR: Record<string, string> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  ENAMETOOLONG: 'File name too long',
  EIO: 'Input/output error',
};

/** strerror text for a Node error, falling back to its code. */
export function strerror(e: unknown): string {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const code = String((e as { code: unknown }).code);
    return STRERROR[code] ?? code;
  }
  return String(e);
}

type Env = Readonly<Record<string, string | undefined>>;

interface FlagSpec {
  /** Takes the next argument as its value. */
  arg: boolean;
  /** Applies the flag; returns an outcome to stop parsing with. */
  apply(a: ServerArgs, value: string, st: ParseState): ParseOutcome | undefined;
}

interface ParseState {
  familySet: boolean;
}

/** The flag table: ISC's flags (Debian's build: PARANOIA and TRACING on, DHCP4o6 off) plus `-db`. */
const FLAGS: Readonly<Record<string, FlagSpec>> = {
  '-p': {
    arg: true,
    apply(a, v) {
      const p = validatePort(v);
      if (typeof p !== 'number') return { kind: 'fatal', message: p.error, notes: a.notes };
      a.port = p;
      a.explicit.port = true;
      a.notes.push(`binding to user-specified port ${p}`);
      return undefined;
    },
  },
  '-f': { arg: false, apply: (a) => void (a.foreground = true) },
  '-d': {
    arg: false,
    apply(a) {
      a.debug = true;
      a.foreground = true;
      return undefined;
    },
  },
  '-s': { arg: true, apply: (a, v) => void (a.server = v) },
  '-user': { arg: true, apply: (a, v) => void (a.user = v) },
  '-group': { arg: true, apply: (a, v) => void (a.group = v) },
  '-chroot': { arg: true, apply: (a, v) => void (a.chroot = v) },
  '-cf': {
    arg: true,
    apply(a, v) {
      a.configFile = v;
      a.explicit.configFile = true;
      return undefined;
    },
  },
  '-lf': {
    arg: true,
    apply(a, v) {
      a.leaseFile = v;
      a.explicit.leaseFile = true;
      return undefined;
    },
  },
  '-pf': {
    arg: true,
    apply(a, v) {
      a.pidFile = v;
      a.explicit.pidFile = true;
      return undefined;
    },
  },
  '--no-pid': { arg: false, apply: (a) => void (a.noPid = true) },
  '-t': {
    arg: false,
    apply(a) {
      if (a.test === 'none') a.test = 'config';
      return undefined;
    },
  },
  '-T': { arg: false, apply: (a) => void (a.test = 'config+leases') },
  '-q': { arg: false, apply: (a) => void (a.quiet = true) },
  '-4': {
    arg: false,
    apply(a, _v, st) {
      if (st.familySet && a.family !== 4) return bothFamilies(a);
      a.family = 4;
      st.familySet = true;
      return undefined;
    },
  },
  '-6': {
    arg: false,
    apply(a, _v, st) {
      if (st.familySet && a.family !== 6) return bothFamilies(a);
      a.family = 6;
      st.familySet = true;
      return undefined;
    },
  },
  '-tf': { arg: true, apply: (a, v) => void (a.traceOutput = v) },
  '-play': { arg: true, apply: (a, v) => void (a.tracePlay = v) },
  '-db': { arg: true, apply: (a, v) => void (a.dbFile = v) },
};

function bothFamilies(a: ServerArgs): ParseOutcome {
  return { kind: 'fatal', message: 'Server cannot run in both IPv4 and IPv6 mode at the same time.', notes: a.notes };
}

/** Names of every flag the parser knows (for tests and the docs). */
export const KNOWN_FLAGS: readonly string[] = [...Object.keys(FLAGS), '--version', '--help', '-h'];

function freshArgs(): ServerArgs {
  return {
    port: undefined,
    foreground: false,
    debug: false,
    quiet: false,
    test: 'none',
    family: 4,
    configFile: DEFAULT_CONFIG_FILE,
    leaseFile: DEFAULT_LEASE_FILE,
    pidFile: DEFAULT_PID_FILE,
    dbFile: undefined,
    noPid: false,
    user: undefined,
    group: undefined,
    chroot: undefined,
    server: undefined,
    traceOutput: undefined,
    tracePlay: undefined,
    interfaces: [],
    explicit: { configFile: false, leaseFile: false, pidFile: false, port: false },
    notes: [],
    lateNotes: [],
  };
}

/** Options for {@link parseArgv}; both default to the real process. */
export interface ParseArgvOptions {
  env?: Env;
  /** realpath(3) for a relative lease file; default fs.realpathSync. */
  realpath?: (p: string) => string;
}

/**
 * Parses dhcpd's arguments (without node and script: `process.argv.slice(2)`).
 * Pure except for the realpath of a relative lease file name, which ISC does while parsing.
 */
export function parseArgv(argv: readonly string[], options: ParseArgvOptions = {}): ParseOutcome {
  const env = options.env ?? process.env;
  const realpath = options.realpath ?? ((p: string) => realpathSync(p));

  // Pass 1 (ISC's first loop): --version and --help/-h anywhere win; the first one found decides.
  for (const a of argv) {
    if (a === '--version') return { kind: 'version' };
    if (a === '--help' || a === '-h') return { kind: 'help' };
  }

  if (argv.length > 0 && (SUBCOMMANDS as readonly string[]).includes(argv[0])) {
    return { kind: 'subcommand', name: argv[0] as Subcommand, argv: argv.slice(1) };
  }

  // Pass 2: left to right.
  const a = freshArgs();
  const st: ParseState = { familySet: false };
  let onlyInterfaces = false;
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i];
    if (!onlyInterfaces && word === '--') {
      onlyInterfaces = true;
      continue;
    }
    if (!onlyInterfaces && word.startsWith('-')) {
      const spec = FLAGS[word];
      if (!spec) return { kind: 'usage-error', message: `Unknown command ${word}`, notes: a.notes };
      let value = '';
      if (spec.arg) {
        if (++i === argv.length) return { kind: 'usage-error', message: noArgumentMessage(word), notes: a.notes };
        value = argv[i];
      }
      const stop = spec.apply(a, value, st);
      if (stop) return stop;
      continue;
    }
    if (word.length >= IFNAMSIZ) {
      return { kind: 'fatal', message: `${word}: interface name too long (is ${word.length})`, notes: a.notes };
    }
    a.interfaces.push(word);
  }

  // Environment overrides, only where the flag was absent (ISC: have_dhcpd_conf/db/pid).
  if (!a.explicit.configFile && env.PATH_DHCPD_CONF) a.configFile = env.PATH_DHCPD_CONF;
  if (a.family === 4) {
    if (!a.explicit.leaseFile && env.PATH_DHCPD_DB) {
      a.leaseFile = env.PATH_DHCPD_DB;
      a.explicit.leaseFile = true;
    }
    if (!a.explicit.pidFile && env.PATH_DHCPD_PID) {
      a.pidFile = env.PATH_DHCPD_PID;
      a.explicit.pidFile = true;
    }
  }
  // ISC makes a relative lease file absolute with realpath(3), which needs the file to exist.
  if (a.explicit.leaseFile && !a.leaseFile.startsWith('/')) {
    try {
      a.leaseFile = realpath(a.leaseFile);
    } catch (e) {
      return { kind: 'fatal', message: `Failed to get realpath for ${a.leaseFile}: ${strerror(e)}`, notes: a.notes };
    }
  }

  // Valid ISC flags that dhcpd-ts does not implement (yet): refuse clearly rather than misbehave.
  if (a.family === 6) {
    return { kind: 'unsupported', message: 'DHCPv6 (-6) is not supported by dhcpd-ts; run ISC dhcpd -6 for DHCPv6.' };
  }
  if (a.tracePlay !== undefined) {
    return { kind: 'unsupported', message: 'Trace playback (-play) is not supported by dhcpd-ts.' };
  }
  if (a.traceOutput !== undefined) {
    return { kind: 'unsupported', message: 'Trace recording (-tf) is not supported by dhcpd-ts.' };
  }

  // DHCPD_PORT applies when -p is absent (ISC validates it the same way, after the banner).
  if (!a.explicit.port && env.DHCPD_PORT !== undefined) {
    const p = validatePort(env.DHCPD_PORT);
    if (typeof p !== 'number') return { kind: 'fatal', message: p.error, notes: a.notes, afterBanner: true, quiet: a.quiet };
    a.port = p;
    a.explicit.port = true;
    a.lateNotes.push(`binding to environment-specified port ${p}`);
  }
  return { kind: 'server', args: a };
}

/** The SQLite database path: `-db`, else `<lease file>.sqlite` (lease file after lease-file-name). */
export function defaultDbFile(leaseFile: string): string {
  return `${leaseFile}.sqlite`;
}
