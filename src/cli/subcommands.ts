/**
 * dhcpd-ts subcommands (first argument only; see argv.ts): `import`, `export`, `partner-down`, `probe`.
 *
 *   dhcpd import [-cf config-file] [-lf lease-file] [-db sqlite-file] [--replace] [leases-file-to-import]
 *   dhcpd export [-cf config-file] [-lf lease-file] [-db sqlite-file] [output-file|-]
 *   dhcpd partner-down [-cf config-file] [-lf lease-file] [-db sqlite-file] [-pf pid-file] [peer-name]
 *   dhcpd probe -s server -g giaddr [...]   (see probe-command.ts)
 *
 * Paths default as for the server (Debian's, then PATH_DHCPD_* and the config's lease-file-name).
 */
import { existsSync } from 'node:fs';
import { getLeaseCommands, getLoadConfig, leaseErrorText } from './adapters.js';
import { DEFAULT_CONFIG_FILE, DEFAULT_LEASE_FILE, DEFAULT_PID_FILE, defaultDbFile, noArgumentMessage, type Subcommand } from './argv.js';
import { resolveServerParameters } from '../config/parameters.js';
import type { Config } from '../config/model.js';
import { createCommandLogger } from '../log/logger.js';

export interface SubcommandIo {
  stderr: NodeJS.WritableStream;
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** Parsed common arguments of the lease subcommands. */
export interface SubcommandArgs {
  configFile: string;
  leaseFile: string | undefined;
  dbFile: string | undefined;
  positional: string[];
  /** partner-down: the pid file that tells whether a server runs. */
  pidFile: string | undefined;
  /** import: `--replace` the database's current contents. */
  replace: boolean;
}

/** Parses `-cf`, `-lf`, `-db` and positionals; returns an error message for anything else. */
export function parseSubcommandArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SubcommandArgs | { error: string } {
  const out: SubcommandArgs = { configFile: env.PATH_DHCPD_CONF || DEFAULT_CONFIG_FILE, leaseFile: undefined, dbFile: undefined, pidFile: undefined, positional: [], replace: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-cf' || a === '-lf' || a === '-db' || a === '-pf') {
      if (++i === argv.length) return { error: noArgumentMessage(a) };
      if (a === '-cf') out.configFile = argv[i];
      else if (a === '-lf') out.leaseFile = argv[i];
      else if (a === '-pf') out.pidFile = argv[i];
      else out.dbFile = argv[i];
    } else if (a === '--replace') {
      out.replace = true;
    } else if (a.startsWith('-') && a !== '-') {
      return { error: `Unknown command ${a}` };
    } else {
      out.positional.push(a);
    }
  }
  if (out.leaseFile === undefined && env.PATH_DHCPD_DB) out.leaseFile = env.PATH_DHCPD_DB;
  if (out.pidFile === undefined && env.PATH_DHCPD_PID) out.pidFile = env.PATH_DHCPD_PID;
  return out;
}

export async function runSubcommand(name: Subcommand, argv: readonly string[], io: SubcommandIo): Promise<number> {
  if (name === 'probe') {
    const { runProbe } = await import('./probe-command.js');
    return runProbe(argv, io.stdout, io.stderr);
  }
  const parsed = parseSubcommandArgs(argv, io.env);
  if ('error' in parsed) {
    io.stderr.write(`${parsed.error}\nUsage: dhcpd ${name} [-cf config-file] [-lf lease-file] [-db sqlite-file] [file]\n`);
    return 1;
  }
  // A short command: the direct logger (no winston), same lines as the server's foreground logger.
  const logger = createCommandLogger({ foreground: true, sink: { stream: io.stderr } });
  try {
    // The config is optional for the lease commands (lease-file-name, failover peers); read if present.
    let config: Config | undefined;
    const loadConfig = await getLoadConfig();
    const r = await loadConfig(parsed.configFile);
    if (r.ok) config = r.config;
    const p = config ? resolveServerParameters([config.global]) : undefined;
    const leaseFile = parsed.leaseFile ?? p?.leaseFileName ?? DEFAULT_LEASE_FILE;
    const dbFile = parsed.dbFile ?? defaultDbFile(leaseFile);
    const configFile = existsSync(parsed.configFile) ? parsed.configFile : undefined;
    switch (name) {
      case 'import':
      case 'export': {
        const cmds = await getLeaseCommands();
        try {
          if (name === 'import') {
            const from = parsed.positional[0] ?? leaseFile;
            const summary = cmds.importLeases({ leaseFile: from, database: dbFile, configFile, replace: parsed.replace });
            io.stdout.write(`${cmds.formatImportSummary(summary)}\n`);
          } else {
            const output = parsed.positional[0] ?? '-';
            const r = await cmds.exportLeases({ database: dbFile, output, configFile });
            logger.info(`Exported ${r.leases} leases from ${dbFile} to ${output === '-' ? 'standard output' : output}.`);
          }
          return 0;
        } catch (e) {
          for (const line of leaseErrorText(e).split('\n')) logger.error(line);
          return 1;
        }
      }
      case 'partner-down': {
        if (!config) {
          logger.error(`partner-down: the configuration ${parsed.configFile} must load (run dhcpd -t -cf ${parsed.configFile}).`);
          return 1;
        }
        const pidFile = parsed.pidFile ?? (p?.pidFileName || DEFAULT_PID_FILE);
        // awaited here: the finally below closes the logger, which must outlive the live request.
        const { partnerDown } = await import('./partner-down.js');
        return await partnerDown({ config, dbFile, pidFile, peer: parsed.positional[0], logger });
      }
    }
  } finally {
    await logger.close();
  }
}
