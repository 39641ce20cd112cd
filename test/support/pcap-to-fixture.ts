/**
 * Turns one capture of test/support/capture-wire-vectors.sh into a wire fixture (test/fixtures/wire/*.json).
 *
 * Input: the pcap written by `tcpdump -w` (Ethernet link type) and the text of `tcpdump -r -n -vv -e` on the
 * same file. The expected facts of each packet (message type, xid, chaddr, addresses, option codes and
 * lengths in wire order, parameter request list) are read from tcpdump's text, so the tests compare our
 * decoder against an independent decoder, not against itself. The pcap parsing here only slices frames.
 *
 * Usage: node --import tsx test/support/pcap-to-fixture.ts CAP.pcap CAP.txt OUT.json SCENARIO CLIENT HOW
 *        DHCPD.log DHCPD.conf
 *        node --import tsx test/support/pcap-to-fixture.ts --refresh FIXTURE.json...
 *          (re-derive "expected" from the tcpdump text stored in existing fixtures)
 */
import { readFileSync, writeFileSync } from 'node:fs';

/** One packet of a fixture. */
export interface WireVectorPacket {
  /** Ethernet source / destination MAC. */
  ethSource: string;
  ethDestination: string;
  /** IPv4 + UDP header (28 octets, hex) as captured. */
  ipUdpHeader: string;
  /** The DHCP message (UDP payload, hex). */
  dhcp: string;
  /** tcpdump -vv -e text for this packet (the oracle). */
  tcpdump: string;
  /** Facts tcpdump printed. */
  expected: {
    source: string;
    destination: string;
    ttl: number;
    tos: number;
    udpChecksumOk: boolean;
    op: 'Request' | 'Reply';
    xid: number;
    /** Option 53 value (1..8) or null if tcpdump showed none (BOOTP). */
    messageType: number | null;
    chaddr: string;
    yiaddr: string | null;
    ciaddr: string | null;
    siaddr: string | null;
    giaddr: string | null;
    flagsBroadcast: boolean;
    /** [code, length] of every option instance in wire order, as tcpdump listed them (no pad/end). */
    options: [number, number][];
    /** Parameter request list codes in order, if option 55 was present. */
    prl: number[] | null;
  };
}

/** A wire fixture file. */
export interface WireVectorFile {
  scenario: string;
  note: string;
  server: string;
  client: string;
  command: string;
  dhcpdConf: string;
  dhcpdLog: string[];
  packets: WireVectorPacket[];
}

const TYPES: Record<string, number> = {
  Discover: 1,
  Offer: 2,
  Request: 3,
  Decline: 4,
  ACK: 5,
  NACK: 6,
  Release: 7,
  Inform: 8,
};

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const mac = (b: Uint8Array): string => Array.from(b, (x) => x.toString(16).padStart(2, '0')).join(':');

function readPcap(path: string): Buffer[] {
  const f = readFileSync(path);
  const magic = f.readUInt32LE(0);
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d;
  if (!le && f.readUInt32BE(0) !== 0xa1b2c3d4 && f.readUInt32BE(0) !== 0xa1b23c4d) throw new Error('not a pcap file');
  const u32 = (o: number): number => (le ? f.readUInt32LE(o) : f.readUInt32BE(o));
  if (u32(20) !== 1) throw new Error(`link type ${u32(20)} is not Ethernet`);
  const frames: Buffer[] = [];
  for (let o = 24; o + 16 <= f.length; ) {
    const incl = u32(o + 8);
    frames.push(f.subarray(o + 16, o + 16 + incl));
    o += 16 + incl;
  }
  return frames;
}

function splitText(text: string): string[] {
  const blocks: string[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    if (/^\d/.test(line)) blocks.push(line);
    else if (blocks.length > 0) blocks[blocks.length - 1] += '\n' + line;
  }
  return blocks;
}

