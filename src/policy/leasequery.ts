/**
 * DHCPLEASEQUERY (RFC 4388) as ISC dhcpd 4.4.3 answers it (server/dhcpleasequery.c), for relay agents that
 * `allow leasequery` permits (default deny; evaluated in the scope of giaddr's subnet — or the global scope
 * — and the querier's classes):
 *
 * - a query needs a giaddr ("missing giaddr, ciaddr is …, no reply sent");
 * - ciaddr set: the lease of that address; else the client identifier (option 61), else chaddr: the
 *   newest of that client's leases (an active one with the latest cltt, else the latest `ends`), whose
 *   address goes into ciaddr; the client's other active addresses go in option 92;
 * - the reply is the query turned round (op BOOTREPLY, the other header fields as received) with message
 *   type DHCPLEASEACTIVE (13) for an active lease, DHCPLEASEUNASSIGNED (11) for a lease in another state,
 *   DHCPLEASEUNKNOWN (12) for none;
 * - an active lease's reply carries, from a fresh option state: the client's hardware address in the header,
 *   its client identifier (61), T1 and T2 fixed at 1/2 and 7/8 of the lease (58, 59) and the lease time left
 *   (51) when still ahead, the vendor-class-identifier the client sent (60, kept in the lease's scope), the
 *   relay agent options stashed with the lease (82), the seconds since the last transaction (91) and the
 *   associated addresses (92);
 * - other replies carry whatever the relay's scope configures (ISC sends that option state without a
 *   parameter request list, so all of it);
 * - the server identifier (54) is the configured one in that option state, else the arrival interface's
 *   address; the reply goes to giaddr on the server port.
 *
 * @module
 */
import type { Lease } from '../../leases/lease.js';
import type { Logger } from '../log/logger.js';
import { printHex } from '../engine/log-lines.js';
import { BOOTREPLY, type DhcpPacket, DhcpOption, formatHardwareAddress, ipv4ToBytes, ipv4ToString, MessageType } from '../wire/packet.js';

/** Option codes of RFC 4388. */
export const CLIENT_LAST_TRANSACTION_TIME = 91;
export const ASSOCIATED_IP = 92;
/** ISC's server-space code of `leasequery` (allow/deny leasequery). */
export const SV_LEASEQUERY = 49;
/** ISC's `nassoc_ips`: at most this many associated addresses are sent. */
export const MAX_ASSOCIATED_IPS = 40;
/** The lease-scope variable in which ISC ack_lease keeps the client's vendor-class-identifier. */
export const VENDOR_CLASS_VARIABLE = 'vendor-class-identifier';

/** Option values by space (the engine's OptionState). */
export interface LeasequeryOptions {
  space(space: string): ReadonlyMap<number, Buffer>;
  get(space: string, code: number): Buffer | undefined;
}

/** What answering needs. */
export interface LeasequeryInput {
  readonly packet: DhcpPacket;
  readonly now: number;
  readonly logger: Logger;
  readonly leases: {
    byAddress(address: number): Lease | undefined;
    byUid(uid: Buffer): Lease[];
    byHardware(htype: number, address: Buffer): Lease[];
  };
  /** The relay's scope (giaddr's subnet or global) and the querier's classes, evaluated now. */
  relayOptions(): LeasequeryOptions;
  /** The arrival interface's primary address (ISC's fallback server identifier). */
  readonly interfaceAddress: number;
  /** The address lies in a range: ISC holds a (free) lease for it even when it was never used. */
  inRange(address: number): boolean;
}

/** A reply and where it comes from. */
export interface LeasequeryAnswer {
  readonly packet: DhcpPacket;
  /** The server identifier, also the reply's source address. */
  readonly source: number;
}

