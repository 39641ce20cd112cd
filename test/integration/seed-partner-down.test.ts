/**
 * Issue 5, test 3: partner failure in the seed scenario (example configs; mclt 20, lease times 60).
 *
 * The secondary is killed (SIGKILL by PID). The primary (the survivor) moves to communications-interrupted,
 * keeps renewing its dhclient, and serves a new client of the secondary's hash bucket from its own free
 * leases. Partner-down is then reached either by `dhcpd-ts partner-down` (the server stopped, the command
 * run, the server started again: startup for 15 s, then partner-down) or by `auto-partner-down 2` in the
 * config. With auto-partner-down, perfdhcp first exhausts the primary's free leases before MCLT has passed
 * in partner-down without ever being given one of the secondary's backup leases; in both variants, once
 * MCLT has passed, perfdhcp clients are given the partner's backup leases too. The secondary is then
 * started again: it goes through recover to normal, the primary to normal, and every address active in
 * both databases is bound to the same client on both (no address leased to two clients).
 *
 * Needs `make build`.
 */
import { describe, test } from 'node:test';
import { integrationSkipReason } from '../support/netns.js';
import { runPartnerDown } from '../support/seed-partner-down.js';

const skip = integrationSkipReason();

describe('seed scenario, issue 5 test 3: partner failure', { skip, concurrency: true }, () => {
  test('dhcpd-ts pair: partner-down by `dhcpd-ts partner-down`', { timeout: 120_000 }, (t) => runPartnerDown(t, 'seedpdc', 'command', 'dhcpd-ts', 'dhcpd-ts'));
  test('dhcpd-ts pair: auto-partner-down', { timeout: 120_000 }, (t) => runPartnerDown(t, 'seedpda', 'auto', 'dhcpd-ts', 'dhcpd-ts'));
});
