/**
 * ISC dhcpd's option spaces ("universes") and option definitions: the built-in tables of 4.4.3-P1 plus
 * whatever a config adds with `option space` and `option NAME code N = TYPE`.
 *
 * Each definition keeps ISC's format string (common/tables.c notation) and a parsed form of it.
 * Names of spaces and options are case-insensitive in ISC (do_case_hash); we store them lower-cased
 * except the printed name, which keeps the spelling of its definition.
 */
import { BUILTIN_OPTIONS } from './builtin-tables.js';
import type { OptionTypeAst } from '../../grammar/ast.js';

/** One field of an option format. */
export type OptionAtom =
  | { kind: 'ip-address' }
  | { kind: 'ip6-address' }
  | { kind: 'integer'; bits: 8 | 16 | 32; signed: boolean }
  /** `T`: unsigned 32 bits, `infinite` = 0xffffffff. */
  | { kind: 'lease-time' }
  | { kind: 'boolean' }
  /** `t` */
  | { kind: 'text' }
  /** `X`: quoted string or colon-hex. */
  | { kind: 'string' }
  /** `d` */
  | { kind: 'domain-name' }
  /** `D`, `Dc` */
  | { kind: 'domain-list'; compressed: boolean }
  /** `E<space>.`; space null = the applicable vendor-option-space (`E.`). */
  | { kind: 'encapsulate'; space: string | null }
  /** `N<enum>.` */
  | { kind: 'enumeration'; enumName: string }
  /** `U`: name of an option space. */
  | { kind: 'space-name' }
  /** `k`: key name. */
  | { kind: 'key-name' }
  /** `Z` */
  | { kind: 'zerolen' }
  /** `F`: implicit flag. */
  | { kind: 'implicit-flag' };

/** Parsed ISC format string. */
export interface OptionFormat {
  /** The format string itself (`IA`, `BIID`, `Eagent.` …). */
  format: string;
  fields: OptionAtom[];
  /** `optional[i]` true when field i is followed by `o`. */
  optional: boolean[];
  /** 'none'; 'record' = `A` (whole record repeats); 'last' = `a` (last field repeats). */
  array: 'none' | 'record' | 'last';
}

/** An option definition (ISC `struct option`). */
export interface OptionDefinition {
  /** Space name, lower case. */
  space: string;
  /** Name as defined (printed form). */
  name: string;
  code: number;
  format: OptionFormat;
  /** True for definitions from the config file rather than the built-in tables. */
  userDefined: boolean;
}

/** An option space (ISC `struct universe`). */
export interface OptionSpace {
  /** Lower case. */
  name: string;
  /** Bytes of the code field on the wire (tag_size): 1, 2 or 4. */
  codeWidth: 1 | 2 | 4;
  /** Bytes of the length field (length_size): 0, 1 or 2. */
  lengthWidth: 0 | 1 | 2;
  /** Which option of which space carries this space (enc_opt), e.g. agent -> dhcp 82. */
  encapsulatedBy: { space: string; code: number } | null;
  byName: Map<string, OptionDefinition>;
  byCode: Map<number, OptionDefinition>;
  userDefined: boolean;
}

/**
 * ISC's enumerations usable in `N` formats (server/stables.c, common/tables.c): value names (matched
 * case-sensitively, like ISC's strcmp) to wire values; the width in bytes is in ENUMERATION_WIDTHS.
 */
export const ENUMERATIONS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  'ddns-styles': { none: 0, 'ad-hoc': 1, interim: 2, standard: 3 },
  'status-codes': {
    success: 0, UnspecFail: 1, NoAddrsAvail: 2, NoBinding: 3, NotOnLink: 4, UseMulticast: 5, NoPrefixAvail: 6,
    UnknownQueryType: 7, MalformedQuery: 8, NotConfigured: 9, NotAllowed: 10, QueryTerminated: 11,
  },
  'dhcpv6-messages': {
    SOLICIT: 1, ADVERTISE: 2, REQUEST: 3, CONFIRM: 4, RENEW: 5, REBIND: 6, REPLY: 7, RELEASE: 8, DECLINE: 9,
    RECONFIGURE: 10, 'INFORMATION-REQUEST': 11, 'RELAY-FORW': 12, 'RELAY-REPL': 13, LEASEQUERY: 14,
    'LEASEQUERY-REPLY': 15, 'LEASEQUERY-DONE': 16, 'LEASEQUERY-DATA': 17, 'RECONFIGURE-REQUEST': 18,
    'RECONFIGURE-REPLY': 19, 'DHCPV4-QUERY': 20, 'DHCPV4-RESPONSE': 21,
  },
  // Linux <syslog.h> facility values (LOG_KERN = 0<<3 ... LOG_LOCAL7 = 23<<3).
  'syslog-facilities': {
    kern: 0, user: 8, mail: 16, daemon: 24, auth: 32, syslog: 40, lpr: 48, news: 56, uucp: 64, cron: 72,
    authpriv: 80, ftp: 88, local0: 128, local1: 136, local2: 144, local3: 152, local4: 160, local5: 168,
    local6: 176, local7: 184,
  },
  prefix_length_modes: { ignore: 0, prefer: 1, exact: 2, minimum: 3, maximum: 4 },
};

