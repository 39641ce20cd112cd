/**
 * Daemonizing like ISC dhcpd without fork(2): the parent re-runs itself as a detached child (new session,
 * like ISC's fork + setsid) and waits; the child says "ready" once it serves (after the pid file is
 * written, where ISC writes its status byte to the pipe) or "failed" with its exit code. The parent then
 * exits 0, or with the child's code; until then the child's stderr is copied to the parent's, so start-up
 * errors reach the terminal or init script exactly as with ISC.
 */
import { spawn } from 'node:child_process';

/** Set in the child's environment; its presence means "I am the daemon child". */
export const DAEMON_CHILD_ENV = 'DHCPD_TS_DAEMON_CHILD';

type ChildMessage = { type: 'ready' } | { type: 'failed'; code: number };

function isChildMessage(m: unknown): m is ChildMessage {
  return typeof m === 'object' && m !== null && ((m as { type?: unknown }).type === 'ready' || (m as { type?: unknown }).type === 'failed');
}

export interface DaemonParentOptions {
  /** The arguments to re-run with (process.argv.slice(2)). */
  argv: readonly string[];
  /** Default process.execPath / process.execArgv / process.argv[1] / process.env. */
  execPath?: string;
  execArgv?: readonly string[];
  script?: string;
  env?: NodeJS.ProcessEnv;
  /** Where the child's pre-ready stderr goes; default process.stderr. */
  stderr?: NodeJS.WritableStream;
  /** Give up waiting after this long (the child is left running); default none. */
  timeoutMs?: number;
}

/** Parent side: spawns the daemon child and resolves with the exit code the parent should use. */
export function runDaemonParent(opts: DaemonParentOptions): Promise<number> {
  const script = opts.script ?? process.argv[1];
  const out = opts.stderr ?? process.stderr;
  const child = spawn(opts.execPath ?? process.execPath, [...(opts.execArgv ?? process.execArgv), script, ...opts.argv], {
    detached: true,
    env: { ...(opts.env ?? process.env), [DAEMON_CHILD_ENV]: '1' },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  return new Promise<number>((resolve) => {
    let settled = false;
    const finish = (code: number): void => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      child.stderr?.removeAllListeners('data');
      child.stderr?.destroy();
      if (child.connected) child.disconnect();
      child.unref();
      resolve(code);
    };
    child.stderr?.on('data', (chunk: Buffer) => {
      out.write(chunk);
    });
    child.on('message', (m: unknown) => {
      if (!isChildMessage(m)) return;
      // The child's last stderr lines were written before its message but come through another pipe: give
      // them a moment to arrive (ISC's parent shares the child's stderr and has nothing to wait for).
      if (m.type === 'ready') setTimeout(() => finish(0), 50);
      // Let the child's last stderr lines arrive before exiting with its code.
      else setTimeout(() => finish(m.code || 1), 50);
    });
    child.on('exit', (code, signal) => {
      // Drain what is left in the pipe first.
      setTimeout(() => finish(code ?? (signal ? 1 : 1)), 20);
    });
    child.on('error', (e) => {
      out.write(`Can't fork daemon: ${e.message}\n`);
      finish(1);
    });
    const timer = opts.timeoutMs ? setTimeout(() => finish(1), opts.timeoutMs) : undefined;
  });
}

/** True in the re-spawned daemon child. */
export function isDaemonChild(env: NodeJS.ProcessEnv = process.env): boolean {
  return env[DAEMON_CHILD_ENV] === '1' && typeof process.send === 'function';
}

/** Child side: tells the parent we serve, then cuts the IPC channel and the parent's stderr pipe. */
export function notifyDaemonReady(): void {
  delete process.env[DAEMON_CHILD_ENV];
  // After the parent exits, stderr is a broken pipe: never let a late write crash us (ISC closes fd 2).
  process.stderr.on('error', () => undefined);
  if (typeof process.send === 'function') {
    process.send({ type: 'ready' } satisfies ChildMessage, () => {
      if (process.connected) process.disconnect();
    });
  }
}

/** Child side: tells the parent start-up failed with `code` (the parent exits with it). */
export function notifyDaemonFailed(code: number): Promise<void> {
  return new Promise<void>((resolve) => {
    if (typeof process.send !== 'function' || !process.connected) {
      resolve();
      return;
    }
    process.send({ type: 'failed', code } satisfies ChildMessage, () => resolve());
  });
}
