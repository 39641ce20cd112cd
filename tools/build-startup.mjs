#!/usr/bin/env node
// tools/build-startup.mjs DIST: the start-up artefacts bin/dhcpd-ts runs instead of DIST/src/cli/main.js
// (README "Command line"; figures in bench/results/STARTUP-SPEED-4.md). Run by `make build` on the
// freshly compiled dist.new/, before it is swapped in, so dist/ and its artefacts always match.
//
//   DIST/src/cli/dhcpd-ts.blob   a V8 start-up snapshot (node --build-snapshot) of the whole CLI bundled
//                                into one CommonJS script by esbuild (deleted after use): the modules `-t`
//                                needs are evaluated and Chevrotain's parser is constructed
//                                (performSelfAnalysis) at build time, so a run starts with them in the heap.
//   DIST/src/cli/dhcpd-ts.stamp  what bin/dhcpd-ts checks before using the blob, written last: size and
//                                mtime of the node binary that built it, of DIST/src/cli/main.js and of
//                                the blob ("S M S M S M", as `stat -L --printf '%s %Y '` prints them);
//                                then the CPU's model name and flags lines of /proc/cpuinfo.
//   DIST/src/cli/dhcpd-ts-check.blob   the same snapshot built under node's --single-threaded flag (no
//                                GC or compiler threads: less CPU for a run that is over in a moment), run
//                                only for `-t`/`-T`, which never serve (a server's event loop would pause
//                                for every GC and compile). V8 flags must be the same at build and run.
//   DIST/src/cli/dhcpd-ts-check.stamp  its size and mtime ("S M"), written after it; the launcher uses it
//                                only when dhcpd-ts.stamp matches too. Optional: if it cannot be built
//                                or does not answer like main.js, checks run from dhcpd-ts.blob.
//
// Native addons (better-sqlite3, src/native's dhcpsock.node) and the CommonJS packages loaded by
// createRequire (winston) stay outside: they are required at run time, from the tree the bundle is in,
// as from dist/. Every step is optional for the program: a missing or stale artefact makes the launcher
// fall back to DIST/src/cli/main.js. This script fails loudly, though (the Makefile goes on without the
// artefact), and test/cli/startup-snapshot.test.ts fails when a build has none.
import { build } from 'esbuild';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';

const dist = resolve(process.argv[2] ?? 'dist');
const cli = join(dist, 'src', 'cli');
const root = resolve(dist, '..');
const require = createRequire(join(root, 'package.json'));
const chevrotainMin = join(dirname(require.resolve('chevrotain')), '..', 'chevrotain.min.mjs');
const out = {
  cjs: join(cli, 'dhcpd-ts.snapshot.cjs'),
  blob: join(cli, 'dhcpd-ts.blob'),
  stamp: join(cli, 'dhcpd-ts.stamp'),
  checkBlob: join(cli, 'dhcpd-ts-check.blob'),
  checkStamp: join(cli, 'dhcpd-ts-check.stamp'),
};
/** The V8 flags of the check blob, at build and at run time (bin/dhcpd-ts passes the same). */
const CHECK_FLAGS = ['--single-threaded'];
const clean = () => { for (const f of [...Object.values(out), `${out.blob}.tmp`, `${out.checkBlob}.tmp`]) rmSync(f, { force: true }); };
const cleanCheck = () => { for (const f of [out.checkBlob, out.checkStamp, `${out.checkBlob}.tmp`]) rmSync(f, { force: true }); };
clean();
process.on('exit', (code) => { if (code !== 0) clean(); });

/** Packages required at run time from node_modules: native addons and what is loaded by createRequire. */
const EXTERNAL = ['better-sqlite3', 'winston', 'winston-transport'];

/**
 * grammar/tokens.ts loads chevrotain's single-file build (lib/chevrotain.min.mjs) with a top-level await
 * of a computed import(), which a CommonJS script cannot have: the bundle takes the same file in
 * statically. If the source changed shape the snapshot is not built.
 */
const TOKENS_AWAIT = /await loadChevrotain\(\)/;
function chevrotainInline(required) {
  return {
    name: 'chevrotain-inline',
    setup(b) {
      b.onLoad({ filter: /[\\/]grammar[\\/]tokens\.js$/ }, (args) => {
        const text = readFileSync(args.path, 'utf8');
        if (!TOKENS_AWAIT.test(text)) {
          if (required) throw new Error(`${args.path}: no "await loadChevrotain()" to replace (grammar/tokens.ts changed)`);
          return { contents: text, loader: 'js' };
        }
        return {
          contents: `import * as __dhcpdTsChevrotain from ${JSON.stringify(chevrotainMin)};\n${text.replace(TOKENS_AWAIT, '__dhcpdTsChevrotain')}`,
          loader: 'js',
        };
      });
    },
  };
}