/** Wire width in bytes of each enumeration (default 1). */
export const ENUMERATION_WIDTHS: Readonly<Record<string, number>> = { 'status-codes': 2 };

/** Parse an ISC format string. Throws Error on a malformed one (programming error, not user input). */
export function parseFormat(format: string): OptionFormat {
  const fields: OptionAtom[] = [];
  const optional: boolean[] = [];
  let array: OptionFormat['array'] = 'none';
  let i = 0;
  const readName = (): string => {
    const dot = format.indexOf('.', i);
    if (dot < 0) throw new Error(`bad option format ${format}`);
    const name = format.slice(i, dot);
    i = dot + 1;
    return name;
  };
  const push = (a: OptionAtom): void => {
    fields.push(a);
    optional.push(false);
  };
  while (i < format.length) {
    const c = format[i++];
    switch (c) {
      case 'I': push({ kind: 'ip-address' }); break;
      case '6': push({ kind: 'ip6-address' }); break;
      case 'l': push({ kind: 'integer', bits: 32, signed: true }); break;
      case 'L': push({ kind: 'integer', bits: 32, signed: false }); break;
      case 's': push({ kind: 'integer', bits: 16, signed: true }); break;
      case 'S': push({ kind: 'integer', bits: 16, signed: false }); break;
      case 'b': push({ kind: 'integer', bits: 8, signed: true }); break;
      case 'B': push({ kind: 'integer', bits: 8, signed: false }); break;
      case 'T': push({ kind: 'lease-time' }); break;
      case 'f': push({ kind: 'boolean' }); break;
      case 't': push({ kind: 'text' }); break;
      case 'X': push({ kind: 'string' }); break;
      case 'd': push({ kind: 'domain-name' }); break;
      case 'D': {
        const compressed = format[i] === 'c';
        if (compressed) i++;
        push({ kind: 'domain-list', compressed });
        break;
      }
      case 'E': {
        const space = readName();
        push({ kind: 'encapsulate', space: space === '' ? null : space.toLowerCase() });
        break;
      }
      case 'N': push({ kind: 'enumeration', enumName: readName() }); break;
      case 'U': push({ kind: 'space-name' }); break;
      case 'k': push({ kind: 'key-name' }); break;
      case 'Z': push({ kind: 'zerolen' }); break;
      case 'F': push({ kind: 'implicit-flag' }); break;
      case 'e': break; // marks a non-leading encapsulation; no meaning of its own
      case 'o': if (optional.length) optional[optional.length - 1] = true; break;
      case 'A': array = 'record'; break;
      case 'a': array = 'last'; break;
      default: throw new Error(`bad option format character ${c} in ${format}`);
    }
  }
  return { format, fields, optional, array };
}

