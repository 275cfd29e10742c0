// JSON views of Glance resources, as the v2 API renders them.
import type { Context } from 'hono';
import type { ImageRow, MemberRow } from './db';

/** The public base URL of the image API, e.g. http://127.0.0.1:8787/image. */
export function imageBase(c: Context): string {
  return `${new URL(c.req.url).origin}/image`;
}

export function imageView(img: ImageRow): Record<string, unknown> {
  return {
    ...img.properties,
    id: img.id,
    name: img.name,
    status: img.status,
    visibility: img.visibility,
    protected: img.protected,
    os_hidden: img.osHidden,
    checksum: img.checksum,
    os_hash_algo: img.osHashAlgo,
    os_hash_value: img.osHashValue,
    owner: img.owner,
    size: img.size,
    virtual_size: img.virtualSize,
    min_ram: img.minRam,
    min_disk: img.minDisk,
    disk_format: img.diskFormat,
    container_format: img.containerFormat,
    created_at: img.createdAt,
    updated_at: img.updatedAt,
    tags: img.tags,
    ...(img.status === 'active' || img.status === 'deactivated' ? { stores: 'swift' } : {}),
    self: `/v2/images/${img.id}`,
    file: `/v2/images/${img.id}/file`,
    schema: '/v2/schemas/image',
  };
}

export function memberView(m: MemberRow): Record<string, unknown> {
  return {
    image_id: m.imageId,
    member_id: m.memberId,
    status: m.status,
    created_at: m.createdAt,
    updated_at: m.updatedAt,
    schema: '/v2/schemas/member',
  };
}
