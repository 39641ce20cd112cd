/**
 * Run inside the client namespace by capture-wire-vectors.sh: sends each case of isc-verdict-cases.ts to
 * ISC dhcpd (unicast to SERVER:67 from port 68), one at a time, and records the dhcpd log lines each one
 * caused (read from ISC's -d log file, which this process can see) into OUT.json.
 * Usage: node --import tsx test/support/send-verdict-cases.ts SERVER DHCPD.log OUT.json NOTE
 */
import dgram from 'node:dgram';
import { readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { iscVerdictCases } from './isc-verdict-cases.js';

/** One recorded verdict. */
export interface IscVerdict {
  name: string;
  hex: string;
  /** dhcpd log lines that appeared after sending this case (before the next one). */
  iscLog: string[];
}

async function main(): Promise<void> {
  const [server, logPath, out, note] = process.argv.slice(2) as [string, string, string, string];
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => sock.bind(68, resolve));
  const verdicts: IscVerdict[] = [];
  let seen = readFileSync(logPath, 'utf8').length;
  for (const c of iscVerdictCases()) {
    await new Promise<void>((resolve, reject) => sock.send(Buffer.from(c.hex, 'hex'), 67, server, (e) => (e ? reject(e) : resolve())));
    await sleep(400);
    const log = readFileSync(logPath, 'utf8');
    verdicts.push({ ...c, iscLog: log.slice(seen).split('\n').filter((l) => l !== '') });
    seen = log.length;
  }
  sock.close();
  writeFileSync(out, JSON.stringify({ note, server: 'ISC dhcpd 4.4.3-P1', verdicts }, null, 1) + '\n');
  console.log(`isc-verdicts: ${verdicts.length} cases -> ${out}`);
}

await main();