/** Properties of the built-in spaces (common/tables.c, server/stables.c). */
const BUILTIN_SPACES: { name: string; codeWidth: 1 | 2 | 4; lengthWidth: 0 | 1 | 2; enc: { space: string; code: number } | null }[] = [
  { name: 'dhcp', codeWidth: 1, lengthWidth: 1, enc: null },
  { name: 'agent', codeWidth: 1, lengthWidth: 1, enc: { space: 'dhcp', code: 82 } },
  { name: 'fqdn', codeWidth: 1, lengthWidth: 1, enc: { space: 'dhcp', code: 81 } },
  { name: 'nwip', codeWidth: 1, lengthWidth: 1, enc: { space: 'dhcp', code: 63 } },
  { name: 'vendor-class', codeWidth: 4, lengthWidth: 1, enc: { space: 'dhcp', code: 124 } },
  { name: 'vendor', codeWidth: 4, lengthWidth: 1, enc: { space: 'dhcp', code: 125 } },
  { name: 'isc', codeWidth: 2, lengthWidth: 2, enc: { space: 'vendor', code: 2495 } },
  // The parameter space: never on the wire, codes are ISC's SV_* numbers.
  { name: 'server', codeWidth: 1, lengthWidth: 1, enc: null },
  // DHCPv6 spaces: ISC -4 still knows their names (option dhcp6.X statements are accepted and unused).
  { name: 'dhcp6', codeWidth: 2, lengthWidth: 2, enc: null },
  { name: 'vsio', codeWidth: 4, lengthWidth: 0, enc: { space: 'dhcp6', code: 17 } },
  { name: 'isc6', codeWidth: 4, lengthWidth: 0, enc: { space: 'vsio', code: 2495 } },
];

/**
 * The set of option spaces known to one configuration. Start from `OptionTable.builtin()`; the config
 * compiler adds user spaces and definitions to its own copy.
 */
export class OptionTable {
  readonly spaces = new Map<string, OptionSpace>();

  /** A fresh table holding ISC 4.4.3-P1's built-in spaces and options. */
  static builtin(): OptionTable {
    const t = new OptionTable();
    for (const s of BUILTIN_SPACES) {
      t.spaces.set(s.name, {
        name: s.name, codeWidth: s.codeWidth, lengthWidth: s.lengthWidth, encapsulatedBy: s.enc,
        byName: new Map(), byCode: new Map(), userDefined: false,
      });
    }
    for (const [space, rows] of Object.entries(BUILTIN_OPTIONS)) {
      for (const [name, format, code] of rows) t.define(space, name, code, format, false);
    }
    return t;
  }

  /** Deep-enough copy: spaces and maps are new, definitions are shared (they are immutable). */
  clone(): OptionTable {
    const t = new OptionTable();
    for (const [k, s] of this.spaces) {
      t.spaces.set(k, { ...s, byName: new Map(s.byName), byCode: new Map(s.byCode) });
    }
    return t;
  }

  /** Look up a space by name (case-insensitive). */
  space(name: string): OptionSpace | undefined {
    return this.spaces.get(name.toLowerCase());
  }

  /** Look up an option by space and name (case-insensitive), or `unknown-N`. */
  lookup(space: string, name: string): OptionDefinition | undefined {
    const s = this.space(space);
    if (!s) return undefined;
    return s.byName.get(name.toLowerCase());
  }

  /** Look up an option by space and code. */
  lookupCode(space: string, code: number): OptionDefinition | undefined {
    return this.space(space)?.byCode.get(code);
  }

  /**
   * `unknown-N` options: ISC makes an `X`-format option on the fly for a code with no definition
   * (parse.c parse_option_name). Codes 0 and 255 of the dhcp space are rejected by the caller.
   */
  unknownOption(space: string, code: number): OptionDefinition {
    return { space: space.toLowerCase(), name: `unknown-${code}`, code, format: parseFormat('X'), userDefined: false };
  }

  /** Create a space (`option space NAME [code width N] [length width N];`). Re-declaring replaces nothing. */
  defineSpace(name: string, codeWidth: 1 | 2 | 4 = 1, lengthWidth: 0 | 1 | 2 = 1): OptionSpace {
    const key = name.toLowerCase();
    const existing = this.spaces.get(key);
    if (existing) return existing;
    const s: OptionSpace = {
      name: key, codeWidth, lengthWidth, encapsulatedBy: null, byName: new Map(), byCode: new Map(), userDefined: true,
    };
    this.spaces.set(key, s);
    return s;
  }

  /**
   * Add or replace a definition. Like ISC, a new definition for an existing code takes the code over
   * (the old name still resolves by name, but the code now prints with the new name).
   */
  define(space: string, name: string, code: number, format: string, userDefined = true): OptionDefinition {
    const s = this.space(space);
    if (!s) throw new Error(`no option space named ${space}`);
    const def: OptionDefinition = { space: s.name, name, code, format: parseFormat(format), userDefined };
    s.byCode.set(code, def);
    s.byName.set(name.toLowerCase(), def);
    for (const a of def.format.fields) {
      if (a.kind === 'encapsulate' && a.space) {
        const enc = this.space(a.space);
        if (enc && !enc.encapsulatedBy) enc.encapsulatedBy = { space: s.name, code };
      }
    }
    return def;
  }
}

