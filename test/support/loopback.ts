/**
 * Small helpers for tests that talk over loopback TCP (the failover tests): a free port and a bounded wait.
 */
import net from 'node:net';

/** A TCP port that was free on `host` a moment ago (bind to 0, read it, close). */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

/** Polls `cond` every `stepMs` until it holds; throws `timeout waiting for WHAT` after `ms`. */
export async function waitFor(cond: () => boolean, ms: number, what: string, stepMs = 10): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, stepMs));
  }
}