function facts(block: string): WireVectorPacket['expected'] {
  const m = (re: RegExp): string | null => re.exec(block)?.[1] ?? null;
  const lines = block.split('\n');
  const ipLine = lines[1]!.trim();
  const [src, dst] = /^(\S+) > (\S+?):/.exec(ipLine)!.slice(1) as [string, string];
  const options: [number, number][] = [];
  let prl: number[] | null = null;
  let inPrl = false;
  for (const line of lines.slice(2)) {
    const opt = /^\t {4}\S.*? \((\d+)\), length (\d+)/.exec(line);
    if (opt) {
      const code = Number(opt[1]);
      options.push([code, Number(opt[2])]);
      inPrl = code === 55;
      if (inPrl) prl = [];
      continue;
    }
    if (inPrl && /^\t {6}/.test(line)) {
      for (const c of line.matchAll(/\((\d+)\)/g)) prl!.push(Number(c[1]));
    } else if (!/^\t {6}/.test(line)) {
      inPrl = false;
    }
  }
  const type = m(/DHCP-Message \(53\), length 1: (\w+)/);
  return {
    source: src,
    destination: dst,
    ttl: Number(m(/ttl (\d+)/)),
    tos: Number.parseInt(m(/tos (0x[0-9a-f]+)/)!, 16),
    udpChecksumOk: /\[(udp sum ok|no cksum)\]/.test(block),
    op: /BOOTP\/DHCP, Reply/.test(block) ? 'Reply' : 'Request',
    xid: Number.parseInt(m(/xid (0x[0-9a-f]+)/) ?? '0', 16), // tcpdump omits a zero xid
    messageType: type === null ? null : (TYPES[type] ?? -1),
    chaddr: m(/Client-Ethernet-Address ([0-9a-f:]+)/)!,
    yiaddr: m(/Your-IP (\S+)/),
    ciaddr: m(/Client-IP (\S+)/),
    siaddr: m(/Server-IP (\S+)/),
    giaddr: m(/Gateway-IP (\S+)/),
    flagsBroadcast: /Flags \[Broadcast\]/.test(block),
    options: options.filter(([c]) => c !== 0 && c !== 255),
    prl,
  };
}

function main(argv: string[]): void {
  const [pcap, txt, out, scenario, client, how, log, conf] = argv as [string, string, string, string, string, string, string, string];
  const frames = readPcap(pcap);
  const blocks = splitText(readFileSync(txt, 'utf8'));
  if (frames.length !== blocks.length) throw new Error(`${frames.length} frames but ${blocks.length} tcpdump blocks`);
  const packets: WireVectorPacket[] = [];
  frames.forEach((fr, i) => {
    if (fr.readUInt16BE(12) !== 0x0800) return;
    const ip = fr.subarray(14);
    const ihl = (ip[0]! & 15) * 4;
    const total = ip.readUInt16BE(2);
    if (ihl !== 20 || ip[9] !== 17) return;
    packets.push({
      ethDestination: mac(fr.subarray(0, 6)),
      ethSource: mac(fr.subarray(6, 12)),
      ipUdpHeader: hex(ip.subarray(0, 28)),
      dhcp: hex(ip.subarray(28, total)),
      tcpdump: blocks[i]!,
      expected: facts(blocks[i]!),
    });
  });
  if (packets.length === 0) throw new Error(`${scenario}: no DHCP packets captured`);
  const file: WireVectorFile = {
    scenario,
    note:
      'Real capture: tcpdump -w on the server-side veth of network namespaces created by ' +
      'test/support/capture-wire-vectors.sh (server ISC dhcpd 4.4.3-P1). "expected" holds what ' +
      'tcpdump 4.99.3 -vv printed for each packet (an independent decoder); "dhcp" is the UDP payload.',
    server: 'ISC dhcpd 4.4.3-P1',
    client,
    command: how,
    dhcpdConf: readFileSync(conf, 'utf8'),
    dhcpdLog: readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => /^(DHCP|BOOTREQUEST|BOOTREPLY|Abandoning|no free leases)/.test(l)),
    packets,
  };
  writeFileSync(out, JSON.stringify(file, null, 1) + '\n');
  console.log(`${scenario}: ${packets.length} packets -> ${out}`);
}

function refresh(paths: string[]): void {
  for (const path of paths) {
    const file = JSON.parse(readFileSync(path, 'utf8')) as WireVectorFile;
    for (const p of file.packets) p.expected = facts(p.tcpdump);
    writeFileSync(path, JSON.stringify(file, null, 1) + '\n');
  }
}

if (process.argv[1] !== undefined && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, ''))) {
  if (process.argv[2] === '--refresh') refresh(process.argv.slice(3));
  else main(process.argv.slice(2));
}
