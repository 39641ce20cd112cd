/**
 * ISC DHCP failover protocol: message types, option codes, reject reasons, states and flags
 * (CONTRACT: add, don't rename).
 *
 * Numbers and names are those ISC dhcpd 4.4.3 uses (includes/failover.h, server/failover.c), which depart
 * from draft-ietf-dhc-failover-12 in places (FAILOVER.md §12): recover-wait is 254, the HBA reject is 18.
 *
 * @module
 */

/** Failover message types (FAILOVER.md §2). */
export const FTM = {
  POOLREQ: 1,
  POOLRESP: 2,
  BNDUPD: 3,
  BNDACK: 4,
  CONNECT: 5,
  CONNECTACK: 6,
  UPDREQALL: 7,
  UPDDONE: 8,
  UPDREQ: 9,
  STATE: 10,
  CONTACT: 11,
  DISCONNECT: 12,
} as const;
export type FailoverMessageType = (typeof FTM)[keyof typeof FTM];

/** Highest message type ISC accepts (FAILOVER.md §1.4 rule 3). */
export const FTM_MAX = 12;

const MESSAGE_TYPE_NAMES: Readonly<Record<number, string>> = {
  1: 'POOLREQ',
  2: 'POOLRESP',
  3: 'BNDUPD',
  4: 'BNDACK',
  5: 'CONNECT',
  6: 'CONNECTACK',
  7: 'UPDREQALL',
  8: 'UPDDONE',
  9: 'UPDREQ',
  10: 'STATE',
  11: 'CONTACT',
  12: 'DISCONNECT',
};

/** Draft name of a message type (`UNKNOWN-N` otherwise). */
export function messageTypeName(type: number): string {
  return MESSAGE_TYPE_NAMES[type] ?? `UNKNOWN-${type}`;
}

/** Failover option codes (FTO_*, FAILOVER.md §3). */
export const FTO = {
  ADDRESSES_TRANSFERRED: 1,
  ASSIGNED_IP_ADDRESS: 2,
  BINDING_STATUS: 3,
  CLIENT_IDENTIFIER: 4,
  CHADDR: 5,
  CLTT: 6,
  CLIENT_REPLY_OPTIONS: 7,
  CLIENT_REQUEST_OPTIONS: 8,
  DDNS: 9,
  DELAYED_SERVICE: 10,
  HBA: 11,
  IP_FLAGS: 12,
  LEASE_EXPIRY: 13,
  MAX_UNACKED: 14,
  MCLT: 15,
  MESSAGE: 16,
  MESSAGE_DIGEST: 17,
  POTENTIAL_EXPIRY: 18,
  RECEIVE_TIMER: 19,
  PROTOCOL_VERSION: 20,
  REJECT_REASON: 21,
  RELATIONSHIP_NAME: 22,
  SERVER_FLAGS: 23,
  SERVER_STATE: 24,
  STOS: 25,
  TLS_REPLY: 26,
  TLS_REQUEST: 27,
  VENDOR_CLASS: 28,
  VENDOR_OPTIONS: 29,
} as const;

/** Highest option code ISC knows; 0 and codes above it are skipped on receipt (§1.4 rule 4). */
export const FTO_MAX = 29;

/** Option kinds: fixed sizes ISC enforces, or variable-length byte strings (§1.4 rule 8). */
export type OptionKind = 'u8' | 'u16' | 'u32' | 'ip' | 'bytes' | 'text' | 'ddns';

