/**
 * Typed access to the common server parameters (ISC's `server` option space) with ISC 4.4.3's defaults.
 *
 * ISC stores parameters as options of the `server` space and evaluates them per request after running
 * the statements of every scope (outer to inner). `resolveServerParameters()` does the static part of that:
 * it applies the unconditional, constant parameter statements of the given scopes in order (inner wins)
 * and fills in ISC's defaults. Parameters set inside `if`/`switch` or as `= expr` are not visible here;
 * the engine has to evaluate those per packet (they are left at the value of the enclosing scopes).
 */
import type { Scope, Statement } from './model.js';

/** ISC's allow/deny/ignore tri-state (boolean option value 0 = deny, 1 = allow, 2 = ignore). */
export type AllowDeny = 'allow' | 'deny' | 'ignore';

export interface ServerParameters {
  /** Seconds; ISC default 43200 (DEFAULT_DEFAULT_LEASE_TIME). 0xffffffff = infinite. */
  defaultLeaseTime: number;
  /** Seconds; default 86400. */
  maxLeaseTime: number;
  /** Seconds; default 300 (DEFAULT_MIN_LEASE_TIME, capped at max-lease-time by dhcp.c). */
  minLeaseTime: number;
  authoritative: boolean;
  /** Default true (dhcp.c pings unless ping-check is false). */
  pingCheck: boolean;
  /** Seconds; default 1. */
  pingTimeout: number;
  /** Milliseconds; default 0 (unused unless set). */
  pingTimeoutMs: number;
  /** Seconds; default 60 (DEFAULT_PING_CLTT_SECS). */
  pingClttSecs: number;
  /** uint32 or a host name to resolve, null = not set (siaddr then is the server's address). */
  nextServer: number | string | null;
  filename: Uint8Array | null;
  serverName: Uint8Array | null;
  /** Value of `server-identifier` (option dhcp-server-identifier), uint32 or host name. */
  serverIdentifier: number | string | null;
  alwaysBroadcast: boolean;
  alwaysReplyRfc1048: boolean;
  getLeaseHostnames: boolean;
  useHostDeclNames: boolean;
  oneLeasePerClient: boolean;
  /** `boot-unknown-clients` / `allow|deny unknown-clients` — default allow. */
  bootUnknownClients: AllowDeny;
  /** `allow-bootp` / `allow|deny bootp` — default allow. */
  allowBootp: AllowDeny;
  /** `allow-booting` / `allow|deny booting` — default allow. */
  allowBooting: AllowDeny;
  /** `dynamic-bootp` … default allow. */
  dynamicBootp: AllowDeny;
  duplicates: AllowDeny;
  declines: AllowDeny;
  clientUpdates: AllowDeny;
  leasequery: AllowDeny;
  /** Seconds; default 86400 (DEFAULT_ABANDON_LEASE_TIME). */
  abandonLeaseTime: number;
  /** Syslog facility name; default 'daemon' (LOG_DAEMON). */
  logFacility: string;
  dontUseFsync: boolean;
  /** Default 'none' in 4.4 (ddns-update-style unset = none). */
  ddnsUpdateStyle: 'none' | 'ad-hoc' | 'interim' | 'standard';
  ddnsUpdates: boolean;
  /** uint32 or host name, null = all addresses. */
  localAddress: number | string | null;
  /** Default 67. */
  localPort: number;
  /** Default null (local-port + 1 for relays' view: ISC sends to 68). */
  remotePort: number | null;
  leaseFileName: string | null;
  pidFileName: string | null;
  omapiPort: number | null;
  minSecs: number;
  stashAgentOptions: boolean;
  echoClientId: boolean;
  ignoreClientUids: boolean;
  infiniteIsReserved: boolean;
  updateStaticLeases: boolean;
  /** Percent, 0 = disabled. */
  adaptiveLeaseTimeThreshold: number;
  /** Percent; default 25 (DEFAULT_CACHE_THRESHOLD). */
  dhcpCacheThreshold: number;
  vendorOptionSpace: string | null;
  siteOptionSpace: string | null;
  dynamicBootpLeaseCutoff: number | null;
  dynamicBootpLeaseLength: number | null;
  logThresholdLow: number;
  logThresholdHigh: number;
  serverIdCheck: boolean;
  releaseOnRoam: boolean;
}

