// The service catalog's resources: /v3/services, /v3/endpoints, /v3/regions. Every write
// drops the cached catalog that tokens carry.
import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest, conflict, forbidden, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { endpoints, regions, services } from '../../../schema/keystone';
import { invalidateCatalog } from '../catalog';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { endpointCreate, endpointUpdate, regionCreate, regionUpdate, serviceCreate, serviceUpdate } from '../schemas/catalog';
import { page, selfLink, withExtra } from '../views';

export const catalog = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type ServiceRow = typeof services.$inferSelect;
type EndpointRow = typeof endpoints.$inferSelect;
type RegionRow = typeof regions.$inferSelect;

const serviceView = (c: C, s: ServiceRow) =>
  withExtra({ id: s.id, type: s.type, name: s.name, description: s.description, enabled: s.enabled, links: selfLink(c, `services/${s.id}`) }, s.extra);
const endpointView = (c: C, e: EndpointRow) =>
  withExtra(
    { id: e.id, interface: e.interface, region_id: e.regionId, region: e.regionId, service_id: e.serviceId, url: e.url, enabled: e.enabled, links: selfLink(c, `endpoints/${e.id}`) },
    e.extra,
  );
const regionView = (c: C, r: RegionRow) =>
  withExtra({ id: r.id, description: r.description, parent_region_id: r.parentRegionId, links: selfLink(c, `regions/${r.id}`) }, r.extra);

/** The list filters a collection accepts, as equality conditions. */
function filters(c: C, cols: Record<string, Parameters<typeof eq>[0]>): SQL | undefined {
  const conds = Object.entries(cols).flatMap(([q, col]) => {
    const v = c.req.query(q);
    return v === undefined ? [] : [eq(col, v)];
  });
  return conds.length ? and(...conds) : undefined;
}

async function getOr404<T>(row: Promise<T | undefined>, what: string, id: string): Promise<T> {
  const r = await row;
  if (!r) throw notFound(`Could not find ${what}: ${id}.`);
  return r;
}

// --- services ---

catalog.post('/services', async (c) => {
  authorize(c, 'identity:create_service');
  const { service } = await jsonBody(c, serviceCreate);
  const { type, name, description, enabled, ...extra } = service;
  const row: ServiceRow = { id: newId(), type, name: name ?? null, description: description ?? null, enabled: enabled ?? true, extra };
  await database(c.env.DB).insert(services).values(row);
  invalidateCatalog();
  return c.json({ service: serviceView(c, row) }, 201);
});

catalog.get('/services', async (c) => {
  authorize(c, 'identity:list_services');
  const rows = await database(c.env.DB).select().from(services).where(filters(c, { type: services.type, name: services.name })).orderBy(services.id);
  const { items, links } = page(c, rows);
  return c.json({ services: items.map((s) => serviceView(c, s)), links });
});

const findService = (db: Db, id: string) => getOr404(db.select().from(services).where(eq(services.id, id)).get(), 'service', id);

catalog.get('/services/:service_id', async (c) => {
  authorize(c, 'identity:get_service');
  return c.json({ service: serviceView(c, await findService(database(c.env.DB), c.req.param('service_id'))) });
});

catalog.patch('/services/:service_id', async (c) => {
  authorize(c, 'identity:update_service');
  const { service } = await jsonBody(c, serviceUpdate);
  const db = database(c.env.DB);
  const have = await findService(db, c.req.param('service_id'));
  const { type, name, description, enabled, ...extra } = service;
  const row: ServiceRow = {
    ...have,
    type: type ?? have.type,
    name: name === undefined ? have.name : name,
    description: description === undefined ? have.description : description,
    enabled: enabled ?? have.enabled,
    extra: { ...have.extra, ...extra },
  };
  await db.update(services).set(row).where(eq(services.id, have.id));
  invalidateCatalog();
  return c.json({ service: serviceView(c, row) });
});

catalog.delete('/services/:service_id', async (c) => {
  authorize(c, 'identity:delete_service');
  const db = database(c.env.DB);
  const have = await findService(db, c.req.param('service_id'));
  await db.batch([db.delete(endpoints).where(eq(endpoints.serviceId, have.id)), db.delete(services).where(eq(services.id, have.id))]);
  invalidateCatalog();
  return c.body(null, 204);
});

