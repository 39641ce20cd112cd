/**
 * Relay agent information (option 82, RFC 3046) and other code/length/value encapsulations. The packet
 * keeps option 82 as raw bytes (ISC echoes the relay's bytes unchanged in its reply, RFC 3046 §2.2);
 * these helpers split it into sub-options when policy needs circuit-id, remote-id or link-selection.
 *
 * @module
 */
import { AgentSubOption, type DhcpPacket, DhcpOption } from './packet.js';

/** One sub-option: its code and a view of its value. */
export interface SubOption {
  code: number;
  data: Buffer;
}

/**
 * Split a code/length/value area (RFC 3046 §2.0 sub-options, or any RFC 2132 §8.4-style encapsulation).
 * Returns `undefined` when a length runs past the end (ISC then keeps only the raw option). Instances of
 * the same sub-option code stay separate, in order. Never throws.
 */
export function parseSubOptions(value: Uint8Array): SubOption[] | undefined {
  const buf = Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.length);
  const out: SubOption[] = [];
  let i = 0;
  while (i < buf.length) {
    if (i + 2 > buf.length) return undefined;
    const code = buf[i]!;
    const len = buf[i + 1]!;
    if (i + 2 + len > buf.length) return undefined;
    out.push({ code, data: buf.subarray(i + 2, i + 2 + len) });
    i += 2 + len;
  }
  return out;
}

/** Encode sub-options (each value must be ≤ 255 octets). */
export function encodeSubOptions(subOptions: readonly SubOption[]): Buffer {
  let n = 0;
  for (const s of subOptions) {
    if (s.data.length > 255) throw new RangeError(`sub-option ${s.code} longer than 255 octets`);
    n += 2 + s.data.length;
  }
  const out = Buffer.allocUnsafe(n);
  let i = 0;
  for (const s of subOptions) {
    out[i++] = s.code;
    out[i++] = s.data.length;
    out.set(s.data, i);
    i += s.data.length;
  }
  return out;
}

/** Parsed relay agent information: the sub-options, plus the named ones ISC's `agent` space knows. */
export interface AgentInformation {
  /** The option 82 value as received. */
  raw: Buffer;
  /** All sub-options in order. */
  subOptions: SubOption[];
  /** agent.circuit-id (1). */
  circuitId?: Buffer;
  /** agent.remote-id (2). */
  remoteId?: Buffer;
  /** agent.link-selection (5, RFC 3527) as uint32 when 4 octets long. */
  linkSelection?: number;
  /** agent.subscriber-id (6, RFC 3993). */
  subscriberId?: Buffer;
  /** agent.server-id-override (11, RFC 5107) as uint32 when 4 octets long. */
  serverIdOverride?: number;
}

/**
 * Option 82 of a packet, parsed; `undefined` if absent or malformed (then policy sees no agent
 * sub-options, like ISC when parse_encapsulated_suboptions fails, while the raw option is still echoed).
 */
export function agentInformation(packet: DhcpPacket): AgentInformation | undefined {
  const raw = packet.options.get(DhcpOption.AGENT_INFORMATION);
  if (raw === undefined) return undefined;
  const subOptions = parseSubOptions(raw);
  if (subOptions === undefined) return undefined;
  const info: AgentInformation = { raw, subOptions };
  for (const s of subOptions) {
    // First instance wins, as a lookup in ISC's option state finds the first.
    switch (s.code) {
      case AgentSubOption.CIRCUIT_ID:
        info.circuitId ??= s.data;
        break;
      case AgentSubOption.REMOTE_ID:
        info.remoteId ??= s.data;
        break;
      case AgentSubOption.LINK_SELECTION:
        if (s.data.length === 4 && info.linkSelection === undefined) info.linkSelection = s.data.readUInt32BE(0);
        break;
      case AgentSubOption.SUBSCRIBER_ID:
        info.subscriberId ??= s.data;
        break;
      case AgentSubOption.SERVER_ID_OVERRIDE:
        if (s.data.length === 4 && info.serverIdOverride === undefined) info.serverIdOverride = s.data.readUInt32BE(0);
        break;
      default:
        break;
    }
  }
  return info;
}
