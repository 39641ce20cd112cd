/**
 * Typed loader for the `dhcpsock` Node-API addon (src/native/dhcpsock.cc, built by `make addon`).
 *
 * The addon holds system calls only; src/net/ wraps it. Addresses cross the boundary as uint32 in host
 * order. Every failure is thrown as an {@link ErrnoError} (`code` is the errno name, as in Node's own errors);
 * the addon never aborts the process.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** An error from a system call in the addon. */
export interface ErrnoError extends Error {
  /** errno name, e.g. "EADDRINUSE", "EAGAIN", "ENETUNREACH". */
  readonly code: string;
  /** Negative errno (libuv convention, as Node's `err.errno`). */
  readonly errno: number;
  /** The failing call, e.g. "bind", "sendmsg". */
  readonly syscall: string;
}

/** True when `e` is an {@link ErrnoError} (optionally with the given code). */
export function isErrnoError(e: unknown, code?: string): e is ErrnoError {
  return (
    e instanceof Error &&
    typeof (e as Partial<ErrnoError>).code === 'string' &&
    (code === undefined || (e as ErrnoError).code === code)
  );
}

/** Called once per received datagram (within one JS entry per readiness batch). */
export type UdpDatagramCallback = (
  data: Buffer,
  ifindex: number,
  sourceAddress: number,
  sourcePort: number,
  destinationAddress: number,
  /** Kernel receive time (SO_TIMESTAMPNS), ms since the epoch; 0 when the kernel gave none (older addon: undefined). */
  arrivedMs?: number,
) => void;

/**
 * UDP socket with SO_REUSEADDR, SO_BROADCAST and IP_PKTINFO, bound at construction
 * (`new UdpSocket(port, address = 0, device?, receiveBufferSize?)`; `device` sets SO_BINDTODEVICE before
 * bind; `receiveBufferSize` (bytes) sets SO_RCVBUFFORCE, or SO_RCVBUF without CAP_NET_ADMIN).
 */
export interface NativeUdpSocket {
  /** Starts delivering datagrams; `onError` hears recvmsg failures (the socket keeps running). */
  start(onDatagram: UdpDatagramCallback, onError: (error: ErrnoError) => void): void;
  /**
   * sendmsg to address:port; a non-zero `ifindex` and/or `sourceAddress` go in an IP_PKTINFO control
   * message (outgoing interface, source address). Returns bytes sent.
   */
  send(data: Buffer, address: number, port: number, ifindex?: number, sourceAddress?: number): number;
  /** The bound port (useful after binding port 0). */
  localPort(): number;
  /** SO_RCVBUF as the kernel reports it (twice the bytes requested, socket(7)). */
  receiveBufferSize(): number;
  /** Whether the socket keeps the event loop alive (default true once started). */
  setRef(ref: boolean): void;
  /** Stops polling and closes the descriptor; idempotent. */
  close(): void;
}

/** Send-only AF_PACKET SOCK_DGRAM socket: the kernel adds the Ethernet header. */
export interface NativePacketSocket {
  /** Sends an IPv4 datagram (IP header included) to `mac` (6 bytes) out `ifindex`. Returns bytes sent. */
  send(ifindex: number, mac: Buffer, ipv4Datagram: Buffer): number;
  close(): void;
}

/** Raw ICMP socket that receives echo replies only (ICMP_FILTER). */
export interface NativeIcmpSocket {
  /** Starts delivering echo replies: the whole IP datagram (IP header included) and its source. */
  start(onReply: (ipDatagram: Buffer, sourceAddress: number) => void, onError: (error: ErrnoError) => void): void;
  /** Sends an ICMP message (ICMP header onward; the kernel adds the IP header). Returns bytes sent. */
  send(icmpMessage: Buffer, address: number): number;
  setRef(ref: boolean): void;
  close(): void;
}

/** A bound AF_UNIX SOCK_DGRAM receiver (`new UnixDatagramSocket(path)`); a stand-in /dev/log for tests. */
export interface NativeUnixDatagramSocket {
  start(onDatagram: (data: Buffer) => void, onError: (error: ErrnoError) => void): void;
  setRef(ref: boolean): void;
  /** Closes the descriptor (the caller removes the socket file). */
  close(): void;
}