/** Per option code: ISC's name and kind. */
export const OPTION_INFO: Readonly<Record<number, { readonly name: string; readonly kind: OptionKind }>> = {
  1: { name: 'addresses-transferred', kind: 'u32' },
  2: { name: 'assigned-IP-address', kind: 'ip' },
  3: { name: 'binding-status', kind: 'u8' },
  4: { name: 'client-identifier', kind: 'bytes' },
  5: { name: 'client-hardware-address', kind: 'bytes' },
  6: { name: 'client-last-transaction-time', kind: 'u32' },
  7: { name: 'client-reply-options', kind: 'bytes' },
  8: { name: 'client-request-options', kind: 'bytes' },
  9: { name: 'DDNS', kind: 'ddns' },
  10: { name: 'delayed-service', kind: 'u8' },
  11: { name: 'hash-bucket-assignment', kind: 'bytes' },
  12: { name: 'IP-flags', kind: 'u16' },
  13: { name: 'lease-expiration-time', kind: 'u32' },
  14: { name: 'max-unacked-bndupd', kind: 'u32' },
  15: { name: 'MCLT', kind: 'u32' },
  16: { name: 'message', kind: 'text' },
  17: { name: 'message-digest', kind: 'bytes' },
  18: { name: 'potential-expiration-time', kind: 'u32' },
  19: { name: 'receive-timer', kind: 'u32' },
  20: { name: 'protocol-version', kind: 'u8' },
  21: { name: 'reject-reason', kind: 'u8' },
  22: { name: 'relationship-name', kind: 'bytes' },
  23: { name: 'server-flags', kind: 'u8' },
  24: { name: 'server-state', kind: 'u8' },
  25: { name: 'start-time-of-state', kind: 'u32' },
  26: { name: 'TLS-reply', kind: 'u8' },
  27: { name: 'TLS-request', kind: 'u8' },
  28: { name: 'vendor-class-identifier', kind: 'bytes' },
  29: { name: 'vendor-specific-options', kind: 'bytes' },
};

/** Name of an option code (`unknown-N` otherwise). */
export function optionName(code: number): string {
  return OPTION_INFO[code]?.name ?? `unknown-${code}`;
}

/** Reject reasons (FTR_*, FAILOVER.md §3.1). */
export const FTR = {
  ILLEGAL_IP_ADDR: 1,
  FATAL_CONFLICT: 2,
  MISSING_BINDINFO: 3,
  TIMEMISMATCH: 4,
  INVALID_MCLT: 5,
  MISC_REJECT: 6,
  DUP_CONNECTION: 7,
  INVALID_PARTNER: 8,
  TLS_UNSUPPORTED: 9,
  TLS_UNCONFIGURED: 10,
  TLS_REQUIRED: 11,
  DIGEST_UNSUPPORTED: 12,
  DIGEST_UNCONFIGURED: 13,
  VERSION_MISMATCH: 14,
  OUTDATED_BIND_INFO: 15,
  LESS_CRIT_BIND_INFO: 16,
  NO_TRAFFIC: 17,
  HBA_CONFLICT: 18,
  IP_NOT_RESERVED: 19,
  IP_DIGEST_FAILURE: 20,
  IP_MISSING_DIGEST: 21,
  UNKNOWN: 254,
} as const;

const REJECT_REASON_TEXT: Readonly<Record<number, string>> = {
  1: 'Illegal IP address (not part of any address pool).',
  2: 'Fatal conflict exists: address in use by other client.',
  3: 'Missing binding information.',
  4: 'Connection rejected, time mismatch too great.',
  5: 'Connection rejected, invalid MCLT.',
  6: 'Connection rejected, unknown reason.',
  7: 'Connection rejected, duplicate connection.',
  8: 'Connection rejected, invalid failover partner.',
  9: 'TLS not supported.',
  10: 'TLS supported but not configured.',
  11: 'TLS required but not supported by partner.',
  12: 'Message digest not supported.',
  13: 'Message digest not configured.',
  14: 'Protocol version mismatch.',
  15: 'Outdated binding information.',
  16: 'Less critical binding information.',
  17: 'No traffic within sufficient time.',
  18: 'Hash bucket assignment conflict.',
  19: 'IP not reserved on this server.',
  20: 'Message digest failed to compare.',
  21: 'Missing message digest.',
  254: 'Unknown Error.',
};

/** ISC's `dhcp_failover_reject_reason_print` text for a reject reason. */
export function rejectReasonText(code: number): string {
  return REJECT_REASON_TEXT[code] ?? `Undefined-${code}: This reason code is not defined in the protocol standard.`;
}