/** ISC 4.4.3's defaults for the parameters above. */
export const DEFAULT_SERVER_PARAMETERS: Readonly<ServerParameters> = Object.freeze({
  defaultLeaseTime: 43200,
  maxLeaseTime: 86400,
  minLeaseTime: 300,
  authoritative: false,
  pingCheck: true,
  pingTimeout: 1,
  pingTimeoutMs: 0,
  pingClttSecs: 60,
  nextServer: null,
  filename: null,
  serverName: null,
  serverIdentifier: null,
  alwaysBroadcast: false,
  alwaysReplyRfc1048: false,
  getLeaseHostnames: false,
  useHostDeclNames: false,
  oneLeasePerClient: false,
  bootUnknownClients: 'allow',
  allowBootp: 'allow',
  allowBooting: 'allow',
  dynamicBootp: 'allow',
  duplicates: 'allow',
  declines: 'allow',
  clientUpdates: 'allow',
  leasequery: 'deny',
  abandonLeaseTime: 86400,
  logFacility: 'daemon',
  dontUseFsync: false,
  ddnsUpdateStyle: 'none',
  ddnsUpdates: true,
  localAddress: null,
  localPort: 67,
  remotePort: null,
  leaseFileName: null,
  pidFileName: null,
  omapiPort: null,
  minSecs: 0,
  stashAgentOptions: false,
  echoClientId: false,
  ignoreClientUids: false,
  infiniteIsReserved: false,
  updateStaticLeases: false,
  adaptiveLeaseTimeThreshold: 0,
  dhcpCacheThreshold: 25,
  vendorOptionSpace: null,
  siteOptionSpace: null,
  dynamicBootpLeaseCutoff: null,
  dynamicBootpLeaseLength: null,
  logThresholdLow: 0,
  logThresholdHigh: 0,
  serverIdCheck: false,
  releaseOnRoam: false,
}) as ServerParameters;

const u32 = (d: Uint8Array): number | null =>
  d.length === 4 ? ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0 : null;
const u16 = (d: Uint8Array): number | null => (d.length === 2 ? (d[0] << 8) | d[1] : null);
const u8 = (d: Uint8Array): number | null => (d.length === 1 ? d[0] : null);
const bool = (d: Uint8Array): boolean | null => (d.length === 1 ? d[0] !== 0 : null);
const tri = (d: Uint8Array): AllowDeny | null =>
  d.length === 1 ? (d[0] === 0 ? 'deny' : d[0] === 2 ? 'ignore' : 'allow') : null;
const text = (d: Uint8Array): string => Buffer.from(d).toString('latin1');

type Setter = (p: ServerParameters, d: Uint8Array) => void;
const set = <K extends keyof ServerParameters>(key: K, conv: (d: Uint8Array) => ServerParameters[K] | null): Setter =>
  (p, d) => {
    const v = conv(d);
    if (v !== null) p[key] = v;
  };

