/**
 * Test helper (not a test): runs the real ISC dhcpd 4.4.3 as an oracle — `dhcpd -4 -t -cf FILE` in a
 * fresh temp directory (it writes nothing in -t mode) — and runs our parser on the same files from the
 * same directory, so relative includes resolve identically.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseConfigFile, type ParseResult } from '../../grammar/conf-parser.js';
import { formatIscError } from '../../grammar/errors.js';

export const DHCPD = '/usr/sbin/dhcpd';
export const haveDhcpd = existsSync(DHCPD);

export interface Verdicts {
  /** ISC's exit code (0 = accepted); undefined when dhcpd is not installed. */
  iscCode: number | undefined;
  /** ISC's first `FILE line N: ...` error with its echo and caret lines, or its first plain error. */
  iscFirst: string | undefined;
  ours: ParseResult;
  /** Our first error formatted like ISC, or undefined. */
  oursFirst: string | undefined;
}

/** Writes `files` (name -> content; the main file is `t.conf`) to a temp dir and checks them both ways. */
export function checkBoth(main: string, extra: Record<string, string> = {}): Verdicts {
  const dir = mkdtempSync(path.join(tmpdir(), 'grammar-isc-'));
  try {
    writeFileSync(path.join(dir, 't.conf'), main, 'latin1');
    for (const [name, content] of Object.entries(extra)) {
      mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
      writeFileSync(path.join(dir, name), content, 'latin1');
    }
    const prev = process.cwd();
    process.chdir(dir);
    let ours: ParseResult;
    try {
      ours = parseConfigFile('t.conf');
    } finally {
      process.chdir(prev);
    }
    const firstOurs = ours.errors.find((e) => !e.plain) ?? ours.errors[0];
    const oursFirst = firstOurs ? formatIscError(firstOurs) : undefined;
    let iscCode: number | undefined;
    let iscFirst: string | undefined;
    if (haveDhcpd) {
      const r = spawnSync(DHCPD, ['-4', '-t', '-cf', 't.conf'], { cwd: dir, encoding: 'latin1', timeout: 10_000 });
      iscCode = r.status ?? undefined;
      const lines = r.stderr.split('\n');
      const i = lines.findIndex((l) => / line \d+: /.test(l));
      if (i >= 0) iscFirst = lines.slice(i, i + 3).join('\n');
    }
    return { iscCode, iscFirst, ours, oursFirst };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
