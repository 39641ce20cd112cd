/**
 * The failover state machine of ISC dhcpd 4.4 (FAILOVER.md §5), pure: every input carries `now`, every
 * output is an {@link FsmAction} the engine carries out (send, log, persist, timers, lease-side work).
 *
 * Names, transitions and log texts follow ISC's server/failover.c (`dhcp_failover_set_state`,
 * `dhcp_failover_peer_state_changed`, `dhcp_failover_state_transition`) as observed in the lab runs.
 *
 * @module
 */
import { SERVER_FLAG_STARTUP, stateFromWire, type FailoverStateName } from './messages.js';
import type { FailoverRole } from './load-balance.js';

/** Startup timer: leave `startup` after this long without the peer's STATE (ISC: 15 s). */
export const STARTUP_TIMEOUT_S = 15;

/** Timers the machine arms (absolute time in seconds; null cancels). */
export type FsmTimer = 'startup' | 'recover-wait' | 'auto-partner-down';

/** What the engine must do after an input. Order matters: carry them out in sequence. */
export type FsmAction =
  | { readonly kind: 'log'; readonly level: 'info' | 'error'; readonly text: string }
  /** Send STATE with {@link FailoverStateMachine.wireState} (only emitted while the link is up). */
  | { readonly kind: 'send-state' }
  | { readonly kind: 'send-updreqall' }
  | { readonly kind: 'send-updreq' }
  /** Write the `failover peer "NAME" state { ... }` record (see {@link FailoverStateMachine.record}). */
  | { readonly kind: 'persist' }
  | { readonly kind: 'timer'; readonly timer: FsmTimer; readonly at: number | null }
  /** Leaving normal/potential-conflict/partner-down: move un-acked BNDUPDs back to the send queue. */
  | { readonly kind: 'requeue-unacked' }
  /** Entering normal: pool balance, queue leases with tstp > atsfp and expired ones, send them. */
  | { readonly kind: 'enter-normal' }
  /** Partner moved to normal while we are normal: reschedule the pool check. */
  | { readonly kind: 'pool-check' }
  /** Entering partner-down: expired/released/reset leases get tsfp = stos + MCLT and are requeued. */
  | { readonly kind: 'enter-partner-down' }
  /** Send what is queued (communications-interrupted → normal). */
  | { readonly kind: 'send-pending-updates' }
  /** ISC calls log_fatal here and exits; the engine decides (we log and go to shutdown). */
  | { readonly kind: 'fatal'; readonly text: string };

/** The persisted failover state record (dhcpd.leases `failover peer "X" state { ... }`, FAILOVER.md §9.2). */
export interface FailoverStateRecord {
  /** Saved state while in startup; never `startup` itself. */
  readonly myState: FailoverStateName;
  /** Local stos. */
  readonly myStateTime: number;
  readonly partnerState: FailoverStateName;
  /** When we received the partner's STATE (ISC ignores the partner's own stos). */
  readonly partnerStateTime: number;
  /** Secondary only: MCLT learned from CONNECT. */
  readonly mclt?: number;
}

export interface StateMachineOptions {
  /** Relationship name (`failover peer "NAME"`). */
  readonly name: string;
  readonly role: FailoverRole;
  /** MCLT in seconds (the secondary's is learned from CONNECT; update with {@link FailoverStateMachine.setMclt}). */
  readonly mclt: number;
  /** `auto-partner-down` seconds; 0 = off. */
  readonly autoPartnerDown: number;
}

/** States in which ISC answers DHCP clients (§5.1 svc column), given our state. */
const SERVING: ReadonlySet<FailoverStateName> = new Set(['normal', 'communications-interrupted', 'partner-down']);

const NOT_RESPONDING_SUFFIX: Readonly<Partial<Record<FailoverStateName, string>>> = {
  'unknown-state': 'my state unknown',
  startup: 'startup',
  'potential-conflict': 'resolving conflicts',
  recover: 'recovering',
  paused: 'paused',
  shutdown: 'shut down',
  'recover-done': 'recover done',
  'resolution-interrupted': 'resolving conflicts',
  'conflict-done': 'resolving conflicts',
  'recover-wait': 'recover wait',
};

