/**
 * A dhcpd-ts failover peer as a standalone process, for interop tests against a real ISC dhcpd: the
 * connection, state machine and lease side of src/failover over an in-memory (JSON-file backed) store.
 *
 * Usage: node [--import tsx] fo-peer-harness.(ts|js) CONFIG.json
 * CONFIG: { name, role, address, port, peerAddress, peerPort, maxResponseDelay, maxUnackedUpdates, mclt,
 *           split, loadBalanceMaxSeconds, poolFrom, poolTo, label, stateFile, clockSkew?, autoPartnerDown? }
 * Log lines (ISC wording) go to stderr. Commands on stdin, one a line:
 *   partner-down                      operator partner-down
 *   bind IP MAC DESIRED               what the DHCP engine does on a DHCPACK: prints "granted IP N TSTP"
 *   state                             prints "state MY PARTNER"
 *   lease IP                          prints "lease IP STATE ENDS TSFP"
 *   backups                           prints "backups IP,IP,..." (leases in state backup)
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { FailoverPeer, createFailoverPolicy } from '../../src/failover/engine.js';
import { MemoryFailoverStore } from '../../src/failover/memory-store.js';
import { hbaFromSplit } from '../../src/failover/load-balance.js';
import { ipString, timeValue } from '../../src/failover/binding-updates.js';

interface HarnessConfig {
  name: string;
  role: 'primary' | 'secondary';
  address: string;
  port: number;
  peerAddress: string;
  peerPort: number;
  maxResponseDelay: number;
  maxUnackedUpdates: number;
  mclt: number;
  split: number;
  loadBalanceMaxSeconds: number;
  poolFrom: string;
  poolTo: string;
  label: string;
  stateFile?: string;
  clockSkew?: number;
  autoPartnerDown?: number;
}

const ip = (s: string): number => s.split('.').reduce((a, b) => ((a << 8) | Number(b)) >>> 0, 0);
const cfg = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as HarnessConfig;
const store = new MemoryFailoverStore([{ id: 'pool0', label: cfg.label, from: ip(cfg.poolFrom), to: ip(cfg.poolTo) }], cfg.stateFile);
const log = {
  info: (m: string) => process.stderr.write(`${m}\n`),
  error: (m: string) => process.stderr.write(`${m}\n`),
  debug: (m: string) => process.stderr.write(`${m}\n`),
};
const skew = cfg.clockSkew ?? 0;
const clock = (): number => Date.now() / 1000 + skew;
const hba = hbaFromSplit(cfg.split);
const peer = new FailoverPeer({
  link: {
    name: cfg.name,
    role: cfg.role,
    address: cfg.address,
    port: cfg.port,
    peerAddress: cfg.peerAddress,
    peerPort: cfg.peerPort,
    maxResponseDelay: cfg.maxResponseDelay,
    maxUnackedUpdates: cfg.maxUnackedUpdates,
    ...(cfg.role === 'primary' ? { mclt: cfg.mclt, hba } : {}),
  },
  mclt: cfg.mclt,
  ...(cfg.role === 'primary' ? { hba } : {}),
  loadBalanceMaxSeconds: cfg.loadBalanceMaxSeconds,
  autoPartnerDown: cfg.autoPartnerDown ?? 0,
  store,
  log,
  clock,
});
const policy = createFailoverPolicy(new Map([[cfg.name, peer]]));

await peer.start();
process.stdout.write('harness ready\n');

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const [cmd, ...args] = line.trim().split(/\s+/);
  if (cmd === 'partner-down') peer.setPartnerDown();
  else if (cmd === 'backups') {
    const list = [...store.pools()[0]!.leases()].filter((l) => l.bindingState === 'backup').map((l) => ipString(l.address));
    process.stdout.write(`backups ${list.join(',')}\n`);
  } else if (cmd === 'state') process.stdout.write(`state ${peer.state} ${peer.partnerState}\n`);
  else if (cmd === 'lease') {
    const l = store.lease(args[0]!);
    process.stdout.write(`lease ${args[0]} ${l?.bindingState} ${timeValue(l?.ends)} ${timeValue(l?.tsfp)}\n`);
  } else if (cmd === 'bind') {
    const l = store.lease(args[0]!);
    if (!l) return void process.stdout.write(`error no lease ${args[0]}\n`);
    const now = Math.floor(clock());
    const t = policy.leaseTimeFor(cfg.name, l, Number(args[2]), now, true);
    Object.assign(l, {
      bindingState: 'active',
      nextBindingState: 'expired',
      starts: now,
      ends: now + t.leaseTime,
      cltt: now,
      tstp: t.tstp ?? 0,
      hardware: { htype: 1, address: Buffer.from(args[1]!.replace(/:/g, ''), 'hex') },
    });
    store.commit([l]);
    policy.onBindingChange(cfg.name, l);
    process.stdout.write(`granted ${args[0]} ${t.leaseTime} ${t.tstp ?? 0}\n`);
  }
});
const shutdown = (): void => {
  void peer.stop().then(() => process.exit(0));
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