/** The files checked at build time: the usual statements of a dhcpd.conf, then a syntax error. */
const SAMPLES = {
  'good.conf': `authoritative;
ddns-update-style none;
default-lease-time 3600;
max-lease-time 7200;
log-facility local7;
option domain-name "example.org";
option domain-name-servers 192.0.2.1, 192.0.2.2;
option space sample;
option sample.text code 1 = text;
class "sample" { match if substring (option vendor-class-identifier, 0, 6) = "sample"; }
shared-network sample {
  subnet 192.0.2.0 netmask 255.255.255.0 {
    option routers 192.0.2.1;
    pool { range 192.0.2.100 192.0.2.200; allow members of "sample"; }
  }
}
subnet 198.51.100.0 netmask 255.255.255.0 {
  option routers 198.51.100.1;
  range 198.51.100.10 198.51.100.20;
}
group {
  host a { hardware ethernet 52:54:00:00:00:01; fixed-address 198.51.100.30; }
  host b { hardware ethernet 52:54:00:00:00:02; fixed-address 198.51.100.31; option host-name "b"; }
}
`,
  'bad.conf': 'subnet 203.0.113.0 netmask 255.255.255.0 { range 203.0.113.10 203.0.113.20 }\n',
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  logLevel: 'warning',
  legalComments: 'none',
};

// 1. The snapshot entry. In a snapshot, require() knows only Node's built-in modules and import() does
// not exist; after deserialization require is replaced by one made for this tree (the externals above).
const ENTRY = `
import { startupSnapshot } from 'node:v8';
import { pathToFileURL } from 'node:url';
import { realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { main } from './src/cli/main.js';
import { getFormatIscError, getLoadConfig } from './src/cli/adapters.js';

// Build time: evaluate what -t and -T need (config/load; the grammar, whose module constructs the parser;
// the lease file test). Nothing that needs a native addon: those cannot be in a snapshot. Then check a
// good and a bad sample file, so that the functions a check runs are compiled in the snapshot already
// (a run's first parse is then ~15 ms shorter: STARTUP-SPEED-4.md); loadConfig keeps nothing of a file.
Promise.all([getLoadConfig(), getFormatIscError(), import('./src/cli/lease-test.js')]).then(([loadConfig, format]) => {
  for (const file of (process.env.DHCPD_TS_SNAPSHOT_SAMPLES ?? '').split(',').filter(Boolean)) {
    const r = loadConfig(file);
    for (const e of r.ok ? r.warnings : r.errors) format(e);
  }
}).catch((e) => { console.error(e); process.exit(1); });

startupSnapshot.setDeserializeMainFunction(() => {
  // bin/dhcpd-ts runs "node --snapshot-blob BLOB DIST/src/cli/main.js ARGS": main.js stands for the
  // program as without the snapshot (import.meta.url of every bundled module: the paths relative to it
  // hold; the daemon re-runs argv[1] with the same execArgv, i.e. this snapshot again).
  let self = ${JSON.stringify(join(cli, 'main.js'))};
  try { self = realpathSync(process.argv[1]); } catch {}
  globalThis.__dhcpdTsUrl = pathToFileURL(self).href;
  globalThis.__dhcpdTsRuntimeRequire = createRequire(self);
  if (process.env.DHCPD_TS_LAUNCH_DEBUG) process.stderr.write('dhcpd-ts: running from snapshot ' + process.execArgv.join(' ') + '\\n');
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
      process.stderr.write('dhcpd-ts: internal error: ' + (e instanceof Error ? (e.stack ?? e.message) : String(e)) + '\\n');
      process.exit(70);
    },
  );
});
`;
const BANNER = `
var __dhcpdTsBuiltinRequire = require;
var __dhcpdTsBuiltins = new Set(__dhcpdTsBuiltinRequire('node:module').builtinModules);
var require = function (id) {
  if (id.startsWith('node:') || __dhcpdTsBuiltins.has(id) || !globalThis.__dhcpdTsRuntimeRequire) return __dhcpdTsBuiltinRequire(id);
  return globalThis.__dhcpdTsRuntimeRequire(id);
};
globalThis.__dhcpdTsBundled = true;
globalThis.__dhcpdTsUrl = __dhcpdTsBuiltinRequire('node:url').pathToFileURL(${JSON.stringify(join(cli, 'main.js'))}).href;
`;
await build({
  ...common,
  stdin: { contents: ENTRY, resolveDir: dist, sourcefile: 'snapshot-entry.mjs', loader: 'js' },
  format: 'cjs',
  outfile: out.cjs,
  define: { 'import.meta.url': 'globalThis.__dhcpdTsUrl' },
  banner: { js: BANNER },
  plugins: [chevrotainInline(true)],
});
// A snapshot has no import(): the only one left must be src/cli/chroot.ts's loop over dist's files, which
// does not run in a bundle (__dhcpdTsBundled).
const leftovers = readFileSync(out.cjs, 'utf8').match(/\bimport\([^)]*\)/g) ?? [];
if (leftovers.some((m) => m !== 'import(url)') || leftovers.length > 1) {
  throw new Error(`${out.cjs}: dynamic import()s a snapshot cannot run: ${leftovers.join(', ')}`);
}