/** ISC's failover state machine for one relationship. */
export class FailoverStateMachine {
  readonly name: string;
  readonly role: FailoverRole;
  private mcltValue: number;
  private readonly autoPartnerDown: number;
  /** Local state (may be `startup`). */
  state: FailoverStateName = 'unknown-state';
  /** State remembered while in startup. */
  savedState: FailoverStateName = 'recover';
  /** Start time of the local state. */
  stos = 0;
  partnerState: FailoverStateName = 'unknown-state';
  /** Local receive time of the partner's last STATE. */
  partnerStos = 0;
  /** Whether a failover link (after CONNECT/CONNECTACK) is up. */
  linkUp = false;

  constructor(options: StateMachineOptions) {
    this.name = options.name;
    this.role = options.role;
    this.mcltValue = options.mclt;
    this.autoPartnerDown = options.autoPartnerDown;
  }

  get mclt(): number {
    return this.mcltValue;
  }

  /** The secondary learns MCLT from CONNECT. */
  setMclt(mclt: number): FsmAction[] {
    if (mclt === this.mcltValue) return [];
    this.mcltValue = mclt;
    return [{ kind: 'persist' }];
  }

  /** The state that counts for decisions: the saved state while in startup. */
  get effectiveState(): FailoverStateName {
    return this.state === 'startup' ? this.savedState : this.state;
  }

  /** State and flags to put in a STATE message (§5.1: the saved state with STARTUP while starting). */
  wireState(): { state: FailoverStateName; flags: number } {
    return this.state === 'startup' ? { state: this.savedState, flags: SERVER_FLAG_STARTUP } : { state: this.state, flags: 0 };
  }

  /** The record to persist. */
  record(): FailoverStateRecord {
    const base = { myState: this.effectiveState, myStateTime: this.stos, partnerState: this.partnerState, partnerStateTime: this.partnerStos };
    return this.role === 'secondary' ? { ...base, mclt: this.mcltValue } : base;
  }

  /**
   * Whether this server answers DHCP clients at all, and if not, ISC's `not responding (...)` suffix
   * (§5.1, including the "peer demands" cases).
   */
  service(): { responding: true; cooperating: boolean } | { responding: false; suffix: string } {
    const s = this.state;
    if (!SERVING.has(s)) return { responding: false, suffix: NOT_RESPONDING_SUFFIX[s] ?? s };
    if (this.partnerState === 'partner-down') return { responding: false, suffix: 'peer demands: recovering' };
    if (this.partnerState === 'potential-conflict' || this.partnerState === 'conflict-done' || this.partnerState === 'resolution-interrupted') {
      return { responding: false, suffix: 'peer demands: resolving conflicts' };
    }
    return { responding: true, cooperating: s === 'normal' };
  }

  /**
   * Program start (§5.2): enter startup remembering the recorded state (or `recover` without a record),
   * and arm the 15 s startup timer.
   */
  start(now: number, saved?: FailoverStateRecord): FsmAction[] {
    const actions: FsmAction[] = [];
    if (saved) {
      this.state = saved.myState === 'startup' ? 'recover' : saved.myState;
      this.stos = saved.myStateTime;
      this.partnerState = saved.partnerState === 'startup' ? 'unknown-state' : saved.partnerState;
      this.partnerStos = saved.partnerStateTime;
      if (this.role === 'secondary' && saved.mclt !== undefined) this.mcltValue = saved.mclt;
    } else {
      this.state = 'recover';
      this.stos = now;
      this.partnerState = 'unknown-state';
      this.partnerStos = 0;
    }
    this.moveTo('startup', now, actions);
    actions.push({ kind: 'timer', timer: 'startup', at: now + STARTUP_TIMEOUT_S });
    return actions;
  }

