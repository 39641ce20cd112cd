/**
 * Per-packet timing trace of the server's turns, for finding where DORA latency goes (bench work).
 *
 * Off unless the environment names a file (`DHCPD_TS_TRACE=/path/trace.csv`); then every handled datagram
 * gets one CSV row, written when the server stops: the kernel's receive time (SO_TIMESTAMPNS), when its
 * turn started, when the turn's decisions were done, when the group commit started and ended (its fsync),
 * and when the turn's replies had been handed to the kernel. All times are ms since the epoch with
 * microsecond resolution (`performance.timeOrigin + performance.now()`), so they compare with the kernel
 * stamp and with a packet capture's.
 *
 * @module
 */
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** Environment variable naming the trace file. */
export const TRACE_ENV = 'DHCPD_TS_TRACE';

/** CSV header of the trace file. */
export const TRACE_HEADER = 'arrived_ms,type,turn,turn_start_ms,decided_ms,commit_start_ms,commit_end_ms,sent_ms,turn_packets,turn_writes';

/** Wall-clock ms since the epoch with sub-ms resolution. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

/** A turn's timestamps; `packets` are (arrival ms, message type) pairs. */
export interface TurnRecord {
  start: number;
  decided: number;
  commitStart: number;
  commitEnd: number;
  sent: number;
  writes: number;
  readonly packets: number[];
}

/** Collects turn records and writes them as CSV on {@link TurnTracer.flush}. */
export class TurnTracer {
  private readonly turns: TurnRecord[] = [];
  constructor(private readonly file: string, private readonly limit = 2_000_000) {}

  /** Opens the record of a new turn (or undefined when the trace is full). */
  begin(): TurnRecord | undefined {
    if (this.turns.length >= this.limit) return undefined;
    const t: TurnRecord = { start: preciseNow(), decided: 0, commitStart: 0, commitEnd: 0, sent: 0, writes: 0, packets: [] };
    this.turns.push(t);
    return t;
  }

  /** Writes the CSV (one row per packet). */
  flush(): void {
    const rows: string[] = [TRACE_HEADER];
    const f = (x: number): string => (x === 0 ? '' : x.toFixed(3));
    this.turns.forEach((t, i) => {
      const n = t.packets.length / 2;
      for (let k = 0; k < t.packets.length; k += 2) {
        rows.push(`${f(t.packets[k]!)},${t.packets[k + 1]},${i},${f(t.start)},${f(t.decided)},${f(t.commitStart)},${f(t.commitEnd)},${f(t.sent)},${n},${t.writes}`);
      }
    });
    writeFileSync(this.file, rows.join('\n') + '\n');
  }
}

/** The tracer named by the environment, or undefined (the normal case). */
export function tracerFromEnv(env: NodeJS.ProcessEnv = process.env): TurnTracer | undefined {
  const file = env[TRACE_ENV];
  return file ? new TurnTracer(file) : undefined;
}
