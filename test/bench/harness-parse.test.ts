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

  test('unpaced flood (no -n): goodput over the test period, not over the whole run', () => {
    // real perfdhcp 2.2 output of a 4 s flood against Kea (perfdhcp -R 2000000 -p 4, no -r/-n).
    // Its 1 s reports give ACKs 807, 1671, 2319, then "reached test-period", then 3200 at the 4th
    // report: (3200 - 807) / 3 = 797.7/s. DISCOVERs sent 257909, ACKs 4600 (REQUEST-ACK block):
    // 100 * (257909 - 4600) / 257909 = 98.22 % lost.
    const out = bashLib('parse_perfdhcp test/bench/fixtures/perfdhcp-flood-p4.out 0 4').trim();
    assert.equal(out, '797.7,257909,4600,98.22,88.563,312.953,82.561,287.986');
    // with a count limit, the sending phase ends at the first report past it (117731 >= 60000 at
    // report 2): too few reports for a steady rate, so all ACKs over the period: 4600 / 4
    assert.equal(bashLib('parse_perfdhcp test/bench/fixtures/perfdhcp-flood-p4.out 60000 4').trim().split(',')[0], '1150.0');
  });

  test('p99 at half the sustainable rate and flood goodput lines', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-lat-'));
    try {
      const hdr = 'section,server,offered_rate,rep,achieved_rate,disc_sent,acks,drop_pct,do_avg_ms,do_max_ms,ra_avg_ms,ra_max_ms,srv_cpu_pct,perf_cpu_pct,other_cpu_pct,vmhwm_kb,leases_persisted,startup_s,loadavg1,detail,error,'
        + 'lat_discovers,lat_answered,dora_p50_ms,dora_p90_ms,dora_p99_ms,dora_max_ms,do_p50_ms,do_p99_ms,ra_p50_ms,ra_p99_ms,cap_goodput,cap_drops,cap_cpu_pct,cap_sample';
      const row = (s: string, r: number, rep: number, drop: number, p99: string, goodput = '', achieved = r): string =>
        `sweep,${s},${r},${rep},${achieved},${r * 10},${r * 10},${drop},1,2,1,2,50,30,10,1000,${r * 10},1.0,2.0,,,10,10,1.0,2.0,${p99},9.0,0.5,1,0.5,1,${goodput},0,1,1`;
      const rows = [
        // a: sustainable 2000 -> half 1000, tested: p99 3, 5, 4 ms -> median 4, worst 5
        row('a', 500, 1, 0, '1'), row('a', 1000, 1, 0, '3'), row('a', 1000, 2, 0, '5'), row('a', 1000, 3, 0, '4'), row('a', 2000, 1, 0, '30'),
        row('a', 0, 1, 99, '', '700', 650), row('a', 0, 2, 99, '', '900', 640), row('a', 0, 3, 99, '', '800', 660),
        // b: sustainable 500 -> half 250 not tested; highest tested below it: 100 (p99 12 ms: missed)
        row('b', 100, 1, 0, '12'), row('b', 500, 1, 0, '20'), row('b', 1000, 1, 5, '900'),
        row('b', 0, 1, 99.9, '', '', 40),
        // c: no sustainable rate
        row('c', 100, 1, 3, '50'),
      ];
      writeFileSync(join(dir, 'results.csv'), [hdr, ...rows].join('\n') + '\n');
      const p99 = bashLib(`p99_lines ${dir}/results.csv sweep`).trim().split('\n');
      assert.equal(p99.length, 3);
      assert.match(p99[0], /^- a: p99 at half the sustainable rate: 4\.00 ms \(target < 10 ms: met; sustainable 2000\/s, measured at 1000\/s; .*median of 3 repetitions, worst 5\.00 ms\)$/);
      assert.match(p99[1], /^- b: p99 at half the sustainable rate: 12\.00 ms \(target < 10 ms: missed; sustainable 500\/s, measured at 100\/s \(the highest tested rate <= 250\/s\);/);
      assert.equal(p99[2], '- c: p99 at half the sustainable rate: n/a (no sustainable rate in this run)');
      const flood = bashLib(`flood_lines ${dir}/results.csv sweep`).trim().split('\n');
      // a: strict goodput median(700, 900, 800) = 800 vs 2000 = 40 %; perfdhcp's median(650, 640, 660) = 650
      assert.match(flood[0], /^- a: flood goodput vs sustainable: 800\/s vs 2000\/s = 40 % \(exchanges completed within the 1 s drop time, median of 3 repetitions; perfdhcp counted 650 ACKs\/s/);
      // b: no capture: perfdhcp's rate
      assert.match(flood[1], /^- b: flood goodput vs sustainable: 40\/s vs 500\/s = 8 % \(perfdhcp ACK rate, no capture;/);
      assert.equal(flood[2], '- c: flood goodput vs sustainable: not measured');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
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
      // the looser median rule: a's medians 0.25/0.45/0.6/0 % all pass (2000); b's 500/s median is
      // (3 + 0) / 2 = 1.5 % (100); c's failed repetition counts as 100 %: median 50 % (0)
      assert.deepEqual(bashLib(`sustainable ${dir}/results.csv sweep median`).trim().split('\n'), ['a 2000', 'b 100', 'c 0']);
      const ratios = bashLib(`ratio_lines ${dir}/results.csv sweep a b c z`).trim().split('\n');
      assert.deepEqual(ratios, [
        '- a / b: 500 / 100 = 5.00x',
        '- a / c: 500 / 0 (c: no tested rate met the rule)',
        '- a / z: n/a (not measured in this run)',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  test('skipped points never count as sustained; a server sustaining its highest tested rate is flagged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-skip-'));
    try {
      const hdr = 'section,server,offered_rate,rep,achieved_rate,disc_sent,acks,drop_pct,do_avg_ms,do_max_ms,ra_avg_ms,ra_max_ms,srv_cpu_pct,perf_cpu_pct,other_cpu_pct,vmhwm_kb,leases_persisted,startup_s,loadavg1,detail,error';
      const row = (s: string, r: number, rep: number, drop: number, err = ''): string =>
        err === '' ? `sweep,${s},${r},${rep},${r},${r * 10},${r * 10},${drop},1,2,1,2,50,30,10,1000,${r * 10},1.0,2.0,,` : `sweep,${s},${r},${rep},,,,,,,,,,,,,,,2.0,,${err}`;
      const rows = [
        // ts: 2000/s lost 30 % in repetition 1, so its 3000/s point there was skipped; repetition 2 passed 3000/s
        row('ts', 1000, 1, 0), row('ts', 2000, 1, 30), row('ts', 3000, 1, 0, 'skipped: 30 % lost at 2000/s in this repetition'),
        row('ts', 1000, 2, 0), row('ts', 2000, 2, 0.5), row('ts', 3000, 2, 0.2),
        // k: clean at every rate tested, the highest included
        row('k', 1000, 1, 0), row('k', 2000, 1, 0), row('k', 3000, 1, 0), row('k', 1000, 2, 0), row('k', 2000, 2, 0), row('k', 3000, 2, 0),
      ];
      writeFileSync(join(dir, 'results.csv'), [hdr, ...rows].join('\n') + '\n');
      assert.deepEqual(bashLib(`sustainable_lines ${dir}/results.csv sweep`).trim().split('\n'), [
        '- k: 3000/s (the highest rate tested: its ceiling was not reached)',
        '- ts: 1000/s',
      ]);
      assert.deepEqual(bashLib(`ratio_lines ${dir}/results.csv sweep ts k`).trim().split('\n'), ['- ts / k: 1000 / 3000 = 0.33x (at most: k did not reach its ceiling)']);
      const table = bashLib(`rate_table ${dir}/results.csv sweep`);
      // the skipped repetition is counted in the run total, not as a measurement
      assert.match(table, /\| ts \| 3000 \| 3000 \(3000-3000\) \| 0\.20 \(0\.20\) \|.*\| 1\/2 \|/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
