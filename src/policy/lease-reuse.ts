/**
 * ISC 4.4's `dhcp-cache-threshold` (server/dhcp.c reuse_lease, default 25 %): when a client asks again for
 * the active lease it got a moment ago — its age (now − starts) at most that percentage of the lease's
 * length — ISC answers with the lease unaltered: the lease time sent is what is left of it (ends − now),
 * nothing is written to the lease database and no failover binding update is sent. So a client that
 * restarts (INIT-REBOOT) or renews early does not cost a disk write, and on a failover pair the two peers
 * that both ACK a broadcast REQUEST do not send each other duelling updates.
 *
 * Not reusable: a fixed-address lease, a lease not active, a different client (uid or hardware address),
 * a host name that changed, a billing class that changed, a threshold of 0, and — ISC's `cannot_reuse`
 * flag, kept here per address — the REQUEST that follows an OFFER which itself could not reuse the lease.
 *
 * @module
 */
import type { Lease } from '../../leases/lease.js';
import type { Logger } from '../log/logger.js';
import { ipv4ToString } from '../wire/packet.js';

/** ISC's server-space code of `dhcp-cache-threshold` (server/stables.c) and its default. */
export const SV_CACHE_THRESHOLD = 78;
export const DEFAULT_CACHE_THRESHOLD = 25;

/** What one ack_lease knows when it decides. */
export interface ReuseFacts {
  /** The lease as stored (before this reply). */
  readonly lease: Lease;
  /** 1 = DHCPOFFER (ISC sets cannot_reuse after an OFFER that could not reuse). */
  readonly isOffer: boolean;
  readonly now: number;
  /** The `dhcp-cache-threshold` value in effect (one byte, below 100), if configured. */
  readonly threshold: Buffer | undefined;
  readonly uid: Buffer | undefined;
  readonly htype: number;
  readonly chaddr: Buffer;
  /** The client's host-name option, if it sent one. */
  readonly clientHostname: string | undefined;
  /** This reply bills the lease to a class it was not billed to. */
  readonly billingChanged: boolean;
}

/** ISC's per-lease `cannot_reuse` flag and the reuse_lease decision. One per engine. */
export class LeaseReuse {
  private readonly cannotReuse = new Set<number>();

  /**
   * Returns the lease time to send when the lease is reused as it is (ends − now), else undefined; logs
   * ISC's debug line when it reuses.
   */
  decide(f: ReuseFacts, logger?: Logger): number | undefined {
    const l = f.lease;
    // ISC ack_lease: a changed client host name or billing class disqualifies the lease before reuse_lease.
    if (f.clientHostname !== undefined && l.clientHostname !== f.clientHostname) this.cannotReuse.add(l.address);
    if (f.billingChanged) this.cannotReuse.add(l.address);
    const sameClient =
      (l.uid ?? Buffer.alloc(0)).equals(f.uid ?? Buffer.alloc(0)) &&
      l.hardware !== null &&
      l.hardware.htype === f.htype &&
      l.hardware.address.equals(f.chaddr);
    let reusable = false;
    let leaseTime: number | undefined;
    if (!this.cannotReuse.has(l.address) && l.bindingState === 'active' && sameClient && l.starts !== null && l.ends !== null && l.ends > f.now) {
      const t = f.threshold;
      const thresh = t !== undefined && t.length === 1 && t[0]! < 100 ? t[0]! : DEFAULT_CACHE_THRESHOLD;
      if (thresh > 0) {
        const length = l.ends - l.starts;
        const limit = Math.floor((length * thresh) / 100);
        const age = f.now - l.starts;
        if (age <= limit) {
          reusable = true;
          leaseTime = l.ends - f.now;
          logger?.debug(`reuse_lease: lease age ${age} (secs) under ${thresh}% threshold, reply with unaltered, existing lease for ${ipv4ToString(l.address)}`);
        }
      }
    }
    if (!reusable && f.isOffer) this.cannotReuse.add(l.address);
    else this.cannotReuse.delete(l.address);
    return leaseTime;
  }
}