// --- endpoints ---

/** A body reference to a missing service or region is bad input (400), as in Keystone. */
async function checkRefs(db: Db, serviceId: string | undefined, regionId: string | null | undefined) {
  if (serviceId && !(await db.select({ id: services.id }).from(services).where(eq(services.id, serviceId)).get())) {
    throw badRequest(`Could not find service: ${serviceId}.`);
  }
  if (regionId && !(await db.select({ id: regions.id }).from(regions).where(eq(regions.id, regionId)).get())) {
    throw badRequest(`Expecting to find endpoint region_id in region table: region ${regionId} does not exist.`);
  }
}

/** region_id, or its legacy spelling region; both given must agree. */
function regionOf(b: { region_id?: string | null; region?: string | null }): string | null | undefined {
  if (b.region_id !== undefined && b.region !== undefined && b.region_id !== b.region) {
    throw badRequest('region and region_id were both given and differ.');
  }
  return b.region_id !== undefined ? b.region_id : b.region;
}

catalog.post('/endpoints', async (c) => {
  authorize(c, 'identity:create_endpoint');
  const { endpoint } = await jsonBody(c, endpointCreate);
  const { service_id, interface: iface, url, region_id, region, enabled, ...extra } = endpoint;
  const regionId = regionOf({ region_id, region });
  const db = database(c.env.DB);
  await checkRefs(db, service_id, regionId);
  const row: EndpointRow = { id: newId(), serviceId: service_id, interface: iface, url, regionId: regionId ?? null, enabled: enabled ?? true, extra };
  await db.insert(endpoints).values(row);
  invalidateCatalog();
  return c.json({ endpoint: endpointView(c, row) }, 201);
});

catalog.get('/endpoints', async (c) => {
  authorize(c, 'identity:list_endpoints');
  const iface = c.req.query('interface');
  if (iface !== undefined && !['public', 'internal', 'admin'].includes(iface)) throw badRequest(`Invalid interface: ${iface}.`);
  const where = filters(c, { service_id: endpoints.serviceId, interface: endpoints.interface, region_id: endpoints.regionId });
  const rows = await database(c.env.DB).select().from(endpoints).where(where).orderBy(endpoints.id);
  const { items, links } = page(c, rows);
  return c.json({ endpoints: items.map((e) => endpointView(c, e)), links });
});

const findEndpoint = (db: Db, id: string) => getOr404(db.select().from(endpoints).where(eq(endpoints.id, id)).get(), 'endpoint', id);

catalog.get('/endpoints/:endpoint_id', async (c) => {
  authorize(c, 'identity:get_endpoint');
  return c.json({ endpoint: endpointView(c, await findEndpoint(database(c.env.DB), c.req.param('endpoint_id'))) });
});

catalog.patch('/endpoints/:endpoint_id', async (c) => {
  authorize(c, 'identity:update_endpoint');
  const { endpoint } = await jsonBody(c, endpointUpdate);
  const db = database(c.env.DB);
  const have = await findEndpoint(db, c.req.param('endpoint_id'));
  const { service_id, interface: iface, url, region_id, region, enabled, ...extra } = endpoint;
  const regionId = regionOf({ region_id, region });
  await checkRefs(db, service_id, regionId);
  const row: EndpointRow = {
    ...have,
    serviceId: service_id ?? have.serviceId,
    interface: iface ?? have.interface,
    url: url ?? have.url,
    regionId: regionId === undefined ? have.regionId : regionId,
    enabled: enabled ?? have.enabled,
    extra: { ...have.extra, ...extra },
  };
  await db.update(endpoints).set(row).where(eq(endpoints.id, have.id));
  invalidateCatalog();
  return c.json({ endpoint: endpointView(c, row) });
});

catalog.delete('/endpoints/:endpoint_id', async (c) => {
  authorize(c, 'identity:delete_endpoint');
  const db = database(c.env.DB);
  const have = await findEndpoint(db, c.req.param('endpoint_id'));
  await db.delete(endpoints).where(eq(endpoints.id, have.id));
  invalidateCatalog();
  return c.body(null, 204);
});

// --- regions ---

