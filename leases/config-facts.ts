/**
 * The few dhcpd.conf facts the lease importer/exporter needs (subnets, failover peers and roles, class and
 * host names, `dont-use-fsync`, `db-time-format`, `lease-id-format`), read with a token scan of the file and
 * its `include`s.
 *
 * This is an adapter until src/config/load.ts (`loadConfig`) is available to the leases package; it does
 * not validate the configuration (that is `dhcpd-ts -t`'s job) and only looks for these statements.
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { tokenizeConfig, type Tok } from '../grammar/tokens.js';

/** What the lease code takes from dhcpd.conf. */
export interface LeaseConfigFacts {
  /** Subnets as [network, mask] (uint32). */
  subnets: { network: number; mask: number }[];
  /** `range` statements as inclusive uint32 intervals. */
  ranges: { low: number; high: number }[];
  /** Failover peers with this server's role. */
  failoverPeers: Map<string, 'primary' | 'secondary'>;
  classes: Set<string>;
  hosts: Set<string>;
  dontUseFsync: boolean;
  dbTimeFormat: 'default' | 'local';
  leaseIdFormat: 'octal' | 'hex';
}

function ip(toks: Tok[], i: number): { value: number; next: number } | null {
  let v = 0;
  for (let k = 0; k < 4; k++) {
    const t = toks[i + 2 * k];
    if (!t || t.kind !== 'number') return null;
    const n = Number(t.text);
    if (!(n >= 0 && n <= 255)) return null;
    v = v * 256 + n;
    if (k < 3 && toks[i + 2 * k + 1]?.image !== '.') return null;
  }
  return { value: v >>> 0, next: i + 7 };
}

function nameOf(t: Tok | undefined): string | null {
  if (!t) return null;
  if (t.kind === 'string') return t.text;
  if (t.kind === 'name' || t.kind === 'numberOrName') return t.text;
  return null;
}

/** Scans a dhcpd.conf (and its includes, relative to the including file's folder as ISC resolves them). */
export function readLeaseConfigFacts(path: string): LeaseConfigFacts {
  const facts: LeaseConfigFacts = {
    subnets: [],
    ranges: [],
    failoverPeers: new Map(),
    classes: new Set(),
    hosts: new Set(),
    dontUseFsync: false,
    dbTimeFormat: 'default',
    leaseIdFormat: 'octal',
  };
  scanFile(path, facts, new Set());
  return facts;
}

function scanFile(path: string, facts: LeaseConfigFacts, seen: Set<string>): void {
  const abs = resolve(path);
  if (seen.has(abs)) return;
  seen.add(abs);
  let text: string;
  try {
    text = readFileSync(path, 'latin1');
  } catch {
    return; // a missing include is the config checker's error, not ours
  }
  const toks = tokenizeConfig(text, path).tokens;
  let depth = 0;
  let peer: { name: string; depth: number } | null = null;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t.image === '{' && t.kind === 'punct') depth++;
    else if (t.image === '}' && t.kind === 'punct') {
      depth--;
      if (peer && depth < peer.depth) peer = null;
    }
    // Words outside ISC's keyword table (dont-use-fsync) are matched by their lower-cased text.
    const k = t.keyword ?? (t.kind === 'name' ? t.text.toLowerCase() : undefined);
    if (!k) continue;
    const prev = toks[i - 1];
    const atStatementStart = !prev || (prev.kind === 'punct' && (prev.image === ';' || prev.image === '{' || prev.image === '}'));
    if (k === 'include' && atStatementStart && toks[i + 1]?.kind === 'string') {
      const inc = toks[i + 1]!.text;
      scanFile(isAbsolute(inc) ? inc : resolve(dirname(path), inc), facts, seen);
    } else if (k === 'subnet' && atStatementStart) {
      const net = ip(toks, i + 1);
      if (net && toks[net.next]?.keyword === 'netmask') {
        const mask = ip(toks, net.next + 1);
        if (mask) facts.subnets.push({ network: net.value, mask: mask.value });
      }
    } else if (k === 'range' && atStatementStart) {
      let j = i + 1;
      if (toks[j]?.keyword === 'dynamic-bootp') j++;
      const low = ip(toks, j);
      if (low) {
        const high = ip(toks, low.next);
        facts.ranges.push({ low: low.value, high: high ? high.value : low.value });
      }
    } else if (k === 'failover' && atStatementStart && toks[i + 1]?.keyword === 'peer' && toks[i + 3]?.image === '{') {
      const n = nameOf(toks[i + 2]);
      if (n !== null) {
        peer = { name: n, depth: depth + 1 };
        facts.failoverPeers.set(n, 'primary'); // ISC's default role is primary until `secondary;`
      }
    } else if ((k === 'primary' || k === 'secondary') && peer && depth === peer.depth && atStatementStart && toks[i + 1]?.image === ';') {
      facts.failoverPeers.set(peer.name, k);
    } else if (k === 'class' && atStatementStart) {
      const n = nameOf(toks[i + 1]);
      if (n !== null) facts.classes.add(n);
    } else if (k === 'host' && atStatementStart) {
      const parts: string[] = [];
      let j = i + 1;
      while (toks[j] && (toks[j]!.kind === 'name' || toks[j]!.kind === 'numberOrName' || toks[j]!.kind === 'number')) {
        parts.push(toks[j]!.text);
        if (toks[j + 1]?.image === '.') j += 2;
        else break;
      }
      if (parts.length) facts.hosts.add(parts.join('.'));
    } else if (k === 'db-time-format' && atStatementStart) {
      facts.dbTimeFormat = toks[i + 1]?.keyword === 'local' ? 'local' : 'default';
    } else if (k === 'lease-id-format' && atStatementStart) {
      facts.leaseIdFormat = toks[i + 1]?.keyword === 'hex' ? 'hex' : 'octal';
    } else if (k === 'dont-use-fsync' && atStatementStart) {
      const v = toks[i + 1]?.text.toLowerCase();
      facts.dontUseFsync = v === 'true' || v === 'on' || v === ';';
    }
  }
}

/** Whether an address is inside one of the configured subnets. */
export function inSomeSubnet(facts: LeaseConfigFacts, address: number): boolean {
  return facts.subnets.some((s) => ((address & s.mask) >>> 0) === ((s.network & s.mask) >>> 0));
}
