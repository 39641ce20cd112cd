/**
 * A tiny authoritative DNS responder for tests (RFC 1035 over UDP): answers PTR queries for the names it is
 * given, NXDOMAIN (authoritative) for any other name, and prints one line per query to stdout
 * (`query NAME TYPE`), so a test sees that a lookup happened. Run it inside a test namespace on that
 * namespace's address; it never sends anything but answers to the queries it receives.
 *
 * Usage: node --import tsx test/support/ptr-dns-server.ts ADDRESS PORT '{"4.0.60.10.in-addr.arpa":"host.example.org"}'
 */
import dgram from 'node:dgram';

const TYPE_PTR = 12;

/** Reads a (possibly compressed) name at `offset`; returns it lower-cased and the offset after it. */
function readName(msg: Buffer, offset: number): { name: string; next: number } | undefined {
  const labels: string[] = [];
  let pos = offset;
  let next = -1;
  for (let hops = 0; hops < 64; hops++) {
    if (pos >= msg.length) return undefined;
    const len = msg[pos]!;
    if (len === 0) {
      if (next < 0) next = pos + 1;
      return { name: labels.join('.').toLowerCase(), next };
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= msg.length) return undefined;
      if (next < 0) next = pos + 2;
      pos = ((len & 0x3f) << 8) | msg[pos + 1]!;
      continue;
    }
    if (pos + 1 + len > msg.length) return undefined;
    labels.push(msg.subarray(pos + 1, pos + 1 + len).toString('latin1'));
    pos += 1 + len;
  }
  return undefined;
}

function encodeName(name: string): Buffer {
  const parts = name.split('.').filter((p) => p !== '');
  return Buffer.concat([...parts.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p, 'latin1')])), Buffer.from([0])]);
}

/** The answer to one query message, or undefined for what is not a query. */
export function answer(query: Buffer, records: ReadonlyMap<string, string>): { reply: Buffer; name: string; type: number } | undefined {
  if (query.length < 12 || (query[2]! & 0x80) !== 0) return undefined;
  const qdcount = query.readUInt16BE(4);
  if (qdcount !== 1) return undefined;
  const q = readName(query, 12);
  if (q === undefined || q.next + 4 > query.length) return undefined;
  const type = query.readUInt16BE(q.next);
  const question = query.subarray(12, q.next + 4);
  const target = records.get(q.name);
  const header = Buffer.alloc(12);
  header.writeUInt16BE(query.readUInt16BE(0), 0);
  // QR, opcode 0, AA, RD copied; RA; rcode NXDOMAIN when the name is unknown.
  header[2] = 0x84 | (query[2]! & 0x01);
  header[3] = 0x80 | (target === undefined ? 3 : 0);
  header.writeUInt16BE(1, 4);
  const answers: Buffer[] = [];
  if (target !== undefined && (type === TYPE_PTR || type === 255)) {
    const rdata = encodeName(target);
    const rr = Buffer.alloc(12);
    rr.writeUInt16BE(0xc00c, 0);
    rr.writeUInt16BE(TYPE_PTR, 2);
    rr.writeUInt16BE(1, 4);
    rr.writeUInt32BE(60, 6);
    rr.writeUInt16BE(rdata.length, 10);
    answers.push(rr, rdata);
  }
  header.writeUInt16BE(answers.length / 2, 6);
  return { reply: Buffer.concat([header, question, ...answers]), name: q.name, type };
}

async function main(): Promise<void> {
  const [address, port, json] = process.argv.slice(2) as [string, string, string];
  const records = new Map(Object.entries(JSON.parse(json) as Record<string, string>).map(([k, v]) => [k.toLowerCase(), v]));
  const sock = dgram.createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const a = answer(msg, records);
    if (a === undefined) return;
    process.stdout.write(`query ${a.name} ${a.type}\n`);
    sock.send(a.reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => sock.bind(Number(port), address, resolve));
  process.stdout.write(`dns ready on ${address}:${port}\n`);
  const stop = (): void => {
    sock.close(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

if (process.argv[1] !== undefined && /ptr-dns-server\.(ts|js)$/.test(process.argv[1])) await main();
