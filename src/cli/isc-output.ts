/**
 * The shapes of ISC dhcpd's fatal exits (common/errwarn.c log_fatal): the message, an empty line, a
 * paragraph about reporting bugs, an empty line, then `exiting.`; each is one log line. The paragraph is
 * our own wording; scripts key on the first line and on `exiting.`.
 */
import type { Logger } from '../log/logger.js';
import { USAGE_TEXT } from './argv.js';
import { bannerLines } from './version.js';

const BUG_PARAGRAPH = [
  'If you think you have received this message due to a bug rather',
  'than a configuration issue, please report it to the dhcpd-ts',
  'project with the command line and the configuration you used.',
];

/** The lines of a fatal exit with `message` (which may span several lines). */
export function fatalLines(message: string): string[] {
  return [...message.split('\n'), '', ...BUG_PARAGRAPH, '', 'exiting.'];
}

/** ISC's usage(): banner, the specific error, then a fatal exit whose message is the usage text. */
export function usageErrorLines(message: string | undefined): string[] {
  const lines = [...bannerLines()];
  if (message !== undefined) lines.push(message);
  lines.push(...fatalLines(USAGE_TEXT.replace(/\n$/, '')));
  return lines;
}

/** Writes lines to a stream, each followed by a newline (ISC writes message + "\n" to stderr). */
export function writeLines(out: NodeJS.WritableStream, lines: readonly string[]): void {
  if (lines.length > 0) out.write(`${lines.join('\n')}\n`);
}

/** Logs a fatal exit through a logger at error level, one line per log call, as log_fatal does. */
export function logFatal(logger: Logger, message: string): void {
  for (const line of fatalLines(message)) logger.error(line);
}
