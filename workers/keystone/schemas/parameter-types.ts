// Reusable schema fragments (Keystone's keystone/api/validation/parameter_types.py).
import { z } from 'zod';
import { ApiError } from '../../../lib/errors';

export const id = z.string().min(1).max(64);
export const name = z.string().min(1).max(255).refine((s) => s.trim().length > 0, 'must not be blank');
export const description = z.string().max(65535).nullable();
export const enabled = z.boolean();
export const tag = z
  .string()
  .min(1)
  .max(255)
  .refine((s) => !s.includes(',') && !s.includes('/'), "must not contain ',' or '/'");
/** Resource bodies keep unknown attributes as "extra", as Keystone does; their values must be JSON. */
export const extraValue = z.unknown();
export const domainRef = z.strictObject({ id: id.optional(), name: name.optional() });

/** Keystone's id_string: what an id given by a client may look like. */
export const idString = z.string().min(1).max(64).regex(/^[a-zA-Z0-9-]+$/, 'must be letters, digits and dashes');
/** Project and domain names are shorter than user and group names in Keystone. */
export const resourceName = z.string().min(1).max(64).refine((s) => s.trim().length > 0, 'must not be blank');
/** At most 80 distinct tags, as Keystone allows. */
export const tags = z
  .array(tag)
  .max(80)
  .refine((list) => new Set(list).size === list.length, 'must not repeat a tag');
/** Resource options a project or domain accepts (Keystone's PROJECT_OPTIONS_REGISTRY). */
export const projectOptions = z.strictObject({ immutable: z.boolean().nullable().optional() });
/** Query flags: Keystone reads "0", "false", "no", "off" as false and anything else as true. */
export function queryFlag(value: string): boolean {
  return !['0', 'false', 'f', 'no', 'n', 'off'].includes(value.trim().toLowerCase());
}
/** Unknown attributes of a body, kept as "extra"; the server's own fields are never taken from it. */
export function extraOf(body: Record<string, unknown>, known: readonly string[]): Record<string, unknown> {
  const skip = new Set([...known, 'id', 'links']);
  return Object.fromEntries(Object.entries(body).filter(([k]) => !skip.has(k)));
}
/** Keystone's max_request_body_size: stored free-form attributes stay below it (a D1 row has a size cap). */
export const MAX_EXTRA_BYTES = 114_688;
export function sizedExtra<T extends Record<string, unknown>>(extra: T): T {
  if (JSON.stringify(extra).length > MAX_EXTRA_BYTES) {
    throw new ApiError(413, `The free-form attributes of a resource may take at most ${MAX_EXTRA_BYTES} bytes.`);
  }
  return extra;
}
