// Image bodies (Glance's glance/api/v2/images.py and etc/schema-image.json): what a
// client may set, what is read-only or reserved, and the allowed formats.
import { z } from 'zod';
import { ApiError, badRequest } from '../../../lib/errors';

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
export const VISIBILITIES = ['public', 'private', 'shared', 'community'] as const;
export const STATUSES = ['queued', 'saving', 'active', 'killed', 'deleted', 'uploading', 'importing', 'pending_delete', 'deactivated'] as const;
export const MEMBER_STATUSES = ['pending', 'accepted', 'rejected'] as const;
export const UUID_PATTERN = '^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$';
const uuid = new RegExp(UUID_PATTERN);

/** Set by the server only; a body that names one is refused with 403, as Glance does. */
export const READ_ONLY = [
  'created_at', 'updated_at', 'status', 'checksum', 'os_hash_algo', 'os_hash_value', 'size', 'virtual_size',
  'direct_url', 'self', 'file', 'schema', 'stores', 'id',
] as const;
export const RESERVED = ['location', 'locations', 'deleted', 'deleted_at'] as const;
/** Core attributes: a patch may replace them but never remove them. */
export const CORE = [
  'id', 'name', 'status', 'visibility', 'protected', 'os_hidden', 'owner', 'checksum', 'os_hash_algo', 'os_hash_value',
  'size', 'virtual_size', 'min_ram', 'min_disk', 'disk_format', 'container_format', 'created_at', 'updated_at', 'tags',
] as const;
/** How many tags and properties one image may carry (image_tag_quota, image_property_quota). */
export const MAX_TAGS = 128;
export const MAX_PROPERTIES = 128;

const nullableString = z.string().max(255).nullable();
const imageRef = z.string().regex(uuid, 'must be an image id (UUID)').nullable();

/** The attributes a client may write, after a create or a patch; custom properties are strings. */
export const writableImage = z
  .object({
    name: nullableString.optional(),
    visibility: z.enum(VISIBILITIES).optional(),
    protected: z.boolean().optional(),
    os_hidden: z.boolean().optional(),
    owner: nullableString.optional(),
    min_ram: z.number().int().min(0).optional(),
    min_disk: z.number().int().min(0).optional(),
    disk_format: z.enum(DISK_FORMATS).nullable().optional(),
    container_format: z.enum(CONTAINER_FORMATS).nullable().optional(),
    tags: z.array(z.string().min(1).max(255)).max(MAX_TAGS).optional(),
    kernel_id: imageRef.optional(),
    ramdisk_id: imageRef.optional(),
  })
  .catchall(z.string().max(65535));

export type WritableImage = z.infer<typeof writableImage>;

export const imageCreate = writableImage.extend({ id: z.string().regex(uuid, 'must be a UUID').optional() });

export const tagValue = z.string().min(1).max(255);

/** 403 for attributes a client may never set: read-only, reserved, or in Glance's own namespace. */
export function refuseProtected(key: string, allowId = false): void {
  if (key === 'id' && allowId) return;
  if ((READ_ONLY as readonly string[]).includes(key)) throw new ApiError(403, `Attribute '${key}' is read-only.`);
  if ((RESERVED as readonly string[]).includes(key) || key.startsWith('os_glance')) {
    throw new ApiError(403, `Attribute '${key}' is reserved.`);
  }
}

/** Property names are at most 255 characters and there are at most MAX_PROPERTIES of them. */
export function checkPropertyKeys(props: Record<string, string>): void {
  const keys = Object.keys(props);
  if (keys.length > MAX_PROPERTIES) throw new ApiError(413, `Maximum number of image properties exceeded (${MAX_PROPERTIES}).`);
  for (const k of keys) if (k.length === 0 || k.length > 255) throw badRequest(`Invalid property name: '${k}'.`);
}

export const memberCreate = z.object({ member: z.string().min(1).max(255) });
export const memberUpdate = z.object({ status: z.enum(MEMBER_STATUSES) });
export const importBody = z.object({
  method: z.object({ name: z.string(), uri: z.string().optional() }),
  stores: z.array(z.string()).optional(),
  all_stores: z.boolean().optional(),
  all_stores_must_succeed: z.boolean().optional(),
});
