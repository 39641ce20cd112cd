/**
 * Runs the programs of `execute (…)` statements (src/policy/execute-hook.ts) as ISC dhcpd 4.4.3 does
 * (common/execute.c): the command is looked up on PATH (execvp), inherits the server's environment,
 * standard output and standard error, and a non-zero wait status is logged as
 * `execute: COMMAND exit status N` with N the raw waitpid(2) status (exit code × 256, or the signal
 * number). A program that cannot be started gets ISC's child's `Unable to execute COMMAND: REASON` and
 * then exit status 32512 (exit code 127).
 *
 * Difference from ISC, on purpose: ISC waits for the program at the statement, so the whole server stops
 * until it ends (a hanging script hangs dhcpd). Here the programs run one at a time in the order their
 * statements ran, without blocking the event loop: the reply does not wait for them. Each is waited for at
 * most `waitMs` before the next is started (it is left running, not killed), and at most `maxQueued`
 * wait to start; more are refused with an error line.
 *
 * @module
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import type { Logger } from '../log/logger.js';
import type { StatementExecutor } from '../policy/execute-hook.js';

/** Options of {@link createProcessExecutor}. */
export interface ProcessExecutorOptions {
  readonly logger: Logger;
  /** How long one program may hold up the next (default 30 s). */
  readonly waitMs?: number;
  /** Programs waiting to start at most (default 1000). */
  readonly maxQueued?: number;
}

/** A running executor. */
export interface ProcessExecutor {
  readonly execute: StatementExecutor;
  /** Resolves once every queued program has ended or been waited for long enough (tests, shutdown). */
  drain(): Promise<void>;
}

const REASONS: Readonly<Record<string, string>> = {
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  ENOEXEC: 'Exec format error',
  ENOTDIR: 'Not a directory',
  ELOOP: 'Too many levels of symbolic links',
  E2BIG: 'Argument list too long',
  ENOMEM: 'Cannot allocate memory',
};

/** waitpid(2)'s status word for an exit code or a signal. */
export function waitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (signal !== null) return constants.signals[signal] ?? 0;
  return ((code ?? 0) & 0xff) << 8;
}

/** The executor the server registers (one per process). */
export function createProcessExecutor(options: ProcessExecutorOptions): ProcessExecutor {
  const { logger } = options;
  const waitMs = options.waitMs ?? 30_000;
  const maxQueued = options.maxQueued ?? 1000;
  const queue: Array<{ command: string; args: readonly string[] }> = [];
  let running = false;
  let drainWaiters: Array<() => void> = [];

  const runOne = (command: string, args: readonly string[]): Promise<void> =>
    new Promise((resolve) => {
      let settled = false;
      const done = (): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        logger.error(`execute: ${command} still running after ${waitMs / 1000} seconds; not waiting for it any longer.`);
        done();
      }, waitMs);
      timer.unref();
      let child;
      try {
        child = spawn(command, [...args], { stdio: ['ignore', 'inherit', 'inherit'] });
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code ?? '';
        logger.error(`Unable to execute ${command}: ${REASONS[code] ?? (e instanceof Error ? e.message : String(e))}`);
        logger.error(`execute: ${command} exit status ${waitStatus(127, null)}`);
        done();
        return;
      }
      child.on('error', (e: NodeJS.ErrnoException) => {
        logger.error(`Unable to execute ${command}: ${REASONS[e.code ?? ''] ?? e.message}`);
        logger.error(`execute: ${command} exit status ${waitStatus(127, null)}`);
        done();
      });
      child.on('exit', (code, signal) => {
        const status = waitStatus(code, signal);
        if (status !== 0) logger.error(`execute: ${command} exit status ${status}`);
        done();
      });
    });

  const pump = async (): Promise<void> => {
    if (running) return;
    running = true;
    while (queue.length > 0) {
      const job = queue.shift()!;
      await runOne(job.command, job.args);
    }
    running = false;
    const w = drainWaiters;
    drainWaiters = [];
    for (const f of w) f();
  };

  return {
    execute(command, args) {
      if (queue.length >= maxQueued) {
        logger.error(`execute: ${command} not run: ${maxQueued} programs are already waiting to run.`);
        return;
      }
      queue.push({ command, args });
      void pump();
    },
    drain() {
      if (!running && queue.length === 0) return Promise.resolve();
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
  };
}
