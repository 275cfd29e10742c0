// Request bodies of /v3/groups (Keystone's keystone/identity/schema.py).
import { z } from 'zod';
import { description, idString, name } from './parameter-types';

/** The attributes a group has; anything else in a body is kept as "extra". */
export const GROUP_FIELDS = ['name', 'domain_id', 'description'] as const;

const groupProperties = { name, domain_id: idString.optional(), description: description.optional() };

export const groupCreate = z.strictObject({ group: z.looseObject(groupProperties) });

export const groupUpdate = z.strictObject({
  group: z
    .looseObject({ ...groupProperties, name: name.optional() })
    .refine((g) => Object.keys(g).length > 0, 'at least one attribute must be given'),
});
