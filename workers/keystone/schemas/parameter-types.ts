// Reusable schema fragments (Keystone's keystone/api/validation/parameter_types.py).
import { z } from 'zod';

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
