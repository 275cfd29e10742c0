import { z } from 'zod';
import { domainRef, id, name } from './parameter-types';

const userRef = z.strictObject({
  id: id.optional(),
  name: name.optional(),
  domain: domainRef.optional(),
});

export const authV3 = z.strictObject({
  auth: z.strictObject({
    identity: z.strictObject({
      methods: z.array(z.enum(['password', 'token', 'application_credential'])).min(1),
      password: z.strictObject({ user: userRef.extend({ password: z.string().max(4096) }) }).optional(),
      token: z.strictObject({ id: z.string().min(1).max(8192) }).optional(),
      application_credential: z
        .strictObject({ id: id.optional(), name: name.optional(), user: userRef.optional(), secret: z.string().min(1).max(4096) })
        .optional(),
    }),
    scope: z
      .union([
        z.literal('unscoped'),
        z.strictObject({
          project: z.strictObject({ id: id.optional(), name: name.optional(), domain: domainRef.optional() }).optional(),
          domain: domainRef.optional(),
          system: z.strictObject({ all: z.literal(true) }).optional(),
          'OS-TRUST:trust': z.unknown().optional(),
        }),
      ])
      .optional(),
  }),
});

export type AuthRequest = z.infer<typeof authV3>['auth'];
