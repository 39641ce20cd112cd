/**
 * Load balancing as ISC dhcpd 4.4 does it (RFC 3074 hash; FAILOVER.md §7).
 *
 * ISC departs from the failover draft in the meaning of the HBA: a set bit means the PRIMARY serves the
 * bucket, and `split N` sets buckets 0..N-1 (§7.3).
 *
 * @module
 */

/** RFC 3074 §6 mixing table (Pearson hash permutation of 0..255), as ISC uses it. */
const MIX = Uint8Array.from([
  251, 175, 119, 215, 81, 14, 79, 191, 103, 49, 181, 143, 186, 157, 0, 232, 31, 32, 55, 60, 152, 58, 17, 237, 174, 70, 160, 144, 220, 90, 57,
  223, 59, 3, 18, 140, 111, 166, 203, 196, 134, 243, 124, 95, 222, 179, 197, 65, 180, 48, 36, 15, 107, 46, 233, 130, 165, 30, 123, 161, 209,
  23, 97, 16, 40, 91, 219, 61, 100, 10, 210, 109, 250, 127, 22, 138, 29, 108, 244, 67, 207, 9, 178, 204, 74, 98, 126, 249, 167, 116, 34, 77,
  193, 200, 121, 5, 20, 113, 71, 35, 128, 13, 182, 94, 25, 226, 227, 199, 75, 27, 41, 245, 230, 224, 43, 225, 177, 26, 155, 150, 212, 142,
  218, 115, 241, 73, 88, 105, 39, 114, 62, 255, 192, 201, 145, 214, 168, 158, 221, 148, 154, 122, 12, 84, 82, 163, 44, 139, 228, 236, 205,
  242, 217, 11, 187, 146, 159, 64, 86, 239, 195, 42, 106, 198, 118, 112, 184, 172, 87, 2, 173, 117, 176, 229, 247, 253, 137, 185, 99, 164,
  102, 147, 45, 66, 231, 52, 141, 211, 194, 206, 246, 238, 56, 110, 78, 248, 63, 240, 189, 93, 92, 51, 53, 183, 19, 171, 72, 50, 33, 104,
  101, 69, 8, 252, 83, 120, 76, 135, 85, 54, 202, 125, 188, 213, 96, 235, 136, 208, 162, 129, 190, 132, 156, 38, 47, 1, 7, 254, 24, 4, 216,
  131, 89, 21, 28, 133, 37, 153, 149, 80, 170, 68, 6, 169, 234, 151,
]);

/** RFC 3074 hash bucket (0..255) of a key: seed = length mod 256, bytes mixed from the last to the first (ISC). */
export function loadBalanceHash(key: Uint8Array): number {
  let h = key.length & 0xff;
  for (let i = key.length - 1; i >= 0; i--) h = MIX[h ^ key[i]!]!;
  return h;
}

/** The 32-byte HBA for `split N` (0..256): buckets 0..N-1 set, LSB first within each byte (ISC confpars.c). */
export function hbaFromSplit(split: number): Buffer {
  const hba = Buffer.alloc(32);
  const n = Math.max(0, Math.min(256, Math.trunc(split)));
  for (let i = 0; i < n; i++) hba[i >> 3]! |= 1 << (i & 7);
  return hba;
}

/** True when bucket `b` is set in the HBA (= the primary serves it in ISC's semantics). */
export function hbaBit(hba: Uint8Array, bucket: number): boolean {
  return ((hba[(bucket >> 3) & 0x1f] ?? 0) & (1 << (bucket & 7))) !== 0;
}

/** What load balancing needs from a DHCP request. */
export interface LoadBalanceRequest {
  /** DHCP option 61 payload (type byte included), if the client sent one. */
  readonly clientIdentifier?: Uint8Array | undefined;
  /** chaddr (at least hlen bytes). */
  readonly chaddr: Uint8Array;
  /** BOOTP hlen. */
  readonly hlen: number;
  /** BOOTP secs field. */
  readonly secs: number;
}

/** The bytes ISC hashes: option 61 whole if present, otherwise the first hlen bytes of chaddr (§7.2). */
export function loadBalanceKey(req: Pick<LoadBalanceRequest, 'clientIdentifier' | 'chaddr' | 'hlen'>): Uint8Array {
  if (req.clientIdentifier && req.clientIdentifier.length > 0) return req.clientIdentifier;
  const hlen = Math.max(0, Math.min(req.hlen, req.chaddr.length, 16));
  return req.chaddr.subarray(0, hlen);
}

/** Role of this server in the relationship. */
export type FailoverRole = 'primary' | 'secondary';

/** True when the hash bucket of `key` belongs to `role` under `hba`. */
export function bucketIsMine(key: Uint8Array, role: FailoverRole, hba: Uint8Array): boolean {
  const set = hbaBit(hba, loadBalanceHash(key));
  return role === 'primary' ? set : !set;
}

/**
 * ISC `load_balance_mine` for a DHCPDISCOVER while both servers are normal (§7.3): answer when load
 * balancing is off (max seconds 0), when secs exceeds `load balance max seconds`, or when the bucket is ours.
 * `checkSecsByteOrder` applies ISC's `check-secs-byte-order` swap.
 */
export function isMine(
  req: LoadBalanceRequest,
  role: FailoverRole,
  hba: Uint8Array,
  loadBalanceMaxSeconds: number,
  checkSecsByteOrder = false,
): boolean {
  if (loadBalanceMaxSeconds === 0) return true;
  let secs = req.secs & 0xffff;
  if (checkSecsByteOrder && secs > 255 && (secs & 0xff) === 0) secs = ((secs & 0xff) << 8) | (secs >> 8);
  if (secs > loadBalanceMaxSeconds) return true;
  return bucketIsMine(loadBalanceKey(req), role, hba);
}
