/**
 * Property tests of the codec with fast-check: round trips of generated packets (long options, overload)
 * and a mutation fuzzer over the real captures. decodePacket must never throw, and must always return a
 * packet or a DecodeError; anything it accepts must re-encode without throwing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodePacket } from '../../src/wire/decode.js';
import { encodePacket, encodePacketDetailed } from '../../src/wire/encode.js';
import { DecodeError, type DhcpPacket, DhcpOption } from '../../src/wire/packet.js';
import {
  dhcpPacketArbitrary,
  hostileDatagramArbitrary,
  MAX_UDP_PAYLOAD,
  type MutationKind,
  soakDatagrams,
} from '../support/packet-arbitraries.js';
import { wireVectorPayloads } from '../support/wire-vectors.js';

const RUNS = Number(process.env.WIRE_FUZZ_RUNS ?? 200_000);

function comparable(p: DhcpPacket): unknown {
  return {
    ...p,
    chaddr: p.chaddr.toString('hex'),
    sname: p.sname.toString('hex'),
    file: p.file.toString('hex'),
    options: [...p.options]
      .filter(([c]) => c !== DhcpOption.OPTION_OVERLOAD)
      .map(([c, v]) => [c, v.toString('hex')])
      .sort((a, b) => (a[0] as number) - (b[0] as number)),
  };
}

describe('codec properties', () => {
  it('decode(encode(p)) == p when nothing must be dropped (large messages, long options split)', () => {
    fc.assert(
      fc.property(dhcpPacketArbitrary(), (p) => {
        const r = encodePacketDetailed(p, { maxSize: 65535 });
        assert.deepEqual(r.dropped, []);
        assert.equal(r.overload, 0);
        const d = decodePacket(r.buffer);
        if (!d.ok) assert.fail(d.error.toString());
        assert.deepEqual(comparable(d.packet), comparable(p));
      }),
      { numRuns: 3000 },
    );
  });

  it('decode(encode(p)) == p with 576-octet messages, overloading file/sname (RFC 3396 splits across fields)', () => {
    let overloaded = 0;
    let split = 0;
    let dropped = 0;
    fc.assert(
      fc.property(dhcpPacketArbitrary({ emptyFields: true, maxOptions: 12 }), (p) => {
        const r = encodePacketDetailed(p, { maxSize: 576 });
        // ISC lets relay agent information ride on top of the client's limit (cons_options).
        const agent = p.options.get(DhcpOption.AGENT_INFORMATION);
        const agentSize = agent === undefined ? 0 : agent.length + 2 * Math.ceil(agent.length / 255);
        assert.ok(r.buffer.length <= 576 - 28 + agentSize, 'larger than the client allows');
        const d = decodePacket(r.buffer);
        if (!d.ok) assert.fail(d.error.toString());
        if (r.overload !== 0) overloaded++;
        if ([...p.options.values()].some((v) => v.length > 255)) split++;
        if (r.dropped.length > 0) {
          dropped++;
          for (const c of r.dropped) {
            assert.equal(d.packet.options.has(c), false);
            p.options.delete(c);
          }
        }
        assert.deepEqual(comparable(d.packet), comparable(p));
        assert.equal(d.packet.options.get(DhcpOption.OPTION_OVERLOAD)?.[0], r.overload === 0 ? undefined : r.overload);
      }),
      { numRuns: 3000 },
    );
    assert.ok(overloaded > 100, `only ${overloaded} runs used overload`);
    assert.ok(split > 100, `only ${split} runs had options over 255 octets`);
    assert.ok(dropped < 3000);
  });

  it(`decodePacket never throws on ${RUNS} hostile datagrams (mutated real captures and attacks)`, () => {
    const seeds = wireVectorPayloads();
    const kinds = new Map<MutationKind, { ok: number; error: number }>();
    const started = process.hrtime.bigint();
    fc.assert(
      fc.property(hostileDatagramArbitrary(seeds), ({ kind, data }) => {
        const r = decodePacket(data);
        const k = kinds.get(kind) ?? { ok: 0, error: 0 };
        kinds.set(kind, k);
        if (r.ok) {
          k.ok++;
          // Whatever we accept must be encodable (the engine echoes fields and option 82 into replies).
          encodePacket(r.packet, { maxSize: 1500 });
        } else {
          k.error++;
          assert.ok(r.error instanceof DecodeError);
          assert.ok(r.error.offset >= 0 && r.error.offset <= data.length);
        }
      }),
      { numRuns: RUNS },
    );
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    // Every attack kind ran, and the decoder rejected some and accepted some overall.
    assert.equal(kinds.size, 13, `kinds seen: ${[...kinds.keys()].join(',')}`);
    for (const kind of ['length-past-end', 'hlen', 'header-sizes'] as const) assert.ok(kinds.get(kind)!.error > 0, kind);
    for (const kind of ['prl-every-code', 'many-instances', 'bad-cookie'] as const) assert.ok(kinds.get(kind)!.ok > 0, kind);
    console.log(`# ${RUNS} hostile datagrams in ${ms.toFixed(0)} ms: ${JSON.stringify(Object.fromEntries(kinds))}`);
  });

  it('soakDatagrams is a reproducible, bounded stream for the hostile-input soak', () => {
    const seeds = wireVectorPayloads();
    const a = [...soakDatagrams(seeds, 2500, 42, 1000)];
    const b = [...soakDatagrams(seeds, 2500, 42, 1000)];
    assert.equal(a.length, 2500);
    assert.ok(a.every((d, i) => d.equals(b[i]!)));
    assert.ok(a.every((d) => d.length <= MAX_UDP_PAYLOAD));
    let accepted = 0;
    for (const d of a) if (decodePacket(d).ok) accepted++;
    assert.ok(accepted > 100 && accepted < 2400, `accepted ${accepted}`);
  });

  it('encodePacket never throws on odd packets and its output always decodes within the size limit', () => {
    const odd = fc.record({
      base: dhcpPacketArbitrary({ maxOptions: 16 }),
      extra: fc.array(fc.tuple(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 1200 })), { maxLength: 6 }),
      chaddrLen: fc.integer({ min: 0, max: 40 }),
      snameLen: fc.integer({ min: 0, max: 100 }),
      fileLen: fc.integer({ min: 0, max: 200 }),
      maxSize: fc.integer({ min: 0, max: 70000 }),
      optionSpace: fc.option(fc.integer({ min: -10, max: 2000 })),
      prl: fc.option(fc.uint8Array({ maxLength: 300 })),
      echo: fc.boolean(),
    });
    fc.assert(
      fc.property(odd, (o) => {
        const p = o.base;
        // Codes outside 1..254, 52, empty and huge values, over-long fixed fields: all must be survivable.
        for (const [code, len] of o.extra) p.options.set(code, Buffer.alloc(len, 0x5a));
        p.chaddr = Buffer.alloc(o.chaddrLen, 1);
        p.sname = Buffer.alloc(o.snameLen, 0x73);
        p.file = Buffer.alloc(o.fileLen, 0x66);
        const r = encodePacketDetailed(p, {
          maxSize: o.maxSize,
          optionSpace: o.optionSpace ?? undefined,
          parameterRequestList: o.prl ?? undefined,
          echoClientId: o.echo,
        });
        const agent = p.options.get(DhcpOption.AGENT_INFORMATION)?.length ?? 0;
        if (o.optionSpace === null) {
          const limit = Math.min(Math.max(o.maxSize, 576), 65535) - 28 + agent + 2 * Math.ceil(agent / 255);
          assert.ok(r.buffer.length <= Math.max(300, limit), `${r.buffer.length} > ${limit}`);
        }
        const d = decodePacket(r.buffer);
        if (!d.ok) assert.fail(d.error.toString());
      }),
      { numRuns: 2000 },
    );
  });
});
