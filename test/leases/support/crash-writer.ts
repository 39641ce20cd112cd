/**
 * Child process for the crash-safety test: commits leases in group-committed batches into the database
 * given as argv[2] and prints `committed N` after each durable commit (N = highest address committed).
 * The parent kills it with SIGKILL at a random moment and checks that every printed lease is there.
 */
import { openSqliteLeaseStore } from '../../../leases/sqlite-lease-store.js';
import { emptyLease } from '../../../leases/lease.js';

const store = openSqliteLeaseStore(process.argv[2] ?? 'crash.sqlite');
const batch = Number(process.argv[3] ?? '50');
let next = 0x0a000000;
const limit = 200_000;
for (let n = 0; n < limit; n += batch) {
  const leases = [];
  for (let i = 0; i < batch; i++) {
    const l = emptyLease(next + i);
    l.bindingState = 'active';
    l.nextBindingState = 'free';
    l.starts = 1_700_000_000 + i;
    l.ends = 1_700_003_600 + i;
    l.hardware = { htype: 1, address: Buffer.from([2, 0, (next >> 16) & 255, (next >> 8) & 255, next & 255, i & 255]) };
    l.uid = Buffer.from(`client-${next + i}`);
    leases.push(l);
  }
  store.commit(leases);
  next += batch;
  // Synchronous write so the parent sees it before the next commit starts.
  process.stdout.write(`committed ${next - 1}\n`);
}
store.close();
