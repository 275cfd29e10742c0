// Key pair bodies (Nova's schemas/keypairs.py), named after the microversion that
// introduced each shape.
import { z } from 'zod';
import { name } from './parameter-types';

/** keypair_name_special_chars: a name, of letters, digits, spaces, "_" and "-". */
const keypairName = name.pipe(z.string().regex(/^[_\- a-zA-Z0-9]+$/, "must match '^[_\\- a-zA-Z0-9]+$'"));

export const KEYPAIR_TYPES = ['ssh', 'x509'] as const;
export type KeypairType = (typeof KEYPAIR_TYPES)[number];

export const keypairCreateV2_1 = z.strictObject({
  keypair: z.strictObject({ name: keypairName, public_key: z.string().optional() }),
});

/** 2.2: keypairs have a type. */
export const keypairCreateV2_2 = z.strictObject({
  keypair: z.strictObject({ name: keypairName, type: z.enum(KEYPAIR_TYPES).optional(), public_key: z.string().optional() }),
});

/** 2.10: admins may create keypairs for other users. */
export const keypairCreateV2_10 = z.strictObject({
  keypair: z.strictObject({
    name: keypairName,
    type: z.enum(KEYPAIR_TYPES).optional(),
    public_key: z.string().optional(),
    user_id: z.string().optional(),
  }),
});

export type KeypairCreate = z.infer<typeof keypairCreateV2_10>['keypair'];

/** The query parameters of the keypair APIs at 2.10 and after, refused when unknown from 2.75. */
export const KEYPAIR_QUERY_V2_10 = ['user_id'] as const;
export const KEYPAIR_LIST_QUERY_V2_35 = ['user_id', 'limit', 'marker'] as const;
