/**
 * The reverse lookup behind `get-lease-hostnames` (src/policy/lease-hostnames.ts). ISC calls
 * gethostbyaddr(3), which goes through the name service switch (/etc/hosts, then the DNS servers of
 * /etc/resolv.conf); Node's `dns.lookupService` is getnameinfo(3) with NI_NAMEREQD over the same switch,
 * run on libuv's thread pool so the event loop keeps serving while it waits. Concurrent lookups of one
 * address share one query; each is bounded by `timeoutMs` (glibc's own retries may take longer), after
 * which the reply goes out as if the lookup had failed.
 *
 * @module
 */
import { lookupService } from 'node:dns/promises';
import { ipv4ToString } from '../wire/packet.js';

/** Looks up the host name of an IPv4 address (uint32); undefined when there is none or on timeout. */
export type ReverseLookup = (address: number) => Promise<string | undefined>;

/** The system resolver (nsswitch: files, dns), deduplicated per address, bounded by `timeoutMs`. */
export function systemReverseLookup(timeoutMs = 10_000): ReverseLookup {
  const inFlight = new Map<number, Promise<string | undefined>>();
  return (address) => {
    const running = inFlight.get(address);
    if (running !== undefined) return running;
    let timer: NodeJS.Timeout | undefined;
    const p = Promise.race([
      lookupService(ipv4ToString(address), 0).then(
        (r) => (r.hostname !== '' && r.hostname !== ipv4ToString(address) ? r.hostname : undefined),
        () => undefined,
      ),
      new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs);
        timer.unref();
      }),
    ]).finally(() => {
      if (timer !== undefined) clearTimeout(timer);
      inFlight.delete(address);
    });
    inFlight.set(address, p);
    return p;
  };
}
