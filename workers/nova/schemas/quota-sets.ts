// os-quota-sets bodies (Nova's schemas/quota_sets.py): each resource's new hard limit,
// an integer from -1 (unlimited) up, and `force` to go below current usage.
import { z } from 'zod';
import type { ApiVersion } from '../../../lib/microversion';
import { quotaResourcesAt, type QuotaResource } from '../quota';
import { boolean } from './parameter-types';

const quotaValue = z
  .union([z.number().int(), z.string().regex(/^-?[0-9]+$/, "must match '^-?[0-9]+$'")])
  .transform((v) => Number(v))
  .refine((n) => n >= -1, 'must be at least -1')
  .refine((n) => n <= 0x7fffffff, `must be at most ${0x7fffffff}`);

export type QuotaSetUpdate = { force?: boolean } & Partial<Record<QuotaResource, number>>;

/** The PUT body at a microversion: 2.36 and 2.57 drop resources, which are then refused. */
export function quotaSetUpdate(version: ApiVersion) {
  const fields = Object.fromEntries(quotaResourcesAt(version).map((r) => [r, quotaValue.optional()]));
  return z.strictObject({ quota_set: z.strictObject({ ...fields, force: boolean.optional() }) });
}

/** The query parameter os-quota-sets takes (refused when unknown from 2.75). */
export const QUOTA_SET_QUERY = ['user_id'] as const;
