/**
 * dhcpd's pid file, as ISC 4.4.3 handles it (server/dhcpd.c, after the config and leases are read):
 * - an existing, non-empty file naming a live process other than us, or whose text does not start with a
 *   number (atoi gives 0: "abc", "0", a lone newline): fatal "There's already a DHCP server running.";
 * - a stale one (process gone), an empty or unreadable one: replaced;
 * - written as "%d\n" with mode 0644; failure to write is logged ("Can't create PID file …") but not fatal.
 * dhcpd-ts additionally removes the file on a clean shutdown if it still names this process (ISC leaves
 * it behind; Debian's init script removes it after `stop`).
 */
import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { strerror } from './argv.js';

export type PidFileResult =
  | { ok: true; written: boolean; warning?: string }
  | { ok: false; message: string };

/** True when a process with this pid exists (kill(pid, 0) succeeds). ISC treats any failure as gone. */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Reads the pid in a pid file (atoi of its text), or undefined when absent/unreadable/0. */
export function readPidFile(path: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^\s*([+-]?\d+)/.exec(text);
  const pid = m ? Number.parseInt(m[1], 10) : 0;
  return pid > 0 ? pid : undefined;
}

/** atoi(3): leading white space, an optional sign, digits; 0 when there is no number. */
export function atoi(text: string): number {
  const m = /^[ \t\n\v\f\r]*([+-]?\d+)/.exec(text);
  return m ? Number.parseInt(m[1], 10) : 0;
}

/**
 * Refuses when another live instance holds `path`, else writes our pid there. ISC reads at most 19 bytes
 * and refuses on `!pid || (pid != getpid() && kill(pid, 0) == 0)` once it read anything, so a pid file
 * holding garbage stops it too (checked against ISC 4.4.3 in a namespace).
 */
export function claimPidFile(path: string, pid = process.pid): PidFileResult {
  let text = '';
  try {
    text = readFileSync(path, 'latin1').slice(0, 19);
  } catch {
    /* absent or unreadable: ISC goes on */
  }
  if (text.length > 0) {
    const held = atoi(text);
    if (held === 0 || (held !== pid && processAlive(held))) {
      return { ok: false, message: "There's already a DHCP server running." };
    }
  }
  const old = text.length > 0 ? atoi(text) : undefined;
  if (old !== undefined) {
    try {
      unlinkSync(path);
    } catch {
      /* O_TRUNC below handles it */
    }
  }
  try {
    const fd = openSync(path, 'w', 0o644);
    try {
      writeSync(fd, `${pid}\n`);
    } finally {
      closeSync(fd);
    }
    return { ok: true, written: true };
  } catch (e) {
    return { ok: true, written: false, warning: `Can't create PID file ${path}: ${strerror(e)}.` };
  }
}

/** Removes the pid file if it still names `pid` (never someone else's). */
export function releasePidFile(path: string, pid = process.pid): void {
  if (readPidFile(path) !== pid) return;
  try {
    unlinkSync(path);
  } catch {
    /* already gone */
  }
}