/** Failover states as numbered on the wire (FAILOVER.md §5.1). `startup` is never sent. */
export const FailoverStates = {
  'unknown-state': 0,
  startup: 1,
  normal: 2,
  'communications-interrupted': 3,
  'partner-down': 4,
  'potential-conflict': 5,
  recover: 6,
  paused: 7,
  shutdown: 8,
  'recover-done': 9,
  'resolution-interrupted': 10,
  'conflict-done': 11,
  'recover-wait': 254,
} as const;
/** ISC's state names (log lines, lease file). */
export type FailoverStateName = keyof typeof FailoverStates;

const STATE_BY_NUMBER = new Map<number, FailoverStateName>(
  (Object.entries(FailoverStates) as [FailoverStateName, number][]).map(([n, v]) => [v, n]),
);

/** State name for a wire value, or undefined for a value ISC does not know (ISC: `Invalid state: N`). */
export function stateFromWire(value: number): FailoverStateName | undefined {
  return STATE_BY_NUMBER.get(value);
}

/** Wire value of a state. */
export function stateToWire(state: FailoverStateName): number {
  return FailoverStates[state];
}

/** True when `s` is one of ISC's state names (as written in dhcpd.leases). */
export function isStateName(s: string): s is FailoverStateName {
  return Object.prototype.hasOwnProperty.call(FailoverStates, s);
}

/** server-flags bits (FAILOVER.md §3.2). */
export const SERVER_FLAG_STARTUP = 0x01;

/** IP-flags bits (FAILOVER.md §3.2). */
export const IP_FLAG_RESERVE = 0x0001;
export const IP_FLAG_BOOTP = 0x0002;

/** binding-status values (FTS_*, FAILOVER.md §6.1). */
export const BindingStatus = {
  free: 1,
  active: 2,
  expired: 3,
  released: 4,
  abandoned: 5,
  reset: 6,
  backup: 7,
} as const;
export type BindingStatusName = keyof typeof BindingStatus;

const BINDING_BY_NUMBER = new Map<number, BindingStatusName>(
  (Object.entries(BindingStatus) as [BindingStatusName, number][]).map(([n, v]) => [v, n]),
);

/** Binding state name for a wire value (undefined if unknown). */
export function bindingStatusFromWire(value: number): BindingStatusName | undefined {
  return BINDING_BY_NUMBER.get(value);
}

/** One TLV as it appears on the wire (code, raw value). */
export interface RawOption {
  readonly code: number;
  readonly data: Buffer;
}

/**
 * Typed view of the options of a message: every option ISC knows, by field name. Times are Unix seconds
 * (u32), addresses uint32 host order. Absent options are undefined.
 */
export interface FailoverFields {
  addressesTransferred?: number;
  assignedIpAddress?: number;
  bindingStatus?: number;
  /** Option 61 payload, type byte included. */
  clientIdentifier?: Buffer;
  /** htype byte followed by the hardware address. */
  chaddr?: Buffer;
  cltt?: number;
  clientReplyOptions?: Buffer;
  clientRequestOptions?: Buffer;
  ddns?: Buffer;
  delayedService?: number;
  /** 256-bit hash bucket map (ISC requires exactly 32 bytes in CONNECT). */
  hba?: Buffer;
  ipFlags?: number;
  leaseExpirationTime?: number;
  maxUnackedBndupd?: number;
  mclt?: number;
  message?: string;
  messageDigest?: Buffer;
  potentialExpirationTime?: number;
  receiveTimer?: number;
  protocolVersion?: number;
  rejectReason?: number;
  relationshipName?: Buffer;
  serverFlags?: number;
  serverState?: number;
  startTimeOfState?: number;
  tlsReply?: number;
  tlsRequest?: number;
  vendorClassIdentifier?: Buffer;
  vendorSpecificOptions?: Buffer;
}

