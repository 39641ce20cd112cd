/**
 * ISC's ping-check (on by default): before offering a never-used address the server sends an ICMP echo;
 * when something answers, the address is abandoned ("pinged before offer") and the client gets another one
 * on its next DISCOVER. Real ICMP between namespaces this test creates, real udhcpc.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createLan, integrationSkipReason, type Lan, type NsProcess, udhcpcArgs } from '../support/netns.js';
import { serverCommand } from '../engine/server-process.js';

const skip = integrationSkipReason();

describe('ping-check with a squatter on the first address', { skip }, () => {
  let lan: Lan;
  let server: NsProcess;

  before(async () => {
    // 10.79.0.100 is the first address the server would offer (ISC's order); "squat" already uses it.
    lan = await createLan('srvping', [
      { name: 'srv', address: '10.79.0.1/24' },
      { name: 'squat', address: '10.79.0.100/24' },
      { name: 'cli', mac: '52:54:00:79:00:01' },
    ]);
    const dir = await lan.topology.tempDir();
    await writeFile(join(dir, 'dhcpd.conf'), 'authoritative;\nsubnet 10.79.0.0 netmask 255.255.255.0 {\n  range 10.79.0.100 10.79.0.101;\n}\n');
    const c = serverCommand(join(dir, 'dhcpd.conf'), join(dir, 'leases.sqlite'), ['eth0']);
    server = lan.topology.spawn(lan.host('srv').ns, c.cmd, c.args, { cwd: c.cwd });
    await server.waitFor('Server starting service.', { timeoutMs: 20_000 });
  });

  after(async () => {
    await lan?.destroy();
  });

  test('the answering address is abandoned and the client is offered the other one', async () => {
    const r = await lan.host('cli').exec('udhcpc', udhcpcArgs('eth0', { tries: 6, timeoutS: 3 }), { check: false, timeoutMs: 40_000 });
    assert.match(r.stdout + r.stderr, /lease of 10\.79\.0\.101 obtained/, r.stdout + r.stderr);
    assert.ok(server.output.includes('Abandoning IP address 10.79.0.100: pinged before offer'), server.output);
    assert.ok(!server.output.includes('DHCPOFFER on 10.79.0.100'), server.output);
    assert.ok(server.output.includes('DHCPACK on 10.79.0.101 to 52:54:00:79:00:01 via eth0'), server.output);
  });
});
