/**
 * Runs the real ISC dhcpd 4.4.3 in config-test mode (`dhcpd -4 -t`) as an oracle and extracts its verdict
 * and first error. `-t` exits before touching the lease or pid file; we still point both at a private temp
 * dir (`-lf`, `-pf`) so nothing on the host can be written.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const DHCPD = '/usr/sbin/dhcpd';

export const iscAvailable = (): boolean => existsSync(DHCPD);

export interface IscVerdict {
  ok: boolean;
  /** First error as printed: `FILE line N: MESSAGE` or a position-less message; '' when ok. */
  firstError: string;
  file: string | null;
  line: number | null;
  message: string;
  output: string;
}

const NOISE = [
  /^Internet Systems Consortium DHCP Server/,
  /^Copyright \d/,
  /^All rights reserved\./,
  /^For info, please visit/,
  /^Config file: /,
  /^Database file: /,
  /^PID file: /,
  /^WARNING: /,
  // Evaluation-time messages from executing the global scope once (GRAMMAR.md §6.6), not errors.
  /^(data|numeric|boolean|option|execute|dns-update|bool): /,
  /no raw packet or lease is available/,
  /^Wrote /,
  /^$/,
];

/** Run `dhcpd -4 -t -cf cf` in `cwd` (lease and pid files inside `tmpDir`). */
export function runIscTest(cf: string, cwd: string, tmpDir: string): IscVerdict {
  const r = spawnSync(DHCPD, ['-4', '-t', '-cf', cf, '-lf', `${tmpDir}/dhcpd.leases`, '-pf', `${tmpDir}/dhcpd.pid`], {
    cwd,
    encoding: 'latin1',
    timeout: 10_000,
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  const ok = r.status === 0;
  if (ok) return { ok, firstError: '', file: null, line: null, message: '', output };
  const lines = output.split('\n');
  const noise = (l: string): boolean => NOISE.some((re) => re.test(l));
  // A positioned error (parse_warn) is always the first thing reported.
  let first = lines.find((l) => /^.*? line \d+: /.test(l)) ?? '';
  if (!first) {
    const pid = lines.findIndex((l) => l.startsWith('PID file: '));
    if (pid >= 0) {
      // Checks after the configuration was read (failover sanity) print after "PID file:".
      first = lines.slice(pid + 1).find((l) => !noise(l)) ?? '';
    } else {
      // A log_fatal while reading or in postconf: the last message before ISC's trailer (output of
      // global-scope log statements may come before it).
      const trailer = lines.findIndex((l) => l.startsWith('If you think you have received this message'));
      const before = (trailer >= 0 ? lines.slice(0, trailer) : lines).filter((l) => !noise(l));
      first = before[before.length - 1] ?? '';
    }
  }
  const m = /^(.*?) line (\d+): (.*)$/.exec(first);
  return m
    ? { ok, firstError: first, file: m[1], line: Number(m[2]), message: m[3], output }
    : { ok, firstError: first, file: null, line: null, message: first, output };
}