// 2. The snapshot, written under a temporary name and renamed: a half-written blob is never seen.
const samples = mkdtempSync(join(tmpdir(), 'dhcpd-ts-snapshot-'));
try {
  const files = Object.entries(SAMPLES).map(([name, text]) => {
    writeFileSync(join(samples, name), text);
    return join(samples, name);
  });
  const env = { ...process.env, NODE_OPTIONS: '', DHCPD_TS_SNAPSHOT_SAMPLES: files.join(',') };
  const tmp = `${out.blob}.tmp`;
  execFileSync(process.execPath, ['--snapshot-blob', tmp, '--build-snapshot', out.cjs], { cwd: cli, stdio: ['ignore', 'inherit', 'pipe'], env });
  renameSync(tmp, out.blob);
  // The check blob: optional (see above), so a failure here is a warning and leaves none of its files.
  try {
    execFileSync(process.execPath, [...CHECK_FLAGS, '--snapshot-blob', `${out.checkBlob}.tmp`, '--build-snapshot', out.cjs], { cwd: cli, stdio: ['ignore', 'inherit', 'pipe'], env });
    renameSync(`${out.checkBlob}.tmp`, out.checkBlob);
  } catch (e) {
    cleanCheck();
    console.error(`WARNING: no check snapshot (-t/-T run from dhcpd-ts.blob): ${e instanceof Error ? e.message : String(e)}`);
  }
} finally {
  rmSync(samples, { recursive: true, force: true });
}

// 3. The blob must load here (node refuses one made under other V8 flags or CPU features: exit 14) and
// answer as main.js does.
rmSync(out.cjs);
const probe = (pre) => {
  const r = spawnSync(process.execPath, [...pre, join(cli, 'main.js'), '--version'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  return `${r.status} ${r.stdout} ${r.stderr}`;
};
const [viaBlob, viaMain] = [probe(['--snapshot-blob', out.blob]), probe([])];
if (viaBlob !== viaMain) throw new Error(`the snapshot does not run like main.js: ${viaBlob} (main.js: ${viaMain})`);
if (statSync(out.checkBlob, { throwIfNoEntry: false })) {
  const viaCheck = probe([...CHECK_FLAGS, '--snapshot-blob', out.checkBlob]);
  if (viaCheck !== viaMain) {
    cleanCheck();
    console.error(`WARNING: the check snapshot does not run like main.js: ${viaCheck} (main.js: ${viaMain}); -t/-T run from dhcpd-ts.blob`);
  }
}

// 4. The stamp, last (see above). Its second line: the first processor's model name and feature flags as
// /proc/cpuinfo lists them (V8 puts the CPU features it uses into the check that makes node refuse a blob
// from another CPU), each followed by "|".
const node = realpathSync(process.execPath);
const sm = (f) => { const st = statSync(f); return `${st.size} ${Math.floor(st.mtimeMs / 1000)}`; };
const cpu = readFileSync('/proc/cpuinfo', 'utf8')
  .split('\n\n')[0]
  .split('\n')
  .filter((l) => /^(model name|flags|Features)\b/.test(l))
  .map((l) => `${l}|`)
  .join('');
if (statSync(out.checkBlob, { throwIfNoEntry: false })) writeFileSync(out.checkStamp, `${sm(out.checkBlob)}\n`);
writeFileSync(out.stamp, `${sm(node)} ${sm(join(cli, 'main.js'))} ${sm(out.blob)}\n${cpu}\n`);
