/** Helpers for differential tests (dhcpd-ts vs ISC dhcpd 4.4.3 with the same clients). */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dhclientArgs, type Topology } from '../support/netns.js';

/** One dhclient run: host name in the topology and dhclient.conf text. */
export interface DiffClient {
  readonly name: string;
  readonly mac: string;
  readonly conf: string;
  /** A dhclient.leases to start from (e.g. a lease from another network: INIT-REBOOT → NAK). */
  readonly leases?: string;
}

/** The server's DHCP protocol log lines (ISC's words), in order. */
export function protocolLines(log: string): string[] {
  return log.split('\n').filter((l) => /^(DHCP(DISCOVER|OFFER|REQUEST|ACK|NAK|RELEASE|DECLINE|INFORM)|BOOTREQUEST|BOOTREPLY) /.test(l));
}

/** The part of a dhclient lease that must be equal: address, file/server fields, every option but dates. */
export function leaseSummary(text: string): string[] {
  const blocks = text.split('lease {').slice(1);
  const last = blocks[blocks.length - 1] ?? '';
  return last
    .split('\n')
    .map((l) => l.trim().replace(/;$/, ''))
    .filter((l) => /^(fixed-address|filename|server-name|option) /.test(l))
    .sort();
}

/** Runs each client once, one after the other, against whichever server runs; returns summaries by name. */
export async function runDhclients(topo: Topology, clients: readonly DiffClient[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const c of clients) {
    const dir = await topo.tempDir();
    await writeFile(join(dir, 'dhclient.conf'), c.conf);
    if (c.leases !== undefined) await writeFile(join(dir, 'dhclient.leases'), c.leases);
    const p = topo.spawn(topo.nsOf(c.name), 'dhclient', dhclientArgs(dir, 'eth0', { extra: ['-cf', join(dir, 'dhclient.conf')] }));
    try {
      await p.waitFor(/bound to \S+/, { timeoutMs: 30_000 });
    } finally {
      await p.stop();
    }
    out.set(c.name, leaseSummary(await readFile(join(dir, 'dhclient.leases'), 'utf8')));
    await rm(dir, { recursive: true, force: true });
  }
  return out;
}
