/**
 * ISC `site-option-space` (server/dhcp.c ack_lease and dhcpinform, common/options.c cons_options and
 * store_options): when the parameter names an option space, every option code at or above that space's
 * "site code minimum" is taken from the named space instead of the dhcp space, and sent as a top-level DHCP
 * option with its own code. The minimum is the lowest code defined in the space, 224 when none is lower
 * (RFC 3942), never below 128; a space with codes below 224 gets ISC's RFC 3942 warning once. dhcp-space
 * options at or above the minimum are then not sent. Without a parameter request list the dhcp options
 * below the minimum come first, then the site options; with one, the client's order rules either way.
 *
 * @module
 */
import type { OptionTable } from '../options/option-table.js';
import type { Logger } from '../log/logger.js';

/** What the option building needs: the dhcp-space values and the values of every space by name. */
export interface OptionValues {
  space(space: string): ReadonlyMap<number, Buffer>;
  get(space: string, code: number): Buffer | undefined;
}

/** ISC's server-space code of `site-option-space` (server/stables.c). */
export const SV_SITE_OPTION_SPACE = 21;

const minimums = new WeakMap<object, number>();

/** ISC find_min_site_code: the lowest defined code of the space (224 when none lower, at least 128). */
export function siteCodeMinimum(table: OptionTable, spaceName: string, logger?: Logger): number | undefined {
  const space = table.space(spaceName);
  if (space === undefined) return undefined;
  const cached = minimums.get(space);
  if (cached !== undefined) return cached;
  let min = 224;
  for (const code of space.byCode.keys()) if (code < min) min = code;
  if (min < 224) {
    logger?.error(
      `WARNING: site-local option codes less than 224 have been deprecated by RFC3942.  You have options listed in site local space ${space.name} that number as low as ${min}.  Please investigate if these should be declared as regular options rather than site-local options, or migrated up past 224.`,
    );
  }
  if (min < 128) min = 128;
  minimums.set(space, min);
  return min;
}

/** The `site-option-space` value in effect (NUL-terminated text in ISC's option cache). */
export function siteOptionSpaceName(values: OptionValues): string | undefined {
  const v = values.get('server', SV_SITE_OPTION_SPACE);
  if (v === undefined) return undefined;
  const i = v.indexOf(0);
  return (i >= 0 ? v.subarray(0, i) : v).toString('latin1');
}

/**
 * ISC ack_lease and dhcpinform: a `site-option-space` naming no option space is logged ("unknown option
 * space NAME.") and the request gets no reply. True in that case.
 */
export function siteOptionSpaceUnknown(table: OptionTable, values: OptionValues, logger?: Logger): boolean {
  const name = siteOptionSpaceName(values);
  if (name === undefined || table.space(name.toLowerCase()) !== undefined) return false;
  logger?.error(`unknown option space ${name}.`);
  return true;
}

/**
 * The top-level options of the reply by code, as cons_options sees them: the dhcp space alone, or with a
 * site option space the dhcp codes below its minimum followed by the site space's codes from the minimum
 * up.
 */
export function topLevelOptions(table: OptionTable, values: OptionValues, logger?: Logger): ReadonlyMap<number, Buffer> {
  const dhcp = values.space('dhcp');
  const name = siteOptionSpaceName(values);
  if (name === undefined) return dhcp;
  const min = siteCodeMinimum(table, name.toLowerCase(), logger);
  // An unknown space never gets here in the engine ({@link siteOptionSpaceUnknown} stopped the reply).
  if (min === undefined) return dhcp;
  const out = new Map<number, Buffer>();
  for (const [code, v] of dhcp) if (code < min) out.set(code, v);
  for (const [code, v] of values.space(name.toLowerCase())) if (code >= min && code <= 255) out.set(code, v);
  return out;
}
