/**
 * Issue 5, test 3 with a real ISC dhcpd 4.4.3 in the pair (same run as seed-partner-down.test.ts, see
 * test/support/seed-partner-down.ts): (1) a dhcpd-ts primary survives an ISC secondary's death, is put
 * into partner-down by `dhcpd-ts partner-down`, uses ISC's backup leases after MCLT, and the restarted ISC
 * secondary recovers from it to normal and learns every lease it gave out; (2) an ISC primary with
 * auto-partner-down survives a dhcpd-ts secondary, and the restarted dhcpd-ts secondary recovers from ISC.
 *
 * Needs `make build`.
 */
import { describe, test } from 'node:test';
import { integrationSkipReason } from '../support/netns.js';
import { runPartnerDown } from '../support/seed-partner-down.js';

const skip = integrationSkipReason();

describe('seed scenario, issue 5 test 3 with ISC dhcpd 4.4.3', { skip, concurrency: true }, () => {
  test('dhcpd-ts primary survives an ISC secondary: partner-down by command', { timeout: 120_000 }, (t) =>
    runPartnerDown(t, 'seedpdi', 'command', 'dhcpd-ts', 'isc'),
  );
  test('ISC primary with auto-partner-down survives a dhcpd-ts secondary', { timeout: 120_000 }, (t) =>
    runPartnerDown(t, 'seedpdj', 'auto', 'isc', 'dhcpd-ts'),
  );
});
