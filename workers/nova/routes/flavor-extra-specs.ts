// /flavors/{id}/os-extra_specs: a flavor's key/value extra specs. Changes are made in
// SQL (json_patch, json_remove) so concurrent writers of different keys never lose one.
import { and, eq, sql } from 'drizzle-orm';
import { Hono } from 'hono';
import { badRequest, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { flavors } from '../../../schema/nova';
import type { NovaEnv } from '../env';
import { flavorNotFound, loadFlavor } from '../flavors';
import { authorize } from '../policies';
import { extraSpecsCreate, extraSpecUpdate, specStrings } from '../schemas/flavors';

export const flavorExtraSpecRoutes = new Hono<NovaEnv>();

const SPEC_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
const noSuchKey = (flavorId: string, key: string) => notFound(`Flavor ${flavorId} has no extra specs with key ${key}.`);

flavorExtraSpecRoutes.get('/flavors/:flavor_id/os-extra_specs', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-extra-specs:index', { project_id: c.var.auth.projectId });
  const { row } = await loadFlavor(c, c.req.param('flavor_id'));
  return c.json({ extra_specs: row.extraSpecs });
});

flavorExtraSpecRoutes.get('/flavors/:flavor_id/os-extra_specs/:key', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-extra-specs:show', { project_id: c.var.auth.projectId });
  const key = c.req.param('key');
  const { row } = await loadFlavor(c, c.req.param('flavor_id'));
  if (!Object.hasOwn(row.extraSpecs, key)) throw noSuchKey(c.req.param('flavor_id'), key);
  return c.json({ [key]: row.extraSpecs[key] });
});

/** Merges specs into the flavor's; answers with the body as given, as Nova does. */
async function mergeSpecs(c: Parameters<typeof loadFlavor>[0], flavorId: string, specs: Record<string, string | number>): Promise<void> {
  const { db, row } = await loadFlavor(c, flavorId);
  const updated = await db
    .update(flavors)
    .set({ extraSpecs: sql`json_patch(${flavors.extraSpecs}, ${JSON.stringify(specStrings(specs))})` })
    .where(eq(flavors.id, row.id))
    .returning({ id: flavors.id });
  if (updated.length === 0) throw flavorNotFound(flavorId);
}

flavorExtraSpecRoutes.post('/flavors/:flavor_id/os-extra_specs', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-extra-specs:create', {});
  const body = await jsonBody(c, extraSpecsCreate);
  await mergeSpecs(c, c.req.param('flavor_id'), body.extra_specs);
  return c.json(body);
});

flavorExtraSpecRoutes.put('/flavors/:flavor_id/os-extra_specs/:key', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-extra-specs:update', {});
  const body = await jsonBody(c, extraSpecUpdate);
  if (!Object.hasOwn(body, c.req.param('key'))) throw badRequest('Request body and URI mismatch');
  await mergeSpecs(c, c.req.param('flavor_id'), body);
  return c.json(body);
});

flavorExtraSpecRoutes.delete('/flavors/:flavor_id/os-extra_specs/:key', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-extra-specs:delete', {});
  const flavorId = c.req.param('flavor_id');
  const key = c.req.param('key');
  const { db, row } = await loadFlavor(c, flavorId);
  if (!SPEC_KEY.test(key)) throw noSuchKey(flavorId, key);
  const path = `$."${key}"`;
  const updated = await db
    .update(flavors)
    .set({ extraSpecs: sql`json_remove(${flavors.extraSpecs}, ${path})` })
    .where(and(eq(flavors.id, row.id), sql`json_type(${flavors.extraSpecs}, ${path}) is not null`))
    .returning({ id: flavors.id });
  if (updated.length === 0) throw noSuchKey(flavorId, key);
  return c.body(null, 200);
});