/** ISC get_newest_lease over a uid/hardware chain (chain order: the lease book's preference order). */
function newest(chain: readonly Lease[]): Lease | undefined {
  let best = chain[0];
  if (best === undefined) return undefined;
  for (const p of chain.slice(1)) {
    if (best.bindingState === 'active') {
      if (p.bindingState === 'active' && (p.cltt ?? 0) > (best.cltt ?? 0)) best = p;
    } else if ((p.ends ?? Number.MAX_SAFE_INTEGER) > (best.ends ?? Number.MAX_SAFE_INTEGER)) best = p;
  }
  return best;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

/** Answers one DHCPLEASEQUERY, or returns undefined when ISC sends nothing (logging why). */
export function answerLeasequery(q: LeasequeryInput): LeasequeryAnswer | undefined {
  const p = q.packet;
  let msg = `DHCPLEASEQUERY from ${ipv4ToString(p.giaddr)}`;
  if (p.giaddr === 0) {
    q.logger.info(`${msg}: missing giaddr, ciaddr is ${ipv4ToString(p.ciaddr)}, no reply sent`);
    return undefined;
  }
  const relay = q.relayOptions();
  const allow = relay.get('server', SV_LEASEQUERY);
  if (allow === undefined || allow.length < 1 || allow[0] !== 1) {
    q.logger.info(`${msg}: LEASEQUERY not allowed, query ignored`);
    return undefined;
  }

  let ciaddr = p.ciaddr;
  let lease: Lease | undefined;
  let what: string;
  let associated: number[] = [];
  let associatedCount = 0;
  let wantAssociated = false;
  let neverUsed = false;
  if (p.ciaddr !== 0) {
    what = `IP ${ipv4ToString(p.ciaddr)}`;
    lease = q.leases.byAddress(p.ciaddr);
    neverUsed = lease === undefined && q.inRange(p.ciaddr);
  } else {
    wantAssociated = true;
    let chain: Lease[];
    const uid = p.options.get(DhcpOption.CLIENT_IDENTIFIER);
    if (uid !== undefined) {
      what = `client-id ${printHex(uid, 60)}`;
      chain = q.leases.byUid(uid);
    } else {
      if (p.hlen + 1 > 17) {
        q.logger.info(`${msg}: hardware length too long, no reply sent`);
        return undefined;
      }
      const hw = Buffer.from(p.chaddr.subarray(0, p.hlen));
      what = `MAC address ${formatHardwareAddress(hw)}`;
      chain = q.leases.byHardware(p.htype, hw);
    }
    lease = newest(chain);
    const others = chain.filter((l) => l.bindingState === 'active' && l !== lease).map((l) => l.address);
    if (lease !== undefined) ciaddr = lease.address;
    if (others.length > MAX_ASSOCIATED_IPS) {
      q.logger.info(`${others.length} IP addresses associated with ${what}, only ${MAX_ASSOCIATED_IPS} sent in reply.`);
    }
    associated = others.slice(0, MAX_ASSOCIATED_IPS);
    associatedCount = others.length;
  }
  msg = `DHCPLEASEQUERY from ${ipv4ToString(p.giaddr)} for ${what}`;

  const type = lease === undefined ? (neverUsed ? MessageType.DHCPLEASEUNASSIGNED : MessageType.DHCPLEASEUNKNOWN) : lease.bindingState === 'active' ? MessageType.DHCPLEASEACTIVE : MessageType.DHCPLEASEUNASSIGNED;
  const typeName = type === MessageType.DHCPLEASEACTIVE ? 'DHCPLEASEACTIVE' : type === MessageType.DHCPLEASEUNASSIGNED ? 'DHCPLEASEUNASSIGNED' : 'DHCPLEASEUNKNOWN';
  const reply: DhcpPacket = { ...p, op: BOOTREPLY, ciaddr, chaddr: Buffer.from(p.chaddr), options: new Map() };
  const out = reply.options;
  out.set(DhcpOption.MESSAGE_TYPE, Buffer.from([type]));

  let source: number;
  if (type === MessageType.DHCPLEASEACTIVE && lease !== undefined) {
    // A fresh option state: only what is about this client.
    if (lease.hardware !== null) {
      reply.htype = lease.hardware.htype;
      reply.hlen = lease.hardware.address.length;
      const ch = Buffer.alloc(16);
      lease.hardware.address.copy(ch, 0, 0, Math.min(16, lease.hardware.address.length));
      reply.chaddr = ch;
    }
    if (lease.uid !== null && lease.uid.length > 0) out.set(DhcpOption.CLIENT_IDENTIFIER, Buffer.from(lease.uid));
    const starts = lease.starts ?? 0;
    const ends = lease.ends ?? 0xffffffff;
    const duration = (ends - starts) >>> 0;
    const half = Math.floor(duration / 2);
    const renewal = starts + half;
    const rebinding = starts + half + Math.floor(duration / 4) + Math.floor(duration / 8);
    if (renewal > q.now) out.set(DhcpOption.RENEWAL_TIME, u32(renewal - q.now));
    if (rebinding > q.now) out.set(DhcpOption.REBINDING_TIME, u32(rebinding - q.now));
    if (ends > q.now) out.set(DhcpOption.LEASE_TIME, u32(ends - q.now));
    const vci = lease.scope.get(VENDOR_CLASS_VARIABLE);
    if (vci !== undefined && vci.kind === 'data' && vci.value.length > 0) out.set(DhcpOption.VENDOR_CLASS_IDENTIFIER, Buffer.from(vci.value));
    if (lease.agentOptions.length > 0) {
      out.set(
        DhcpOption.AGENT_INFORMATION,
        Buffer.concat(lease.agentOptions.map((o) => Buffer.concat([Buffer.from([o.code, o.data.length]), o.data]))),
      );
    }
    if (lease.cltt !== null && lease.cltt !== 0) out.set(CLIENT_LAST_TRANSACTION_TIME, u32(q.now > lease.cltt ? q.now - lease.cltt : 0));
    if (wantAssociated && associated.length > 0) out.set(ASSOCIATED_IP, Buffer.concat(associated.map((a) => ipv4ToBytes(a))));
    source = q.interfaceAddress;
  } else {
    // ISC keeps the relay scope's option state and sends all of it (no parameter request list).
    for (const [code, v] of relay.space('dhcp')) {
      if (code === DhcpOption.MESSAGE_TYPE || code === DhcpOption.PARAMETER_REQUEST_LIST || v.length === 0) continue;
      out.set(code, v);
    }
    const sid = relay.get('dhcp', DhcpOption.SERVER_IDENTIFIER);
    source = sid !== undefined && sid.length === 4 ? sid.readUInt32BE(0) : q.interfaceAddress;
  }
  out.set(DhcpOption.SERVER_IDENTIFIER, ipv4ToBytes(source));
  q.logger.info(msg);
  q.logger.info(`${typeName} to ${ipv4ToString(p.giaddr)} for ${what} (${associatedCount} associated IPs)`);
  return { packet: reply, source };
}

/** ISC ack_lease: the client's vendor-class-identifier is kept in the lease's scope for DHCPLEASEQUERY. */
export function keepVendorClass(scope: Map<string, import('../../leases/lease.js').ScopeValue>, packet: DhcpPacket): void {
  const v = packet.options.get(DhcpOption.VENDOR_CLASS_IDENTIFIER);
  if (v !== undefined && v.length > 0) scope.set(VENDOR_CLASS_VARIABLE, { kind: 'data', value: Buffer.from(v) });
}
