// /os-services: the nova-compute service of each host (list, enable/disable/force down,
// delete), and /os-availability-zone, the zones those services are in. What a change
// means for scheduling is pushed to the Scheduler, which keeps its own copy.
import { and, asc, eq, getTableColumns, notInArray, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest, conflict, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { instances, services } from '../../../schema/nova';
import { database, isoNow, scheduler } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { isUuidLike } from '../schemas/parameter-types';
import { queryParam, refuseUnknownQuery } from '../schemas/query';
import { SERVICE_LIST_QUERY, serviceUpdateV2_1, serviceUpdateV2_11, serviceUpdateV2_53 } from '../schemas/services';
import { serviceIsUp, serviceUpdatedAt, serviceView, type ServiceRecord } from '../views/services';

type C = Context<NovaEnv>;

export const serviceRoutes = new Hono<NovaEnv>();
export const availabilityZoneRoutes = new Hono<NovaEnv>();

/** Services that are not RPC services report no state; Nova leaves them out. */
const API_SERVICES = ['nova-osapi_compute', 'nova-metadata'];

const columns = { ...getTableColumns(services), seq: sql<number>`${services}.rowid` };

async function allServices(c: C): Promise<ServiceRecord[]> {
  return database(c.env.DB).select(columns).from(services).where(notInArray(services.binary, API_SERVICES)).orderBy(asc(sql`${services}.rowid`));
}

/** 8-4-4-4-12 lowercase, for any spelling is_uuid_like accepts. */
function canonicalUuid(id: string): string {
  const hex = id.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '').toLowerCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Writes a service's new status and tells the Scheduler. */
async function saveStatus(c: C, s: ServiceRecord, change: { disabled?: boolean; disabledReason?: string | null; forcedDown?: boolean }): Promise<ServiceRecord> {
  const next: ServiceRecord = { ...s, ...change, updatedAt: isoNow() };
  await database(c.env.DB)
    .update(services)
    .set({ disabled: next.disabled, disabledReason: next.disabledReason, forcedDown: next.forcedDown, updatedAt: next.updatedAt })
    .where(eq(services.id, s.id));
  await scheduler(c.env).setHostStatus(s.host, { enabled: !next.disabled, disabledReason: next.disabledReason, forcedDown: next.forcedDown });
  return next;
}

const updateNotSupported = (binary: string) =>
  badRequest(`Updating a ${binary} service is not supported. Only nova-compute services can be updated.`);

serviceRoutes.get('/os-services', async (c) => {
  if (c.var.version.atLeast('2.75')) refuseUnknownQuery(c, SERVICE_LIST_QUERY);
  authorize(c, 'os_compute_api:os-services:list', {});
  const host = queryParam(c, 'host');
  const binary = queryParam(c, 'binary');
  const rows = (await allServices(c)).filter((s) => (!host || s.host === host) && (!binary || s.binary === binary));
  return c.json({ services: rows.map((s) => serviceView(c.var.version, s)) });
});

/** Before 2.53: PUT /os-services/{enable,disable,disable-log-reason,force-down} with host and binary. */
async function updateByAction(c: C, action: string): Promise<Response> {
  const v = c.var.version;
  const body = await jsonBody(c, v.atLeast('2.11') ? serviceUpdateV2_11 : serviceUpdateV2_1);
  authorize(c, 'os_compute_api:os-services:update', {});
  const actions = ['enable', 'disable', 'disable-log-reason', ...(v.atLeast('2.11') ? ['force-down'] : [])];
  if (!actions.includes(action)) throw notFound('Unknown action');
  const { host, binary } = body;
  let change: Parameters<typeof saveStatus>[2];
  let answer: Record<string, unknown>;
  if (action === 'force-down') {
    const forcedDown = (body as { forced_down?: boolean }).forced_down;
    if (forcedDown === undefined) throw badRequest('Missing forced_down field');
    change = { forcedDown };
    answer = { host, binary, forced_down: forcedDown };
  } else if (action === 'enable') {
    change = { disabled: false, disabledReason: null };
    answer = { host, binary, status: 'enabled' };
  } else {
    const reason = action === 'disable-log-reason' ? body.disabled_reason : undefined;
    if (action === 'disable-log-reason' && reason === undefined) throw badRequest('Missing disabled reason field');
    change = { disabled: true, disabledReason: reason ?? null };
    answer = { host, binary, status: 'disabled', ...(reason ? { disabled_reason: reason } : {}) };
  }
  if (binary !== 'nova-compute') throw updateNotSupported(binary);
  const s = (await allServices(c)).find((r) => r.host === host && r.binary === binary);
  if (!s) throw notFound(`Could not find binary ${binary} on host ${host}.`);
  await saveStatus(c, s, change);
  return c.json({ service: answer });
}

serviceRoutes.put('/os-services/:service_id', async (c) => {
  const v = c.var.version;
  const id = c.req.param('service_id');
  if (!v.atLeast('2.53')) return updateByAction(c, id);
  if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  authorize(c, 'os_compute_api:os-services:update', {});
  const s = (await allServices(c)).find((r) => r.id === canonicalUuid(id));
  if (!s) throw notFound(`Service ${id} could not be found.`);
  if (s.binary !== 'nova-compute') throw updateNotSupported(s.binary);
  const body = await jsonBody(c, serviceUpdateV2_53);
  const change: Parameters<typeof saveStatus>[2] = {};
  if (body.status === 'enabled') {
    if (body.disabled_reason) throw badRequest("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    Object.assign(change, { disabled: false, disabledReason: null });
  } else if (body.status === 'disabled') {
    Object.assign(change, { disabled: true, disabledReason: body.disabled_reason ?? null });
  }
  if (body.forced_down !== undefined) change.forcedDown = body.forced_down;
  if (Object.keys(change).length === 0) {
    throw badRequest("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
  }
  return c.json({ service: serviceView(v, await saveStatus(c, s, change)) });
});

serviceRoutes.delete('/os-services/:service_id', async (c) => {
  authorize(c, 'os_compute_api:os-services:delete', {});
  const id = c.req.param('service_id');
  let s: ServiceRecord | undefined;
  if (c.var.version.atLeast('2.53')) {
    if (!isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
    s = (await allServices(c)).find((r) => r.id === canonicalUuid(id));
  } else {
    if (!/^\s*[+-]?\d+\s*$/.test(id)) throw badRequest('Invalid input received: id must be an integer');
    s = (await allServices(c)).find((r) => r.seq === Number(id));
  }
  if (!s) throw notFound(`Service ${id} not found.`);
  const db = database(c.env.DB);
  if (s.binary === 'nova-compute') {
    const hosting = await db.select({ uuid: instances.uuid }).from(instances).where(and(eq(instances.host, s.host), eq(instances.deleted, false))).limit(1);
    if (hosting.length > 0) {
      throw conflict('Unable to delete compute service that is hosting instances. Migrate or delete the instances first.');
    }
  }
  await db.delete(services).where(eq(services.id, s.id));
  return c.body(null, 204);
});

// --- availability zones ---------------------------------------------------------------

/** Zones with an enabled service are available; zones whose services are all disabled are not. */
function zonesOf(rows: ServiceRecord[]): { available: string[]; unavailable: string[] } {
  const available = new Set(rows.filter((s) => !s.disabled).map((s) => s.availabilityZone));
  const unavailable = new Set(rows.filter((s) => s.disabled && !available.has(s.availabilityZone)).map((s) => s.availabilityZone));
  return { available: [...available].sort(), unavailable: [...unavailable].sort() };
}

/** Nova's internal_service_availability_zone: where non-compute services live, left out of the plain list. */
const INTERNAL_ZONE = 'internal';

availabilityZoneRoutes.get('/os-availability-zone', async (c) => {
  authorize(c, 'os_compute_api:os-availability-zone:list', {});
  const { available, unavailable } = zonesOf((await allServices(c)).filter((s) => s.availabilityZone !== INTERNAL_ZONE));
  return c.json({
    availabilityZoneInfo: [
      ...available.map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: null })),
      ...unavailable.map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
    ],
  });
});

availabilityZoneRoutes.get('/os-availability-zone/detail', async (c) => {
  authorize(c, 'os_compute_api:os-availability-zone:detail', {});
  const rows = await allServices(c);
  const { available, unavailable } = zonesOf(rows);
  const hostsIn = (zone: string) => {
    const hosts: Record<string, Record<string, { available: boolean; active: boolean; updated_at: string | null }>> = {};
    for (const s of rows.filter((r) => !r.disabled && r.availabilityZone === zone)) {
      (hosts[s.host] ??= {})[s.binary] = { available: serviceIsUp(s), active: !s.disabled, updated_at: serviceUpdatedAt(s) };
    }
    return hosts;
  };
  return c.json({
    availabilityZoneInfo: [
      ...available.map((z) => ({ zoneName: z, zoneState: { available: true }, hosts: hostsIn(z) })),
      ...unavailable.map((z) => ({ zoneName: z, zoneState: { available: false }, hosts: null })),
    ],
  });
});
