/**
 * The logger's exact output: bare lines on stderr in the foreground; in daemon mode glibc syslog(3)'s
 * datagram on a unix socket this test binds (the native addon's receiver as a stand-in /dev/log), with
 * glibc itself as the oracle for the format (a tiny C program calling syslog(3), run in a private mount
 * namespace where our socket is bind-mounted on /dev/log); bursts lose nothing; drops are counted.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  createCommandLogger,
  createLogger,
  createRateLimiter,
  facilityCode,
  formatSyslogDate,
  logRateLimited,
  syslogLine,
  type SyslogSend,
} from '../../src/log/logger.js';
import { addonAvailable, loadAddon, type NativeUnixDatagramSocket } from '../../src/native/index.js';

const haveAddon = addonAvailable();
const addonSkip = haveAddon ? false : 'native addon not built (make addon)';

let dir = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-log-'));
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

/** Binds a receiving AF_UNIX datagram socket at a fresh path; collects datagrams as strings. */
function bindReceiver(name: string, start = true): { path: string; got: string[]; sock: NativeUnixDatagramSocket; start(): void } {
  const path = join(dir, name);
  const sock = new (loadAddon().UnixDatagramSocket)(path);
  const got: string[] = [];
  const r = {
    path,
    got,
    sock,
    start: () => sock.start((d) => got.push(d.toString('utf8')), () => undefined),
  };
  if (start) r.start();
  return r;
}

async function until(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
}

// Both loggers (winston for the server, the direct one for -t/-T and subcommands) must write the same
// lines to the same places: every test below runs against each.
const FACTORIES = [
  ['winston', createLogger],
  ['direct', createCommandLogger],
] as const;

