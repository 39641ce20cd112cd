/**
 * A scripted DHCP client for differential tests: acting as a relay agent (giaddr = an address of its own
 * namespace, port 67), it runs DISCOVER → OFFER → REQUEST → ACK for each client of a spec, with exactly the
 * parameter request list and options the spec gives, and prints the OFFER and ACK it got — yiaddr and every
 * option's raw bytes — as one JSON line. With raw bytes both servers' answers compare exactly (option 12
 * with or without a NUL, site-local codes, …), which dhclient's lease file would hide.
 *
 * Usage (inside the client namespace): node --import tsx test/support/dhcp-query.ts '<QuerySpec JSON>'
 */
import dgram from 'node:dgram';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket } from '../../src/wire/encode.js';
import { DHCPDISCOVER, DHCPRELEASE, DHCPREQUEST, DhcpOption, emptyPacket, ipv4FromString, ipv4ToString, type DhcpPacket } from '../../src/wire/packet.js';

/** One scripted client. */
export interface QueryClient {
  readonly mac: string;
  /** Parameter request list (option 55); absent = none sent. */
  readonly prl?: readonly number[];
  /** Extra options to send, code → hex. */
  readonly options?: Readonly<Record<string, string>>;
  /**
   * Skip DORA: send one INIT-REBOOT DHCPREQUEST for this address (requested-address, no server
   * identifier); its reply (or null) is the result's `ack`.
   */
  readonly initReboot?: string;
  /** With `initReboot`: send this server identifier too (a SELECTING-style REQUEST). */
  readonly serverId?: string;
  /** Stop after the OFFER (no REQUEST). */
  readonly discoverOnly?: boolean;
  /** After the ACK, renew (DHCPREQUEST with ciaddr, no requested address or server id) after each delay. */
  readonly renewAfterMs?: readonly number[];
  /** After the ACK, send a DHCPRELEASE of the address (no reply expected; waits 300 ms). */
  readonly release?: boolean;
}

/** What to run. */
export interface QuerySpec {
  readonly server: string;
  readonly giaddr: string;
  readonly clients: readonly QueryClient[];
  /** Per reply (default 3000 ms); on timeout the request is sent once more. */
  readonly timeoutMs?: number;
  /** DHCPLEASEQUERY messages (RFC 4388) sent after the clients, as the relay; one result line each. */
  readonly leasequeries?: readonly LeasequerySpec[];
}

/** One DHCPLEASEQUERY: by address (ciaddr), by client identifier (option 61, hex) or by MAC (chaddr). */
export interface LeasequerySpec {
  readonly ciaddr?: string;
  readonly clientId?: string;
  readonly mac?: string;
}

/** The result line of one leasequery. */
export interface LeasequeryResult {
  readonly leasequery: number;
  readonly reply: QueryReply | null;
}

/** One reply as printed. */
export interface QueryReply {
  readonly type: number;
  readonly ciaddr: string;
  readonly htype: number;
  readonly hlen: number;
  /** chaddr (16 octets) in hex. */
  readonly chaddr: string;
  readonly yiaddr: string;
  readonly siaddr: string;
  readonly file: string;
  /** Option code → hex, in the order received. */
  readonly options: Record<string, string>;
}

/** The result line for one client. */
export interface QueryResult {
  readonly mac: string;
  readonly offer: QueryReply | null;
  readonly ack: QueryReply | null;
  /** Replies to the renewals of `renewAfterMs`, in order (null: none). */
  readonly renewals?: (QueryReply | null)[];
}

