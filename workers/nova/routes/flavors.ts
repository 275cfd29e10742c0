// /flavors: list (brief and detail, with filters, sorting and limit/marker), show, and
// flavor management for admins: create, update the description (2.55), delete. Access
// to private flavors and extra specs live in their own modules, mounted here.
import { asc, desc, eq, getTableColumns, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { Hono, type Context } from 'hono';
import { badRequest, conflict, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { flavorProjects, flavors } from '../../../schema/nova';
import { database, isoNow, isUniqueViolation, type FlavorRow } from '../db';
import type { NovaEnv } from '../env';
import { flavorNotFound, isAdmin, loadFlavor, sharedWith, visibleFlavors } from '../flavors';
import { allowed, authorize } from '../policies';
import {
  FLAVOR_LIST_QUERY, FLAVOR_SORT_KEYS, SORT_DIRS, flavorCreateV2_1, flavorCreateV2_55, flavorUpdateV2_55,
  type FlavorCreate, type FlavorSortKey,
} from '../schemas/flavors';
import { boolFromString } from '../schemas/parameter-types';
import { enumQuery, limitAndMarker, queryParam, refuseUnknownQuery } from '../schemas/query';
import { flavorList, flavorView } from '../views/flavors';
import { flavorAccessRoutes } from './flavor-access';
import { flavorExtraSpecRoutes } from './flavor-extra-specs';

type C = Context<NovaEnv>;

export const flavorRoutes = new Hono<NovaEnv>();

/** From 2.61 a flavor shows its extra specs to those who may list them. */
export function mayReadExtraSpecs(c: C): boolean {
  return allowed(c, 'os_compute_api:os-flavor-extra-specs:index', { project_id: c.var.auth.projectId });
}

const rowid = sql<number>`${flavors}.rowid`;
const SORT_COLUMNS: Record<FlavorSortKey, SQLiteColumn | SQL | null> = {
  created_at: flavors.createdAt, description: flavors.description, disabled: flavors.disabled,
  ephemeral_gb: flavors.ephemeralGb, flavorid: flavors.id, id: null, is_public: flavors.isPublic,
  memory_mb: flavors.memoryMb, name: flavors.name, root_gb: flavors.rootGb, rxtx_factor: flavors.rxtxFactor,
  swap: flavors.swap, updated_at: flavors.createdAt, vcpu_weight: null, vcpus: flavors.vcpus,
};

/** Python's int() on a query value: optional sign and surrounding whitespace. */
function pyInt(raw: string): number | undefined {
  return /^\s*[+-]?\d+(_\d+)*\s*$/.test(raw) ? Number(raw.replace(/_/g, '')) : undefined;
}

function intFilter(c: C, key: 'minRam' | 'minDisk'): number | undefined {
  const raw = queryParam(c, key);
  if (raw === undefined) return undefined;
  const n = pyInt(raw);
  if (n === undefined) throw badRequest(`Invalid ${key} filter [${raw}]`);
  return n;
}

/** FlavorsController._get_flavors: the page of flavors a list request asks for. */
async function listFlavors(c: C): Promise<FlavorRow[]> {
  if (c.var.version.atLeast('2.75')) refuseUnknownQuery(c, FLAVOR_LIST_QUERY);
  const sortKey = enumQuery(c, 'sort_key', FLAVOR_SORT_KEYS) || 'flavorid';
  const dir = (enumQuery(c, 'sort_dir', SORT_DIRS) || 'asc') === 'asc' ? asc : desc;
  const { limit, marker } = limitAndMarker(c);
  const project = c.var.auth.projectId;
  // Only admins may choose: is_public true (the default), false, or "none" for all.
  let isPublic: boolean | null = true;
  let enabledOnly = true;
  if (isAdmin(c)) {
    enabledOnly = false;
    const raw = queryParam(c, 'is_public');
    if (raw !== undefined && raw.toLowerCase() === 'none') isPublic = null;
    else if (raw !== undefined) {
      const b = boolFromString(raw, true);
      if (b === undefined) throw badRequest(`Invalid is_public filter [${raw}]`);
      isPublic = b;
    }
  }
  const minRam = intFilter(c, 'minRam');
  const minDisk = intFilter(c, 'minDisk');

  const column = SORT_COLUMNS[sortKey];
  const rows = await database(c.env.DB)
    .select({ ...getTableColumns(flavors), shared: project ? sql<number>`${sharedWith(project)}` : sql<number>`0` })
    .from(flavors)
    .where(visibleFlavors(c))
    .orderBy(...(column ? [dir(column)] : []), dir(rowid));
  // The marker is found among all the flavors the caller sees; the page is what follows it.
  let start = 0;
  if (marker !== undefined) {
    const at = rows.findIndex((r) => r.id === marker);
    if (at < 0) throw badRequest(`marker [${marker}] not found`);
    start = at + 1;
  }
  const page: FlavorRow[] = [];
  for (const { shared, ...f } of rows.slice(start)) {
    if (page.length >= limit) break;
    if (enabledOnly && f.disabled) continue;
    if (isPublic === true && !f.isPublic && !shared) continue;
    if (isPublic === false && f.isPublic) continue;
    if (minRam !== undefined && f.memoryMb < minRam) continue;
    if (minDisk !== undefined && f.rootGb < minDisk) continue;
    page.push(f);
  }
  return page;
}

flavorRoutes.get('/flavors', async (c) => c.json(flavorList(c, await listFlavors(c), false, false)));

flavorRoutes.get('/flavors/detail', async (c) =>
  c.json(flavorList(c, await listFlavors(c), true, c.var.version.atLeast('2.61') && mayReadExtraSpecs(c))),
);

flavorRoutes.get('/flavors/:flavor_id', async (c) => {
  const { row } = await loadFlavor(c, c.req.param('flavor_id'));
  return c.json({ flavor: flavorView(c, row, mayReadExtraSpecs(c)) });
});

flavorRoutes.post('/flavors', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-manage:create', {});
  const v = c.var.version;
  const { flavor: b } = (await jsonBody(c, v.atLeast('2.55') ? flavorCreateV2_55 : flavorCreateV2_1)) as { flavor: FlavorCreate };
  const rxtx = b.rxtx_factor === undefined ? 1 : Number(b.rxtx_factor);
  if (!(rxtx > 0 && rxtx <= 3.40282e38)) {
    throw badRequest("Invalid input received: 'rxtx_factor' argument must be a float between 0 and 3.40282e+38");
  }
  // No id (or null, 0, as Nova's `if not flavorid`) means a generated UUID.
  const id = b.id === undefined || b.id === null || b.id === 0 ? crypto.randomUUID() : String(b.id);
  const row: FlavorRow = {
    id,
    name: b.name.trim(),
    vcpus: b.vcpus,
    memoryMb: b.ram,
    rootGb: b.disk,
    ephemeralGb: b['OS-FLV-EXT-DATA:ephemeral'] ?? 0,
    swap: b.swap ?? 0,
    rxtxFactor: rxtx,
    isPublic: b['os-flavor-access:is_public'] ?? true,
    disabled: false,
    description: v.atLeast('2.55') ? (b.description ?? null) : null,
    extraSpecs: {},
    createdAt: isoNow(),
  };
  try {
    await database(c.env.DB).insert(flavors).values(row);
  } catch (err) {
    if (!isUniqueViolation(err)) throw err;
    if (/flavors\.name/.test(String(err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : err))) {
      throw conflict(`Flavor with name ${row.name} already exists.`);
    }
    throw conflict(`Flavor with ID ${row.id} already exists.`);
  }
  return c.json({ flavor: flavorView(c, row, mayReadExtraSpecs(c)) });
});

flavorRoutes.put('/flavors/:flavor_id', async (c) => {
  if (!c.var.version.atLeast('2.55')) throw notFound('The resource could not be found.');
  authorize(c, 'os_compute_api:os-flavor-manage:update', {});
  const { flavor: b } = await jsonBody(c, flavorUpdateV2_55);
  const { db, row } = await loadFlavor(c, c.req.param('flavor_id'));
  await db.update(flavors).set({ description: b.description }).where(eq(flavors.id, row.id));
  return c.json({ flavor: flavorView(c, { ...row, description: b.description }, mayReadExtraSpecs(c)) });
});

flavorRoutes.delete('/flavors/:flavor_id', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-manage:delete', {});
  const id = c.req.param('flavor_id');
  const db = database(c.env.DB);
  const [, deleted] = await db.batch([
    db.delete(flavorProjects).where(eq(flavorProjects.flavorId, id)),
    db.delete(flavors).where(eq(flavors.id, id)).returning({ id: flavors.id }),
  ]);
  if (deleted.length === 0) throw flavorNotFound(id);
  return c.body(null, 202);
});

flavorRoutes.route('/', flavorAccessRoutes);
flavorRoutes.route('/', flavorExtraSpecRoutes);
