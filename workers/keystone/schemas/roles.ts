// Role bodies (Keystone's keystone/assignment/schema.py). Unknown attributes are kept as extra.
import { z } from 'zod';
import { description, extraValue, id, name } from './parameter-types';

const roleOptions = z.strictObject({ immutable: z.boolean().nullable().optional() });

const roleFields = {
  name,
  description: description.optional(),
  domain_id: id.nullable().optional(),
  options: roleOptions.optional(),
};

export const roleCreate = z.strictObject({
  role: z.object(roleFields).catchall(extraValue),
});

export const roleUpdate = z.strictObject({
  role: z
    .object({ ...roleFields, name: name.optional() })
    .catchall(extraValue)
    .refine((r) => Object.keys(r).length > 0, 'at least one attribute must be given'),
});
