/**
 * The syslog queue behind both loggers (logger.ts): sends syslog datagrams through an injected sender (the
 * native addon's AF_UNIX `send` on a socket connected to /dev/log, kept across a chroot). Lines wait in a bounded FIFO; EAGAIN/EWOULDBLOCK/ENOBUFS (a full
 * receive buffer under a burst) are retried with back-off; other errors (no syslog daemon) drop the
 * line. Every dropped line is counted, and the count is logged as soon as a line gets through again.
 * Nothing here throws into the logging caller: winston-syslog crashed the process on EAGAIN (STACK.md §2.3).
 */
// No winston here: the queue is plain so that short commands (`-t`, `-T`) can use it without loading
// winston; logger.ts wraps it in a winston transport for the server.

/** Sends one datagram; throws an Error with `code` (e.g. 'EAGAIN') when the kernel refuses it. */
export type SyslogSend = (datagram: Buffer) => void;

export interface SyslogTransportStats {
  /** Lines handed to the kernel. */
  sent: number;
  /** Lines lost (queue full, syslog unreachable, or no sender at all). */
  dropped: number;
  /** Lines waiting now. */
  queued: number;
  /** Retries after a would-block error. */
  retries: number;
}

export interface SyslogTransportOptions {
  /** The sender; if absent, lines queue until {@link SyslogTransport.attach} is called. */
  send?: SyslogSend;
  /** Maximum queued lines; beyond it new lines are dropped (and counted). */
  maxQueue: number;
  /** Builds the datagram text from severity (0..7) and message. */
  format: (severity: number, message: string) => string;
  /** Where lines go when no sender can ever be attached (e.g. addon missing): stderr. */
  fallback?: (line: string) => void;
}

const RETRYABLE = new Set(['EAGAIN', 'EWOULDBLOCK', 'ENOBUFS', 'EINTR']);

function errorCode(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e) {
    const c = (e as { code: unknown }).code;
    if (typeof c === 'string') return c;
  }
  return undefined;
}

/** The bounded, retrying syslog line queue. Never throws into the caller. */
export class SyslogQueue {
  private send: SyslogSend | undefined;
  /** true once attach() was called (with a sender or without one). */
  private resolved: boolean;
  private readonly queue: string[] = [];
  private readonly maxQueue: number;
  private readonly formatLine: (severity: number, message: string) => string;
  private readonly fallback: ((line: string) => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 1;
  private readonly counters: SyslogTransportStats = { sent: 0, dropped: 0, queued: 0, retries: 0 };
  /** Drops not yet announced in the log. */
  private unannounced = 0;
  /** > 0 while the head of the queue is a drop notice (its count). */
  private noticeAtHead = 0;
  /** A notice failed to send: no new notice until some line gets through. */
  private announceBlocked = false;
  private waiters: (() => void)[] = [];

  constructor(opts: SyslogTransportOptions) {
    this.send = opts.send;
    this.resolved = opts.send !== undefined;
    this.maxQueue = opts.maxQueue;
    this.formatLine = opts.format;
    this.fallback = opts.fallback;
  }

  /** Supplies the sender once it is loaded; `undefined` means none will come: use the fallback. */
  attach(send: SyslogSend | undefined): void {
    this.send = send;
    this.resolved = true;
    this.pump();
  }

  stats(): SyslogTransportStats {
    return { ...this.counters, queued: this.queue.length };
  }

  /** Queues one message of severity `sev` (0..7), formatted as a syslog line. */
  log(sev: number, message: string): void {
    this.enqueue(this.formatLine(sev, message));
  }

  /** Adds one line; sends it at once when nothing waits ahead of it. */
  enqueue(line: string): void {
    if (this.queue.length >= this.maxQueue) {
      this.drop(1);
      return;
    }
    this.queue.push(line);
    if (this.timer === undefined) this.pump();
  }

  /** Resolves when the queue is empty, or after `timeoutMs` (remaining lines then count as dropped). */
  drain(timeoutMs = 2000): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        this.drop(this.queue.length);
        this.queue.length = 0;
        resolve();
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(t);
        resolve();
      };
      this.waiters.push(done);
    });
  }

  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private drop(n: number): void {
    this.counters.dropped += n;
    this.unannounced += n;
  }

  private schedule(): void {
    if (this.timer !== undefined) return;
    this.counters.retries++;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, this.backoffMs);
    // Kept referenced: queued lines must not be abandoned by an exiting event loop; close() clears it.
    this.backoffMs = Math.min(this.backoffMs * 2, 100);
  }

  private pump(): void {
    if (!this.resolved) return; // sender still loading: keep the lines
    while (this.queue.length > 0) {
      // Say how many lines were lost before the next line that gets through.
      if (this.unannounced > 0 && !this.announceBlocked && this.send && this.noticeAtHead === 0) {
        const n = this.unannounced;
        this.unannounced = 0;
        this.noticeAtHead = n;
        this.queue.unshift(this.formatLine(4, `dhcpd-ts: ${n} log line${n === 1 ? '' : 's'} dropped (syslog busy or unreachable)`));
      }
      const line = this.queue[0];
      if (!this.send) {
        if (this.fallback) {
          this.fallback(line);
          this.counters.sent++;
        } else {
          this.drop(1);
        }
        this.queue.shift();
        continue;
      }
      try {
        this.send(Buffer.from(line, 'utf8'));
        this.queue.shift();
        if (this.noticeAtHead === 0) this.counters.sent++;
        this.noticeAtHead = 0;
        this.announceBlocked = false;
        this.backoffMs = 1;
      } catch (e) {
        if (RETRYABLE.has(errorCode(e) ?? '')) {
          this.schedule();
          return;
        }
        // Unreachable syslog (ENOENT, ECONNREFUSED …): glibc drops the line too; we count it.
        this.queue.shift();
        if (this.noticeAtHead > 0) {
          // The notice itself failed: keep its count for later, and try no more notices until a line passes.
          this.unannounced += this.noticeAtHead;
          this.noticeAtHead = 0;
          this.announceBlocked = true;
        } else {
          this.drop(1);
        }
      }
    }
    const ws = this.waiters;
    this.waiters = [];
    for (const w of ws) w();
  }

}
