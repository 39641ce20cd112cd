/**
 * The `execute (COMMAND, ARG…)` statement of dhcp-eval(5) (ISC common/execute.c, built with
 * ENABLE_EXECUTE as Debian's 4.4.3 is): the arguments are evaluated as data expressions where the
 * statement stands, each logged at debug level as ISC does; one that fails to evaluate ("execute: bad arg
 * N") cancels the run. The program itself is started by the process's {@link StatementExecutor} —
 * src/server/execute.ts, registered by the server — because the evaluator is synchronous and does no I/O.
 * Without a registered executor (unit tests of the engine) nothing is run.
 *
 * ISC forks and waits for the program right at the statement, stopping the whole server meanwhile; here it
 * runs asynchronously, one program after the other in statement order (see src/server/execute.ts).
 *
 * @module
 */
import type { Logger } from '../log/logger.js';

/** Starts `command` with `args` (argv[1…]); never throws. */
export type StatementExecutor = (command: string, args: readonly string[]) => void;

let current: StatementExecutor | undefined;

/** Registers the process's executor (the server does, at start); `undefined` removes it. */
export function setStatementExecutor(executor: StatementExecutor | undefined): void {
  current = executor;
}

/** The registered executor, if any. */
export function statementExecutor(): StatementExecutor | undefined {
  return current;
}

/**
 * ISC execute_statement: logs argv at debug level, gives up on the first argument that did not evaluate,
 * and hands the rest to the executor. Arguments are C strings: a NUL ends one.
 */
export function runExecuteStatement(command: string, args: ReadonlyArray<Buffer | undefined>, logger: Logger | undefined): void {
  logger?.debug(`execute_statement argv[0] = ${command}`);
  const argv: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === undefined) {
      logger?.debug(`execute: bad arg ${i + 1}`);
      return;
    }
    const nul = a.indexOf(0);
    const text = (nul >= 0 ? a.subarray(0, nul) : a).toString('latin1');
    logger?.debug(`execute_statement argv[${i + 1}] = ${text}`);
    argv.push(text);
  }
  current?.(command, argv);
}
