import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FailoverStateMachine, type FsmAction } from '../../src/failover/state-machine.js';
import { stateToWire } from '../../src/failover/messages.js';

/**
 * Two state machines connected by an in-order message queue, standing in for the link. Lease-side answers
 * are immediate: an UPDREQ/UPDREQALL is answered by UPDDONE (no leases to send).
 */
class Pair {
  readonly logs: Record<'P' | 'S', string[]> = { P: [], S: [] };
  readonly sent: Record<'P' | 'S', string[]> = { P: [], S: [] };
  private readonly queue: { to: 'P' | 'S'; kind: 'STATE' | 'UPDREQALL' | 'UPDREQ' | 'UPDDONE'; state?: number; flags?: number }[] = [];
  now = 1_800_000_000;
  constructor(
    readonly P: FailoverStateMachine,
    readonly S: FailoverStateMachine,
  ) {}
  fsm(w: 'P' | 'S'): FailoverStateMachine {
    return w === 'P' ? this.P : this.S;
  }
  apply(w: 'P' | 'S', actions: FsmAction[]): void {
    const other = w === 'P' ? 'S' : 'P';
    for (const a of actions) {
      if (a.kind === 'log') this.logs[w].push(a.text);
      else if (a.kind === 'fatal') this.logs[w].push(`FATAL ${a.text}`);
      else if (a.kind === 'send-state') {
        if (!this.fsm(w).linkUp) continue;
        const ws = this.fsm(w).wireState();
        this.sent[w].push(`STATE ${ws.state} ${ws.flags}`);
        this.queue.push({ to: other, kind: 'STATE', state: stateToWire(ws.state), flags: ws.flags });
      } else if (a.kind === 'send-updreqall' || a.kind === 'send-updreq') {
        const k = a.kind === 'send-updreqall' ? 'UPDREQALL' : 'UPDREQ';
        this.sent[w].push(k);
        this.queue.push({ to: other, kind: k });
      }
    }
  }
  pump(limit = 200): void {
    for (let i = 0; i < limit && this.queue.length > 0; i++) {
      const m = this.queue.shift()!;
      const f = this.fsm(m.to);
      if (!f.linkUp) continue;
      if (m.kind === 'STATE') this.apply(m.to, f.onPeerState(this.now, m.state!, m.flags!));
      else if (m.kind === 'UPDDONE') this.apply(m.to, f.onUpdateDone(this.now));
      else {
        this.sent[m.to].push('UPDDONE');
        this.queue.push({ to: m.to === 'P' ? 'S' : 'P', kind: 'UPDDONE' });
      }
    }
    if (limit === 200) assert.equal(this.queue.length, 0, 'conversation settles');
  }
  connect(): void {
    // CONNECT/CONNECTACK: the secondary sends its STATE right after CONNECTACK, then the primary.
    // ISC: S sends CONNECTACK + STATE; P, on CONNECTACK, sends its STATE before reading S's STATE (§4.4).
    this.apply('S', this.S.onLinkUp());
    this.apply('P', this.P.onLinkUp());
    this.pump();
  }
  disconnect(): void {
    this.queue.length = 0;
    this.apply('P', this.P.onLinkDown(this.now));
    this.apply('S', this.S.onLinkDown(this.now));
  }
}

const mk = (role: 'primary' | 'secondary', autoPartnerDown = 0): FailoverStateMachine =>
  new FailoverStateMachine({ name: 'fo-test', role, mclt: 1800, autoPartnerDown });
/** Asserts that `excerpt` occurs in `lines` in this order (other lines may be interleaved). */
function assertSubsequence(lines: string[], excerpt: string[]): void {
  let i = 0;
  for (const l of lines) if (i < excerpt.length && l === excerpt[i]) i++;
  assert.equal(i, excerpt.length, `missing in order: ${excerpt[i]}\n--- got:\n${lines.join('\n')}`);
}
const moves = (lines: string[]): string[] => lines.filter((l) => / (I|peer) moves? from /.test(l) || /Both servers/.test(l));

