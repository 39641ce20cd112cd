/**
 * What the server is started with: the config's lease-file-name, pid-file-name, local-port and
 * log-facility apply only where the command line (or PATH_DHCPD_*) is silent, as in ISC's dhcpd.c;
 * the SQLite database defaults to `<lease file>.sqlite`.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '../../src/config/load.js';
import { parseArgv } from '../../src/cli/argv.js';
import { effectiveSettings } from '../../src/cli/main.js';

let dir = '';
let conf = '';
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'cli-settings-'));
  conf = join(dir, 's.conf');
  writeFileSync(
    conf,
    'lease-file-name "/tmp/cfg.leases";\npid-file-name "/tmp/cfg.pid";\nlocal-port 6767;\nlog-facility local4;\n' +
      'subnet 10.0.0.0 netmask 255.255.255.0 { }\n',
  );
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function settings(argv: string[], env: Record<string, string> = {}) {
  const r = parseArgv(argv, { env });
  assert.equal(r.kind, 'server');
  if (r.kind !== 'server') throw new Error('not a server command line');
  const loaded = loadConfig(r.args.configFile);
  assert.ok(loaded.ok);
  return effectiveSettings(r.args, loaded.ok ? loaded.config : undefined);
}

describe('effective settings', () => {
  test('the config applies where the command line is silent', () => {
    assert.deepEqual(settings(['-cf', conf]), {
      configFile: conf,
      leaseFile: '/tmp/cfg.leases',
      pidFile: '/tmp/cfg.pid',
      dbFile: '/tmp/cfg.leases.sqlite',
      port: 6767,
      facility: 'local4',
    });
  });

  test('flags and PATH_DHCPD_* win over the config; -db names the database', () => {
    const s = settings(['-cf', conf, '-lf', '/tmp/flag.leases', '-p', '1067', '-db', '/tmp/x.sqlite'], { PATH_DHCPD_PID: '/tmp/env.pid' });
    assert.equal(s.leaseFile, '/tmp/flag.leases');
    assert.equal(s.pidFile, '/tmp/env.pid');
    assert.equal(s.port, 1067);
    assert.equal(s.dbFile, '/tmp/x.sqlite');
  });

  test('without such statements: Debian\'s defaults, port 67, facility daemon', () => {
    const plain = join(dir, 'plain.conf');
    writeFileSync(plain, 'subnet 10.0.0.0 netmask 255.255.255.0 { }\n');
    assert.deepEqual(settings(['-cf', plain]), {
      configFile: plain,
      leaseFile: '/var/lib/dhcp/dhcpd.leases',
      pidFile: '/var/run/dhcpd.pid',
      dbFile: '/var/lib/dhcp/dhcpd.leases.sqlite',
      port: 67,
      facility: 'daemon',
    });
  });
});
