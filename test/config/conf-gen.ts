/**
 * fast-check generators of dhcpd.conf text for differential testing against ISC dhcpd: small valid
 * configurations with deliberate faults mixed in (host bits in subnet numbers, ranges outside their
 * subnet, bad option values, unknown options, duplicate hosts, failover peers with missing or
 * conflicting settings, pools without ranges, undefined classes), and mutations of real corpus files.
 */
import fc from 'fast-check';

const octet = fc.integer({ min: 0, max: 255 });
const ip = fc.tuple(octet, octet, octet, octet).map((o) => o.join('.'));

/** Parameter and option statements: mostly valid values, some that ISC rejects. */
const parameter: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('600', '0600', '09', 'infinite', '0x258', '4294967295', '4294967296', 'abc').map((v) => `default-lease-time ${v};`),
  fc.constantFrom('7200', '86400', '-1', '077').map((v) => `max-lease-time ${v};`),
  fc.constant('authoritative;'),
  fc.constant('not authoritative;'),
  fc.constantFrom('none', 'interim', 'standard', 'fancy', 'ad-hoc').map((v) => `ddns-update-style ${v};`),
  fc.constantFrom('"example.org"', 'example', 'example.org', '"a b"').map((v) => `option domain-name ${v};`),
  fc.oneof(ip, fc.constant('gw.example.org'), fc.constant('10.0.0'), fc.constant('10.0.0.1, 10.0.0.2')).map((v) => `option routers ${v};`),
  fc.constantFrom('64', '300', '0x40', '-1', '010').map((v) => `option default-ip-ttl ${v};`),
  fc.constantFrom('"a.org", "b.a.org"', 'a.org', '"x"').map((v) => `option domain-search ${v};`),
  fc.constantFrom('local7', 'daemon', 'bogus').map((v) => `log-facility ${v};`),
  fc.constantFrom('true', 'off', 'ignore', 'maybe').map((v) => `ping-check ${v};`),
  fc.constantFrom('1', '"x"').map((v) => `option foo-bar ${v};`),
  fc.constantFrom('01:02:03', '"client"', '1:zz').map((v) => `option dhcp-client-identifier ${v};`),
  fc.constantFrom('68, 296', '70000').map((v) => `option path-mtu-plateau-table ${v};`),
  fc.constantFrom('ignore client-updates;', 'allow booting;', 'deny bootp;', 'deny unknown-clients;', 'allow known-clients;'),
  fc.constantFrom('next-server 10.0.0.1;', 'next-server tftp.example.org;', 'filename "pxelinux.0";', 'server-name "boot";'),
);