/** The addon's exports. */
export interface DhcpSockAddon {
  readonly UdpSocket: new (port: number, address?: number, device?: string, receiveBufferSize?: number) => NativeUdpSocket;
  readonly PacketSocket: new () => NativePacketSocket;
  readonly IcmpSocket: new () => NativeIcmpSocket;
  readonly UnixDatagramSocket: new (path: string) => NativeUnixDatagramSocket;
  /**
   * Sends one datagram to the AF_UNIX SOCK_DGRAM socket at `path` without blocking. Throws code "EAGAIN"
   * when the receiver's queue is full (queue and retry), "ENOENT"/"ECONNREFUSED" when nobody listens.
   */
  unixDatagramSend(path: string, data: Buffer): number;
  /**
   * Connects the socket {@link unixDatagramSend} uses to `path` now (it connects on first use otherwise): a
   * connected socket keeps reaching its listener after chroot(2), as ISC's syslog socket does. Throws the
   * errno code ("ENOENT", "ECONNREFUSED") when nobody listens.
   */
  unixDatagramConnect(path: string): void;
  /** if_indextoname(3), or undefined when no such interface. */
  interfaceName(ifindex: number): string | undefined;
  /** chroot(2) then chdir("/"), for dhcpd's `-chroot`. */
  chroot(path: string): void;
}

/** Environment variable naming an explicit path to dhcpsock.node (for installs outside the source tree). */
export const ADDON_PATH_ENV = 'DHCPD_TS_ADDON';

/** Where the addon is looked for, in order. */
export function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const out: string[] = [];
  const env = process.env[ADDON_PATH_ENV];
  if (env) out.push(resolve(env));
  // Running from source (tsx): src/native/build/Release; from dist: dist/src/native → ../../../src/native.
  out.push(join(here, 'build', 'Release', 'dhcpsock.node'));
  out.push(join(here, '..', '..', '..', 'src', 'native', 'build', 'Release', 'dhcpsock.node'));
  return out;
}

let cached: DhcpSockAddon | undefined;
let loadError: Error | undefined;

/**
 * Loads the addon (once). Throws an Error with code "ERR_DHCPSOCK_NOT_BUILT" when it has not been built,
 * naming the paths tried and the remedy (`make addon`).
 */
export function loadAddon(): DhcpSockAddon {
  if (cached) return cached;
  if (loadError) throw loadError;
  const tried = addonCandidates();
  const path = tried.find((p) => existsSync(p));
  if (!path) {
    loadError = Object.assign(
      new Error(`dhcpsock addon not built (tried ${tried.join(', ')}); run \`make addon\``),
      { code: 'ERR_DHCPSOCK_NOT_BUILT' },
    );
    throw loadError;
  }
  const require = createRequire(import.meta.url);
  const mod: unknown = require(path);
  if (!isAddon(mod)) {
    loadError = new Error(`${path} is not the dhcpsock addon (missing exports)`);
    throw loadError;
  }
  cached = mod;
  return mod;
}

/** True when the addon can be loaded (for tests that skip without it). */
export function addonAvailable(): boolean {
  try {
    loadAddon();
    return true;
  } catch {
    return false;
  }
}

function isAddon(m: unknown): m is DhcpSockAddon {
  if (typeof m !== 'object' || m === null) return false;
  const o = m as Record<string, unknown>;
  return ['UdpSocket', 'PacketSocket', 'IcmpSocket', 'UnixDatagramSocket', 'unixDatagramSend', 'unixDatagramConnect', 'interfaceName', 'chroot'].every(
    (k) => typeof o[k] === 'function',
  );
}

/**
 * Sends `data` to the AF_UNIX datagram socket at `path` (e.g. /dev/log) without blocking.
 * @throws {@link ErrnoError} with code "EAGAIN" when the receiver is full.
 */
export function unixDatagramSend(path: string, data: Buffer): number {
  return loadAddon().unixDatagramSend(path, data);
}

/**
 * Connects the syslog socket to `path` now, before a chroot (see {@link DhcpSockAddon.unixDatagramConnect});
 * false when nobody listens there.
 */
export function connectUnixDatagram(path: string): boolean {
  try {
    loadAddon().unixDatagramConnect(path);
    return true;
  } catch {
    return false;
  }
}
