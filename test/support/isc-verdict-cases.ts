/**
 * Hand-made edge-case datagrams whose fate in real ISC dhcpd 4.4.3 is recorded by
 * test/support/capture-wire-vectors.sh (scenario isc-verdicts) into test/fixtures/wire/isc-verdicts.json,
 * so that test/wire/isc-verdicts.test.ts can compare decodePacket's accept/drop verdict with ISC's.
 * Each case has its own chaddr (52:54:00:99:00:NN) and xid. Sizes stay under ISC's 1536-octet LPF buffer.
 */

/** One case: a name and the DHCP payload. */
export interface VerdictCase {
  name: string;
  hex: string;
}

const COOKIE = [99, 130, 83, 99];

function header(n: number, patch?: (b: Buffer) => void): Buffer {
  const b = Buffer.alloc(236);
  b[0] = 1;
  b[1] = 1;
  b[2] = 6;
  b.writeUInt32BE(0x5a000000 + n, 4);
  b.set([0x52, 0x54, 0x00, 0x99, 0x00, n], 28);
  patch?.(b);
  return b;
}

function pkt(n: number, options: number[] | null, patch?: (b: Buffer) => void, minLen = 300): Buffer {
  const h = header(n, patch);
  const body = options === null ? Buffer.alloc(0) : Buffer.from([...COOKIE, ...options]);
  const out = Buffer.concat([h, body]);
  return out.length >= minLen ? out : Buffer.concat([out, Buffer.alloc(minLen - out.length)]);
}

const DISCOVER = [53, 1, 1];
const text = (s: string): number[] => [...Buffer.from(s, 'latin1')];

/** The cases, in sending order. */
export function iscVerdictCases(): VerdictCase[] {
  let n = 0;
  const cases: VerdictCase[] = [];
  const add = (name: string, b: Buffer): void => {
    cases.push({ name, hex: b.toString('hex') });
  };
  const next = (): number => ++n;

  add('valid-discover', pkt(next(), [...DISCOVER, 55, 4, 1, 3, 6, 15, 255]));
  add('short-235', pkt(next(), [...DISCOVER, 255]).subarray(0, 235));
  add('exactly-236-no-cookie', pkt(next(), null, undefined, 236));
  add('hlen-17', pkt(next(), [...DISCOVER, 255], (b) => (b[2] = 17)));
  add('hlen-255', pkt(next(), [...DISCOVER, 255], (b) => (b[2] = 255)));
  add('hlen-0', pkt(next(), [...DISCOVER, 255], (b) => (b[2] = 0)));
  add('hlen-16', pkt(next(), [...DISCOVER, 255], (b) => (b[2] = 16)));
  add('bad-cookie', pkt(next(), [...DISCOVER, 255], undefined).fill(0x42, 236, 237));
  add('option-length-past-end', pkt(next(), [...DISCOVER, 12, 40, ...text('short')], undefined, 0));
  add('option-missing-length', pkt(next(), [...DISCOVER, 12], undefined, 0));
  add('no-end-option', pkt(next(), [...DISCOVER, 12, 4, ...text('host')], undefined, 0));
  add('empty-host-name', pkt(next(), [...DISCOVER, 12, 0, 255]));
  add(
    'overload-file-valid',
    pkt(next(), [...DISCOVER, 52, 1, 1, 255], (b) => b.set([12, 5, ...text('inner'), 255], 108)),
  );
  add(
    'overload-both-valid',
    pkt(next(), [...DISCOVER, 52, 1, 3, 255], (b) => {
      b.set([60, 3, ...text('abc'), 255], 108);
      b.set([60, 3, ...text('def'), 255], 44);
    }),
  );
  add('overload-loop-in-file', pkt(next(), [...DISCOVER, 52, 1, 1, 255], (b) => b.set([52, 1, 3, 255], 108)));
  add('overload-sname-holds-a-name', pkt(next(), [...DISCOVER, 52, 1, 2, 255], (b) => b.set(text('myserver'), 44)));
  add('overload-malformed-in-file', pkt(next(), [...DISCOVER, 52, 1, 1, 255], (b) => b.set([12, 200, 0x61], 108)));
  add('prl-every-code', pkt(next(), [...DISCOVER, 55, 255, ...Array.from({ length: 255 }, (_, i) => i), 55, 1, 255, 255]));
  add('many-instances-400', pkt(next(), [...DISCOVER, ...Array.from({ length: 400 }, (_, i) => [77, 1, i & 255]).flat(), 255]));
  add('only-pad', pkt(next(), Array(60).fill(0)));
  add('message-type-empty', pkt(next(), [53, 0, 255]));
  add('message-type-twice', pkt(next(), [53, 1, 1, 53, 1, 3, 255]));
  add('op-bootreply', pkt(next(), [...DISCOVER, 255], (b) => (b[0] = 2)));
  add('op-zero', pkt(next(), [...DISCOVER, 255], (b) => (b[0] = 0)));
  add('htype-255', pkt(next(), [...DISCOVER, 255], (b) => (b[1] = 255)));
  add('agent-82-large', pkt(next(), [...DISCOVER, ...Array.from({ length: 4 }, () => [82, 255, 1, 253, ...Array(253).fill(0x41)]).flat(), 255]));
  add('garbage-after-end', pkt(next(), [...DISCOVER, 255, 12, 250, 1, 2, 3]));
  add('valid-discover-again', pkt(next(), [...DISCOVER, 255]));
  return cases;
}
