// /servers/{id}/metadata: the server's key/value metadata, at most 128 items.
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { ApiError, badRequest, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { instances } from '../../../schema/nova';
import { checkLock, loadServer, type C } from '../compute/api';
import { database, isoNow, type InstanceRow } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { metadataBody, metaItemBody } from '../schemas/servers';

export const serverMetadataRoutes = new Hono<NovaEnv>();

const MAX_ITEMS = 128;

async function load(c: C, rule: string): Promise<InstanceRow> {
  const s = await loadServer(c, c.req.param('id')!);
  authorize(c, `os_compute_api:server-metadata:${rule}`, { project_id: s.projectId });
  return s;
}

async function save(c: C, s: InstanceRow, metadata: Record<string, string>): Promise<void> {
  checkLock(c, s);
  if (Object.keys(metadata).length > MAX_ITEMS) throw new ApiError(403, 'Quota exceeded for metadata_items: Requested more than the allowed 128');
  await database(c.env.DB).update(instances).set({ metadata, updatedAt: isoNow() }).where(eq(instances.uuid, s.uuid));
}

serverMetadataRoutes.get('/servers/:id/metadata', async (c) => c.json({ metadata: (await load(c, 'index')).metadata }));

serverMetadataRoutes.post('/servers/:id/metadata', async (c) => {
  const s = await load(c, 'create');
  const { metadata } = await jsonBody(c, metadataBody);
  const merged = { ...s.metadata, ...metadata };
  await save(c, s, merged);
  return c.json({ metadata: merged });
});

serverMetadataRoutes.put('/servers/:id/metadata', async (c) => {
  const s = await load(c, 'update_all');
  const { metadata } = await jsonBody(c, metadataBody);
  await save(c, s, metadata);
  return c.json({ metadata });
});

serverMetadataRoutes.get('/servers/:id/metadata/:key', async (c) => {
  const s = await load(c, 'show');
  const key = c.req.param('key');
  if (!(key in s.metadata)) throw notFound('Metadata item was not found');
  return c.json({ meta: { [key]: s.metadata[key] } });
});

serverMetadataRoutes.put('/servers/:id/metadata/:key', async (c) => {
  const s = await load(c, 'update');
  const key = c.req.param('key');
  const { meta } = await jsonBody(c, metaItemBody);
  const keys = Object.keys(meta);
  if (keys.length !== 1) throw badRequest('Request body contains too many items');
  if (keys[0] !== key) throw badRequest('Request body and URI mismatch');
  await save(c, s, { ...s.metadata, [key]: meta[key]! });
  return c.json({ meta });
});

serverMetadataRoutes.delete('/servers/:id/metadata/:key', async (c) => {
  const s = await load(c, 'delete');
  const key = c.req.param('key');
  if (!(key in s.metadata)) throw notFound('Metadata item was not found');
  const { [key]: _gone, ...rest } = s.metadata;
  await save(c, s, rest);
  return c.body(null, 204);
});