/**
 * The type part of `option NAME code N = TYPE;` as the grammar hands it over, turned into ISC's format
 * string with ISC's diagnostics (common/parse.c parse_option_code_definition).
 */
export type OptionTypeSpec = OptionTypeAst;

/** Result of turning a type spec into a format string. */
export type FormatResult = { ok: true; format: string } | { ok: false; message: string };

/**
 * Build ISC's format string for a type spec, returning ISC's message for the combinations it refuses
 * ("no nested arrays.", "arrays of text strings not yet supported.", "only uniform array inside record.",
 * "array incompatible with zerolen.", "encapsulate must always be the last item.", "text must be at end
 * of record.", "Arrays of encapsulations don't make sense.", "N bit precision is not supported.",
 * "unknown option space X").
 */
export function formatFromTypeSpec(spec: OptionTypeSpec, table: OptionTable): FormatResult {
  const atom = (t: OptionTypeSpec, inArray: boolean): FormatResult => {
    switch (t.kind) {
      case 'boolean': return { ok: true, format: 'f' };
      case 'integer': {
        if (t.bits !== 8 && t.bits !== 16 && t.bits !== 32) {
          return { ok: false, message: `${t.bits} bit precision is not supported.` };
        }
        const c = t.bits === 8 ? 'b' : t.bits === 16 ? 's' : 'l';
        return { ok: true, format: t.signed ? c : c.toUpperCase() };
      }
      case 'ip-address': return { ok: true, format: 'I' };
      case 'ip6-address': return { ok: true, format: '6' };
      case 'text': case 'string': case 'domain-name': case 'domain-list':
        if (inArray) return { ok: false, message: 'arrays of text strings not yet supported.' };
        return {
          ok: true,
          format: t.kind === 'text' ? 't' : t.kind === 'string' ? 'X' : t.kind === 'domain-name' ? 'd' : t.compressed ? 'Dc' : 'D',
        };
      case 'encapsulate':
        if (!table.space(t.space)) return { ok: false, message: `unknown option space ${t.space}` };
        return { ok: true, format: `E${t.space}.` };
      case 'zerolen':
        if (inArray) return { ok: false, message: 'array incompatible with zerolen.' };
        return { ok: true, format: 'Z' };
      case 'array': return { ok: false, message: 'no nested arrays.' };
      case 'record': return { ok: false, message: 'unknown data type {' };
    }
  };
  const record = (fields: OptionTypeSpec[], outerArray: boolean): FormatResult => {
    let fmt = '';
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (fmt.includes('E')) return { ok: false, message: 'encapsulate must always be the last item.' };
      let r: FormatResult;
      if (f.kind === 'array') {
        if (outerArray) return { ok: false, message: 'no nested arrays.' };
        if (f.of.kind === 'record') return { ok: false, message: 'only uniform array inside record.' };
        r = atom(f.of, true);
        if (r.ok) r = { ok: true, format: r.format + 'a' };
      } else {
        r = atom(f, outerArray);
      }
      if (!r.ok) return r;
      const last = r.format.replace(/a$/, '');
      if ((last === 't' || last === 'X' || last === 'd' || last === 'D' || last === 'Dc' || last === 'Z') && i < fields.length - 1) {
        return { ok: false, message: `${last === 't' ? 'text' : 'string'} must be at end of record.` };
      }
      fmt += r.format;
    }
    return { ok: true, format: fmt };
  };
  if (spec.kind === 'array') {
    const inner = spec.of;
    if (inner.kind === 'array') return { ok: false, message: 'no nested arrays.' };
    if (inner.kind === 'record') {
      const r = record(inner.fields, true);
      if (!r.ok) return r;
      if (r.format.includes('E')) return { ok: false, message: "Arrays of encapsulations don't make sense." };
      return { ok: true, format: r.format + 'A' };
    }
    const r = atom(inner, true);
    if (!r.ok) return r;
    if (r.format.startsWith('E')) return { ok: false, message: "Arrays of encapsulations don't make sense." };
    return { ok: true, format: r.format + 'A' };
  }
  if (spec.kind === 'record') return record(spec.fields, false);
  return atom(spec, false);
}
