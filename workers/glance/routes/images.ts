// /v2/images: create, list, show, update by JSON patch, delete, tags, deactivate/reactivate.
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { ApiError, badRequest, conflict, forbidden } from '../../../lib/errors';
import { readJson, validate } from '../../../lib/validation';
import { imageMembers, images } from '../../../schema/glance';
import { loadImage, targetOf, type C } from '../access';
import { database, isoNow, isUniqueViolation, type ImageRow } from '../db';
import type { GlanceEnv } from '../env';
import { listImages } from '../list';
import { applyPatch, checkFormatChange, PATCH_MEDIA_TYPES, rowFields } from '../patch';
import { authorize, isAdmin } from '../policies';
import { checkPropertyKeys, imageCreate, refuseProtected, tagValue, MAX_TAGS } from '../schemas/images';
import { deleteImageData } from '../store';
import { imageView } from '../views';

export const imageRoutes = new Hono<GlanceEnv>();

/** Tells clients which import methods this cloud offers (openstacksdk reads it on create). */
export function importHeaders(c: C): void {
  c.header('OpenStack-image-import-methods', 'glance-direct');
}

/** Visibility changes need their own rules: only admins publish. */
function authorizeVisibility(c: C, visibility: string | undefined, target: Record<string, unknown>): void {
  if (visibility === 'public') authorize(c, 'publicize_image', target);
  if (visibility === 'community') authorize(c, 'communitize_image', target);
}

imageRoutes.post('/v2/images', async (c) => {
  const body = await readJson(c);
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw badRequest('The request body must be a JSON object.');
  for (const key of Object.keys(body)) refuseProtected(key, true);
  const w = validate(imageCreate, body);
  const { id, ...writable } = w;
  const fields = rowFields(writable);
  checkPropertyKeys(fields.properties);
  const project = c.var.auth.projectId ?? null;
  const owner = fields.owner === undefined ? project : fields.owner;
  const target = { owner: owner ?? undefined, project_id: owner ?? undefined, visibility: fields.visibility ?? 'shared' };
  authorize(c, 'add_image', target);
  if (owner !== project && !isAdmin(c)) throw forbidden(`You are not permitted to create images owned by '${owner}'.`);
  authorizeVisibility(c, fields.visibility, target);
  if ((fields.tags?.length ?? 0) > MAX_TAGS) throw new ApiError(413, `Maximum number of tags exceeded (${MAX_TAGS}).`);
  const now = isoNow();
  const row: ImageRow = {
    id: (id ?? crypto.randomUUID()).toLowerCase(),
    name: fields.name ?? null,
    status: 'queued',
    visibility: fields.visibility ?? 'shared',
    protected: fields.protected ?? false,
    osHidden: fields.osHidden ?? false,
    owner,
    size: null, virtualSize: null, checksum: null, osHashAlgo: null, osHashValue: null,
    minDisk: fields.minDisk ?? 0,
    minRam: fields.minRam ?? 0,
    diskFormat: fields.diskFormat ?? null,
    containerFormat: fields.containerFormat ?? null,
    properties: fields.properties,
    tags: fields.tags ?? [],
    staged: null,
    createdAt: now,
    updatedAt: now,
  };
  try {
    await database(c.env.DB).insert(images).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Image with identifier ${row.id} already exists!`);
    throw err;
  }
  importHeaders(c);
  c.header('Location', `${new URL(c.req.url).origin}/image/v2/images/${row.id}`);
  return c.json(imageView(row), 201);
});

imageRoutes.get('/v2/images', async (c) => {
  authorize(c, 'get_images');
  const { items, next } = await listImages(c);
  const search = new URL(c.req.url).searchParams;
  search.delete('marker');
  const query = search.toString();
  return c.json({
    images: items.map(imageView),
    first: `/v2/images${query ? `?${query}` : ''}`,
    schema: '/v2/schemas/images',
    ...(next ? { next } : {}),
  });
});

imageRoutes.get('/v2/images/:image_id', async (c) => {
  const { row, member } = await loadImage(c);
  authorize(c, 'get_image', targetOf(c, row, member));
  return c.json(imageView(row));
});

imageRoutes.patch('/v2/images/:image_id', async (c) => {
  const type = (c.req.header('Content-Type') ?? '').split(';')[0]!.trim().toLowerCase();
  if (!PATCH_MEDIA_TYPES.includes(type)) {
    throw new ApiError(415, `Unsupported Content-Type: use ${PATCH_MEDIA_TYPES[0]}.`, { 'Accept-Patch': PATCH_MEDIA_TYPES.join(', ') });
  }
  const { db, row, member } = await loadImage(c);
  const target = targetOf(c, row, member);
  authorize(c, 'modify_image', target);
  const next = rowFields(applyPatch(row, await readJson(c)));
  checkFormatChange(row, next);
  if (next.visibility !== row.visibility) authorizeVisibility(c, next.visibility, target);
  if (next.owner !== undefined && next.owner !== row.owner && !isAdmin(c)) {
    throw forbidden("You are not permitted to modify 'owner' on this image.");
  }
  const updated: ImageRow = { ...row, ...next, updatedAt: isoNow() };
  await db.update(images).set({ ...next, updatedAt: updated.updatedAt }).where(eq(images.id, row.id));
  return c.json(imageView(updated));
});

imageRoutes.delete('/v2/images/:image_id', async (c) => {
  const { db, row, member } = await loadImage(c);
  authorize(c, 'delete_image', targetOf(c, row, member));
  if (row.protected) throw forbidden(`Image ${row.id} is protected and cannot be deleted.`);
  await db.batch([db.delete(imageMembers).where(eq(imageMembers.imageId, row.id)), db.delete(images).where(eq(images.id, row.id))]);
  if (row.status !== 'queued') await deleteImageData(c.env, row.id);
  return c.body(null, 204);
});

imageRoutes.put('/v2/images/:image_id/tags/:tag', async (c) => {
  const { db, row, member } = await loadImage(c);
  authorize(c, 'modify_image', targetOf(c, row, member));
  const tag = validate(tagValue, c.req.param('tag'));
  if (!row.tags.includes(tag)) {
    if (row.tags.length >= MAX_TAGS) throw new ApiError(413, `Maximum number of tags exceeded (${MAX_TAGS}).`);
    await db.update(images).set({ tags: [...row.tags, tag], updatedAt: isoNow() }).where(eq(images.id, row.id));
  }
  return c.body(null, 204);
});

imageRoutes.delete('/v2/images/:image_id/tags/:tag', async (c) => {
  const { db, row, member } = await loadImage(c);
  authorize(c, 'modify_image', targetOf(c, row, member));
  const tag = c.req.param('tag');
  if (!row.tags.includes(tag)) throw new ApiError(404, `Tag ${tag} not found.`);
  await db.update(images).set({ tags: row.tags.filter((t) => t !== tag), updatedAt: isoNow() }).where(eq(images.id, row.id));
  return c.body(null, 204);
});

for (const action of ['deactivate', 'reactivate'] as const) {
  imageRoutes.post(`/v2/images/:image_id/actions/${action}`, async (c) => {
    const { db, row, member } = await loadImage(c);
    authorize(c, action, targetOf(c, row, member));
    const from = action === 'deactivate' ? 'active' : 'deactivated';
    const to = action === 'deactivate' ? 'deactivated' : 'active';
    if (row.status !== from && row.status !== to) {
      throw forbidden(`Not allowed to ${action} image in status '${row.status}'`);
    }
    if (row.status === from) await db.update(images).set({ status: to, updatedAt: isoNow() }).where(eq(images.id, row.id));
    return c.body(null, 204);
  });
}
