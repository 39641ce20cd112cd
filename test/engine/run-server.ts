/**
 * Runs the DHCP server (src/server/dhcp-server.ts) as a process for the integration tests, the way the CLI
 * will: `run-server.(ts|js) CONFIG_FILE DB_FILE [IFACE…]`. Logs to stderr in ISC's format; prints
 * "Server starting service." when serving; stops on SIGTERM/SIGINT.
 */
import { readFileSync } from 'node:fs';
import { createLogger } from '../../src/log/logger.js';
import { startDhcpServer } from '../../src/server/dhcp-server.js';
import { configFromText } from './config-text.js';

async function main(): Promise<void> {
  const [configFile, dbFile, ...ifaces] = process.argv.slice(2);
  if (configFile === undefined || dbFile === undefined) {
    process.stderr.write('usage: run-server CONFIG DB [IFACE...]\n');
    process.exit(2);
  }
  const logger = createLogger({ foreground: true });
  const config = await configFromText(readFileSync(configFile, 'latin1'));
  let server;
  try {
    server = await startDhcpServer({ config, logger, dbFile, interfaces: ifaces });
  } catch (e) {
    logger.error(e instanceof Error ? e.message : String(e));
    logger.error('exiting.');
    await logger.flush();
    process.exit(1);
  }
  logger.info('Server starting service.');
  const stop = async (): Promise<void> => {
    await server.stop();
    await logger.flush();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

void main();
