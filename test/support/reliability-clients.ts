/**
 * A real DHCP client that renews by unicast, for the reliability tests (issue 8: "known clients still renew",
 * "recovers when the disk does"): ISC dhclient, kept running (no -1) in a namespace of the test, with an event
 * script that puts the leased address on its interface, so that at T1 it enters RENEWING and sends its
 * DHCPREQUEST (ciaddr set) by unicast from that address to the server, as RFC 2131 §4.4.5 says. Its
 * `-d -v` output is the record: "DHCPREQUEST for A on eth0 to S port 67" (S is the server for a renewal,
 * 255.255.255.255 otherwise), "DHCPACK of A from S", "DHCPNAK from S", "bound to A -- renewal in N seconds.".
 */
import { chmod, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { dhclientArgs, waitUntil, type LanHost, type NsProcess } from './netns.js';

/** dhclient-script replacement: configure (or remove) the leased address on the client's own interface only. */
const EVENT_SCRIPT = `#!/bin/sh
# Runs inside the client's test namespace only.
case "$reason" in
  BOUND|RENEW|REBIND|REBOOT) ip -4 addr replace "$new_ip_address/$new_subnet_mask" dev "$interface" ;;
  EXPIRE|FAIL|RELEASE|STOP) ip -4 addr flush dev "$interface" ;;
esac
echo "event $reason $new_ip_address"
exit 0
`;

/** What a renewing client did in a span of its output. */
export interface RenewSpan {
  /** DHCPREQUESTs sent by unicast to a server (RENEWING state). */
  readonly unicastRequests: number;
  /** DHCPREQUESTs sent by broadcast (SELECTING, INIT-REBOOT or REBINDING). */
  readonly broadcastRequests: number;
  /** Addresses of the DHCPACKs received, in order. */
  readonly acks: readonly string[];
  /** Renewals completed: RENEW events of the script (an ACK in RENEWING). */
  readonly renewed: number;
  /** DHCPNAKs received. */
  readonly naks: number;
  /** The client's lease ran out (EXPIRE event) at least once. */
  readonly expired: boolean;
}

/** A running dhclient that renews by unicast. */
export interface RenewingClient {
  readonly proc: NsProcess;
  readonly host: LanHost;
  /** A position in the output, for {@link span}. */
  mark(): number;
  /** What happened from `from` (a {@link mark}) to `to` (default: now). */
  span(from: number, to?: number): RenewSpan;
  /** Waits (bounded) until the output after `from` shows `what`; returns the match. */
  waitAfter(from: number, what: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Waits for the first lease; returns its address. */
  bound(timeoutMs: number): Promise<string>;
  stop(): Promise<void>;
}

const UNICAST_REQ = /^DHCPREQUEST for \S+ on \S+ to (?!255\.255\.255\.255 )\S+ port 67/gm;
const BROADCAST_REQ = /^DHCPREQUEST for \S+ on \S+ to 255\.255\.255\.255 port 67/gm;

/** Summarises dhclient `-d -v` output (see {@link RenewSpan}). */
export function summariseDhclient(text: string): RenewSpan {
  return {
    unicastRequests: text.match(UNICAST_REQ)?.length ?? 0,
    broadcastRequests: text.match(BROADCAST_REQ)?.length ?? 0,
    acks: [...text.matchAll(/^DHCPACK of (\S+) from/gm)].map((m) => m[1]!),
    renewed: text.match(/^event RENEW /gm)?.length ?? 0,
    naks: text.match(/^DHCPNAK from/gm)?.length ?? 0,
    expired: /^event EXPIRE/m.test(text),
  };
}

/**
 * Starts dhclient on `host`'s eth0 with every file in `dir` (a temp directory of the test). It is tracked by
 * the host's topology, so Topology.destroy() stops it even if the test fails.
 */
export async function startRenewingClient(host: LanHost, dir: string): Promise<RenewingClient> {
  const script = join(dir, 'dhclient-event.sh');
  await writeFile(script, EVENT_SCRIPT);
  await chmod(script, 0o755);
  const proc = host.spawn('dhclient', dhclientArgs(dir, 'eth0', { script, once: false }));
  const c: RenewingClient = {
    proc,
    host,
    mark: () => proc.output.length,
    span: (from, to) => summariseDhclient(proc.output.slice(from, to)),
    waitAfter: (from, what, timeoutMs) =>
      waitUntil(() => proc.output.slice(from).match(what) ?? undefined, { timeoutMs, intervalMs: 100, what: `${String(what)} from dhclient on ${host.ns}` }).catch(
        (e: unknown) => {
          throw new Error(`${e instanceof Error ? e.message : String(e)}; dhclient output:\n${proc.output.slice(-2000)}`);
        },
      ),
    bound: async (timeoutMs) => (await c.waitAfter(0, /^bound to (\S+) -- renewal/m, timeoutMs))[1]!,
    stop: async () => {
      await proc.stop('SIGTERM', 2000);
    },
  };
  return c;
}
