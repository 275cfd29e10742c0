// /servers: create, list (brief and detail, with Nova's filters), show, update, delete.
import { and, desc, eq, inArray, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { badRequest } from '../../../lib/errors';
import { pageParams, paginate } from '../../../lib/pagination';
import { jsonBody } from '../../../lib/validation';
import { instances } from '../../../schema/nova';
import { checkLock, computeBase, isAdmin, loadServer, recordAction, requestId, viewContexts, type C } from '../compute/api';
import { createServers } from '../compute/create';
import { terminated, EVENT_OF } from '../compute/instance-updates';
import { conductor, database, isoNow, scheduler, type InstanceRow } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { serverCreateV2_1, serverUpdateV2_1 } from '../schemas/servers';
import { serverBrief, serverView, STATUS_FILTER } from '../views/servers';

export const serverRoutes = new Hono<NovaEnv>();

serverRoutes.post('/servers', async (c) => {
  authorize(c, 'os_compute_api:servers:create', { project_id: c.var.auth.projectId });
  const body = await jsonBody(c, serverCreateV2_1);
  return createServers(c, body);
});

/** Query parameters every caller may filter by; admins may use more (Nova's allow_all_filters). */
const USER_FILTERS = new Set([
  'name', 'status', 'image', 'flavor', 'changes-since', 'changes-before', 'ip', 'ip6', 'reservation_id', 'tags', 'tags-any', 'not-tags', 'not-tags-any',
  'limit', 'marker', 'sort_key', 'sort_dir', 'all_tenants', 'project_id', 'tenant_id', 'deleted', 'host', 'node', 'availability_zone', 'locked', 'description',
  'key_name', 'user_id', 'vm_state', 'task_state', 'power_state', 'uuid', 'launched_at', 'terminated_at', 'hostname', 'config_drive', 'created_at',
]);
const SORT_KEYS: Record<string, keyof InstanceRow> = {
  created_at: 'createdAt', updated_at: 'updatedAt', display_name: 'name', uuid: 'uuid', vm_state: 'vmState', task_state: 'taskState',
  power_state: 'powerState', host: 'host', node: 'node', launched_at: 'launchedAt', terminated_at: 'terminatedAt', availability_zone: 'availabilityZone',
  key_name: 'keyName', project_id: 'projectId', user_id: 'userId', hostname: 'hostname', locked: 'locked', image_ref: 'imageRef',
};

function parseTime(name: string, value: string): string {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw badRequest(`Invalid filter field: ${name}.`);
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

async function listServers(c: C, detail: boolean) {
  const admin = isAdmin(c);
  const v = c.var.version;
  const q = c.req.query();
  authorize(c, detail ? 'os_compute_api:servers:detail' : 'os_compute_api:servers:index', { project_id: c.var.auth.projectId });
  if (v.atLeast('2.75')) {
    for (const key of Object.keys(q)) if (!USER_FILTERS.has(key)) throw badRequest(`Invalid input for query parameters ${key}.`);
  }
  const allTenants = q.all_tenants !== undefined && q.all_tenants !== '0' && q.all_tenants.toLowerCase() !== 'false';
  if (allTenants) authorize(c, detail ? 'os_compute_api:servers:detail:get_all_tenants' : 'os_compute_api:servers:index:get_all_tenants');
  const conditions: SQL[] = [];
  const changesSince = q['changes-since'] ? parseTime('changes-since', q['changes-since']) : null;
  const showDeleted = admin && q.deleted !== undefined && q.deleted !== '0' && q.deleted.toLowerCase() !== 'false';
  // changes-since shows deleted servers too, as Nova does.
  if (!changesSince && !showDeleted) conditions.push(eq(instances.deleted, false));
  if (showDeleted) conditions.push(eq(instances.deleted, true));
  const project = q.project_id ?? q.tenant_id;
  if (!allTenants || !admin) conditions.push(eq(instances.projectId, c.var.auth.projectId ?? ''));
  else if (project) conditions.push(eq(instances.projectId, project));
  if (q.status) {
    const status = q.status.toUpperCase();
    const states = STATUS_FILTER[status];
    if (!states) {
      if (v.atLeast('2.38')) throw badRequest(`Invalid status value`);
      return [];
    }
    conditions.push(inArray(instances.vmState, states));
  }
  if (q.image) conditions.push(eq(instances.imageRef, q.image));
  if (q.flavor) conditions.push(eq(instances.flavorId, q.flavor));
  if (q.reservation_id) conditions.push(eq(instances.reservationId, q.reservation_id));
  if (admin && q.host) conditions.push(eq(instances.host, q.host));
  if (admin && q.node) conditions.push(eq(instances.node, q.node));
  if (admin && q.availability_zone) conditions.push(eq(instances.availabilityZone, q.availability_zone));
  if (admin && q.user_id) conditions.push(eq(instances.userId, q.user_id));
  if (admin && q.key_name) conditions.push(eq(instances.keyName, q.key_name));
  const db = database(c.env.DB);
  let rows = await db.select().from(instances).where(and(...conditions)).orderBy(desc(instances.createdAt), desc(instances.uuid));
  if (changesSince) rows = rows.filter((r) => r.updatedAt >= changesSince);
  if (q['changes-before']) {
    const before = parseTime('changes-before', q['changes-before']);
    rows = rows.filter((r) => r.updatedAt <= before);
  }
  if (q.name) {
    let re: RegExp;
    try {
      re = new RegExp(q.name);
    } catch {
      throw badRequest(`Invalid filter field: name.`);
    }
    rows = rows.filter((r) => re.test(r.name));
  }
  // Servers have no fixed addresses before networking exists; an ip filter then matches none.
  if (q.ip || q.ip6) rows = rows.filter((r) => JSON.stringify(r.addresses).includes(q.ip ?? q.ip6 ?? ''));
  for (const [param, every, negate] of [['tags', true, false], ['tags-any', false, false], ['not-tags', true, true], ['not-tags-any', false, true]] as const) {
    const wanted = q[param]?.split(',').filter(Boolean);
    if (!wanted?.length) continue;
    rows = rows.filter((r) => {
      const has = every ? wanted.every((t) => r.tags.includes(t)) : wanted.some((t) => r.tags.includes(t));
      return negate ? !has : has;
    });
  }
  if (q.sort_key) {
    const key = SORT_KEYS[q.sort_key];
    if (!key) throw badRequest(`Invalid sort_key: ${q.sort_key}`);
    const dir = (q.sort_dir ?? 'desc').toLowerCase();
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort_dir: ${q.sort_dir}`);
    const sign = dir === 'asc' ? 1 : -1;
    rows.sort((a, b) => {
      const x = a[key] ?? '';
      const y = b[key] ?? '';
      return (x < y ? -1 : x > y ? 1 : 0) * sign || (a.uuid < b.uuid ? -1 : 1) * sign;
    });
  }
  return rows;
}

async function renderList(c: C, rows: InstanceRow[], detail: boolean) {
  const page = pageParams(c);
  const items = rows.map((r) => ({ ...r, id: r.uuid }));
  const { items: shown, more } = paginate(items, page);
  const base = computeBase(c);
  const key = 'servers';
  let servers: Record<string, unknown>[];
  if (detail) {
    const ctx = await viewContexts(c, shown);
    servers = shown.map((r) => serverView(r, ctx.get(r.uuid)!));
  } else {
    servers = shown.map((r) => serverBrief(r, base));
  }
  const body: Record<string, unknown> = { [key]: servers };
  if (more && shown.length > 0) {
    const url = new URL(c.req.url);
    url.searchParams.set('marker', shown[shown.length - 1]!.uuid);
    body.servers_links = [{ rel: 'next', href: url.toString() }];
  }
  return c.json(body);
}

serverRoutes.get('/servers', async (c) => renderList(c, await listServers(c, false), false));
serverRoutes.get('/servers/detail', async (c) => renderList(c, await listServers(c, true), true));

async function showServer(c: C, uuid: string) {
  const s = await loadServer(c, uuid);
  authorize(c, 'os_compute_api:servers:show', { project_id: s.projectId });
  const ctx = (await viewContexts(c, [s])).get(s.uuid)!;
  return { server: serverView(s, ctx) };
}

serverRoutes.get('/servers/:id', async (c) => c.json(await showServer(c, c.req.param('id'))));

serverRoutes.put('/servers/:id', async (c) => {
  const s = await loadServer(c, c.req.param('id'));
  authorize(c, 'os_compute_api:servers:update', { project_id: s.projectId });
  const { server: u } = await jsonBody(c, serverUpdateV2_1);
  if (u.description !== undefined && !c.var.version.atLeast('2.19')) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");
  const db = database(c.env.DB);
  await db
    .update(instances)
    .set({
      ...(u.name !== undefined ? { name: u.name } : {}),
      ...(u.accessIPv4 !== undefined ? { accessIpV4: u.accessIPv4 } : {}),
      ...(u.accessIPv6 !== undefined ? { accessIpV6: u.accessIPv6 } : {}),
      ...(u.description !== undefined ? { description: u.description } : {}),
      ...(u.hostname !== undefined ? { hostname: u.hostname } : {}),
      updatedAt: isoNow(),
    })
    .where(eq(instances.uuid, s.uuid));
  return c.json(await showServer(c, s.uuid));
});

/** Deletes a server: on its host through the Conductor, or at once when it has no live host. */
export async function deleteServer(c: C, s: InstanceRow): Promise<void> {
  checkLock(c, s);
  if (s.taskState === 'deleting') return;
  const db = database(c.env.DB);
  const reqId = requestId(c);
  await db.batch([
    db.update(instances).set({ taskState: 'deleting', updatedAt: isoNow() }).where(eq(instances.uuid, s.uuid)),
    ...recordAction(db, c, reqId, s.uuid, 'delete', EVENT_OF.destroy, s.host),
  ]);
  // Queued even for a host that is down, which destroys the instance when it returns.
  const up = s.host ? await conductor(c.env, s.host).runInstanceAction(s.host, { job: { id: `${s.uuid}.destroy.${reqId}`, kind: 'destroy', instanceUuid: s.uuid }, requestId: reqId }) : false;
  // Nova's "local delete": no host, or a host that is down, cannot be asked.
  if (!up) {
    await scheduler(c.env).releaseClaim(s.uuid);
    await terminated(db, s.uuid, s.host, reqId);
  }
}

serverRoutes.delete('/servers/:id', async (c) => {
  const s = await loadServer(c, c.req.param('id'));
  authorize(c, 'os_compute_api:servers:delete', { project_id: s.projectId });
  await deleteServer(c, s);
  return c.body(null, 204);
});
