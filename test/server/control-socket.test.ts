/**
 * The operator control socket (src/server/control-socket.ts): a real AF_UNIX socket in a temporary
 * directory, the line protocol, the refusals, the file mode, removal at close. The relationships are small
 * stand-ins with the FailoverPeer surface the socket uses; the real FailoverPeer is exercised end to end by
 * test/integration/ops-partner-down.test.ts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  controlSocketPath,
  handleControlRequest,
  MAX_REQUEST_BYTES,
  parseControlRequest,
  sendControlRequest,
  startControlSocket,
  type ControlledPeer,
} from '../../src/server/control-socket.js';
import { createLogger, type Logger } from '../../src/log/logger.js';

class Peer implements ControlledPeer {
  calls = 0;
  constructor(
    public state: string,
    public partnerState = 'unknown-state',
    public mclt = 20,
  ) {}
  setPartnerDown(): void {
    this.calls++;
    this.state = 'partner-down';
  }
}

function memLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const stream = { write: (s: string) => (lines.push(s), true) } as unknown as NodeJS.WritableStream;
  return { logger: createLogger({ foreground: true, sink: { stream } }), lines };
}

/** Sends raw bytes and returns everything the server wrote back. */
function raw(path: string, data: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(path);
    let out = '';
    s.setEncoding('utf8');
    s.on('connect', () => s.write(data));
    s.on('data', (c: string) => (out += c));
    s.on('close', () => resolve(out));
    s.on('error', reject);
    setTimeout(() => s.destroy(), 3000).unref();
  });
}

describe('control socket protocol', () => {
  test('path beside the pid file', () => {
    assert.equal(controlSocketPath('/run/dhcpd.pid'), '/run/dhcpd.pid.ctl');
  });

  test('request parsing', () => {
    assert.deepEqual(parseControlRequest('{"command":"partner-down","peer":"x"}'), { command: 'partner-down', peer: 'x' });
    assert.deepEqual(parseControlRequest('{"command":"partner-down"}'), { command: 'partner-down' });
    assert.deepEqual(parseControlRequest('{"command":"status"}'), { command: 'status' });
    assert.match((parseControlRequest('nope') as { error: string }).error, /not JSON/);
    assert.match((parseControlRequest('[1]') as { error: string }).error, /not an object/);
    assert.match((parseControlRequest('{"command":"partner-down","peer":7}') as { error: string }).error, /must be a string/);
    assert.match((parseControlRequest('{"command":"reboot"}') as { error: string }).error, /unknown command "reboot"/);
  });

  test('partner-down decisions', () => {
    const ci = new Peer('communications-interrupted');
    const ri = new Peer('resolution-interrupted');
    const normal = new Peer('normal', 'normal');
    const pd = new Peer('partner-down');
    const one = new Map([['fo', ci]]);
    const r = handleControlRequest({ command: 'partner-down' }, one);
    assert.deepEqual(r, {
      ok: true,
      command: 'partner-down',
      peer: 'fo',
      previous: 'communications-interrupted',
      state: 'partner-down',
      partnerState: 'unknown-state',
      mclt: 20,
      message: 'failover peer fo: moved from communications-interrupted to partner-down.',
    });
    assert.equal(ci.calls, 1);
    assert.equal(handleControlRequest({ command: 'partner-down', peer: 'ri' }, new Map([['ri', ri]])).ok, true);
    assert.equal(ri.calls, 1);
    // Already there: success, no second transition.
    const again = handleControlRequest({ command: 'partner-down' }, new Map([['pd', pd]]));
    assert.equal(again.ok && again.command === 'partner-down' && again.message, 'failover peer pd: already in partner-down.');
    assert.equal(pd.calls, 0);
    // Partner talking to us: refused, state untouched.
    const n = handleControlRequest({ command: 'partner-down', peer: 'n' }, new Map([['n', normal]]));
    assert.equal(n.ok, false);
    assert.match(!n.ok ? n.error : '', /^failover peer n: refused in state normal \(partner state normal\)/);
    assert.equal(normal.calls, 0);
    assert.equal(normal.state, 'normal');
    // Unknown and ambiguous peers.
    const two = new Map<string, ControlledPeer>([['a', new Peer('communications-interrupted')], ['b', new Peer('communications-interrupted')]]);
    const amb = handleControlRequest({ command: 'partner-down' }, two);
    assert.match(!amb.ok ? amb.error : '', /name the failover peer \(one of: a, b\)/);
    const unk = handleControlRequest({ command: 'partner-down', peer: 'zz' }, two);
    assert.match(!unk.ok ? unk.error : '', /unknown failover peer "zz" \(declared: a, b\)/);
    const none = handleControlRequest({ command: 'partner-down' }, new Map());
    assert.match(!none.ok ? none.error : '', /no failover peer/);
  });
});