/** A subnet: network possibly with host bits set; ranges inside or outside. */
const subnet: fc.Arbitrary<string> = fc
  .record({
    a: fc.integer({ min: 1, max: 223 }),
    b: octet,
    c: octet,
    prefix: fc.constantFrom(16, 24, 24, 24, 25, 28),
    hostBits: fc.boolean().map((x) => x && Math.random() < 0.3),
    ranges: fc.array(fc.record({ lo: octet, hi: octet, outside: fc.boolean().map((x) => x && Math.random() < 0.3), dyn: fc.boolean() }), { maxLength: 2 }),
    params: fc.array(parameter, { maxLength: 2 }),
    pool: fc.option(
      fc.record({
        ranges: fc.integer({ min: 0, max: 2 }),
        peer: fc.constantFrom(null, 'fo1', 'fo2'),
        permits: fc.array(fc.constantFrom('allow unknown-clients;', 'deny known-clients;', 'allow members of "c1";', 'deny dynamic bootp clients;', 'allow booting;'), { maxLength: 2 }),
        params: fc.array(parameter, { maxLength: 1 }),
      }),
      { nil: null },
    ),
  })
  .map((s) => {
    const mask = s.prefix === 16 ? '255.255.0.0' : s.prefix === 24 ? '255.255.255.0' : s.prefix === 25 ? '255.255.255.128' : '255.255.255.240';
    const c = s.prefix === 16 ? 0 : s.prefix === 25 ? s.c & 0xfe : s.c;
    const net = `${s.a}.${s.b}.${s.prefix === 16 ? 0 : c}.${s.hostBits ? 5 : 0}`;
    const base = s.prefix === 16 ? `${s.a}.${s.b}` : `${s.a}.${s.b}.${c}`;
    const size = s.prefix === 16 ? 256 : s.prefix === 24 ? 256 : s.prefix === 25 ? 128 : 16;
    const addr = (n: number, outside: boolean): string =>
      s.prefix === 16 ? `${base}.${outside ? 1 : 0}.${n % 256}` : outside ? `${s.a}.${(s.b + 1) % 256}.${c}.${n % 256}` : `${base}.${n % size}`;
    const body: string[] = [...s.params];
    for (const r of s.ranges) body.push(`range ${r.dyn ? 'dynamic-bootp ' : ''}${addr(r.lo, r.outside)} ${addr(r.hi, false)};`);
    if (s.pool) {
      const p: string[] = [...s.pool.params];
      if (s.pool.peer) p.push(`failover peer "${s.pool.peer}";`);
      p.push(...s.pool.permits);
      for (let i = 0; i < s.pool.ranges; i++) p.push(`range ${addr(10 + i * 3, false)} ${addr(11 + i * 3, false)};`);
      body.push(`pool {\n    ${p.join('\n    ')}\n  }`);
    }
    return `subnet ${net} netmask ${mask} {\n  ${body.join('\n  ')}\n}`;
  });

const mac = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 }).map((b) => b.map((x) => x.toString(16).padStart(2, '0')).join(':'));

const host: fc.Arbitrary<string> = fc
  .record({
    name: fc.constantFrom('pc1', 'pc2', 'pc3', 'printer', 'pc1'),
    mac,
    fixed: fc.option(fc.oneof(ip, fc.constant('pc.example.org')), { nil: null }),
    params: fc.array(parameter, { maxLength: 1 }),
    twoHw: fc.boolean().map((x) => x && Math.random() < 0.15),
  })
  .map((h) => {
    const body = [`hardware ethernet ${h.mac};`];
    if (h.twoHw) body.push(`hardware ethernet ${h.mac};`);
    if (h.fixed) body.push(`fixed-address ${h.fixed};`);
    body.push(...h.params);
    return `host ${h.name} {\n  ${body.join('\n  ')}\n}`;
  });

const failover: fc.Arbitrary<string> = fc
  .record({
    name: fc.constantFrom('fo1', 'fo2'),
    role: fc.constantFrom('primary', 'secondary', null),
    peerAddress: fc.boolean().map((x) => x || Math.random() < 0.8),
    mclt: fc.option(fc.integer({ min: 0, max: 3600 }), { nil: null }),
    split: fc.option(fc.integer({ min: 0, max: 300 }), { nil: null }),
    hba: fc.boolean().map((x) => x && Math.random() < 0.2),
    lbms: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
  })
  .map((f) => {
    const body: string[] = [];
    if (f.role) body.push(`${f.role};`);
    body.push('address 10.9.0.1;', 'port 647;');
    if (f.peerAddress) body.push('peer address 10.9.0.2;', 'peer port 647;');
    body.push('max-response-delay 60;', 'max-unacked-updates 10;');
    if (f.mclt !== null) body.push(`mclt ${f.mclt};`);
    if (f.split !== null) body.push(`split ${f.split};`);
    if (f.hba) body.push(`hba ${Array(32).fill('ff').join(':')};`);
    if (f.lbms !== null) body.push(`load balance max seconds ${f.lbms};`);
    return `failover peer "${f.name}" {\n  ${body.join('\n  ')}\n}`;
  });

