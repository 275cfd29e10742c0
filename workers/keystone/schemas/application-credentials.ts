// Application credential bodies (Keystone's keystone/application_credential/schema.py).
import { z } from 'zod';
import { description, id, name } from './parameter-types';

const roleRef = z
  .strictObject({ id: id.optional(), name: name.optional(), domain_id: id.nullable().optional() })
  .refine((r) => r.id !== undefined || r.name !== undefined, 'a role is given by id or name');

export const applicationCredentialCreate = z.strictObject({
  application_credential: z.strictObject({
    name,
    description: description.optional(),
    secret: z.string().max(4096).nullable().optional(),
    expires_at: z.string().max(64).nullable().optional(),
    roles: z.array(roleRef).optional(),
    unrestricted: z.boolean().nullable().optional(),
    access_rules: z.array(z.record(z.string(), z.unknown())).nullable().optional(),
  }),
});
