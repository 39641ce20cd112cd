/**
 * An in-memory {@link Transport} for unit tests of the engine (Kea's pkt_filter_test_stub pattern): tests
 * inject inbound datagrams with {@link FakeTransport.deliver} and read what the engine sent from
 * {@link FakeTransport.sent}. It applies the same serving-set filter as the real transport.
 */
import type {
  InboundDatagram,
  NetInterface,
  OutboundDatagram,
  Transport,
  TransportError,
} from './transport.js';

/** Options for {@link FakeTransport}. */
export interface FakeTransportOptions {
  /** The interfaces served (default: one Ethernet "eth0", ifindex 2, 192.168.1.1/24). */
  readonly interfaces?: readonly NetInterface[];
}

/** The default interface of a {@link FakeTransport}. */
export const FAKE_ETH0: NetInterface = {
  name: 'eth0',
  ifindex: 2,
  addresses: [{ address: '192.168.1.1', prefixLength: 24 }],
  mac: '02:00:00:00:00:01',
  mtu: 1500,
  hardwareType: 1,
  up: true,
  loopback: false,
  broadcast: true,
  pointToPoint: false,
};

/** A {@link Transport} that records sends and lets tests inject datagrams. */
export class FakeTransport implements Transport {
  /** Every datagram sent, in order. */
  readonly sent: OutboundDatagram[] = [];
  /** Datagrams delivered on an interface outside the serving set (dropped, as the real transport does). */
  readonly ignored: InboundDatagram[] = [];
  private readonly interfaces: readonly NetInterface[];
  private onDatagram: ((d: InboundDatagram) => void) | undefined;
  private onError: ((e: TransportError) => void) | undefined;
  private started = false;
  private closed = false;
  private readonly sendFailures: string[] = [];
  private readonly waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(options: FakeTransportOptions = {}) {
    this.interfaces = options.interfaces ?? [FAKE_ETH0];
  }

  async start(onDatagram: (d: InboundDatagram) => void, onError?: (e: TransportError) => void): Promise<void> {
    if (this.closed) throw new Error('transport closed');
    this.onDatagram = onDatagram;
    this.onError = onError;
    this.started = true;
  }

  async send(datagram: OutboundDatagram): Promise<void> {
    if (!this.started || this.closed) throw Object.assign(new Error('send on a transport that is not started'), { code: 'EBADF' });
    const code = this.sendFailures.shift();
    if (code !== undefined) throw Object.assign(new Error(`send: ${code}`), { code });
    this.sent.push(datagram);
    for (const w of [...this.waiters]) {
      if (this.sent.length >= w.count) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.onDatagram = undefined;
    this.onError = undefined;
  }

  servedInterfaces(): readonly NetInterface[] {
    return this.interfaces;
  }

  /**
   * Delivers a datagram as if it arrived. Defaults: first served interface, from 0.0.0.0:68 to
   * 255.255.255.255. Returns false when it was dropped (not started, closed, or interface not served).
   */
  deliver(data: Buffer, from: Partial<Omit<InboundDatagram, 'data'>> = {}): boolean {
    const first = this.interfaces[0];
    const ifindex = from.ifindex ?? first?.ifindex ?? 0;
    const iface = this.interfaces.find((i) => i.ifindex === ifindex);
    const d: InboundDatagram = {
      data,
      ifindex,
      ifname: from.ifname ?? iface?.name ?? '',
      sourceAddress: from.sourceAddress ?? '0.0.0.0',
      sourcePort: from.sourcePort ?? 68,
      destinationAddress: from.destinationAddress ?? '255.255.255.255',
    };
    if (!this.onDatagram) return false;
    if (!iface) {
      this.ignored.push(d);
      return false;
    }
    this.onDatagram(d);
    return true;
  }

  /** Reports a receive-path error to the engine. */
  raiseError(error: TransportError): void {
    this.onError?.(error);
  }

  /** Makes the next send fail with an Error whose `code` is `code` (e.g. "ENETUNREACH"). */
  failNextSend(code: string): void {
    this.sendFailures.push(code);
  }

  /** Resolves once at least `count` datagrams have been sent in total; rejects after `timeoutMs`. */
  waitForSent(count: number, timeoutMs = 2000): Promise<readonly OutboundDatagram[]> {
    if (this.sent.length >= count) return Promise.resolve(this.sent);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(w);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(new Error(`timeout: ${this.sent.length} of ${count} datagrams sent after ${timeoutMs} ms`));
      }, timeoutMs);
      const w = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve(this.sent);
        },
      };
      this.waiters.push(w);
    });
  }
}
