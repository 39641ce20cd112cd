/**
 * Host declarations matching a client (ISC find_hosts_by_uid, find_hosts_by_haddr, find_hosts_by_option)
 * and the fixed address a host has on a network (ISC find_host_for_network / mockup_lease). Pure.
 *
 * @module
 */
import { type Config, type Host, type SharedNetwork, type Subnet, hardwareKey, hexKey, hostIdentifierKey } from '../config/model.js';
import type { DhcpPacket } from '../wire/packet.js';
import { DhcpOption } from '../wire/packet.js';
import type { AddressIndex } from './network.js';

/** How the host was found (ISC's lookup order). */
export type HostMatchKind = 'client-identifier' | 'hardware' | 'host-identifier';

/** The hosts matching a client, all of them for the one key that matched first. */
export interface HostMatch {
  readonly kind: HostMatchKind;
  readonly hosts: readonly Host[];
}

/** Resolves a fixed-address host name to IPv4 addresses (uint32), from a cache primed at start-up. */
export type AddressResolver = (hostname: string) => readonly number[] | undefined;

const live = (hosts: readonly Host[] | undefined): Host[] => (hosts ?? []).filter((h) => !h.deleted);

/**
 * ISC's order in find_lease: the client identifier (61) first, then the hardware address, then any
 * `host-identifier option` the request carries.
 */
export function findHosts(config: Config, packet: DhcpPacket): HostMatch | undefined {
  // (each table is asked only when it has entries: most requests meet a config without host declarations)
  const uid = packet.options.get(DhcpOption.CLIENT_IDENTIFIER);
  if (uid !== undefined && config.hostsByClientId.size > 0) {
    const hosts = live(config.hostsByClientId.get(hexKey(uid)));
    if (hosts.length > 0) return { kind: 'client-identifier', hosts };
  }
  if (config.hostsByHardware.size > 0) {
    const hlen = Math.min(packet.hlen, 16);
    const hosts = live(config.hostsByHardware.get(hardwareKey({ htype: packet.htype, address: packet.chaddr.subarray(0, hlen) })));
    if (hosts.length > 0) return { kind: 'hardware', hosts };
  }
  if (config.hostsByIdentifier.size > 0) {
    const tried = new Set<string>();
    for (const h of config.hosts) {
      const id = h.hostIdentifier;
      if (id === null || h.deleted) continue;
      const k = `${id.space}.${id.code}`;
      if (tried.has(k)) continue;
      tried.add(k);
      const v = id.space === 'dhcp' ? packet.options.get(id.code) : undefined;
      if (v === undefined) continue;
      const found = live(config.hostsByIdentifier.get(hostIdentifierKey(id.space, id.code, v)));
      if (found.length > 0) return { kind: 'host-identifier', hosts: found };
    }
  }
  return undefined;
}

/** A host's fixed address on a shared network. */
export interface FixedAddress {
  readonly host: Host;
  readonly address: number;
  readonly subnet: Subnet;
}

/** ISC find_host_for_network: the first fixed address of the hosts that lies on `share`. */
export function fixedAddressOn(
  index: AddressIndex,
  hosts: readonly Host[],
  share: SharedNetwork,
  resolve?: AddressResolver,
): FixedAddress | undefined {
  for (const host of hosts) {
    for (const fa of host.fixedAddresses) {
      const addrs = fa.kind === 'address' ? [fa.address] : (resolve?.(fa.hostname) ?? []);
      for (const a of addrs) {
        const subnet = index.groupedSubnetOf(share, a);
        if (subnet !== undefined) return { host, address: a >>> 0, subnet };
      }
    }
  }
  return undefined;
}

/** ISC ack_lease: for a dynamic lease, the options come from a matching host without fixed-address. */
export function hostWithoutFixedAddress(hosts: readonly Host[]): Host | undefined {
  return hosts.find((h) => h.fixedAddresses.length === 0);
}
