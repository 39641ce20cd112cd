/**
 * The codec against real captures (test/fixtures/wire, made by test/support/capture-wire-vectors.sh with
 * ISC dhcpd 4.4.3 and udhcpc, dhclient, dhcpcd, perfdhcp, dhcrelay). Expected values are what tcpdump -vv
 * printed for the same packets, never our own output.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket, encodePacketDetailed, iscBootpOptionSpace, iscReplyMaxSize } from '../../src/wire/encode.js';
import { buildIpv4Udp, parseIpv4Udp } from '../../src/wire/ipv4-udp.js';
import {
  BOOTP,
  BOOTREPLY,
  BOOTREQUEST,
  BROADCAST_FLAG,
  type DhcpPacket,
  DhcpOption,
  formatHardwareAddress,
  hardwareAddress,
  ipv4FromString,
  ipv4ToString,
  maxMessageSize,
  messageType,
  parameterRequestList,
  trimTrailingNuls,
} from '../../src/wire/packet.js';
import { agentInformation } from '../../src/wire/agent-information.js';
import { loadWireVectors, type WireVectorPacket } from '../support/wire-vectors.js';

const files = loadWireVectors();

/** Options of ISC 4.4.3's dhcp space with a text ("t") format (common/tables.c): what MS termination touches. */
const ISC_TEXT_CODES = new Set([12, 14, 15, 17, 18, 40, 47, 56, 62, 64, 66, 67, 77, 86, 87, 98, 100, 101, 113, 114, 160, 209, 210]);

function decoded(p: WireVectorPacket): DhcpPacket {
  const r = decodePacket(Buffer.from(p.dhcp, 'hex'));
  if (!r.ok) assert.fail(`decode failed: ${r.error.toString()}`);
  return r.packet;
}

/** "10.77.0.1.67" → [address, port] */
function endpoint(s: string): [string, number] {
  const i = s.lastIndexOf('.');
  return [s.slice(0, i), Number(s.slice(i + 1))];
}