  /** The link (CONNECT/CONNECTACK exchanged) came up: send our STATE. */
  onLinkUp(): FsmAction[] {
    this.linkUp = true;
    return [{ kind: 'send-state' }];
  }

  /** The link went down (TCP closed, receive timeout) (§5.2 "Link lost"). */
  onLinkDown(now: number): FsmAction[] {
    this.linkUp = false;
    return this.linkLost(now);
  }

  /** The startup timer fired: leave startup as if disconnected. */
  onStartupTimeout(now: number): FsmAction[] {
    if (this.state !== 'startup') return [];
    return this.linkLost(now);
  }

  private linkLost(now: number): FsmAction[] {
    const actions: FsmAction[] = [];
    const inStartup = this.state === 'startup';
    const cur = this.effectiveState;
    let next: FailoverStateName = cur;
    if (cur === 'normal') next = 'communications-interrupted';
    else if (cur === 'potential-conflict' || cur === 'unknown-state') next = 'resolution-interrupted';
    else if (cur === 'conflict-done') actions.push({ kind: 'requeue-unacked' });
    if (inStartup) {
      this.savedState = next;
      this.moveTo(next, now, actions);
    } else if (next !== cur) {
      this.moveTo(next, now, actions);
    }
    return actions;
  }

  /** Operator command (OMAPI `local-state`, our CLI): move to `state` directly. */
  setLocalState(now: number, state: FailoverStateName): FsmAction[] {
    const actions: FsmAction[] = [];
    if (state === this.state) return actions;
    this.moveTo(state, now, actions);
    return actions;
  }

  /** `auto-partner-down` timer fired. */
  onAutoPartnerDownTimer(now: number): FsmAction[] {
    if (this.state !== 'communications-interrupted') return [];
    const actions: FsmAction[] = [];
    this.moveTo('partner-down', now, actions);
    return actions;
  }

  /** recover-wait timer (stos + MCLT) fired. */
  onRecoverWaitTimer(now: number): FsmAction[] {
    if (this.state !== 'recover-wait') return [];
    const actions: FsmAction[] = [];
    this.moveTo('recover-done', now, actions);
    return actions;
  }

  /** UPDDONE received (§5.2). */
  onUpdateDone(now: number): FsmAction[] {
    const actions: FsmAction[] = [];
    const cur = this.state;
    if (cur === 'recover') {
      actions.push(this.info(`failover peer ${this.name}: peer update completed.`));
      if (this.stos + this.mcltValue > now && this.partnerState !== 'recover' && this.partnerState !== 'recover-done') {
        this.moveTo('recover-wait', now, actions);
      } else {
        this.moveTo('recover-done', now, actions);
      }
    } else if (cur === 'potential-conflict') {
      actions.push(this.info(`failover peer ${this.name}: peer update completed.`));
      if (this.partnerState === 'conflict-done') {
        if (this.role === 'secondary') this.moveTo('normal', now, actions);
        else {
          actions.push(this.error('Secondary is in conflict_done state after conflict resolution, this is illegal.'));
          this.moveTo('shutdown', now, actions);
        }
      } else if (this.role === 'primary') {
        this.moveTo('conflict-done', now, actions);
      } else {
        actions.push(this.error('Spurious update-done message.'));
      }
    }
    return actions;
  }