test('§5.4 (a): two fresh servers reach normal without an MCLT wait, with ISC log lines', () => {
  const pair = new Pair(mk('primary'), mk('secondary'));
  pair.apply('P', pair.P.start(pair.now));
  pair.apply('S', pair.S.start(pair.now));
  assert.equal(pair.P.state, 'startup');
  pair.connect();
  for (const w of ['P', 'S'] as const) {
    assert.equal(pair.fsm(w).state, 'normal', w);
    assert.equal(pair.fsm(w).partnerState, 'normal', w);
    const l = pair.logs[w];
    assert.equal(l[0], 'failover peer fo-test: I move from recover to startup');
    for (const line of [
      'failover peer fo-test: peer moves from unknown-state to recover',
      'failover peer fo-test: requesting full update from peer',
      'failover peer fo-test: I move from startup to recover',
      'failover peer fo-test: peer moves from recover to recover',
      'failover peer fo-test: peer update completed.',
      'failover peer fo-test: I move from recover to recover-done',
      'failover peer fo-test: I move from recover-done to normal',
      'failover peer fo-test: peer moves from recover-done to normal',
      'failover peer fo-test: Both servers normal',
    ]) {
      assert.ok(l.includes(line), `${w} lacks: ${line}\n${l.join('\n')}`);
    }
    assert.ok(l.indexOf('failover peer fo-test: I move from startup to recover') < l.indexOf('failover peer fo-test: I move from recover to recover-done'));
    // Two UPDREQALLs per side (startup-flag STATE, then the real one), as ISC does (§12.17).
    assert.equal(pair.sent[w].filter((s) => s === 'UPDREQALL').length, 2, `${w}: ${pair.sent[w].join(',')}`);
    // First STATE on the wire carries the saved state with STARTUP.
    assert.equal(pair.sent[w][0], 'STATE recover 1');
  }
  assert.equal(pair.logs.S.filter((l) => l === 'Both servers have entered recover-done!').length + pair.logs.P.filter((l) => l === 'Both servers have entered recover-done!').length >= 1, true);
});

test('§5.4 (b): hard stop of the primary, restart with saved normal, no UPDREQALL', () => {
  const pair = new Pair(mk('primary'), mk('secondary'));
  pair.apply('P', pair.P.start(pair.now));
  pair.apply('S', pair.S.start(pair.now));
  pair.connect();
  const rec = pair.P.record();
  assert.equal(rec.myState, 'normal');
  // primary dies: the secondary sees the link drop
  pair.apply('S', pair.S.onLinkDown(pair.now));
  assert.equal(pair.S.state, 'communications-interrupted');
  pair.now += 8;
  const P2 = mk('primary');
  const pair2 = new Pair(P2, pair.S);
  pair2.apply('P', P2.start(pair2.now, rec));
  assert.deepEqual(pair2.logs.P, ['failover peer fo-test: I move from normal to startup']);
  pair2.connect();
  assert.deepEqual(moves(pair2.logs.P), [
    'failover peer fo-test: I move from normal to startup',
    'failover peer fo-test: peer moves from normal to communications-interrupted',
    'failover peer fo-test: I move from startup to normal',
    'failover peer fo-test: peer moves from communications-interrupted to normal',
    'failover peer fo-test: Both servers normal',
  ]);
  assert.deepEqual(moves(pair2.logs.S), [
    'failover peer fo-test: peer moves from normal to normal',
    'failover peer fo-test: I move from communications-interrupted to normal',
    'failover peer fo-test: Both servers normal',
  ]);
  assert.ok(!pair2.sent.P.includes('UPDREQALL') && !pair2.sent.S.includes('UPDREQALL'));
  assert.equal(pair2.P.stos, rec.myStateTime, 'stos survives startup');
});

