/**
 * An in-memory {@link FailoverStore} over address ranges, optionally mirrored to a JSON file so a process
 * can be killed and restarted. For tests, the interop harness and a failover-only process; the server
 * proper uses the SQLite lease store through the lead's adapter.
 *
 * @module
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { emptyLease, type FailoverStateRecord } from '../../leases/lease.js';
import { ipString } from './binding-updates.js';
import type { AddressOwner, FailoverLease, FailoverPool, FailoverStore } from './ports.js';

/** One pool: an inclusive address range (uint32). */
export interface MemoryPoolSpec {
  readonly id: string;
  readonly label: string;
  readonly from: number;
  readonly to: number;
}

interface Snapshot {
  leases: Record<string, unknown>[];
  state: FailoverStateRecord[];
}

function leaseToJson(l: FailoverLease): Record<string, unknown> {
  return {
    ...l,
    hardware: l.hardware ? { htype: l.hardware.htype, address: l.hardware.address.toString('hex') } : null,
    uid: l.uid ? l.uid.toString('hex') : null,
    scope: [],
    agentOptions: [],
  };
}

function leaseFromJson(j: Record<string, unknown>): FailoverLease {
  const base = emptyLease(Number(j.address));
  const hw = j.hardware as { htype: number; address: string } | null;
  return {
    ...base,
    ...(j as Partial<FailoverLease>),
    hardware: hw ? { htype: hw.htype, address: Buffer.from(hw.address, 'hex') } : null,
    uid: typeof j.uid === 'string' ? Buffer.from(j.uid, 'hex') : null,
    scope: new Map(),
    agentOptions: [],
  } as FailoverLease;
}

/** In-memory store; every address of every pool exists as a lease (never-used ones `free`, ends 0). */
export class MemoryFailoverStore implements FailoverStore {
  private readonly leaseMap = new Map<number, FailoverLease>();
  private readonly poolList: FailoverPool[];
  private readonly states = new Map<string, FailoverStateRecord>();
  /** Number of commit() calls (tests). */
  commits = 0;

  constructor(
    pools: readonly MemoryPoolSpec[],
    private readonly file?: string,
  ) {
    for (const p of pools) for (let a = p.from; a <= p.to; a++) this.leaseMap.set(a >>> 0, emptyLease(a >>> 0));
    if (file) {
      try {
        const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
        for (const j of snap.leases) {
          const l = leaseFromJson(j);
          if (this.leaseMap.has(l.address)) this.leaseMap.set(l.address, l);
        }
        for (const s of snap.state) this.states.set(s.peer, s);
      } catch {
        // no snapshot yet
      }
    }
    this.poolList = pools.map((p) => ({
      id: p.id,
      label: p.label,
      leases: () => {
        const out: FailoverLease[] = [];
        for (let a = p.from; a <= p.to; a++) out.push(this.leaseMap.get(a >>> 0)!);
        return out;
      },
    }));
  }

  pools(): readonly FailoverPool[] {
    return this.poolList;
  }

  get(address: number): FailoverLease | undefined {
    return this.leaseMap.get(address >>> 0);
  }

  ownerOf(address: number): AddressOwner {
    return this.leaseMap.has(address >>> 0) ? 'this-relationship' : 'unknown';
  }

  commit(_leases: readonly FailoverLease[]): void {
    this.commits++;
    this.flush();
  }

  loadState(peer: string): FailoverStateRecord | undefined {
    return this.states.get(peer);
  }

  saveState(record: FailoverStateRecord): void {
    this.states.set(record.peer, record);
    this.flush();
  }

  /** A lease by dotted address (tests). */
  lease(dotted: string): FailoverLease | undefined {
    const p = dotted.split('.').map(Number);
    return this.get(((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0);
  }

  /** Human-readable dump (tests, harness). */
  describe(): string {
    return [...this.leaseMap.values()].map((l) => `${ipString(l.address)} ${l.bindingState}`).join('\n');
  }

  private flush(): void {
    if (!this.file) return;
    const snap: Snapshot = { leases: [...this.leaseMap.values()].map(leaseToJson), state: [...this.states.values()] };
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(snap));
    renameSync(tmp, this.file);
  }
}
