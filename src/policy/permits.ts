/**
 * Pool access lists (ISC `permitted()` and the allow/deny checks in allocate_lease/find_lease). Pure.
 *
 * @module
 */
import type { Permit, Pool } from '../config/model.js';

/** What the permit checks look at. */
export interface PermitFacts {
  /** A host declaration matched (ISC packet->known). */
  readonly known: boolean;
  /** The request has no DHCP message type (BOOTP). */
  readonly bootp: boolean;
  /** Classes the client is a member of. */
  readonly classes: ReadonlySet<string>;
  readonly now: number;
}

/** ISC permitted(): true when any entry of the list matches the client. */
export function permitted(list: readonly Permit[], f: PermitFacts): boolean {
  for (const p of list) {
    switch (p.type) {
      case 'known-clients':
        if (f.known) return true;
        break;
      case 'unknown-clients':
        if (!f.known) return true;
        break;
      case 'authenticated-clients':
        break;
      case 'unauthenticated-clients':
      case 'all-clients':
        return true;
      case 'dynamic-bootp-clients':
        if (f.bootp) return true;
        break;
      case 'class':
        if (f.classes.has(p.className)) return true;
        break;
      case 'after':
        if (f.now >= p.time) return true;
        break;
    }
  }
  return false;
}

/** A pool admits the client unless its deny list matches or its allow list (when it has one) does not. */
export function poolAdmits(pool: Pool, f: PermitFacts): boolean {
  if (pool.prohibitList.length > 0 && permitted(pool.prohibitList, f)) return false;
  if (pool.permitList.length > 0 && !permitted(pool.permitList, f)) return false;
  // BOOTP clients get dynamic addresses only from dynamic-bootp ranges (ISC: allocate_lease for BOOTP
  // considers only leases flagged dynamic-bootp-ok).
  if (f.bootp && !pool.dynamicBootp) return false;
  return true;
}
