// Reusable schema fragments (Nova's nova/api/validation/parameter_types.py): names,
// booleans as Nova spells them, integers that may come as strings, descriptions.
import { z } from 'zod';

/** Printable as Nova means it: no control or format characters, no line or paragraph separators, BMP only. */
function printable(s: string): boolean {
  for (const ch of s) {
    if (ch.codePointAt(0)! > 0xfffe || /[\p{C}\p{Zl}\p{Zp}]/u.test(ch)) return false;
  }
  return true;
}
const edgeSpace = /^[\p{Zs}]|[\p{Zs}]$/u;

/** Nova's valid_name_regex: printable characters, not starting or ending with whitespace. */
export function isValidName(s: string): boolean {
  return printable(s) && !edgeSpace.test(s);
}

const INVALID_NAME = "An invalid 'name' value was provided. The name must be: printable characters. Can not start or end with whitespace.";

/** parameter_types.name: 1 to 255 printable characters without leading or trailing whitespace. */
export const name = z.string().min(1).max(255).refine(isValidName, INVALID_NAME);

/** parameter_types.description: printable (whitespace inside allowed), up to `max` characters, or null. */
export const description = (max = 255) => z.string().max(max).refine(printable, 'must be printable characters').nullable();

const TRUE = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes'];
const FALSE = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];

/** parameter_types.boolean: true/false, or one of the strings Nova takes for them. */
export const boolean = z
  .union([z.boolean(), z.enum([...TRUE, ...FALSE] as [string, ...string[]])])
  .transform((v) => (typeof v === 'boolean' ? v : TRUE.includes(v)));

/** oslo's strutils.bool_from_string; strict makes anything unrecognised an error (undefined). */
export function boolFromString(value: unknown, strict = false): boolean | undefined {
  if (typeof value === 'boolean') return value;
  const v = String(value).trim().toLowerCase();
  if (['1', 't', 'true', 'on', 'y', 'yes'].includes(v)) return true;
  if (['0', 'f', 'false', 'off', 'n', 'no'].includes(v)) return false;
  return strict ? undefined : false;
}

/** An integer given as a JSON number or a string of digits, within [min, max]. */
export function integerParam(min: number, max = 0x7fffffff, pattern = /^[0-9]+$/) {
  return z
    .union([z.number().int(), z.string().regex(pattern, `must match ${pattern.source}`)])
    .transform((v) => Number(v))
    .refine((n) => n >= min, `must be at least ${min}`)
    .refine((n) => n <= max, `must be at most ${max}`);
}

/** parameter_types.positive_integer and non_negative_integer. */
export const positiveInteger = integerParam(1, Number.MAX_SAFE_INTEGER, /^[0-9]*$/);
export const nonNegativeInteger = integerParam(0, Number.MAX_SAFE_INTEGER, /^[0-9]*$/);

/** parameter_types.fqdn: what a host name in a services body may look like. */
export const fqdn = z.string().min(1).max(255).regex(/^[a-zA-Z0-9-._]*$/, "must match '^[a-zA-Z0-9-._]*$'");

/** oslo's is_uuid_like: 32 hex digits once "urn:uuid:", braces and dashes are taken out. */
export function isUuidLike(value: string): boolean {
  return /^[0-9a-f]{32}$/i.test(value.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, ''));
}