/** server-space option name -> how to apply its constant bytes. */
const SETTERS: Record<string, Setter> = {
  'default-lease-time': set('defaultLeaseTime', u32),
  'max-lease-time': set('maxLeaseTime', u32),
  'min-lease-time': set('minLeaseTime', u32),
  authoritative: set('authoritative', bool),
  'ping-check': set('pingCheck', bool),
  'ping-timeout': set('pingTimeout', u32),
  'ping-timeout-ms': set('pingTimeoutMs', u32),
  'ping-cltt-secs': set('pingClttSecs', u32),
  'next-server': set('nextServer', u32),
  filename: set('filename', (d) => d),
  'server-name': set('serverName', (d) => d),
  'always-broadcast': set('alwaysBroadcast', bool),
  'always-reply-rfc1048': set('alwaysReplyRfc1048', bool),
  'get-lease-hostnames': set('getLeaseHostnames', bool),
  'use-host-decl-names': set('useHostDeclNames', bool),
  'one-lease-per-client': set('oneLeasePerClient', bool),
  'boot-unknown-clients': set('bootUnknownClients', tri),
  'allow-bootp': set('allowBootp', tri),
  'allow-booting': set('allowBooting', tri),
  'dynamic-bootp': set('dynamicBootp', tri),
  duplicates: set('duplicates', tri),
  declines: set('declines', tri),
  'client-updates': set('clientUpdates', tri),
  leasequery: set('leasequery', tri),
  'abandon-lease-time': set('abandonLeaseTime', u32),
  'log-facility': set('logFacility', (d) => {
    const v = u8(d);
    if (v === null) return null;
    const names: Record<number, string> = {
      0: 'kern', 8: 'user', 16: 'mail', 24: 'daemon', 32: 'auth', 40: 'syslog', 48: 'lpr', 56: 'news', 64: 'uucp',
      72: 'cron', 80: 'authpriv', 88: 'ftp', 128: 'local0', 136: 'local1', 144: 'local2', 152: 'local3',
      160: 'local4', 168: 'local5', 176: 'local6', 184: 'local7',
    };
    return names[v] ?? null;
  }),
  'dont-use-fsync': set('dontUseFsync', bool),
  'ddns-update-style': set('ddnsUpdateStyle', (d) => {
    const v = u8(d);
    return v === 0 ? 'none' : v === 1 ? 'ad-hoc' : v === 2 ? 'interim' : v === 3 ? 'standard' : null;
  }),
  'ddns-updates': set('ddnsUpdates', bool),
  'local-address': set('localAddress', u32),
  'local-port': set('localPort', u16),
  'remote-port': set('remotePort', u16),
  'lease-file-name': set('leaseFileName', text),
  'pid-file-name': set('pidFileName', text),
  'omapi-port': set('omapiPort', u16),
  'min-secs': set('minSecs', u8),
  'stash-agent-options': set('stashAgentOptions', bool),
  'echo-client-id': set('echoClientId', bool),
  'ignore-client-uids': set('ignoreClientUids', bool),
  'infinite-is-reserved': set('infiniteIsReserved', bool),
  'update-static-leases': set('updateStaticLeases', bool),
  'adaptive-lease-time-threshold': set('adaptiveLeaseTimeThreshold', u8),
  'dhcp-cache-threshold': set('dhcpCacheThreshold', u8),
  'vendor-option-space': set('vendorOptionSpace', text),
  'site-option-space': set('siteOptionSpace', text),
  'dynamic-bootp-lease-cutoff': set('dynamicBootpLeaseCutoff', u32),
  'dynamic-bootp-lease-length': set('dynamicBootpLeaseLength', u32),
  'log-threshold-low': set('logThresholdLow', u8),
  'log-threshold-high': set('logThresholdHigh', u8),
  'server-id-check': set('serverIdCheck', bool),
  'release-on-roam': set('releaseOnRoam', bool),
};

function applyStatements(p: ServerParameters, statements: Statement[]): void {
  for (const st of statements) {
    if (st.kind !== 'option') continue;
    if (st.mode === 'send' || st.mode === 'prepend' || st.mode === 'append') continue;
    if (st.space === 'dhcp' && st.code === 54) {
      // server-identifier is option dhcp-server-identifier (confpars.c).
      if (st.value.kind === 'const') p.serverIdentifier = u32(st.value.data);
      else if (st.value.expr.op === 'host-lookup') p.serverIdentifier = st.value.expr.hostname;
      continue;
    }
    if (st.space !== 'server') continue;
    if (st.value.kind === 'expr') {
      const e = st.value.expr;
      if (e.op === 'host-lookup') {
        if (st.name === 'next-server') p.nextServer = e.hostname;
        else if (st.name === 'local-address') p.localAddress = e.hostname;
      }
      continue;
    }
    const setter = SETTERS[st.name];
    if (setter) setter(p, st.value.data);
  }
}

/**
 * Effective parameters for a chain of scopes (outermost first, e.g. `scopeChain(pool.scope)`), using the
 * unconditional constant statements only, with ISC's defaults for the rest.
 */
export function resolveServerParameters(chain: readonly Scope[]): ServerParameters {
  const p: ServerParameters = { ...DEFAULT_SERVER_PARAMETERS };
  for (const s of chain) applyStatements(p, s.statements);
  // dhcp.c: min-lease-time defaults to DEFAULT_MIN_LEASE_TIME but never above max-lease-time.
  if (p.minLeaseTime > p.maxLeaseTime) p.minLeaseTime = p.maxLeaseTime;
  return p;
}
