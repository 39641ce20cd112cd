/**
 * `execute (…)` statements, differential against real ISC dhcpd 4.4.3: the same dhcpd.conf — execute in
 * `on commit`, in `on release`, in a class scope evaluated on every request, one program that exits 3 and
 * one that does not exist — served by both to the same scripted clients. Each real shell script appends
 * its argv to a file; both servers must run the same programs with the same arguments in the same order,
 * and log non-zero wait statuses and unstartable programs in ISC's words.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createTopology, delay, integrationSkipReason, type Topology } from '../support/netns.js';
import { runQuery, startServer } from '../support/feature-diff.js';
import type { QuerySpec } from '../support/dhcp-query.js';

const skip = integrationSkipReason();

function config(dir: string): string {
  return `
ddns-update-style none;
ping-check false;
authoritative;
default-lease-time 600;
class "tagged" {
  match if substring(option vendor-class-identifier, 0, 6) = "tagged";
  execute("${dir}/hook.sh", "class", binary-to-ascii(16, 8, ":", substring(hardware, 1, 6)));
}
subnet 10.65.0.0 netmask 255.255.255.0 {
  range 10.65.0.100 10.65.0.120;
  on commit {
    execute("${dir}/hook.sh", "commit", binary-to-ascii(10, 8, ".", leased-address), binary-to-ascii(16, 8, ":", substring(hardware, 1, 6)));
    execute("${dir}/fail.sh", "fail");
    execute("${dir}/missing-program", "x");
  }
  on release {
    execute("${dir}/hook.sh", "release", binary-to-ascii(10, 8, ".", leased-address));
  }
}
`;
}

const SPEC: QuerySpec = {
  server: '10.65.0.1',
  giaddr: '10.65.0.2',
  timeoutMs: 4000,
  clients: [
    { mac: '52:54:00:65:00:01' },
    { mac: '52:54:00:65:00:02', options: { '60': Buffer.from('tagged-box').toString('hex') } },
    { mac: '52:54:00:65:00:03', release: true },
  ],
};

describe('execute(): dhcpd-ts vs ISC dhcpd 4.4.3 with real scripts', { skip }, () => {
  let topo: Topology;
  const runs = { isc: [] as string[], ts: [] as string[] };
  const logs = { isc: '', ts: '' };
  const dirs = { isc: '', ts: '' };
  const addresses = { isc: [] as string[], ts: [] as string[] };

  before(async () => {
    topo = await createTopology('exec');
    await topo.lan('lan', [
      { name: 'srv', address: '10.65.0.1/24' },
      { name: 'cli', address: '10.65.0.2/24' },
    ]);
    for (const kind of ['isc', 'ts'] as const) {
      const dir = await topo.tempDir();
      dirs[kind] = dir;
      await writeFile(join(dir, 'hook.sh'), `#!/bin/sh\necho "$@" >> ${dir}/runs.log\n`);
      await writeFile(join(dir, 'fail.sh'), `#!/bin/sh\necho "fail $*" >> ${dir}/runs.log\nexit 3\n`);
      await chmod(join(dir, 'hook.sh'), 0o755);
      await chmod(join(dir, 'fail.sh'), 0o755);
      const server = await startServer(topo, topo.nsOf('srv'), kind, config(dir), ['eth0']);
      try {
        const r = await runQuery(topo, topo.nsOf('cli'), SPEC);
        addresses[kind] = r.map((x) => x.ack?.yiaddr ?? 'none');
        await delay(500);
      } finally {
        await server.stop();
        logs[kind] = server.process.output;
      }
      runs[kind] = (await readFile(join(dir, 'runs.log'), 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');
    }
  });

  after(async () => {
    await topo?.destroy();
  });

  test('both servers gave the same addresses', () => {
    assert.deepEqual(addresses.ts, addresses.isc);
    assert.ok(!addresses.isc.includes('none'), logs.isc);
  });

  test('the same programs ran with the same arguments in the same order', () => {
    assert.ok(runs.isc.length >= 5, `ISC ran: ${runs.isc.join(' | ')}\n${logs.isc}`);
    assert.deepEqual(runs.ts, runs.isc);
    // What ISC does, spelled out: the class scope runs at the OFFER and at the ACK; on commit once per ACK.
    const [a1, a2, a3] = addresses.isc;
    assert.deepEqual(runs.isc, [
      `commit ${a1} 52:54:0:65:0:1`,
      'fail fail',
      'class 52:54:0:65:0:2',
      'class 52:54:0:65:0:2',
      `commit ${a2} 52:54:0:65:0:2`,
      'fail fail',
      `commit ${a3} 52:54:0:65:0:3`,
      'fail fail',
      `release ${a3}`,
    ]);
  });

  test("non-zero exit and unstartable programs are logged in ISC's words", () => {
    for (const kind of ['isc', 'ts'] as const) {
      const lines = logs[kind].split('\n');
      assert.equal(lines.filter((l) => l === `execute: ${dirs[kind]}/fail.sh exit status 768`).length, 3, `${kind}:\n${logs[kind]}`);
      assert.equal(lines.filter((l) => l === `execute: ${dirs[kind]}/missing-program exit status 32512`).length, 3, `${kind}:\n${logs[kind]}`);
      assert.equal(lines.filter((l) => l === `Unable to execute ${dirs[kind]}/missing-program: No such file or directory`).length, 3, `${kind}:\n${logs[kind]}`);
    }
  });

  test('argv is logged at debug level as ISC logs it', () => {
    for (const kind of ['isc', 'ts'] as const) {
      const lines = logs[kind].split('\n').filter((l) => l.startsWith('execute_statement argv['));
      assert.ok(lines.includes(`execute_statement argv[0] = ${dirs[kind]}/hook.sh`), kind);
      assert.ok(lines.includes('execute_statement argv[1] = commit'), kind);
    }
    const norm = (k: 'isc' | 'ts'): string[] =>
      logs[k]
        .split('\n')
        .filter((l) => l.startsWith('execute_statement argv['))
        .map((l) => l.replace(dirs[k], 'DIR'));
    assert.deepEqual(norm('ts'), norm('isc'));
  });
});

describe('execute(): the process executor (no root needed)', () => {
  test('programs run one after the other in statement order; a hanging one holds the next back only waitMs', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { createProcessExecutor } = await import('../../src/server/execute.js');
    const { createLogger } = await import('../../src/log/logger.js');
    const dir = await mkdtemp(join(tmpdir(), 'exec-unit-'));
    const lines: string[] = [];
    const logger = createLogger({ foreground: true, level: 'info' });
    const errors: string[] = [];
    const log = { ...logger, error: (m: string) => errors.push(m) } as typeof logger;
    try {
      const ex = createProcessExecutor({ logger: log, waitMs: 400 });
      const out = join(dir, 'order.log');
      const started = Date.now();
      // The sleeper is started by /bin/sh so that its PID is ours to stop afterwards.
      ex.execute('/bin/sh', ['-c', `echo $$ > ${dir}/sleeper.pid; exec sleep 20`]);
      for (const n of ['one', 'two', 'three']) ex.execute('/bin/sh', ['-c', `sleep 0.05; echo ${n} >> ${out}`]);
      ex.execute('/bin/sh', ['-c', 'exit 2']);
      await ex.drain();
      const elapsed = Date.now() - started;
      lines.push(...(await readFile(out, 'utf8')).split('\n').filter((l) => l !== ''));
      assert.deepEqual(lines, ['one', 'two', 'three']);
      assert.ok(elapsed < 10_000, `took ${elapsed} ms`);
      assert.ok(errors.some((e) => /^execute: \/bin\/sh still running after 0\.4 seconds; not waiting for it any longer\.$/.test(e)), errors.join('\n'));
      assert.ok(errors.includes('execute: /bin/sh exit status 512'), errors.join('\n'));
      const pid = Number((await readFile(join(dir, 'sleeper.pid'), 'utf8')).trim());
      if (pid > 0) process.kill(pid, 'SIGTERM');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