test('§5.4 (d): partner-down → potential-conflict → conflict-done → normal', () => {
  const pair = new Pair(mk('primary'), mk('secondary'));
  pair.apply('P', pair.P.start(pair.now));
  pair.apply('S', pair.S.start(pair.now));
  pair.connect();
  pair.logs.P.length = 0;
  pair.logs.S.length = 0;
  pair.disconnect();
  assert.equal(pair.P.state, 'communications-interrupted');
  pair.apply('P', pair.P.setLocalState(pair.now, 'partner-down'));
  assert.equal(pair.P.state, 'partner-down');
  assert.equal(pair.P.service().responding, true);
  pair.now += 60;
  pair.connect();
  assert.equal(pair.P.state, 'normal');
  assert.equal(pair.S.state, 'normal');
  // The lines of FAILOVER.md §5.4 (d), in ISC's order, per server.
  assertSubsequence(pair.logs.P, [
    'failover peer fo-test: I move from normal to communications-interrupted',
    'failover peer fo-test: I move from communications-interrupted to partner-down',
    'failover peer fo-test: peer moves from normal to communications-interrupted',
    'failover peer fo-test: I move from partner-down to potential-conflict',
    'failover peer fo-test: peer update completed.',
    'failover peer fo-test: I move from potential-conflict to conflict-done',
    'failover peer fo-test: peer moves from potential-conflict to normal',
    'failover peer fo-test: I move from conflict-done to normal',
    'failover peer fo-test: Both servers normal',
  ]);
  assertSubsequence(pair.logs.S, [
    'failover peer fo-test: I move from normal to communications-interrupted',
    'failover peer fo-test: peer moves from normal to partner-down',
    'failover peer fo-test: I move from communications-interrupted to potential-conflict',
    'failover peer fo-test: peer moves from partner-down to potential-conflict',
    'failover peer fo-test: peer moves from potential-conflict to conflict-done',
    'failover peer fo-test: peer update completed.',
    'failover peer fo-test: I move from potential-conflict to normal',
    'failover peer fo-test: Both servers normal',
  ]);
  assert.ok(pair.sent.P.includes('UPDREQ') && pair.sent.S.includes('UPDREQ'));
});

test('§5.4 (c): restart in recover against a partner-down peer waits in recover-wait until stos+MCLT', () => {
  const pair = new Pair(mk('primary'), mk('secondary'));
  pair.apply('P', pair.P.start(pair.now));
  pair.apply('S', pair.S.start(pair.now));
  pair.connect();
  pair.disconnect();
  const P2 = mk('primary');
  const pair2 = new Pair(P2, pair.S);
  pair2.now = pair.now + 10;
  pair2.apply('P', P2.start(pair2.now)); // no record: fresh recover
  pair2.connect();
  assert.equal(pair.S.state, 'partner-down');
  assert.equal(P2.state, 'recover-wait');
  assert.deepEqual(P2.service(), { responding: false, suffix: 'recover wait' });
  const timer = pair2.logs.P.length;
  assert.ok(timer > 0);
  pair2.now = P2.stos + 1800;
  pair2.apply('P', P2.onRecoverWaitTimer(pair2.now));
  pair2.pump();
  assert.equal(P2.state, 'normal');
  assert.equal(pair.S.state, 'normal');
  assert.ok(pair2.logs.S.includes('failover peer fo-test: I move from partner-down to normal'));
});

test('auto-partner-down timer, startup timeout, invalid state, fatal in conflict-done', () => {
  const f = mk('secondary', 30);
  let a = f.start(100, { myState: 'normal', myStateTime: 50, partnerState: 'normal', partnerStateTime: 50 });
  assert.deepEqual(a.find((x) => x.kind === 'timer'), { kind: 'timer', timer: 'startup', at: 115 });
  a = f.onStartupTimeout(115);
  assert.equal(f.state, 'communications-interrupted');
  assert.deepEqual(a.find((x) => x.kind === 'timer' && x.timer === 'auto-partner-down'), { kind: 'timer', timer: 'auto-partner-down', at: 145 });
  assert.equal(f.service().responding, true);
  f.onAutoPartnerDownTimer(145);
  assert.equal(f.state, 'partner-down');
  assert.equal(f.stos, 145);
  f.linkUp = true;
  a = f.onPeerState(150, 77, 0);
  assert.ok(a.some((x) => x.kind === 'log' && x.text === 'failover peer fo-test: Invalid state: 77'));
  assert.equal(f.state, 'shutdown');
  const g = mk('primary');
  g.start(0);
  g.setLocalState(1, 'conflict-done');
  g.linkUp = true;
  a = g.onPeerState(2, 4, 0);
  assert.ok(a.some((x) => x.kind === 'fatal' && /Invalid attempt to move from unknown-state to partner-down while local state is conflict-done/.test(x.text)));
});