describe('real capture vectors', () => {
  it('cover the clients and message types the server must handle', () => {
    const types = new Set(files.flatMap((f) => f.packets.map((p) => p.expected.messageType)));
    for (const t of [1, 2, 3, 4, 5, 6, 7, 8, null]) assert.ok(types.has(t), `no captured message of type ${t ?? 'BOOTP'}`);
    assert.ok(files.length >= 8);
  });

  for (const file of files) {
    describe(file.scenario, () => {
      it('decodes every packet to the fields tcpdump printed', () => {
        for (const p of file.packets) {
          const e = p.expected;
          const d = decoded(p);
          assert.equal(d.op, e.op === 'Reply' ? BOOTREPLY : BOOTREQUEST);
          assert.equal(d.xid, e.xid);
          assert.equal(formatHardwareAddress(hardwareAddress(d)), e.chaddr);
          assert.equal(messageType(d), e.messageType ?? BOOTP);
          assert.equal(ipv4ToString(d.yiaddr), e.yiaddr ?? '0.0.0.0');
          assert.equal(ipv4ToString(d.ciaddr), e.ciaddr ?? '0.0.0.0');
          assert.equal(ipv4ToString(d.siaddr), e.siaddr ?? '0.0.0.0');
          assert.equal(ipv4ToString(d.giaddr), e.giaddr ?? '0.0.0.0');
          assert.equal((d.flags & BROADCAST_FLAG) !== 0, e.flagsBroadcast);
          assert.deepEqual(e.prl === null ? null : [...parameterRequestList(d)], e.prl);
          // tcpdump lists the instances in the options field; RFC 3396 concatenation sums their lengths.
          const sums = new Map<number, number>();
          for (const [code, len] of e.options) sums.set(code, (sums.get(code) ?? 0) + len);
          const overloaded = d.options.has(DhcpOption.OPTION_OVERLOAD);
          for (const [code, len] of sums) {
            const v = d.options.get(code);
            assert.ok(v !== undefined, `option ${code} missing`);
            if (overloaded) assert.ok(v.length >= len, `option ${code}: ${v.length} < ${len}`);
            else assert.equal(v.length, len, `option ${code} length`);
          }
          if (!overloaded) assert.deepEqual([...d.options.keys()].sort((a, b) => a - b), [...sums.keys()].sort((a, b) => a - b));
        }
      });

      it('parses the IPv4/UDP headers and checksums as tcpdump did', () => {
        for (const p of file.packets) {
          const e = p.expected;
          const payload = Buffer.from(p.dhcp, 'hex');
          const r = parseIpv4Udp(Buffer.concat([Buffer.from(p.ipUdpHeader, 'hex'), payload]));
          if (!r.ok) assert.fail(r.reason);
          const [src, sport] = endpoint(e.source);
          const [dst, dport] = endpoint(e.destination);
          assert.equal(ipv4ToString(r.datagram.source), src);
          assert.equal(ipv4ToString(r.datagram.destination), dst);
          assert.equal(r.datagram.sourcePort, sport);
          assert.equal(r.datagram.destinationPort, dport);
          assert.equal(r.datagram.ttl, e.ttl);
          assert.equal(r.datagram.tos, e.tos);
          assert.equal(r.datagram.headerChecksumOk, true);
          assert.equal(r.datagram.udpChecksumOk, e.udpChecksumOk, 'udp checksum verdict differs from tcpdump');
          assert.ok(r.datagram.payload.equals(payload));
        }
      });

      it('rebuilds ISC packet-socket frames byte for byte (TOS 0x10, TTL 128, RFC 1071 sums)', () => {
        for (const p of file.packets) {
          const e = p.expected;
          if (!(e.tos === 0x10 && e.ttl === 128)) continue; // kernel-sent (offloaded checksum): not ours to build
          const [src, sport] = endpoint(e.source);
          const [dst, dport] = endpoint(e.destination);
          const built = buildIpv4Udp(
            { source: ipv4FromString(src)!, destination: ipv4FromString(dst)!, sourcePort: sport, destinationPort: dport },
            Buffer.from(p.dhcp, 'hex'),
          );
          assert.equal(built.subarray(0, 28).toString('hex'), p.ipUdpHeader);
        }
      });

      it('re-encodes ISC replies byte for byte from the request PRL and option 57', () => {
        let checked = 0;
        for (const [i, p] of file.packets.entries()) {
          if (p.expected.op !== 'Reply') continue;
          const reply = decoded(p);
          // The request this reply answers: the latest earlier request with the same xid.
          const req = file.packets
            .slice(0, i)
            .reverse()
            .find((q) => q.expected.op === 'Request' && q.expected.xid === p.expected.xid);
          assert.ok(req, 'request not captured');
          const request = decoded(req);
          const nak = messageType(reply) === 6;
          const bootp = messageType(request) === BOOTP;
          // ISC MS_NULL_TERMINATION: the client's host-name had trailing NULs → ISC's configured (NUL-free)
          // text values went out NUL-terminated. Give the encoder the configured values and the flag.
          const hostName = request.options.get(DhcpOption.HOST_NAME);
          const ms = hostName !== undefined && trimTrailingNuls(hostName).hadNulls;
          if (ms) for (const c of ISC_TEXT_CODES) if (reply.options.has(c)) reply.options.set(c, trimTrailingNuls(reply.options.get(c)!).value);
          const out = encodePacket(
            reply,
            bootp
              ? { optionSpace: iscBootpOptionSpace(req.dhcp.length / 2) } // ISC bootp(): 64 octets or the request's
              : {
                  // ISC builds NAKs without the client's PRL or option 57 (server/dhcp.c nak_lease).
                  parameterRequestList: nak ? undefined : parameterRequestList(request),
                  maxSize: nak ? undefined : iscReplyMaxSize(maxMessageSize(request)),
                  nulTerminate: ms ? (c: number) => ISC_TEXT_CODES.has(c) : undefined,
                },
          );
          assert.equal(out.toString('hex'), p.dhcp, `reply ${i} differs from ISC's`);
          checked++;
        }
        if (file.packets.some((p) => p.expected.op === 'Reply')) assert.ok(checked > 0);
      });

      it('encode(decode(x)) keeps every option value and header field', () => {
        for (const p of file.packets) {
          const d = decoded(p);
          const r = encodePacketDetailed(d, { maxSize: 1500, parameterRequestList: parameterRequestList(d) });
          assert.deepEqual(r.dropped, []);
          const again = decodePacket(r.buffer);
          if (!again.ok) assert.fail(again.error.toString());
          const a = again.packet;
          for (const k of ['op', 'htype', 'hlen', 'hops', 'xid', 'secs', 'flags', 'ciaddr', 'yiaddr', 'siaddr', 'giaddr'] as const) {
            assert.equal(a[k], d[k], k);
          }
          assert.ok(a.chaddr.equals(d.chaddr));
          const strip = (m: Map<number, Buffer>): [number, string][] =>
            [...m].filter(([c]) => c !== DhcpOption.OPTION_OVERLOAD).map(([c, v]) => [c, v.toString('hex')] as [number, string]).sort((x, y) => x[0] - y[0]);
          assert.deepEqual(strip(a.options), strip(d.options));
        }
      });
    });
  }

  it('decodes the BOOTP exchange (236-octet request without vendor area; ISC reply with file and siaddr)', () => {
    const f = files.find((x) => x.scenario === 'bootp-klibc-ipconfig');
    assert.ok(f);
    const [request, reply] = f.packets.map(decoded) as [DhcpPacket, DhcpPacket];
    assert.equal(f.packets[0]!.dhcp.length / 2, 236);
    assert.equal(request.options.size, 0);
    assert.equal(messageType(reply), BOOTP);
    assert.equal(reply.file.toString('latin1'), /filename "([^"]+)"/.exec(f.dhcpdConf)![1]);
    assert.equal(ipv4ToString(reply.siaddr), /next-server ([\d.]+);/.exec(f.dhcpdConf)![1]);
  });

  it('has ISC NUL-terminated text options for the client whose host-name ended in NUL', () => {
    const f = files.find((x) => x.scenario === 'dhclient-ms-nul-hostname');
    assert.ok(f);
    const ack = f.packets.find((p) => p.expected.messageType === 5)!;
    // tcpdump's lengths: "example.test" + NUL = 13, "/srv/root" + NUL = 10.
    assert.deepEqual(ack.expected.options.filter(([c]) => c === 15 || c === 17), [[15, 13], [17, 10]]);
    assert.equal(decoded(ack).options.get(15)![12], 0);
  });

  it('finds the relay agent sub-options dhcrelay -a added (circuit-id = its interface name)', () => {
    const f = files.find((x) => x.scenario === 'relay-agent-option82');
    assert.ok(f);
    for (const p of f.packets) {
      const info = agentInformation(decoded(p));
      assert.ok(info, 'option 82 missing or malformed');
      assert.equal(info.circuitId?.toString('latin1'), 'down0');
      assert.equal(ipv4ToString(decoded(p).giaddr), '10.79.0.1');
    }
  });

  it('decodes the RFC 3396 split and the overload of ISC\'s long reply', () => {
    const f = files.find((x) => x.scenario === 'dhclient-long-overload');
    assert.ok(f);
    const reply = decoded(f.packets.find((p) => p.expected.messageType === 5)!);
    assert.ok(reply.options.has(DhcpOption.OPTION_OVERLOAD));
    // RFC 3397 domain search, RFC 1035 compression pointers counted from the start of the option value
    // (after RFC 3396 concatenation): decompress and compare with the names in that scenario's dhcpd.conf.
    const search = reply.options.get(DhcpOption.DOMAIN_SEARCH)!;
    assert.ok(search.length > 255, 'the value should need more than one instance');
    const names = decompressNames(search);
    const confNames = [...f.dhcpdConf.matchAll(/"([a-z-]+(?:\.[a-z]+)+)"/g)].map((m) => m[1]!).filter((n) => n.includes('long-domain'));
    assert.equal(confNames.length, 6);
    assert.deepEqual(names, confNames);
    assert.equal(reply.options.get(40)?.toString('latin1'), 'a-rather-long-nis-domain-name-that-takes-space.example.test');
    assert.equal(reply.file.length, 0);
    // ISC had root-path (17) configured and requested but could not fit it even with overload: it is
    // absent from the capture. Our encoder, given it too, must drop it and produce ISC's exact bytes.
    assert.equal(reply.options.has(17), false);
    const rootPath = /option root-path "([^"]+)"/.exec(f.dhcpdConf)![1]!;
    reply.options.set(17, Buffer.from(rootPath, 'latin1'));
    const request = decoded(f.packets.find((p) => p.expected.messageType === 3)!);
    const r = encodePacketDetailed(reply, { parameterRequestList: parameterRequestList(request) });
    assert.deepEqual(r.dropped, [17]);
    assert.equal(r.overload, 3);
    assert.equal(r.buffer.toString('hex'), f.packets.find((p) => p.expected.messageType === 5)!.dhcp);
  });
});

/** RFC 1035 §4.1.4 name list decompression (test oracle; throws on malformed data). */
function decompressNames(buf: Buffer): string[] {
  const names: string[] = [];
  let i = 0;
  while (i < buf.length) {
    const labels: string[] = [];
    let p = i;
    let jumped = false;
    for (let hops = 0; ; hops++) {
      assert.ok(hops < 64 && p < buf.length, 'bad name');
      const len = buf[p]!;
      if (len === 0) {
        if (!jumped) i = p + 1;
        break;
      }
      if ((len & 0xc0) === 0xc0) {
        if (!jumped) i = p + 2;
        jumped = true;
        p = ((len & 0x3f) << 8) | buf[p + 1]!;
        continue;
      }
      labels.push(buf.toString('latin1', p + 1, p + 1 + len));
      p += 1 + len;
    }
    names.push(labels.join('.'));
  }
  return names;
}
