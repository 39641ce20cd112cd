/**
 * Hostile failover-protocol clients for the reliability tests (issue 8, item 2): mutations of real and
 * generated failover messages, and a one-connection-per-message client that reports how the server ended
 * the connection. Used in-process by test/integration/reliability-failover-fuzz.test.ts and, inside a
 * namespace, by reliability-fo-sender.ts against the running server.
 */
import net from 'node:net';
import { decodeMessage, encodeFields } from '../../src/failover/codec.js';
import { FTM } from '../../src/failover/messages.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';

export function prng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x100000000;
  };
}

/** How one hostile connection ended. */
export type Outcome = 'reject' | 'closed' | 'accepted' | 'still-open';

/**
 * Opens a connection from `from`, writes `chunks` (with `gapMs` between them), and waits up to `limitMs`
 * for the server to end it. Accepted links (a CONNECTACK without reject) are closed by us.
 */
export function hostile(host: string, port: number, from: string, chunks: readonly Buffer[], limitMs: number, gapMs = 0): Promise<{ outcome: Outcome; reason?: number; ms: number; connectMs?: number }> {
  return new Promise((resolve) => {
    const began = Date.now();
    // Time to the TCP connect: 1 s or more means a SYN was dropped and retransmitted (full listen queue).
    let connectMs: number | undefined;
    const sock = net.connect({ host, port, localAddress: from });
    let buf = Buffer.alloc(0);
    let reason: number | undefined;
    let accepted = false;
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ outcome, ...(reason !== undefined ? { reason } : {}), ms: Date.now() - began, ...(connectMs !== undefined ? { connectMs } : {}) });
    };
    const timer = setTimeout(() => finish('still-open'), limitMs);
    sock.on('error', () => undefined);
    sock.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 2 && buf.length >= buf.readUInt16BE(0) && buf.readUInt16BE(0) >= 12) {
        const len = buf.readUInt16BE(0);
        const r = decodeMessage(buf.subarray(0, len));
        buf = buf.subarray(len);
        if (r.ok && r.message.type === FTM.CONNECTACK) {
          if (r.message.fields.rejectReason !== undefined) reason = r.message.fields.rejectReason;
          else accepted = true;
        }
      }
      if (accepted) finish('accepted');
    });
    sock.on('close', () => finish(reason !== undefined ? 'reject' : 'closed'));
    sock.once('connect', () => {
      connectMs = Date.now() - began;
      void (async () => {
        for (const c of chunks) {
          if (settled || sock.destroyed) return;
          sock.write(c);
          if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
        }
      })();
    });
  });
}

/** Runs `jobs` with at most `width` at a time. */
export async function pool<T>(jobs: ReadonlyArray<() => Promise<T>>, width: number): Promise<T[]> {
  const out: T[] = new Array(jobs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < jobs.length) {
        const i = next++;
        out[i] = await jobs[i]!();
      }
    }),
  );
  return out;
}

/** A valid CONNECT for our relationship, as a primary sends it. */
export function connectMessage(name: string, now: number, xid = 0): Buffer {
  return encodeFields(FTM.CONNECT, now, xid, {
    relationshipName: Buffer.from(name),
    maxUnackedBndupd: 10,
    receiveTimer: 30,
    vendorClassIdentifier: Buffer.from('fuzz'),
    protocolVersion: 1,
    tlsRequest: 0,
    mclt: 600,
    hba: hbaFromSplit(128),
  });
}

/** One mutated message (and whether the test expects the server to wait for more bytes). */
export function mutate(base: Buffer, rnd: () => number): { data: Buffer; kind: string } {
  const b = Buffer.from(base);
  const pick = Math.floor(rnd() * 9);
  const at = (lo: number): number => lo + Math.floor(rnd() * Math.max(1, b.length - lo));
  switch (pick) {
    case 0: {
      const k = 1 + Math.floor(rnd() * 8);
      for (let i = 0; i < k; i++) b[at(2)] = Math.floor(rnd() * 256);
      return { data: b, kind: 'flip' };
    }
    case 1:
      b.writeUInt16BE(Math.min(2048, b.length + 1 + Math.floor(rnd() * 200)), 0);
      return { data: b, kind: 'length-longer' };
    case 2:
      b.writeUInt16BE(12 + Math.floor(rnd() * Math.max(1, b.length - 12)), 0);
      return { data: b, kind: 'length-shorter' };
    case 3:
      b.writeUInt16BE(rnd() < 0.5 ? Math.floor(rnd() * 12) : 2049 + Math.floor(rnd() * 63486), 0);
      return { data: b, kind: 'length-out-of-range' };
    case 4: {
      // An option whose length runs past the end of the message.
      const p = b[3]! >= 12 && b[3]! + 4 <= b.length ? b[3]! : 12;
      if (p + 4 <= b.length) b.writeUInt16BE(b.length + Math.floor(rnd() * 1000), p + 2);
      return { data: b, kind: 'option-length' };
    }
    case 5: {
      // The first option twice.
      const p = b[3]! >= 12 ? b[3]! : 12;
      if (p + 4 > b.length) return { data: b, kind: 'duplicate' };
      const olen = b.readUInt16BE(p + 2);
      const opt = b.subarray(p, Math.min(b.length, p + 4 + olen));
      const d = Buffer.concat([b, opt]);
      d.writeUInt16BE(Math.min(0xffff, d.length), 0);
      return { data: d, kind: 'duplicate' };
    }
    case 6:
      b[2] = Math.floor(rnd() * 256);
      return { data: b, kind: 'type' };
    case 7:
      return { data: b.subarray(0, Math.floor(rnd() * b.length)), kind: 'truncate' };
    default: {
      const n = Math.floor(rnd() * 300);
      const g = Buffer.alloc(n);
      for (let i = 0; i < n; i++) g[i] = Math.floor(rnd() * 256);
      return { data: g, kind: 'garbage' };
    }
  }
}

