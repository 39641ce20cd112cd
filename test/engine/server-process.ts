/** How integration tests start the server process (test/engine/run-server, from source or from dist). */
import { fileURLToPath } from 'node:url';

/** Command, arguments and working directory for `run-server CONFIG DB IFACE…`. */
export function serverCommand(configFile: string, dbFile: string, ifaces: readonly string[]): { cmd: string; args: string[]; cwd: string } {
  const here = fileURLToPath(import.meta.url);
  const fromSource = here.endsWith('.ts');
  const runner = fileURLToPath(new URL(`./run-server.${fromSource ? 'ts' : 'js'}`, import.meta.url));
  const root = fileURLToPath(new URL(fromSource ? '../../' : '../../../', import.meta.url));
  return { cmd: process.execPath, args: [...(fromSource ? ['--import', 'tsx'] : []), runner, configFile, dbFile, ...ifaces], cwd: root };
}