  /** A STATE message from the partner (§5.3). */
  onPeerState(now: number, serverState: number, serverFlags: number): FsmAction[] {
    const actions: FsmAction[] = [];
    const newPartner = stateFromWire(serverState);
    if (newPartner === undefined || newPartner === 'startup') {
      actions.push(this.error(`failover peer ${this.name}: Invalid state: ${serverState}`));
      this.moveTo('shutdown', now, actions);
      return actions;
    }
    const inStartup = this.state === 'startup';
    if (newPartner === this.partnerState) {
      if (inStartup) {
        this.leaveStartup(now, actions, this.savedState === 'resolution-interrupted' ? 'potential-conflict' : this.savedState);
        return actions;
      }
      const ignore: FailoverStateName[] = ['normal', 'potential-conflict', 'recover-done', 'shutdown', 'paused', 'recover-wait', 'unknown-state'];
      if (ignore.includes(this.state)) return actions;
    }
    // A STATE with the STARTUP flag is still logged and recorded (ISC dhcp_failover_peer_state_changed);
    // only the partner-down transitions below are skipped for it.
    const peerStarting = (serverFlags & SERVER_FLAG_STARTUP) !== 0;

    const previous = this.partnerState;
    this.partnerState = newPartner;
    this.partnerStos = now;
    actions.push(this.info(`failover peer ${this.name}: peer moves from ${previous} to ${newPartner}`));
    if (this.effectiveState === 'normal' && newPartner === 'normal' && !inStartup) {
      actions.push(this.info(`failover peer ${this.name}: Both servers normal`));
    }
    actions.push({ kind: 'persist' });

    const my = this.effectiveState;
    const go = (s: FailoverStateName): void => this.moveTo(s, now, actions);
    switch (my) {
      case 'normal':
        if (newPartner === 'normal') actions.push({ kind: 'pool-check' });
        else if (newPartner === 'partner-down') go(inStartup ? 'recover' : 'potential-conflict');
        else if (newPartner === 'potential-conflict' || newPartner === 'resolution-interrupted' || newPartner === 'conflict-done') {
          actions.push(this.error(`Peer ${this.name}: Invalid state transition ${previous} to ${newPartner}.`));
          go('shutdown');
        } else if (newPartner === 'recover' || newPartner === 'shutdown') go('partner-down');
        else if (newPartner === 'paused') go('communications-interrupted');
        break;
      case 'recover':
        if (newPartner === 'recover') {
          actions.push(this.info(`failover peer ${this.name}: requesting full update from peer`));
          if (!inStartup) actions.push({ kind: 'send-updreqall' });
        } else if (
          newPartner === 'potential-conflict' ||
          newPartner === 'resolution-interrupted' ||
          newPartner === 'conflict-done' ||
          newPartner === 'normal'
        ) {
          go('potential-conflict');
        } else if (newPartner === 'partner-down' || newPartner === 'communications-interrupted') {
          if (!inStartup) actions.push({ kind: 'send-updreqall' });
        } else if (newPartner === 'shutdown') go('partner-down');
        break;
      case 'potential-conflict':
        if (newPartner === 'normal') {
          actions.push(this.error(`Peer ${this.name} moves to normal during conflict resolution - panic, shutting down.`));
          go('shutdown');
        } else if (newPartner === 'conflict-done') {
          if (previous === 'potential-conflict') actions.push({ kind: 'send-updreq' });
          else actions.push(this.error(`Peer ${this.name}: Unexpected move to conflict-done.`));
        } else if (newPartner === 'recover') go('recover');
        else if (newPartner === 'shutdown') go('partner-down');
        break;
      case 'conflict-done':
        if (newPartner === 'normal') go('normal');
        else if (newPartner === 'shutdown') go('shutdown');
        else if (newPartner !== 'potential-conflict' && newPartner !== 'resolution-interrupted') {
          const text = `Peer ${this.name}: Invalid attempt to move from ${previous} to ${newPartner} while local state is conflict-done.`;
          actions.push({ kind: 'fatal', text });
        }
        break;
      case 'partner-down':
        // ISC: "Take no action if other server is starting up."
        if (peerStarting) break;
        if (newPartner === 'recover-done') go('normal');
        else if (
          newPartner === 'normal' ||
          newPartner === 'potential-conflict' ||
          newPartner === 'partner-down' ||
          newPartner === 'communications-interrupted' ||
          newPartner === 'resolution-interrupted' ||
          newPartner === 'conflict-done'
        ) {
          go('potential-conflict');
        }
        break;
      case 'communications-interrupted':
        if (newPartner === 'recover' || newPartner === 'shutdown') go('partner-down');
        else if (
          newPartner === 'normal' ||
          newPartner === 'communications-interrupted' ||
          newPartner === 'recover-done' ||
          newPartner === 'recover-wait'
        ) {
          actions.push({ kind: 'send-pending-updates' });
          go('normal');
        } else if (
          newPartner === 'potential-conflict' ||
          newPartner === 'partner-down' ||
          newPartner === 'resolution-interrupted' ||
          newPartner === 'conflict-done'
        ) {
          go('potential-conflict');
        }
        break;
      case 'resolution-interrupted':
        if (newPartner === 'shutdown') go('partner-down');
        else if (newPartner !== 'paused' && newPartner !== 'unknown-state') go('potential-conflict');
        break;
      case 'recover-done':
        if (newPartner === 'recover-done') {
          actions.push(this.error('Both servers have entered recover-done!'));
          go('normal');
        } else if (newPartner === 'normal') go('normal');
        else if (newPartner === 'shutdown') go('partner-down');
        break;
      default:
        break;
    }
    if (this.state === 'startup') this.leaveStartup(now, actions, this.savedState);
    return actions;
  }