for (const [kind, make] of FACTORIES) {
  describe(`${kind}: foreground (-d/-f): bare lines on stderr`, () => {
    test('each line is the message and a newline, every level', async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const l = make({ foreground: true, sink: { stream: out } });
      l.info('DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0');
      l.error('no free leases on subnet 10.0.0.0/24');
      l.debug('d');
      l.emerg('e');
      await l.close();
      assert.equal(text, 'DHCPDISCOVER from 52:54:00:02:bf:f8 via eth0\nno free leases on subnet 10.0.0.0/24\nd\ne\n');
      assert.equal(l.droppedLines(), 0);
    });

    test('level: lines less severe than the threshold are not written', async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const l = make({ foreground: true, level: 'warning', sink: { stream: out } });
      l.debug('d');
      l.info('i');
      l.warning('w');
      l.crit('c');
      await l.close();
      l.emerg('after close');
      assert.equal(text, 'w\nc\n');
    });

    test('-q (quiet) writes nothing to stderr, as ISC sets log_perror = 0', async () => {
      const out = new PassThrough();
      let text = '';
      out.on('data', (c: Buffer) => (text += c.toString()));
      const sent: string[] = [];
      const l = make({ foreground: true, quiet: true, sink: { stream: out, send: (b) => void sent.push(b.toString()) }, pid: 7 });
      l.error('x');
      await l.close();
      assert.equal(text, '');
      assert.equal(sent.length, 1);
      assert.match(sent[0], /^<27>\w{3} [ \d]\d \d\d:\d\d:\d\d dhcpd\[7\]: x$/);
    });
  });

  describe(`${kind}: syslog line format`, () => {
    test('PRI = facility * 8 + severity, glibc timestamp, ident[pid]: msg', () => {
      const d = new Date(2026, 10, 9, 6, 5, 4); // local time, Nov 9
      assert.equal(formatSyslogDate(d), 'Nov  9 06:05:04');
      assert.equal(syslogLine(30, d, 'dhcpd', 42, 'DHCPACK on 10.0.0.5'), '<30>Nov  9 06:05:04 dhcpd[42]: DHCPACK on 10.0.0.5');
      assert.equal(formatSyslogDate(new Date(2026, 0, 31, 23, 59, 59)), 'Jan 31 23:59:59');
      assert.equal(facilityCode('daemon'), 3);
      assert.equal(facilityCode('local7'), 23);
      assert.equal(facilityCode('LOCAL0'), 16);
      assert.equal(facilityCode('security'), 4);
      assert.equal(facilityCode('nonsense'), undefined);
    });

    test('setFacility (log-facility from the config) changes PRI', async () => {
      const sent: string[] = [];
      const l = make({ foreground: false, sink: { send: (b) => void sent.push(b.toString()) }, pid: 1 });
      l.info('a');
      l.setFacility('local7');
      l.warning('b');
      await l.close();
      assert.match(sent[0], /^<30>/);
      assert.match(sent[1], /^<188>/); // 23*8 + 4
    });

    const gcc = ['/usr/bin/gcc', '/usr/bin/cc'].find((p) => existsSync(p));
    const rootish = process.getuid?.() === 0;
    const glibcSkip = !haveAddon ? 'native addon not built' : !gcc ? 'no C compiler' : !rootish ? 'needs root (mount namespace)' : !existsSync('/usr/bin/unshare') ? 'no unshare' : false;

    test("identical to glibc syslog(3)'s datagram", { skip: glibcSkip }, async () => {
      const src = join(dir, 'sl.c');
      const bin = join(dir, 'sl');
      writeFileSync(
        src,
        '#include <syslog.h>\n#include <stdio.h>\n#include <unistd.h>\n' +
          'int main(int c, char **v) { printf("%d\\n", (int)getpid()); fflush(stdout);\n' +
          '  openlog("dhcpd", LOG_PID | LOG_NDELAY, LOG_DAEMON);\n' +
          '  syslog(LOG_INFO, "%s", v[1]); syslog(LOG_ERR, "%s", v[2]);\n' +
          '  syslog(LOG_LOCAL7 | LOG_WARNING, "%s", v[1]); closelog(); return 0; }\n',
      );
      const cc = spawnSync(gcc as string, ['-o', bin, src], { encoding: 'utf8' });
      assert.equal(cc.status, 0, cc.stderr);
      const rx = bindReceiver(`${kind}-glibc.sock`);
      try {
        const m1 = 'DHCPACK on 192.168.102.160 to 52:54:00:02:bf:f8 via eth0';
        const m2 = 'no free leases on subnet 10.0.0.0/24';
        // A private mount namespace: a tmpfs on /dev there, our socket bind-mounted as its /dev/log.
        const script = `mount -t tmpfs none /dev && touch /dev/log && mount --bind '${rx.path}' /dev/log && exec '${bin}' "$1" "$2"`;
        const before = new Date();
        const r = spawnSync('/usr/bin/unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', script, 'sh', m1, m2], {
          encoding: 'utf8',
          timeout: 10_000,
        });
        const afterT = new Date();
        assert.equal(r.status, 0, r.stderr);
        const pid = Number(r.stdout.trim());
        await until(() => rx.got.length >= 3, 2000);
        assert.equal(rx.got.length, 3);
        // Ours, for the same pid and any second glibc may have stamped.
        const ours = (pri: number, msg: string): string[] => {
          const out: string[] = [];
          for (let t = Math.floor(before.getTime() / 1000); t <= Math.floor(afterT.getTime() / 1000); t++) {
            out.push(syslogLine(pri, new Date(t * 1000), 'dhcpd', pid, msg));
          }
          return out;
        };
        assert.ok(ours(30, m1).includes(rx.got[0]), `glibc: ${JSON.stringify(rx.got[0])}`);
        assert.ok(ours(27, m2).includes(rx.got[1]), `glibc: ${JSON.stringify(rx.got[1])}`);
        assert.ok(ours(188, m1).includes(rx.got[2]), `glibc: ${JSON.stringify(rx.got[2])}`);

        // And the whole logger path through the native sender gives the same bytes.
        const l = make({ foreground: false, sink: { syslogPath: rx.path }, pid });
        const b2 = new Date();
        l.info(m1);
        await l.flush();
        await until(() => rx.got.length >= 4, 2000);
        const a2 = new Date();
        assert.ok(
          [b2, a2].map((d) => syslogLine(30, d, 'dhcpd', pid, m1)).includes(rx.got[3]),
          JSON.stringify(rx.got[3]),
        );
        await l.close();
      } finally {
        rx.sock.close();
      }
    });
  });

  describe(`${kind}: syslog transport under pressure`, () => {
    test('a burst of 20 000 lines arrives complete and in order (EAGAIN is queued and retried)', { skip: addonSkip }, async () => {
      const rx = bindReceiver(`${kind}-burst.sock`);
      try {
        const l = make({ foreground: false, sink: { syslogPath: rx.path }, pid: 99, maxQueue: 50_000 });
        const N = 20_000;
        for (let i = 0; i < N; i++) l.info(`line ${i}`);
        // Generous: on a loaded 2-core machine 20 000 datagrams through a busy receiver take over 10 s.
        await until(() => rx.got.length >= N, 30_000);
        await l.flush();
        assert.equal(rx.got.length, N);
        for (let i = 0; i < N; i++) assert.ok(rx.got[i].endsWith(`dhcpd[99]: line ${i}`), rx.got[i]);
        assert.equal(l.droppedLines(), 0);
        await l.close();
      } finally {
        rx.sock.close();
      }
    });

    test('overflow beyond the bounded queue is counted and announced, never thrown', { skip: addonSkip }, async () => {
      const rx = bindReceiver(`${kind}-full.sock`, false); // bound but not read: its buffer fills up
      try {
        const l = make({ foreground: false, sink: { syslogPath: rx.path }, pid: 5, maxQueue: 100 });
        const N = 5_000;
        for (let i = 0; i < N; i++) l.info(`x ${i}`);
        const dropped = l.droppedLines();
        assert.ok(dropped > 0, 'some lines must have been dropped');
        rx.start();
        await until(() => rx.got.some((s) => s.includes('log lines dropped')), 5000);
        await l.flush();
        const received = (): number => rx.got.filter((s) => / x \d+$/.test(s)).length;
        await until(() => received() + l.droppedLines() >= N, 5000);
        const notice = rx.got.find((s) => s.includes('log lines dropped'));
        assert.ok(notice, 'the drop is announced');
        assert.match(notice, /^<28>.* dhcpd\[5\]: dhcpd-ts: (\d+) log lines dropped/);
        const announced = Number(/: (\d+) log lines/.exec(notice)?.[1]);
        // Everything not dropped arrived; dropped + received lines = all lines.
        assert.equal(received() + l.droppedLines(), N);
        assert.equal(announced, dropped);
        await l.close();
      } finally {
        rx.sock.close();
      }
    });

    test('no syslog listening (ENOENT): lines are counted as dropped, the caller never sees an error', async () => {
      const l = make({ foreground: false, sink: { syslogPath: join(dir, 'nobody-here.sock') }, pid: 1 });
      for (let i = 0; i < 10; i++) l.error('lost');
      await l.flush();
      if (haveAddon) assert.equal(l.droppedLines(), 10);
      await l.close();
    });

    test('an injected sender: transient EAGAIN is retried, other errors drop the line', async () => {
      let calls = 0;
      const got: string[] = [];
      const send: SyslogSend = (b) => {
        calls++;
        if (calls <= 3) throw Object.assign(new Error('busy'), { code: 'EAGAIN' });
        if (b.toString().endsWith('bad')) throw Object.assign(new Error('gone'), { code: 'ECONNREFUSED' });
        got.push(b.toString());
      };
      const l = make({ foreground: false, sink: { send }, pid: 3 });
      l.info('one');
      l.info('bad');
      l.info('two');
      await l.flush();
      assert.deepEqual(
        got.map((s) => s.replace(/^<\d+>.{15} /, '')),
        ['dhcpd[3]: one', 'dhcpd[3]: dhcpd-ts: 1 log line dropped (syslog busy or unreachable)', 'dhcpd[3]: two'],
      );
      assert.equal(l.droppedLines(), 1);
      await l.close();
    });
  });
}

describe('rate limiter', () => {
  test('burst, then one line per interval; the suppressed count is reported once', () => {
    let now = 0;
    const rl = createRateLimiter({ burst: 3, intervalMs: 1000, now: () => now });
    const out: string[] = [];
    const emit = (m: string): void => void out.push(m);
    for (let i = 0; i < 10; i++) logRateLimited(rl, 'no free leases on subnet A', `no free leases on subnet A`, emit);
    assert.equal(out.length, 3);
    assert.equal(rl.suppressedTotal(), 7);
    now = 1000;
    logRateLimited(rl, 'no free leases on subnet A', 'no free leases on subnet A', emit);
    assert.deepEqual(out.slice(3), ['7 similar messages suppressed: no free leases on subnet A', 'no free leases on subnet A']);
    // Another key is independent.
    logRateLimited(rl, 'B', 'b', emit);
    assert.equal(out.at(-1), 'b');
  });
});
