// Request bodies of /v3/users (Keystone's keystone/identity/schema.py).
import { z } from 'zod';
import { description, enabled, idString, name } from './parameter-types';

/** The attributes a user has; anything else in a body is kept as "extra". */
export const USER_FIELDS = [
  'name', 'domain_id', 'enabled', 'default_project_id', 'description', 'email', 'password',
  'password_expires_at', 'options', 'federated',
] as const;

const flag = z.boolean().nullable().optional();
/** Keystone's USER_OPTIONS_REGISTRY. */
export const userOptions = z.strictObject({
  ignore_change_password_upon_first_use: flag,
  ignore_password_expiry: flag,
  ignore_lockout_failure_attempts: flag,
  ignore_user_inactivity: flag,
  lock_password: flag,
  multi_factor_auth_enabled: flag,
  multi_factor_auth_rules: z.array(z.array(z.string().min(1).max(255))).nullable().optional(),
});

const password = z.string().max(4096).nullable().optional();

const userProperties = {
  name,
  domain_id: idString.optional(),
  enabled: enabled.optional(),
  default_project_id: idString.nullable().optional(),
  description: description.optional(),
  email: z.string().max(255).nullable().optional(),
  password,
  options: userOptions.optional(),
};

export const userCreate = z.strictObject({ user: z.looseObject(userProperties) });

export const userUpdate = z.strictObject({
  user: z
    .looseObject({ ...userProperties, name: name.optional() })
    .refine((u) => Object.keys(u).length > 0, 'at least one attribute must be given'),
});

export const passwordChange = z.strictObject({
  user: z.strictObject({ original_password: z.string().max(4096), password: z.string().min(1).max(4096) }),
});

export type UserCreate = z.infer<typeof userCreate>['user'];
export type UserUpdate = z.infer<typeof userUpdate>['user'];
export type UserOptions = z.infer<typeof userOptions>;
