/**
 * decodePacket's accept/drop verdict against real ISC dhcpd 4.4.3 on hand-made edge cases
 * (test/fixtures/wire/isc-verdicts.json, recorded by test/support/capture-wire-vectors.sh). ISC "accepted"
 * a packet when it logged handling it (DHCPDISCOVER/BOOTREQUEST …); it dropped it when it logged a parse
 * error or nothing at all. Our drop reasons must carry ISC's own words where ISC logs one.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodePacket } from '../../src/wire/decode.js';
import { BOOTP, formatHardwareAddress, hardwareAddress, messageType, messageTypeName } from '../../src/wire/packet.js';
import { iscVerdictCases } from '../support/isc-verdict-cases.js';
import type { IscVerdict } from '../support/send-verdict-cases.js';
import { repoRoot } from '../support/wire-vectors.js';

const fixture = JSON.parse(readFileSync(join(repoRoot(), 'test', 'fixtures', 'wire', 'isc-verdicts.json'), 'utf8')) as {
  verdicts: IscVerdict[];
};

/** Where dhcpd-ts deliberately differs from ISC (documented in src/wire/decode.ts). */
const DELIBERATE: Record<string, string> = {
  // RFC 2131 allows option 52 only in the options field; ISC silently concatenates a nested one.
  'overload-loop-in-file': 'overload-loop',
};

describe('decode verdicts match ISC dhcpd 4.4.3', () => {
  it('the fixture was made from the current case list', () => {
    assert.deepEqual(
      fixture.verdicts.map((v) => [v.name, v.hex]),
      iscVerdictCases().map((c) => [c.name, c.hex]),
    );
    assert.ok(fixture.verdicts.length >= 25);
  });

  for (const v of fixture.verdicts) {
    it(v.name, () => {
      const handled = v.iscLog.find((l) => /^(DHCP[A-Z]+ from|BOOTREQUEST from)/.test(l));
      const r = decodePacket(Buffer.from(v.hex, 'hex'));
      const deviation = DELIBERATE[v.name];
      if (deviation !== undefined) {
        assert.ok(handled, 'ISC accepts this one');
        assert.ok(!r.ok && r.error.code === deviation);
        return;
      }
      if (handled === undefined) {
        assert.ok(!r.ok, `ISC dropped it (${JSON.stringify(v.iscLog)}) but we accepted it`);
        // ISC's words for the drop, when it logged any.
        if (v.iscLog.length > 0) assert.ok(v.iscLog.includes(r.error.message), `${r.error.message} not in ${JSON.stringify(v.iscLog)}`);
        return;
      }
      if (!r.ok) assert.fail(`ISC accepted it (${handled}) but we dropped it: ${r.error.toString()}`);
      // Same message type and the same hardware address in ISC's words.
      const type = messageType(r.packet);
      const m = /^(\S+) from (\S*) via/.exec(handled)!;
      assert.equal(m[1], type === BOOTP ? 'BOOTREQUEST' : messageTypeName(type));
      assert.equal(m[2], formatHardwareAddress(hardwareAddress(r.packet)));
    });
  }
});
