/**
 * bench/run.sh's own arithmetic: the perfdhcp output parser (achieved rate from the 1 s reports,
 * drops, latencies) on a real perfdhcp 2.2 output captured by the harness, and the sustainable-rate
 * and ratio rules on a small results table.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from test/bench/ under tsx or from dist/test/bench/). */
function repoRoot(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(d, 'bench', 'run.sh'))) {
    const up = dirname(d);
    if (up === d) throw new Error('bench/run.sh not found above the test file');
    d = up;
  }
  return d;
}
const root = repoRoot();

function bashLib(script: string): string {
  return execFileSync('bash', ['-c', `. bench/lib/sweep.sh; . bench/lib/report.sh; ${script}`], { cwd: root, encoding: 'utf8', timeout: 20_000 });
}

describe('bench harness parsing', () => {
  test('perfdhcp output: steady ACK rate over the sending phase, drops and latencies', () => {
    const out = bashLib('parse_perfdhcp test/bench/fixtures/perfdhcp-r200.out 800 4').trim();
    // reports 1..4 are the sending phase (-p 4): ACKs 183 -> 786 over 3 s = 201/s;
    // 799 DISCOVERs sent, 799 ACKs received (REQUEST-ACK block), so 0 % lost.
    assert.equal(out, '201.0,799,799,0.00,24.676,180.314,15.576,99.175');
  });

  test('sustainable rate: every repetition under 1 % at that rate and all lower ones; ratios', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-parse-'));
    try {
      const hdr = 'section,server,offered_rate,rep,achieved_rate,disc_sent,acks,drop_pct,do_avg_ms,do_max_ms,ra_avg_ms,ra_max_ms,srv_cpu_pct,perf_cpu_pct,other_cpu_pct,vmhwm_kb,leases_persisted,startup_s,loadavg1,detail,error';
      const row = (s: string, r: number, rep: number, drop: number, err = ''): string => `sweep,${s},${r},${rep},${r},${r * 10},${r * 10},${drop},1,2,1,2,50,30,10,1000,${r * 10},1.0,2.0,,${err}`;
      const rows = [
        row('a', 100, 1, 0), row('a', 100, 2, 0.5), row('a', 500, 1, 0), row('a', 500, 2, 0.9), row('a', 1000, 1, 0), row('a', 1000, 2, 1.2), row('a', 2000, 1, 0), row('a', 2000, 2, 0),
        row('b', 100, 1, 0), row('b', 100, 2, 0), row('b', 500, 1, 3), row('b', 500, 2, 0), row('b', 1000, 1, 0), row('b', 1000, 2, 0),
        row('c', 100, 1, 0), row('c', 100, 2, 0, 'server-not-ready'),
      ];
      writeFileSync(join(dir, 'results.csv'), [hdr, ...rows].join('\n') + '\n');
      const sus = bashLib(`sustainable ${dir}/results.csv sweep`).trim().split('\n');
      // a: 1000/s fails in one repetition, so 2000/s (clean again) does not count; b: 500/s fails once;
      // c: a failed repetition is a failure.
      assert.deepEqual(sus, ['a 500', 'b 100', 'c 0']);
      const ratios = bashLib(`ratio_lines ${dir}/results.csv sweep a b c z`).trim().split('\n');
      assert.deepEqual(ratios, [
        '- a / b: 500 / 100 = 5.00x',
        '- a / c: 500 / 0 (c: no tested rate with < 1 % drops in every repetition)',
        '- a / z: n/a (not measured in this run)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
