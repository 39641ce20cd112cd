/**
 * dhcpd-ts subcommands (first argument only; see argv.ts): `import`, `export`, `partner-down`, `probe`.
 *
 *   dhcpd import [-cf config-file] [-lf lease-file] [-db sqlite-file] [leases-file-to-import]
 *   dhcpd export [-cf config-file] [-lf lease-file] [-db sqlite-file] [output-file|-]
 *   dhcpd partner-down [-cf config-file] [-db sqlite-file] [peer-name]
 *   dhcpd probe ...
 *
 * Paths default as for the server (Debian's, then PATH_DHCPD_* and the config's lease-file-name).
 */
import { getLeaseCommands, getLoadConfig, type LeaseCommandOptions } from './adapters.js';
import { DEFAULT_CONFIG_FILE, DEFAULT_LEASE_FILE, defaultDbFile, noArgumentMessage, type Subcommand } from './argv.js';
import { resolveServerParameters } from '../config/parameters.js';
import type { Config } from '../config/model.js';
import { createLogger } from '../log/logger.js';

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
}

/** Parses `-cf`, `-lf`, `-db` and positionals; returns an error message for anything else. */
export function parseSubcommandArgs(argv: readonly string[], env: NodeJS.ProcessEnv): SubcommandArgs | { error: string } {
  const out: SubcommandArgs = { configFile: env.PATH_DHCPD_CONF || DEFAULT_CONFIG_FILE, leaseFile: undefined, dbFile: undefined, positional: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-cf' || a === '-lf' || a === '-db') {
      if (++i === argv.length) return { error: noArgumentMessage(a) };
      if (a === '-cf') out.configFile = argv[i];
      else if (a === '-lf') out.leaseFile = argv[i];
      else out.dbFile = argv[i];
    } else if (a.startsWith('-') && a !== '-') {
      return { error: `Unknown command ${a}` };
    } else {
      out.positional.push(a);
    }
  }
  if (out.leaseFile === undefined && env.PATH_DHCPD_DB) out.leaseFile = env.PATH_DHCPD_DB;
  return out;
}

export async function runSubcommand(name: Subcommand, argv: readonly string[], io: SubcommandIo): Promise<number> {
  const parsed = parseSubcommandArgs(argv, io.env);
  if ('error' in parsed) {
    io.stderr.write(`${parsed.error}\nUsage: dhcpd ${name} [-cf config-file] [-lf lease-file] [-db sqlite-file] [file]\n`);
    return 1;
  }
  const logger = createLogger({ foreground: true, sink: { stream: io.stderr } });
  try {
    // The config is optional for the lease commands (lease-file-name, failover peers); read if present.
    let config: Config | undefined;
    const loadConfig = await getLoadConfig();
    if (loadConfig) {
      const r = await loadConfig(parsed.configFile);
      if (r.ok) config = r.config;
    }
    const p = config ? resolveServerParameters([config.global]) : undefined;
    const leaseFile = parsed.leaseFile ?? p?.leaseFileName ?? DEFAULT_LEASE_FILE;
    const dbFile = parsed.dbFile ?? defaultDbFile(leaseFile);
    const opts: LeaseCommandOptions = { config, leaseFile, dbFile, file: parsed.positional[0], logger };
    switch (name) {
      case 'import':
      case 'export': {
        const cmds = await getLeaseCommands();
        const fn = name === 'import' ? cmds?.importLeases : cmds?.exportLeases;
        if (!fn) {
          logger.error(`dhcpd-ts ${name}: not in this build yet (leases/commands.ts).`);
          return 1;
        }
        return await fn(opts);
      }
      case 'partner-down':
        logger.error('dhcpd-ts partner-down: not in this build yet (the failover module provides it).');
        return 1;
      case 'probe':
        logger.error('dhcpd-ts probe: not in this build yet (the net module provides it).');
        return 1;
    }
  } finally {
    await logger.close();
  }
}
