/**
 * The local operator control socket of a running server: what ISC does through OMAPI (`omshell`, object
 * `failover-state`, `local-state` = partner-down), done with `dhcpd-ts partner-down` instead.
 *
 * An AF_UNIX stream socket (never a network socket) at `<pid file>.ctl`, created mode 0600 and owned by
 * the user the server runs as (root, or `-user`), so only that user and root can connect. It is removed at
 * shutdown. Protocol: the client sends one JSON object on one line, the server answers with one JSON object
 * on one line and closes. Requests larger than {@link MAX_REQUEST_BYTES} or slower than
 * {@link REQUEST_TIMEOUT_MS} are dropped.
 *
 *   → {"command":"partner-down","peer":"dhcp-failover"}      ("peer" may be omitted with one relationship)
 *   ← {"ok":true,"peer":"dhcp-failover","previous":"communications-interrupted","state":"partner-down",…}
 *   ← {"ok":false,"error":"…"}
 *   → {"command":"status"}
 *   ← {"ok":true,"peers":[{"peer":"…","state":"…","partnerState":"…","mclt":N}]}
 *
 * @module
 */
import { chmodSync, chownSync, lstatSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import type { Logger } from '../log/logger.js';

/** Longest request line accepted. */
export const MAX_REQUEST_BYTES = 4096;
/** A client must send its request within this time. */
export const REQUEST_TIMEOUT_MS = 5000;

/** The control socket path of the server whose pid file is `pidFile`. */
export function controlSocketPath(pidFile: string): string {
  return `${pidFile}.ctl`;
}

/** What the control socket needs of one failover relationship (src/failover/engine.ts FailoverPeer). */
export interface ControlledPeer {
  readonly state: string;
  readonly partnerState: string;
  readonly mclt: number;
  setPartnerDown(): void;
}

export type ControlRequest = { command: 'partner-down'; peer?: string } | { command: 'status' };

export interface PeerStatus {
  peer: string;
  state: string;
  partnerState: string;
  mclt: number;
}

export type ControlResponse =
  | { ok: true; command: 'partner-down'; peer: string; previous: string; state: string; partnerState: string; mclt: number; message: string }
  | { ok: true; command: 'status'; peers: PeerStatus[] }
  | { ok: false; error: string };

/**
 * States from which the operator may declare the partner down. The failover draft (§9.5, §9.8) has the
 * operator do it when the link is down: communications-interrupted, or resolution-interrupted (link lost
 * during conflict resolution). While the partner is talking to us (normal, recover*, potential-conflict,
 * conflict-done, startup, shutdown, paused) it would only be contradicted by the partner's STATE, so we
 * refuse (ISC's omshell would accept any state; this is the one it is documented for).
 */
export const PARTNER_DOWN_FROM: ReadonlySet<string> = new Set(['communications-interrupted', 'resolution-interrupted']);

/** Parses one request line; undefined when it is not a request. */
export function parseControlRequest(line: string): ControlRequest | { error: string } {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return { error: 'malformed request (not JSON)' };
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return { error: 'malformed request (not an object)' };
  const o = v as Record<string, unknown>;
  if (o['command'] === 'status') return { command: 'status' };
  if (o['command'] === 'partner-down') {
    const peer = o['peer'];
    if (peer === undefined || peer === null) return { command: 'partner-down' };
    if (typeof peer !== 'string') return { error: 'malformed request ("peer" must be a string)' };
    return { command: 'partner-down', peer };
  }
  return { error: `unknown command ${JSON.stringify(o['command'] ?? null)}` };
}

/** Carries out one request against the running relationships (pure but for `setPartnerDown`). */
export function handleControlRequest(req: ControlRequest, peers: ReadonlyMap<string, ControlledPeer>): ControlResponse {
  if (req.command === 'status') {
    return { ok: true, command: 'status', peers: [...peers].map(([peer, p]) => ({ peer, state: p.state, partnerState: p.partnerState, mclt: p.mclt })) };
  }
  const names = [...peers.keys()];
  let name = req.peer;
  if (name === undefined) {
    if (names.length !== 1) {
      return { ok: false, error: names.length === 0 ? 'the running server has no failover peer.' : `name the failover peer (one of: ${names.join(', ')}).` };
    }
    name = names[0]!;
  }
  const p = peers.get(name);
  if (p === undefined) return { ok: false, error: `unknown failover peer "${name}" (declared: ${names.join(', ') || 'none'}).` };
  const previous = p.state;
  const base = { ok: true as const, command: 'partner-down' as const, peer: name, previous };
  if (previous === 'partner-down') {
    return { ...base, state: p.state, partnerState: p.partnerState, mclt: p.mclt, message: `failover peer ${name}: already in partner-down.` };
  }
  if (!PARTNER_DOWN_FROM.has(previous)) {
    return {
      ok: false,
      error:
        `failover peer ${name}: refused in state ${previous} (partner state ${p.partnerState}): ` +
        `partner-down is for a partner that is down, from ${[...PARTNER_DOWN_FROM].join(' or ')}.`,
    };
  }
  p.setPartnerDown();
  return {
    ...base,
    state: p.state,
    partnerState: p.partnerState,
    mclt: p.mclt,
    message: `failover peer ${name}: moved from ${previous} to ${p.state}.`,
  };
}

/** The listening control socket. */
export interface ControlSocket {
  readonly path: string;
  /** Stops listening and removes the socket file. */
  close(): Promise<void>;
}

export interface ControlSocketOptions {
  path: string;
  /** The relationships, read at each request (they may change on reload). */
  peers: () => ReadonlyMap<string, ControlledPeer>;
  logger: Logger;
  /** chown the socket to the user/group the server will run as (`-user`/`-group`). */
  owner?: { uid?: number | undefined; gid?: number | undefined };
}

function removeStaleSocket(path: string): void {
  try {
    // Only ever a socket we left behind (the pid file already guarantees no other server uses it).
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* absent */
  }
}

/** Listens on `path` (mode 0600). Rejects when it cannot (the caller logs and serves on without it). */
export async function startControlSocket(o: ControlSocketOptions): Promise<ControlSocket> {
  removeStaleSocket(o.path);
  const sockets = new Set<Socket>();
  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setTimeout(REQUEST_TIMEOUT_MS, () => sock.destroy());
    let buf = '';
    let answered = false;
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      if (answered) return;
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) {
        if (buf.length > MAX_REQUEST_BYTES) {
          answered = true;
          sock.end(`${JSON.stringify({ ok: false, error: 'request too long' } satisfies ControlResponse)}\n`);
        }
        return;
      }
      answered = true;
      const parsed = parseControlRequest(buf.slice(0, nl));
      let res: ControlResponse;
      if ('error' in parsed) res = { ok: false, error: parsed.error };
      else {
        try {
          res = handleControlRequest(parsed, o.peers());
        } catch (e) {
          res = { ok: false, error: `internal error: ${e instanceof Error ? e.message : String(e)}` };
        }
        if (parsed.command === 'partner-down') {
          if (res.ok && res.command === 'partner-down') o.logger.info(`Operator command partner-down: ${res.message}`);
          else if (!res.ok) o.logger.error(`Operator command partner-down refused: ${res.error}`);
        }
      }
      sock.end(`${JSON.stringify(res)}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    // The socket file is created by bind(): no moment where it is open to others.
    const old = process.umask(0o177);
    try {
      server.listen(o.path, () => {
        server.off('error', reject);
        resolve();
      });
    } finally {
      process.umask(old);
    }
  });
  chmodSync(o.path, 0o600);
  if (o.owner && (o.owner.uid !== undefined || o.owner.gid !== undefined)) {
    chownSync(o.path, o.owner.uid ?? -1, o.owner.gid ?? -1);
  }
  server.on('error', (e) => o.logger.error(`control socket ${o.path}: ${e.message}`));
  let closing: Promise<void> | undefined;
  return {
    path: o.path,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => {
          removeStaleSocket(o.path);
          resolve();
        });
      });
      return closing;
    },
  };
}

/** Sends one request to a running server's control socket and returns its answer (rejects on I/O errors). */
export function sendControlRequest(path: string, req: ControlRequest, timeoutMs = REQUEST_TIMEOUT_MS): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    let settled = false;
    const finish = (f: () => void): void => {
      if (settled) return;
      settled = true;
      sock.destroy();
      f();
    };
    sock.setEncoding('utf8');
    sock.setTimeout(timeoutMs, () => finish(() => reject(new Error(`no answer from ${path} within ${timeoutMs} ms`))));
    sock.on('connect', () => sock.write(`${JSON.stringify(req)}\n`));
    sock.on('data', (chunk: string) => {
      buf += chunk;
      const nl = buf.indexOf('\n');
      if (nl < 0) return;
      const line = buf.slice(0, nl);
      finish(() => {
        try {
          const v = JSON.parse(line) as ControlResponse;
          if (typeof v !== 'object' || v === null || typeof (v as { ok?: unknown }).ok !== 'boolean') throw new Error('not a response');
          resolve(v);
        } catch {
          reject(new Error(`malformed answer from ${path}`));
        }
      });
    });
    sock.on('error', (e) => finish(() => reject(e)));
    sock.on('end', () => finish(() => reject(new Error(`${path} closed the connection without an answer`))));
  });
}