const klass: fc.Arbitrary<string> = fc.constantFrom(
  'class "c1" {\n  match if substring (option vendor-class-identifier, 0, 9) = "PXEClient";\n}',
  'class "c1" {\n  match pick-first-value (option dhcp-client-identifier, hardware);\n}\nsubclass "c1" 1:00:11:22:33:44:55;',
  'subclass "c9" 1:00:11:22:33:44:55;',
  'option space ipxe;\noption ipxe.no-pxedhcp code 176 = unsigned integer 8;\noption ipxe.no-pxedhcp 1;',
  'option arch code 93 = unsigned integer 16;\nif option arch = 00:07 { filename "efi"; } else { filename "bios"; }',
  'option rfc3442 code 121 = array of unsigned integer 8;\noption rfc3442 24, 10, 1, 1, 10, 0, 0, 1;',
  'option bad code 200 = array of text;',
  'key k1 { algorithm hmac-md5; secret "c2VjcmV0"; }\nzone example.org. { primary 127.0.0.1; key k1; }',
  'zone example.org. { primary 127.0.0.1; key k2; }',
  'omapi-port 7911;\nomapi-key k3;',
  'key k4 { algorithm hmac-sha256; secret ab_cd; }',
  'key k5 { algorithm hmac-md5; secret "Zm9vE"; }',
  'option space vnd code width 2 length width 2;\noption vnd.x code 1 = text;\noption vnd.x "hello";',
  'option space vnd2 code width 3;',
  'option space vnd3 length width 4;',
  'option unknown-250 01:02;\noption unknown-0 1;',
  'option agent.unknown-9 "x";',
  'option rec code 222 = { ip-address, unsigned integer 16, text };\noption rec 10.0.0.1 80 "x";',
  'option rec2 code 223 = { text, ip-address };',
  'option arr code 224 = array of { ip-address, boolean };\noption arr 10.0.0.1 true, 10.0.0.2 false;',
  'option enc code 225 = encapsulate nosuchspace;',
  'option sz code 226 = unsigned integer 24;',
  'option zl code 227 = zerolen;\noption zl;',
  'class "sp" { spawn with option agent.circuit-id; lease limit 2; }\nsubclass "sp" "port1";\nsubclass "sp" 70:6f:72:74:32 { option domain-name "p2"; }',
  'class "m" { match if exists host-name; match if known; }',
  'group g9 { option domain-name "x"; }\nhost gx { group g9; }\nhost gy { group g8; }',
  'host hd { hardware ethernet 00:01:02:03:04:05; deleted; }',
  'option vendor-encapsulated-options 01:04:0a:00:00:01;\nvendor-option-space PXE;',
  'subnet 10.77.0.0 netmask 255.255.255.0 { pool { allow after 4 2030/01/01 00:00:00; deny after 1 2031/01/01 00:00:00; range 10.77.0.5 10.77.0.9; } }',
  'option domain-name-servers ns1.example.org, ns2.example.org;\nserver-identifier 10.0.0.1;\nlocal-address 127.0.0.1;',
  'option ntp-servers = concat (option routers, 0a:00:00:01);\nddns-hostname = concat ("dhcp-", binary-to-ascii (10, 8, "-", leased-address));',
);

/** Expression statements and conditionals, some naming unknown options or classes. */
const conditional: fc.Arbitrary<string> = fc.constantFrom(
  'if exists user-class and option user-class = "iPXE" { filename "boot.ipxe"; } else { filename "undionly.kpxe"; }',
  'if substring (hardware, 1, 3) = 00:0c:29 { option domain-name "vm"; }',
  'if option no-such-option = "x" { filename "a"; }',
  'if not exists dhcp-client-identifier { log (info, "no client id"); }',
  'on commit { set ip = binary-to-ascii (10, 8, ".", leased-address); execute ("/bin/true", ip); }',
  'if known { add "c1"; }',
  'class "c1" { match if option vendor-class-identifier = "x"; lease limit 4; }\nif known { add "c1"; }',
  'switch (option dhcp-message-type) { case 01: filename "d"; break; default: filename "x"; }',
);