describe('control socket over AF_UNIX', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ctl-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('serves requests, mode 0600, logs, removed at close', async () => {
    const path = join(dir, 'dhcpd.pid.ctl');
    const peer = new Peer('communications-interrupted');
    const { logger, lines } = memLogger();
    const ctl = await startControlSocket({ path, peers: () => new Map([['fo', peer]]), logger });
    try {
      const st = statSync(path);
      assert.ok(st.isSocket());
      assert.equal(st.mode & 0o777, 0o600);

      const status = await sendControlRequest(path, { command: 'status' });
      assert.deepEqual(status, { ok: true, command: 'status', peers: [{ peer: 'fo', state: 'communications-interrupted', partnerState: 'unknown-state', mclt: 20 }] });

      const refused = await sendControlRequest(path, { command: 'partner-down', peer: 'other' });
      assert.equal(refused.ok, false);
      assert.equal(peer.calls, 0);

      const r = await sendControlRequest(path, { command: 'partner-down', peer: 'fo' });
      assert.equal(r.ok, true);
      assert.equal(r.ok && r.command === 'partner-down' && r.state, 'partner-down');
      assert.equal(peer.calls, 1);
      await logger.flush(); // the logger hands lines over in batches (src/log/logger.ts)
      assert.ok(lines.some((l) => l.includes('Operator command partner-down: failover peer fo: moved from communications-interrupted to partner-down.')), lines.join(''));
      assert.ok(lines.some((l) => l.includes('Operator command partner-down refused: unknown failover peer "other"')), lines.join(''));

      // Garbage and over-long requests get an error answer; the server keeps serving.
      assert.match(await raw(path, 'garbage\n'), /^\{"ok":false,"error":"malformed request \(not JSON\)"\}\n$/);
      assert.match(await raw(path, 'x'.repeat(MAX_REQUEST_BYTES + 10)), /"error":"request too long"/);
      const after2 = await sendControlRequest(path, { command: 'status' });
      assert.equal(after2.ok, true);
    } finally {
      await ctl.close();
    }
    assert.equal(existsSync(path), false, 'socket file left behind');
    await assert.rejects(sendControlRequest(path, { command: 'status' }), /ENOENT/);
  });

  test('a stale socket file is replaced; a regular file is not touched', async () => {
    const path = join(dir, 'stale.ctl');
    // A socket file left by a crashed server (bound, never removed).
    execFileSync(process.execPath, ['-e', "require('node:net').createServer().listen(process.argv[1], () => process.exit(0))", path]);
    assert.ok(statSync(path).isSocket());
    const second = await startControlSocket({ path, peers: () => new Map(), logger: memLogger().logger });
    assert.equal((await sendControlRequest(path, { command: 'status' })).ok, true);
    await second.close();

    const regular = join(dir, 'regular.ctl');
    writeFileSync(regular, 'keep');
    await assert.rejects(startControlSocket({ path: regular, peers: () => new Map(), logger: memLogger().logger }), /EADDRINUSE/);
    assert.equal(statSync(regular).isFile(), true);
  });
});