function summarize(p: DhcpPacket): QueryReply {
  const options: Record<string, string> = {};
  for (const [code, v] of p.options) options[String(code)] = v.toString('hex');
  return { type: p.options.get(DhcpOption.MESSAGE_TYPE)?.[0] ?? 0, ciaddr: ipv4ToString(p.ciaddr), htype: p.htype, hlen: p.hlen, chaddr: p.chaddr.toString('hex'), yiaddr: ipv4ToString(p.yiaddr), siaddr: ipv4ToString(p.siaddr), file: p.file.toString('latin1'), options };
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.argv[2]!) as QuerySpec;
  const sock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((resolve) => sock.bind(67, spec.giaddr, resolve));
  const waiting = new Map<number, (p: DhcpPacket) => void>();
  sock.on('message', (msg) => {
    const d = decodePacket(msg);
    if (!d.ok || d.packet.op !== 2) return;
    const w = waiting.get(d.packet.xid);
    if (w !== undefined) {
      waiting.delete(d.packet.xid);
      w(d.packet);
    }
  });
  const exchange = async (p: DhcpPacket): Promise<DhcpPacket | null> => {
    for (let attempt = 0; attempt < 2; attempt++) {
      const got = new Promise<DhcpPacket | null>((resolve) => {
        const t = setTimeout(() => {
          waiting.delete(p.xid);
          resolve(null);
        }, spec.timeoutMs ?? 3000);
        waiting.set(p.xid, (r) => {
          clearTimeout(t);
          resolve(r);
        });
      });
      sock.send(encodePacket(p), 67, spec.server);
      const r = await got;
      if (r !== null) return r;
    }
    return null;
  };
  let xid = 0x5a000000 + (process.pid & 0xffff) * 256;
  const giaddr = ipv4FromString(spec.giaddr)!;
  const build = (c: QueryClient, type: number): DhcpPacket => {
    const p = emptyPacket();
    p.xid = ++xid;
    p.giaddr = giaddr;
    p.hops = 1;
    Buffer.from(c.mac.replace(/:/g, ''), 'hex').copy(p.chaddr);
    p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));
    if (c.prl !== undefined) p.options.set(DhcpOption.PARAMETER_REQUEST_LIST, Buffer.from(c.prl));
    for (const [code, hex] of Object.entries(c.options ?? {})) p.options.set(Number(code), Buffer.from(hex, 'hex'));
    return p;
  };
  for (const c of spec.clients) {
    if (c.initReboot !== undefined) {
      const req = build(c, DHCPREQUEST);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(ipv4FromString(c.initReboot)!, 0);
      req.options.set(DhcpOption.REQUESTED_ADDRESS, b);
      if (c.serverId !== undefined) {
        const sid = Buffer.alloc(4);
        sid.writeUInt32BE(ipv4FromString(c.serverId)!, 0);
        req.options.set(DhcpOption.SERVER_IDENTIFIER, sid);
      }
      const r = await exchange(req);
      process.stdout.write(JSON.stringify({ mac: c.mac, offer: null, ack: r && summarize(r) } satisfies QueryResult) + '\n');
      continue;
    }
    const offer = await exchange(build(c, DHCPDISCOVER));
    let ack: DhcpPacket | null = null;
    const renewals: (QueryReply | null)[] = [];
    if (offer !== null && c.discoverOnly !== true) {
      const req = build(c, DHCPREQUEST);
      const b = Buffer.alloc(4);
      b.writeUInt32BE(offer.yiaddr, 0);
      req.options.set(DhcpOption.REQUESTED_ADDRESS, b);
      const sid = offer.options.get(DhcpOption.SERVER_IDENTIFIER);
      if (sid !== undefined) req.options.set(DhcpOption.SERVER_IDENTIFIER, sid);
      ack = await exchange(req);
      if (ack !== null && c.renewAfterMs !== undefined) {
        for (const ms of c.renewAfterMs) {
          await new Promise((r) => setTimeout(r, ms));
          const renew = build(c, DHCPREQUEST);
          renew.ciaddr = ack.yiaddr;
          const r = await exchange(renew);
          renewals.push(r && summarize(r));
        }
      }
      if (ack !== null && c.release === true) {
        const rel = build(c, DHCPRELEASE);
        rel.ciaddr = ack.yiaddr;
        if (sid !== undefined) rel.options.set(DhcpOption.SERVER_IDENTIFIER, sid);
        sock.send(encodePacket(rel), 67, spec.server);
        await new Promise((r) => setTimeout(r, 300));
      }
    }
    const result: QueryResult = { mac: c.mac, offer: offer && summarize(offer), ack: ack && summarize(ack), ...(c.renewAfterMs !== undefined ? { renewals } : {}) };
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  for (const [i, lq] of (spec.leasequeries ?? []).entries()) {
    const p = emptyPacket();
    p.xid = ++xid;
    p.giaddr = giaddr;
    p.htype = 0;
    p.hlen = 0;
    if (lq.ciaddr !== undefined) p.ciaddr = ipv4FromString(lq.ciaddr)!;
    if (lq.mac !== undefined) {
      p.htype = 1;
      p.hlen = 6;
      Buffer.from(lq.mac.replace(/:/g, ''), 'hex').copy(p.chaddr);
    }
    p.options.set(DhcpOption.MESSAGE_TYPE, Buffer.from([10]));
    if (lq.clientId !== undefined) p.options.set(DhcpOption.CLIENT_IDENTIFIER, Buffer.from(lq.clientId, 'hex'));
    const r = await exchange(p);
    const result: LeasequeryResult = { leasequery: i, reply: r && summarize(r) };
    process.stdout.write(JSON.stringify(result) + '\n');
  }
  sock.close();
}

if (process.argv[1] !== undefined && /dhcp-query\.(ts|js)$/.test(process.argv[1])) await main();