/** A shared network: subnets and pools in some order (pools before their subnet fail in ISC). */
const sharedNetwork: fc.Arbitrary<string> = fc
  .record({
    name: fc.constantFrom('lan', '"office net"', 'a.b'),
    subnets: fc.integer({ min: 0, max: 2 }),
    poolFirst: fc.boolean().map((x) => x && Math.random() < 0.3),
    pool: fc.boolean(),
    peerRef: fc.constantFrom(null, 'fo1'),
    iface: fc.constantFrom(0, 0, 1, 2),
    poolRanges: fc.integer({ min: 0, max: 2 }),
    x: fc.integer({ min: 1, max: 200 }),
  })
  .map((n) => {
    const body: string[] = [];
    for (let i = 0; i < n.iface; i++) body.push(`interface eth${i};`);
    if (n.peerRef) body.push(`failover peer "${n.peerRef}";`);
    const pool = `pool {
    ${Array.from({ length: n.poolRanges }, (_, i) => `range 10.${n.x}.${i}.10 10.${n.x}.${i}.20;`).join('\n    ')}
    deny dynamic bootp clients;
  }`;
    if (n.pool && n.poolFirst) body.push(pool);
    for (let i = 0; i < n.subnets; i++) body.push(`subnet 10.${n.x}.${i}.0 netmask 255.255.255.0 { option routers 10.${n.x}.${i}.1; }`);
    if (n.pool && !n.poolFirst) body.push(pool);
    return `shared-network ${n.name} {
  ${body.join('\n  ')}
}`;
  });

/** Groups (named or not) holding hosts, and hosts referring to named groups. */
const group: fc.Arbitrary<string> = fc
  .record({ named: fc.boolean(), ref: fc.constantFrom('g1', 'g2'), uid: fc.constantFrom('', 'uid 01:02:03:04;', 'uid "client-1";'), hid: fc.boolean() })
  .map((g) => {
    const hostBody = [g.uid, g.hid ? 'host-identifier option agent.circuit-id "port1";' : '', `group ${g.ref};`].filter((x) => x).join(' ');
    return `${g.named ? 'group g1' : 'group'} {
  option domain-name "grp";
  host gh { hardware ethernet 00:11:22:33:44:55; }
}
host gr { ${hostBody} }`;
  });

/** A generated configuration: a mix of top-level blocks. */
export const generatedConfig: fc.Arbitrary<string> = fc
  .array(fc.oneof({ weight: 3, arbitrary: parameter }, { weight: 4, arbitrary: subnet }, { weight: 2, arbitrary: host }, { weight: 1, arbitrary: failover }, { weight: 1, arbitrary: klass }, { weight: 1, arbitrary: conditional }, { weight: 1, arbitrary: sharedNetwork }, { weight: 1, arbitrary: group }), {
    minLength: 1,
    maxLength: 8,
  })
  .map((blocks) => blocks.join('\n') + '\n');

/** Mutations of a real config text: drop, duplicate or edit a line, or change a number. */
export function mutation(text: string): fc.Arbitrary<string> {
  const lines = text.split('\n');
  const n = Math.max(lines.length, 1);
  return fc.oneof(
    fc.integer({ min: 0, max: n - 1 }).map((i) => lines.filter((_, j) => j !== i).join('\n')),
    fc.integer({ min: 0, max: n - 1 }).map((i) => [...lines.slice(0, i + 1), lines[i] ?? '', ...lines.slice(i + 1)].join('\n')),
    fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constantFrom('300', '0', '999', '09', '256', 'x')).map(([i, v]) => {
      const copy = [...lines];
      copy[i] = (copy[i] ?? '').replace(/\d+/, v);
      return copy.join('\n');
    }),
    fc.tuple(fc.integer({ min: 0, max: n - 1 }), fc.constantFrom(';', '{', '}', '.')).map(([i, c]) => {
      const copy = [...lines];
      const l = copy[i] ?? '';
      const k = l.lastIndexOf(c);
      copy[i] = k >= 0 ? l.slice(0, k) + l.slice(k + 1) : l + c;
      return copy.join('\n');
    }),
  );
}
