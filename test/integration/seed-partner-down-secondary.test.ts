/**
 * Issue 5, test 3 with the SECONDARY as the survivor (same run as seed-partner-down.test.ts, see
 * test/support/seed-partner-down.ts): the primary is killed; the secondary serves from its backup leases
 * in communications-interrupted, reaches partner-down and after MCLT hands out the primary's free leases;
 * the primary restarts, recovers to normal, and both databases agree on every active binding.
 * (1) dhcpd-ts pair, partner-down by `dhcpd-ts partner-down` sent to the running server (control socket);
 * (2) ISC dhcpd 4.4.3 primary + dhcpd-ts secondary with auto-partner-down: the restarted ISC primary
 * recovers from dhcpd-ts.
 *
 * Needs `make build`.
 */
import { describe, test } from 'node:test';
import { integrationSkipReason } from '../support/netns.js';
import { runPartnerDown } from '../support/seed-partner-down.js';

const skip = integrationSkipReason();

describe('seed scenario, issue 5 test 3: the secondary survives', { skip, concurrency: true }, () => {
  test('dhcpd-ts pair: live `dhcpd-ts partner-down` on the secondary', { timeout: 120_000 }, (t) =>
    runPartnerDown(t, 'seedpsl', 'live', 'dhcpd-ts', 'dhcpd-ts', 'secondary'),
  );
  test('ISC primary + dhcpd-ts secondary with auto-partner-down', { timeout: 120_000 }, (t) =>
    runPartnerDown(t, 'seedpsa', 'auto', 'isc', 'dhcpd-ts', 'secondary'),
  );
});
