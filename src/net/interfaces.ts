/**
 * Interface enumeration and the serving-set mechanism.
 *
 * Addresses come from os.networkInterfaces() (getifaddrs, kernel order: the primary address first, which is
 * the one ISC uses as the server identifier); ifindex, MTU, flags and hardware type from /sys/class/net
 * (which `ip netns exec` remounts for the namespace). Interfaces without an IPv4 address are listed too.
 *
 * Which interfaces to serve is the engine's decision (ISC: those named on the command line, else every
 * interface with an address inside a declared subnet). This module gives the mechanism:
 * {@link listInterfaces}, {@link resolveInterfaceNames}, {@link interfacesInSubnets}.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { formatIpv4, prefixMask, toUint32 } from './ipv4-address.js';
import type { InterfaceAddress, Ipv4, NetInterface } from './transport.js';

const SYS_NET = '/sys/class/net';
const IFF_UP = 0x1;
const IFF_BROADCAST = 0x2;
const IFF_LOOPBACK = 0x8;
const IFF_POINTOPOINT = 0x10;

/**
 * The /sys attributes read last, by interface: dhcpd's `-chroot` jail has no /sys (ISC lists interfaces
 * with ioctls, which need no files), so dhcpd-ts lists them once before entering it (src/cli/chroot.ts)
 * and, when /sys/class/net is gone, uses those attributes with today's addresses.
 */
const sysCache = new Map<string, Map<string, string>>();

function readSys(name: string, attr: string): string | undefined {
  try {
    const value = readFileSync(join(SYS_NET, name, attr), 'utf8').trim();
    let attrs = sysCache.get(name);
    if (!attrs) sysCache.set(name, (attrs = new Map()));
    attrs.set(attr, value);
    return value;
  } catch {
    return existsSync(SYS_NET) ? undefined : sysCache.get(name)?.get(attr);
  }
}

/** Every interface of the current network namespace, in ifindex order. */
export function listInterfaces(): NetInterface[] {
  const addrs = new Map<string, InterfaceAddress[]>();
  const macs = new Map<string, string>();
  for (const [label, list] of Object.entries(networkInterfaces())) {
    // Secondary addresses with a label ("eth0:1") belong to the base interface.
    const base = label.split(':')[0]!;
    for (const a of list ?? []) {
      if (a.family !== 'IPv4') continue;
      const prefixLength = a.cidr ? Number(a.cidr.split('/')[1]) : maskLength(a.netmask);
      const arr = addrs.get(base) ?? [];
      arr.push({ address: a.address, prefixLength });
      addrs.set(base, arr);
      if (a.mac && a.mac !== '00:00:00:00:00:00') macs.set(base, a.mac);
    }
  }
  let names: string[];
  try {
    names = readdirSync(SYS_NET);
  } catch {
    names = [...new Set([...sysCache.keys(), ...addrs.keys()])];
  }
  const out: NetInterface[] = [];
  for (const name of names) {
    const ifindex = Number(readSys(name, 'ifindex'));
    if (!Number.isInteger(ifindex) || ifindex <= 0) continue;
    const flags = parseInt(readSys(name, 'flags') ?? '0', 16) || 0;
    const hardwareType = Number(readSys(name, 'type') ?? '0');
    const sysMac = readSys(name, 'address');
    const mac =
      sysMac && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(sysMac) && sysMac !== '00:00:00:00:00:00' ? sysMac : macs.get(name);
    out.push({
      name,
      ifindex,
      addresses: addrs.get(name) ?? [],
      mac,
      mtu: Number(readSys(name, 'mtu') ?? '1500') || 1500,
      hardwareType,
      up: (flags & IFF_UP) !== 0,
      loopback: (flags & IFF_LOOPBACK) !== 0,
      broadcast: (flags & IFF_BROADCAST) !== 0,
      pointToPoint: (flags & IFF_POINTOPOINT) !== 0,
    });
  }
  return out.sort((a, b) => a.ifindex - b.ifindex);
}

function maskLength(netmask: string): number {
  let m = toUint32(netmask);
  let n = 0;
  while (m & 0x80000000) {
    n++;
    m = (m << 1) >>> 0;
  }
  return n;
}

/** Result of {@link resolveInterfaceNames}. */
export interface ResolvedInterfaces {
  readonly found: NetInterface[];
  /** Names that do not exist (ISC exits for these; the caller words the error). */
  readonly missing: string[];
}

/** Looks up interfaces named on the command line, keeping the order given; duplicates are served once. */
export function resolveInterfaceNames(names: readonly string[], all: readonly NetInterface[] = listInterfaces()): ResolvedInterfaces {
  const found: NetInterface[] = [];
  const missing: string[] = [];
  for (const n of names) {
    const i = all.find((x) => x.name === n);
    if (!i) missing.push(n);
    else if (!found.includes(i)) found.push(i);
  }
  return { found, missing };
}

/** A subnet as network address + netmask (or prefix length). */
export interface SubnetSpec {
  readonly network: Ipv4;
  readonly netmask?: Ipv4;
  readonly prefixLength?: number;
}

/** True when `address` lies in `subnet`. */
export function inSubnet(address: Ipv4, subnet: SubnetSpec): boolean {
  const mask =
    subnet.netmask !== undefined ? toUint32(subnet.netmask) : prefixMask(subnet.prefixLength ?? 32);
  return ((toUint32(address) & mask) >>> 0) === ((toUint32(subnet.network) & mask) >>> 0);
}

/**
 * ISC's rule when no interface is named: the interfaces (broadcast-capable, not loopback) that have an IPv4
 * address inside one of `subnets`. Returns each with the first matching subnet's index.
 */
export function interfacesInSubnets(
  subnets: readonly SubnetSpec[],
  all: readonly NetInterface[] = listInterfaces(),
): Array<{ iface: NetInterface; subnetIndex: number }> {
  const out: Array<{ iface: NetInterface; subnetIndex: number }> = [];
  for (const iface of all) {
    if (iface.loopback) continue;
    const idx = subnets.findIndex((s) => iface.addresses.some((a) => inSubnet(a.address, s)));
    if (idx >= 0) out.push({ iface, subnetIndex: idx });
  }
  return out;
}

/** The interface's primary IPv4 address (first in kernel order), as ISC picks its server identifier. */
export function primaryAddress(iface: NetInterface): string | undefined {
  return iface.addresses[0]?.address;
}

/** Re-exported for callers that format addresses from the addon. */
export { formatIpv4 };
