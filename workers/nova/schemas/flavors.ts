// Flavor bodies (Nova's schemas/flavors.py, flavor_access.py, flavors_extraspecs.py).
import { z } from 'zod';
import { boolean, description, integerParam, name } from './parameter-types';

/** The sort keys GET /flavors accepts (schemas/flavors.py VALID_SORT_KEYS). */
export const FLAVOR_SORT_KEYS = [
  'created_at', 'description', 'disabled', 'ephemeral_gb', 'flavorid', 'id', 'is_public', 'memory_mb', 'name',
  'root_gb', 'rxtx_factor', 'swap', 'updated_at', 'vcpu_weight', 'vcpus',
] as const;
export type FlavorSortKey = (typeof FLAVOR_SORT_KEYS)[number];
export const SORT_DIRS = ['asc', 'desc'] as const;

/** The query parameters of GET /flavors and /flavors/detail (refused if others are given from 2.75). */
export const FLAVOR_LIST_QUERY = ['limit', 'marker', 'is_public', 'minRam', 'minDisk', 'sort_key', 'sort_dir'] as const;

// A flavor id given by the client: no leading or trailing space; a number is taken as its string.
const flavorId = z.union([
  z.string().min(1).max(255).regex(/^(?! )[a-zA-Z0-9. _-]+(?<! )$/, "must match '^(?! )[a-zA-Z0-9. _-]+(?<! )$'"),
  z.number(),
  z.null(),
]);

// A positive float, as a number or a string of digits.
const rxtxFactor = z.union([
  z.number().gt(0).max(3.40282e38),
  z.string().regex(/^[0-9]+(\.[0-9]+)?$/, "must match '^[0-9]+(\\.[0-9]+)?$'"),
]);

const flavorFields = {
  name,
  id: flavorId.optional(),
  ram: integerParam(1),
  vcpus: integerParam(1),
  disk: integerParam(0),
  'OS-FLV-EXT-DATA:ephemeral': integerParam(0).optional(),
  swap: integerParam(0).optional(),
  rxtx_factor: rxtxFactor.optional(),
  'os-flavor-access:is_public': boolean.optional(),
};

const flavorDescription = description(65535);

export const flavorCreateV2_1 = z.strictObject({ flavor: z.strictObject(flavorFields) });
/** 2.55: a flavor may have a description. */
export const flavorCreateV2_55 = z.strictObject({ flavor: z.strictObject({ ...flavorFields, description: flavorDescription.optional() }) });
export type FlavorCreate = z.infer<typeof flavorCreateV2_55>['flavor'];

/** 2.55: PUT /flavors/{id} changes the description, and only that. */
export const flavorUpdateV2_55 = z.strictObject({ flavor: z.strictObject({ description: flavorDescription }) });

const tenant = z.strictObject({ tenant: z.string().min(1).max(255) });
export const addTenantAccess = z.strictObject({ addTenantAccess: tenant });
export const removeTenantAccess = z.strictObject({ removeTenantAccess: tenant });

// Extra spec keys and values: values may be numbers, kept as strings.
const specKey = z.string().regex(/^[a-zA-Z0-9-_:. ]{1,255}$/, "must match '^[a-zA-Z0-9-_:. ]{1,255}$'");
const specValue = z.union([
  z.string().max(255),
  z.number().refine((n) => String(n).length <= 255, 'extra_specs value has more than 255 characters'),
]);
const specs = z.record(specKey, specValue);

export const extraSpecsCreate = z.strictObject({ extra_specs: specs });
/** PUT /flavors/{id}/os-extra_specs/{key}: exactly one key, the one in the URL. */
export const extraSpecUpdate = specs.refine((o) => Object.keys(o).length === 1, 'exactly one extra spec must be given');

/** Extra spec values are stored as strings, as Nova stores them. */
export function specStrings(given: Record<string, string | number>): Record<string, string> {
  return Object.fromEntries(Object.entries(given).map(([k, v]) => [k, String(v)]));
}