  private leaveStartup(now: number, actions: FsmAction[], to: FailoverStateName): void {
    this.moveTo(to, now, actions);
  }

  /** `dhcp_failover_set_state`: the common part of every transition (§5.2 "Actions on entering a state"). */
  private moveTo(next: FailoverStateName, now: number, actions: FsmAction[]): void {
    const prev = this.state;
    if (prev === next) return;
    const leavingStartup = prev === 'startup';
    if (next === 'startup') this.savedState = prev;
    // stos = now, except into recover-wait, into startup or out of startup (§5.1).
    if (next !== 'recover-wait' && next !== 'startup' && !leavingStartup) this.stos = now;
    const from = prev;
    this.state = next;
    if (leavingStartup) actions.push({ kind: 'timer', timer: 'startup', at: null });
    actions.push({ kind: 'persist' });
    actions.push(this.info(`failover peer ${this.name}: I move from ${from} to ${next}`));
    if (this.linkUp) actions.push({ kind: 'send-state' });
    if (next === 'normal' && this.partnerState === 'normal') actions.push(this.info(`failover peer ${this.name}: Both servers normal`));
    const effPrev = leavingStartup ? this.savedState : prev;
    if ((effPrev === 'normal' || effPrev === 'potential-conflict' || effPrev === 'partner-down') && effPrev !== next && next !== 'startup') {
      actions.push({ kind: 'requeue-unacked' });
    }
    if (prev === 'communications-interrupted') actions.push({ kind: 'timer', timer: 'auto-partner-down', at: null });
    if (prev === 'recover-wait') actions.push({ kind: 'timer', timer: 'recover-wait', at: null });
    switch (next) {
      case 'normal':
        actions.push({ kind: 'enter-normal' });
        break;
      case 'potential-conflict':
        if (this.role === 'primary' || this.partnerState === 'conflict-done') actions.push({ kind: 'send-updreq' });
        break;
      case 'recover':
        if (this.linkUp) actions.push({ kind: 'send-updreqall' });
        break;
      case 'recover-wait':
        actions.push({ kind: 'timer', timer: 'recover-wait', at: this.stos + this.mcltValue });
        break;
      case 'partner-down':
        actions.push({ kind: 'enter-partner-down' });
        break;
      case 'communications-interrupted':
        if (this.autoPartnerDown > 0) actions.push({ kind: 'timer', timer: 'auto-partner-down', at: now + this.autoPartnerDown });
        break;
      default:
        break;
    }
  }

  private info(text: string): FsmAction {
    return { kind: 'log', level: 'info', text };
  }

  private error(text: string): FsmAction {
    return { kind: 'log', level: 'error', text };
  }
}
