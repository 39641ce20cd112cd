/**
 * dhcpd's `-chroot DIR` where Debian's ISC 4.4.3 does it (PARANOIA without EARLY_CHROOT, server/dhcpd.c):
 * after the configuration has been read from the real root and before anything else, so the pid file,
 * the lease file (`-T` too) and the lease database are paths INSIDE the jail, and `-t` fails on a jail
 * that cannot be entered. (Checked with /usr/sbin/dhcpd -t/-T -chroot.)
 *
 * Node reads its program from disk as it goes (modules imported on first use, native addons loaded on
 * first call), and nothing outside the jail can be read once inside. So before the chroot every module of
 * dhcpd-ts is loaded (and a resolve hook answers a later `import()` of one without the disk), better-sqlite3's
 * and our native addons are loaded, the interfaces' /sys attributes and the local time zone are read. The
 * jail needs nothing from dhcpd-ts, not even /dev/log: the syslog socket is connected before the jail is
 * entered and kept, as ISC's is.
 */
import { readdirSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { loadAddon } from '../native/index.js';

/** The program's own folders whose modules are loaded before a chroot (relative to the tree's root). */
const PROGRAM_DIRS = ['src', 'leases', 'grammar'];
/** Folders of development scripts (they run on import): never loaded. */
const SKIP_DIRS = new Set(['dev', 'build', 'node_modules']);

function programModules(root: string, ext: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    let entries;
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (!SKIP_DIRS.has(e.name)) walk(p);
      } else if (e.name.endsWith(ext) && !e.name.endsWith(`.d${ext}`) && !e.name.endsWith(`.test${ext}`)) {
        out.push(p);
      }
    }
  };
  for (const d of PROGRAM_DIRS) walk(join(root, d));
  return out.sort();
}

/**
 * A module resolve hook (run by Node on its hooks thread) that answers a relative import of an
 * already-loaded module of the program without looking at the disk. Under tsx, `./x.js` names `x.ts`.
 */
const RESOLVE_HOOK = `
let known = new Set();
export function initialize(data) { known = new Set(data.urls); }
export async function resolve(specifier, context, next) {
  if (known.has(specifier)) return { url: specifier, shortCircuit: true };
  const parent = context.parentURL;
  if (parent && parent.startsWith('file:') && (specifier.startsWith('./') || specifier.startsWith('../'))) {
    const url = new URL(specifier, parent).href;
    if (known.has(url)) return { url, shortCircuit: true };
    const ts = url.replace(/\\.js$/, '.ts');
    if (known.has(ts)) return { url: ts, shortCircuit: true };
  }
  return next(specifier, context);
}
`;

/**
 * True in the one-file builds of tools/build-startup.mjs (bin/dhcpd-ts's bundle and snapshot): every module
 * of the program is in that file, its import()s resolve in memory, and a snapshot has no import() at all.
 */
function runsBundled(): boolean {
  return (globalThis as { __dhcpdTsBundled?: unknown }).__dhcpdTsBundled === true;
}

/**
 * Loads everything dhcpd-ts may need from its own tree later on: every module, the SQLite and dhcpsock
 * native addons, the time zone.
 */
export async function preloadProgram(): Promise<void> {
  if (!runsBundled()) {
    const here = fileURLToPath(import.meta.url);
    const ext = here.endsWith('.ts') ? '.ts' : '.js';
    const root = join(dirname(here), '..', '..');
    const urls = programModules(root, ext).map((f) => pathToFileURL(f).href);
    for (const url of urls) await import(url);
    // Node resolves an import() again on every call, on disk, even for a loaded module (its cache is by
    // specifier and importing module); in the jail that fails. A resolve hook answers for the loaded ones.
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`, { data: { urls } });
  }
  const require = createRequire(import.meta.url);
  const Database = require('better-sqlite3') as new (file: string) => { close(): void };
  new Database(':memory:').close();
  loadAddon();
  // The interfaces' /sys attributes, kept for the jail (which has no /sys); see src/net/interfaces.ts.
  (await import('../net/interfaces.js')).listInterfaces();
  // V8 reads /etc/localtime on first use and keeps it (glibc does the same for ISC).
  void new Date().toString();
}

/**
 * chroot(DIR) + chdir("/") with ISC's checks and messages; returns the fatal message on failure.
 * Call {@link preloadProgram} first when anything more is to run.
 */
export function enterChrootAsIsc(dir: string): string | undefined {
  if ((process.geteuid?.() ?? 0) !== 0) return 'you must be root to use chroot';
  try {
    loadAddon().chroot(dir);
    return undefined;
  } catch (e) {
    const err = e as Error & { syscall?: string };
    const text = /\(([^)]*)\)/.exec(err.message)?.[1] ?? err.message;
    return err.syscall === 'chdir' ? `chdir("/"): ${text}` : `chroot("${dir}"): ${text}`;
  }
}
