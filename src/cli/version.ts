/**
 * The dhcpd-ts version (from package.json) and the lines dhcpd prints about itself.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function readVersion(): string {
  // src/cli/ when run with tsx, dist/src/cli/ when built: walk up to our package.json.
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    try {
      const pkg: unknown = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
      if (typeof pkg === 'object' && pkg !== null && (pkg as { name?: unknown }).name === 'dhcpd-ts') {
        const v = (pkg as { version?: unknown }).version;
        if (typeof v === 'string') return v;
      }
    } catch {
      /* not here */
    }
    dir = dirname(dir);
  }
  return '0.0.0';
}

/** The dhcpd-ts version, e.g. "0.1.0". */
export const DHCPD_TS_VERSION = readVersion();

/** The ISC release line we are a drop-in for. */
export const ISC_COMPATIBLE = 'ISC dhcpd 4.4';

/** What `--version` prints (to stderr, like ISC's `isc-dhcpd-4.4.3-P1`). */
export function versionLine(): string {
  return `dhcpd-ts-${DHCPD_TS_VERSION}, compatible with ${ISC_COMPATIBLE}`;
}

/**
 * The four start-up banner lines, in the place and shape of ISC's ("Internet Systems Consortium DHCP
 * Server 4.4.3-P1", copyright, rights, URL) but naming dhcpd-ts: log readers see which server runs.
 */
export function bannerLines(): string[] {
  return [
    `dhcpd-ts DHCP Server ${DHCPD_TS_VERSION} (compatible with ${ISC_COMPATIBLE})`,
    'Copyright 2026 the dhcpd-ts authors.',
    'Licensed under the Mozilla Public License 2.0.',
    'For info, please see the README of dhcpd-ts.',
  ];
}