const findRegion = (db: Db, id: string) => getOr404(db.select().from(regions).where(eq(regions.id, id)).get(), 'region', id);

/** The parent must exist, and a region may not become its own ancestor. */
async function checkParent(db: Db, regionId: string, parentId: string | null | undefined) {
  if (!parentId) return;
  const all = await db.select({ id: regions.id, parent: regions.parentRegionId }).from(regions);
  const byId = new Map(all.map((r) => [r.id, r.parent]));
  if (!byId.has(parentId)) throw notFound(`Could not find region: ${parentId}.`);
  for (let at: string | null | undefined = parentId, n = 0; at && n <= all.length; at = byId.get(at), n++) {
    if (at === regionId) throw badRequest(`The specified parent region ${parentId} would create a circular region hierarchy.`);
  }
}

async function createRegion(c: C, id: string, body: { description?: string | null; parent_region_id?: string | null } & Record<string, unknown>) {
  const { description, parent_region_id, ...extra } = body;
  const db = database(c.env.DB);
  await checkParent(db, id, parent_region_id);
  const row: RegionRow = { id, description: description ?? '', parentRegionId: parent_region_id ?? null, extra };
  try {
    await db.insert(regions).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Duplicate ID, ${id}.`);
    throw err;
  }
  invalidateCatalog();
  return c.json({ region: regionView(c, row) }, 201);
}

catalog.post('/regions', async (c) => {
  authorize(c, 'identity:create_region');
  const { region } = await jsonBody(c, regionCreate);
  const { id, ...rest } = region;
  return createRegion(c, id ?? newId(), rest);
});

catalog.put('/regions/:region_id', async (c) => {
  authorize(c, 'identity:create_region');
  const { region } = await jsonBody(c, regionCreate);
  const { id, ...rest } = region;
  if (id !== undefined && id !== c.req.param('region_id')) throw badRequest('The region id in the body does not match the one in the URL.');
  return createRegion(c, c.req.param('region_id'), rest);
});

catalog.get('/regions', async (c) => {
  authorize(c, 'identity:list_regions');
  const rows = await database(c.env.DB).select().from(regions).where(filters(c, { parent_region_id: regions.parentRegionId })).orderBy(regions.id);
  const { items, links } = page(c, rows);
  return c.json({ regions: items.map((r) => regionView(c, r)), links });
});

catalog.get('/regions/:region_id', async (c) => {
  authorize(c, 'identity:get_region');
  return c.json({ region: regionView(c, await findRegion(database(c.env.DB), c.req.param('region_id'))) });
});

catalog.patch('/regions/:region_id', async (c) => {
  authorize(c, 'identity:update_region');
  const { region } = await jsonBody(c, regionUpdate);
  const db = database(c.env.DB);
  const have = await findRegion(db, c.req.param('region_id'));
  const { description, parent_region_id, ...extra } = region;
  await checkParent(db, have.id, parent_region_id);
  const row: RegionRow = {
    ...have,
    description: description === undefined ? have.description : (description ?? ''),
    parentRegionId: parent_region_id === undefined ? have.parentRegionId : parent_region_id,
    extra: { ...have.extra, ...extra },
  };
  await db.update(regions).set(row).where(eq(regions.id, have.id));
  invalidateCatalog();
  return c.json({ region: regionView(c, row) });
});

catalog.delete('/regions/:region_id', async (c) => {
  authorize(c, 'identity:delete_region');
  const db = database(c.env.DB);
  const have = await findRegion(db, c.req.param('region_id'));
  // A region goes with its child regions, unless an endpoint still uses one of them (Keystone: 403).
  const all = await db.select({ id: regions.id, parent: regions.parentRegionId }).from(regions);
  const tree = [have.id];
  for (let i = 0; i < tree.length; i++) for (const r of all) if (r.parent === tree[i] && !tree.includes(r.id)) tree.push(r.id);
  if (await db.select({ id: endpoints.id }).from(endpoints).where(inArray(endpoints.regionId, tree)).get()) {
    throw forbidden(`Unable to delete region ${have.id} because it or its child regions have associated endpoints.`);
  }
  await db.delete(regions).where(inArray(regions.id, tree));
  invalidateCatalog();
  return c.body(null, 204);
});
