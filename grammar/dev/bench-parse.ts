/**
 * Dev benchmark: generates a dhcpd.conf with 50,000 hosts and 500 subnets, times parseConfigFile (CPU and
 * wall, best of N) and `dhcpd -4 -t` on the same file when installed.
 * Usage: node --import tsx grammar/dev/bench-parse.ts [runs]
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { parseConfigFile } from '../conf-parser.js';

export function generateBigConfig(hosts = 50_000, subnets = 500): string {
  const out: string[] = ['default-lease-time 600;\nmax-lease-time 7200;\nauthoritative;\n'];
  for (let s = 0; s < subnets; s++) {
    const a = 10 + Math.floor(s / 250);
    const b = s % 250;
    out.push(`subnet ${a}.${b}.0.0 netmask 255.255.255.0 {\n  range ${a}.${b}.0.10 ${a}.${b}.0.200;\n  option routers ${a}.${b}.0.1;\n  option domain-name-servers 8.8.8.8, 8.8.4.4;\n}\n`);
  }
  const hex = (n: number): string => n.toString(16).padStart(2, '0');
  for (let h = 0; h < hosts; h++) {
    out.push(
      `host h${h} {\n  hardware ethernet 02:00:${hex((h >> 16) & 255)}:${hex((h >> 8) & 255)}:${hex(h & 255)}:01;\n` +
        `  fixed-address 172.${16 + (h >> 16)}.${(h >> 8) & 255}.${h & 255};\n  option host-name "h${h}";\n}\n`,
    );
  }
  return out.join('');
}

const runs = Number(process.argv[2] ?? 3);
const dir = mkdtempSync(path.join(tmpdir(), 'grammar-bench-'));
try {
  const file = path.join(dir, 'big.conf');
  writeFileSync(file, generateBigConfig());
  let bestCpu = Infinity;
  let bestWall = Infinity;
  for (let i = 0; i < runs; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = parseConfigFile(file);
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    if (!r.ok) throw new Error(r.errors[0]?.message);
    bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000);
    bestWall = Math.min(bestWall, wall);
  }
  console.log(`parseConfigFile: best wall ${bestWall.toFixed(0)} ms, best cpu ${bestCpu.toFixed(0)} ms (${runs} runs)`);
  const d = spawnSync('dhcpd', ['-4', '-t', '-q', '-cf', file], { encoding: 'utf8' });
  if (d.error === undefined) {
    const t0 = performance.now();
    spawnSync('dhcpd', ['-4', '-t', '-q', '-cf', file]);
    console.log(`dhcpd -4 -t: wall ${(performance.now() - t0).toFixed(0)} ms (exit ${d.status})`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
