// Request bodies of the server actions that rebuild, snapshot or move a server, after
// nova/api/openstack/compute/schemas/servers.py and migrate_server.py. Named after the
// microversion that introduced them; fields newer than the request's microversion are
// refused by the handlers, as Nova's per-version schemas refuse them.
import { z } from 'zod';
import { boolean, description, fqdn, isUuidLike, name } from './parameter-types';

const metadata = z
  .record(z.string().min(1).max(255), z.string().max(255))
  .refine((m) => Object.keys(m).length <= 128, 'at most 128 metadata items');
const flavorRef = z.union([z.string().min(1).max(255), z.number().int().nonnegative().transform(String)]);
const diskConfig = z.enum(['AUTO', 'MANUAL']);
/** parameter_types.image_id: a UUID. */
const imageId = z.string().refine(isUuidLike, "is not a 'uuid'");
/** A host name, or null for "let the scheduler choose". */
const host = fqdn.nullable();

export const resizeV2_1 = z.strictObject({ flavorRef, 'OS-DCF:diskConfig': diskConfig.optional() });

export const createImageV2_1 = z.strictObject({ name, metadata: metadata.optional() });

/** Every field rebuild has had up to 2.79; the handler refuses those the microversion lacks. */
export const rebuildV2_1 = z.strictObject({
  imageRef: imageId,
  name: name.optional(),
  adminPass: z.string().optional(),
  metadata: metadata.optional(),
  preserve_ephemeral: boolean.optional(),
  'OS-DCF:diskConfig': diskConfig.optional(),
  accessIPv4: z.string().optional(),
  accessIPv6: z.string().optional(),
  /** Until 2.57. */
  personality: z.array(z.strictObject({ path: z.string().max(255), contents: z.string() })).optional(),
  /** From 2.19. */
  description: description().optional(),
  /** From 2.54: a key pair name, or null to drop the key. */
  key_name: z.string().min(1).max(255).nullable().optional(),
  /** From 2.57: base64, or null to drop it. */
  user_data: z.string().max(65535).nullable().optional(),
  /** From 2.63. */
  trusted_image_certificates: z.array(z.string().min(1)).nullable().optional(),
});
export type RebuildBody = z.infer<typeof rebuildV2_1>;

/** From 2.56 a cold migration may name its host; before, the body is not looked at. */
export const migrateV2_56 = z.union([z.null(), z.strictObject({ host: host.optional() })]);

export const migrateLiveV2_1 = z.strictObject({ block_migration: boolean, disk_over_commit: boolean, host });
export const migrateLiveV2_25 = z.strictObject({ block_migration: z.union([z.literal('auto'), boolean]), host });
export const migrateLiveV2_30 = migrateLiveV2_25.extend({ force: boolean.optional() });
