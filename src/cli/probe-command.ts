/**
 * `dhcpd probe`: ask a DHCP server one question as a relay agent would (src/net/probe-client.ts) and print
 * the answer. Flags in dhcpd's single-dash style:
 *
 *   dhcpd probe -s SERVER -g GIADDR [-m MAC] [-p SERVER-PORT] [-lp LOCAL-PORT] [-request ADDR]
 *               [-timeout MS] [-n ATTEMPTS]
 *
 * GIADDR must be an address of this host (the server answers there, on LOCAL-PORT, default 67); it also
 * selects the subnet. `-request ADDR` sends a DHCPREQUEST for ADDR (with SERVER as server identifier)
 * instead of a DHCPDISCOVER. Exit 0 with a reply, 1 without one, 2 for a usage error.
 */
import { noArgumentMessage, validatePort } from './argv.js';

export interface ProbeArgs {
  server: string;
  giaddr: string;
  mac: string;
  serverPort: number | undefined;
  localPort: number | undefined;
  request: string | undefined;
  timeoutMs: number | undefined;
  attempts: number | undefined;
}

export const PROBE_USAGE =
  'Usage: dhcpd probe -s server -g giaddr [-m mac] [-p server-port] [-lp local-port]\n' +
  '                   [-request address] [-timeout ms] [-n attempts]\n';

const DOTTED = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const MAC = /^[0-9a-fA-F]{1,2}(:[0-9a-fA-F]{1,2}){5}$/;

/** Parses the probe's flags; returns an error message for anything wrong. */
export function parseProbeArgs(argv: readonly string[]): ProbeArgs | { error: string } {
  const a: Partial<ProbeArgs> & { mac: string } = { mac: '02:00:00:00:00:01' };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (!['-s', '-g', '-m', '-p', '-lp', '-request', '-timeout', '-n'].includes(flag)) return { error: `Unknown command ${flag}` };
    if (++i === argv.length) return { error: noArgumentMessage(flag) };
    const v = argv[i];
    switch (flag) {
      case '-s':
      case '-g':
      case '-request':
        if (!DOTTED.test(v)) return { error: `${flag}: not an IPv4 address: ${v}` };
        if (flag === '-s') a.server = v;
        else if (flag === '-g') a.giaddr = v;
        else a.request = v;
        break;
      case '-m':
        if (!MAC.test(v)) return { error: `-m: not an Ethernet address: ${v}` };
        a.mac = v;
        break;
      case '-p':
      case '-lp': {
        const p = validatePort(v);
        if (typeof p !== 'number') return { error: p.error };
        if (flag === '-p') a.serverPort = p;
        else a.localPort = p;
        break;
      }
      default: {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) return { error: `${flag}: not a positive number: ${v}` };
        if (flag === '-timeout') a.timeoutMs = n;
        else a.attempts = n;
      }
    }
  }
  if (a.server === undefined || a.giaddr === undefined) return { error: 'probe needs -s server and -g giaddr' };
  return {
    server: a.server,
    giaddr: a.giaddr,
    mac: a.mac,
    serverPort: a.serverPort,
    localPort: a.localPort,
    request: a.request,
    timeoutMs: a.timeoutMs,
    attempts: a.attempts,
  };
}

/** Runs the probe; writes the answer to `out`, problems to `err`; resolves with the exit code. */
export async function runProbe(argv: readonly string[], out: NodeJS.WritableStream, err: NodeJS.WritableStream): Promise<number> {
  const parsed = parseProbeArgs(argv);
  if ('error' in parsed) {
    err.write(`${parsed.error}\n${PROBE_USAGE}`);
    return 2;
  }
  const { probe, ProbeTimeoutError } = await import('../net/probe-client.js');
  const { messageTypeName } = await import('../wire/packet.js');
  try {
    const r = await probe({
      server: parsed.server,
      giaddr: parsed.giaddr,
      chaddr: parsed.mac,
      ...(parsed.serverPort !== undefined ? { serverPort: parsed.serverPort } : {}),
      ...(parsed.localPort !== undefined ? { localPort: parsed.localPort } : {}),
      ...(parsed.request !== undefined
        ? { messageType: 'request' as const, requestedAddress: parsed.request, serverIdentifier: parsed.server }
        : {}),
      ...(parsed.timeoutMs !== undefined ? { timeoutMs: parsed.timeoutMs } : {}),
      ...(parsed.attempts !== undefined ? { attempts: parsed.attempts } : {}),
    });
    out.write(`${messageTypeName(r.messageType)} on ${r.yiaddr} from ${r.from.address}:${r.from.port} (attempt ${r.attempt}, ${r.elapsedMs} ms)\n`);
    for (const [code, value] of [...r.reply.options].sort((x, y) => x[0] - y[0])) {
      out.write(`  option ${code}: ${value.toString('hex').replace(/(..)(?=.)/g, '$1:')}\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof ProbeTimeoutError) {
      err.write(`dhcpd probe: ${e.message}\n`);
      return 1;
    }
    err.write(`dhcpd probe: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
}