/** Field name for each option code. */
export const FIELD_BY_CODE: Readonly<Record<number, keyof FailoverFields>> = {
  1: 'addressesTransferred',
  2: 'assignedIpAddress',
  3: 'bindingStatus',
  4: 'clientIdentifier',
  5: 'chaddr',
  6: 'cltt',
  7: 'clientReplyOptions',
  8: 'clientRequestOptions',
  9: 'ddns',
  10: 'delayedService',
  11: 'hba',
  12: 'ipFlags',
  13: 'leaseExpirationTime',
  14: 'maxUnackedBndupd',
  15: 'mclt',
  16: 'message',
  17: 'messageDigest',
  18: 'potentialExpirationTime',
  19: 'receiveTimer',
  20: 'protocolVersion',
  21: 'rejectReason',
  22: 'relationshipName',
  23: 'serverFlags',
  24: 'serverState',
  25: 'startTimeOfState',
  26: 'tlsReply',
  27: 'tlsRequest',
  28: 'vendorClassIdentifier',
  29: 'vendorSpecificOptions',
};

/**
 * Option emit order ISC uses per message type (FAILOVER.md §2.1); options a builder is given are written in
 * this order, so our messages look like ISC's on the wire.
 */
export const EMIT_ORDER: Readonly<Record<number, readonly number[]>> = {
  [FTM.POOLREQ]: [],
  [FTM.POOLRESP]: [FTO.ADDRESSES_TRANSFERRED],
  [FTM.BNDUPD]: [
    FTO.ASSIGNED_IP_ADDRESS,
    FTO.BINDING_STATUS,
    FTO.CLIENT_IDENTIFIER,
    FTO.CHADDR,
    FTO.LEASE_EXPIRY,
    FTO.POTENTIAL_EXPIRY,
    FTO.STOS,
    FTO.CLTT,
    FTO.IP_FLAGS,
  ],
  [FTM.BNDACK]: [FTO.ASSIGNED_IP_ADDRESS, FTO.REJECT_REASON, FTO.MESSAGE],
  [FTM.CONNECT]: [
    FTO.RELATIONSHIP_NAME,
    FTO.MAX_UNACKED,
    FTO.RECEIVE_TIMER,
    FTO.VENDOR_CLASS,
    FTO.PROTOCOL_VERSION,
    FTO.TLS_REQUEST,
    FTO.MCLT,
    FTO.HBA,
  ],
  [FTM.CONNECTACK]: [
    FTO.RELATIONSHIP_NAME,
    FTO.MAX_UNACKED,
    FTO.RECEIVE_TIMER,
    FTO.VENDOR_CLASS,
    FTO.PROTOCOL_VERSION,
    FTO.TLS_REPLY,
    FTO.REJECT_REASON,
    FTO.MESSAGE,
  ],
  [FTM.UPDREQALL]: [],
  [FTM.UPDDONE]: [],
  [FTM.UPDREQ]: [],
  [FTM.STATE]: [FTO.SERVER_STATE, FTO.SERVER_FLAGS, FTO.STOS],
  [FTM.CONTACT]: [],
  [FTM.DISCONNECT]: [FTO.REJECT_REASON, FTO.MESSAGE],
};

/**
 * A failover message. `options` are the TLVs in wire order (kept so a decoded message re-encodes byte for
 * byte); `fields` is the typed view of the options ISC knows.
 */
export interface FailoverMessage {
  readonly type: number;
  /** Payload offset; ISC always sends 12 (FAILOVER.md §1.2). */
  readonly payoff: number;
  /** Bytes between the 12-byte header and the payload offset (ISC skips them; kept for re-encoding). */
  readonly headerExtra?: Buffer;
  /** Sender's time() when built. */
  readonly time: number;
  readonly xid: number;
  readonly options: readonly RawOption[];
  readonly fields: FailoverFields;
}

/** Our vendor-class-identifier (ISC sends `isc-` + its version and never checks the peer's, §12.8). */
export const VENDOR_CLASS = 'dhcpd-ts';

/** Maximum message size ISC accepts (FAILOVER.md §1.4 rule 1). */
export const MAX_MESSAGE_LENGTH = 2048;
/** Header size (and ISC's payload offset). */
export const HEADER_LENGTH = 12;
