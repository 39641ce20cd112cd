/**
 * Generated dhcpd.conf files for the canonical-host fast path tests (test/grammar/host-fast-path.test.ts,
 * test/config/fast-compile.test.ts): many layouts of host blocks, canonical or not, mixed with other
 * statements. Deterministic for a seed.
 */
/** Deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function layout(r: () => number): (tokens: string[]) => string {
  const ws = [' ', ' ', ' ', '\t', '\n', '\n  ', '  ', '\n\n', ' \r\n', '\f'];
  return (tokens) => {
    let s = '';
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i]!;
      const glue = t === ';' || t === ':' || t === '.' || t === ',' || (i > 0 && (tokens[i - 1] === ':' || tokens[i - 1] === '.'));
      s += (i === 0 ? '' : glue && r() < 0.8 ? '' : ws[Math.floor(r() * ws.length)]!) + t;
    }
    return s;
  };
}

function hex2(n: number, r: () => number): string {
  const h = n.toString(16);
  return r() < 0.3 ? h : r() < 0.5 ? h.padStart(2, '0').toUpperCase() : h.padStart(2, '0');
}

function hostBlock(i: number, r: () => number): string {
  const lay = layout(r);
  const stmts: string[][] = [];
  if (r() < 0.9) {
    const mac: string[] = [];
    const n = r() < 0.9 ? 6 : 1 + Math.floor(r() * 8);
    for (let k = 0; k < n; k++) {
      if (k) mac.push(':');
      mac.push(hex2(Math.floor(r() * 256), r));
    }
    stmts.push(['hardware', 'ethernet', ...mac, ';']);
  }
  if (r() < 0.9) {
    const fa = ['fixed-address'];
    const count = r() < 0.85 ? 1 : 2;
    for (let k = 0; k < count; k++) {
      if (k) fa.push(',');
      fa.push(String(10 + (i % 5)), '.', String(Math.floor(r() * 256)), '.', r() < 0.1 ? '007' : String(i % 256), '.', String(1 + (i % 250)));
    }
    fa.push(';');
    stmts.push(fa);
  }
  const opts = Math.floor(r() * 3);
  for (let k = 0; k < opts; k++) {
    const names = ['host-name', 'domain-name', 'root-path', 'Host-Name', 'extensions-path'];
    const strs = ['"h' + i + '"', '"a b"', '"x\\"y"', '"esc\\101\\x41"', '""', '"tab\\tx"'];
    stmts.push(['option', names[Math.floor(r() * names.length)]!, strs[Math.floor(r() * strs.length)]!, ';']);
  }
  // shuffle
  for (let k = stmts.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [stmts[k], stmts[j]] = [stmts[j]!, stmts[k]!];
  }
  // One host per file may be named by a keyword (`ethernet`); the others are unique.
  const names = ['h' + i, 'host-' + i, 'H' + i + '_x', 'abc' + i, i % 40 === 7 ? 'ethernet' : 'kw' + i];
  const name = names[Math.floor(r() * names.length)]!;
  return lay(['host', name, '{', ...stmts.flat(), '}']);
}

export const OTHER = [
  'subnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.10 10.0.0.20;\n}',
  'option domain-name "example.org";',
  'default-lease-time 600;',
  '# a comment\n',
  'group {\n  host g1 { hardware ethernet 0:1:2:3:4:5; }\n}',
  'if option dhcp-message-type = 3 {\n  log(info, "x");\n}',
  'class "c1" {\n  match if substring(option vendor-class-identifier, 0, 4) = "MSFT";\n}',
  'host odd.name { hardware ethernet 0:1:2:3:4:6; }',
  'host commented { # comment\n  hardware ethernet 0:1:2:3:4:7;\n}',
  'host str { option host-name "multi\nline"; }',
  'HOST upper { hardware ethernet 0:1:2:3:4:8; }',
  'host one { hardware ethernet 0:1:2:3:4:9; fixed-address 10.9.9.9; option host-name "one"; }',
  'option space foo;',
  'authoritative;',
];

/** The OTHER statements that declare no host (a file may hold them any number of times). */
export const OTHER_NO_HOST = OTHER.filter((s) => !/host /i.test(s));

export function genFile(seed: number, n: number, other: readonly string[] = OTHER): string {
  const r = rng(seed);
  const parts: string[] = [];
  for (let i = 0; i < n; i++) {
    if (r() < 0.25) parts.push(other[Math.floor(r() * other.length)]!);
    else parts.push(hostBlock(seed * 1000 + i, r));
    if (r() < 0.2) parts.push('   ');
  }
  return parts.map((p, i) => (i > 0 && r() < 0.1 ? ' ' + p : p)).join(r() < 0.5 ? '\n' : '\n\n') + (r() < 0.5 ? '\n' : '');
}

