// /servers/{id}/os-instance-actions: what was done to a server, and the events of each
// action (events for admins, as Nova's policy has it).
import { and, asc, desc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { notFound } from '../../../lib/errors';
import { pageParams, paginate } from '../../../lib/pagination';
import { instanceActionEvents, instanceActions, instances } from '../../../schema/nova';
import { isAdmin, type C } from '../compute/api';
import { database, microseconds } from '../db';
import type { NovaEnv } from '../env';
import { allowed, authorize } from '../policies';
import { hostId } from '../views/servers';

export const instanceActionRoutes = new Hono<NovaEnv>();

type ActionRow = typeof instanceActions.$inferSelect;
type EventRow = typeof instanceActionEvents.$inferSelect;

/** Deleted servers keep their actions (2.21); others' servers are not found. */
async function loadAny(c: C, uuid: string) {
  const [row] = await database(c.env.DB).select().from(instances).where(eq(instances.uuid, uuid));
  const visible = row && (isAdmin(c) || row.projectId === c.var.auth.projectId) && (!row.deleted || c.var.version.atLeast('2.21'));
  if (!visible) throw notFound(`Instance ${uuid} could not be found.`);
  return row;
}

const micro = microseconds;

function actionView(c: C, a: ActionRow) {
  return {
    action: a.action,
    instance_uuid: a.instanceUuid,
    message: a.message,
    project_id: a.projectId,
    request_id: a.requestId,
    start_time: micro(a.startTime),
    user_id: a.userId,
    ...(c.var.version.atLeast('2.58') ? { updated_at: micro(a.updatedAt) } : {}),
  };
}

function eventView(c: C, e: EventRow, projectId: string) {
  const details = allowed(c, 'os_compute_api:os-instance-actions:events:details', { project_id: projectId });
  return {
    event: e.event,
    start_time: micro(e.startTime),
    finish_time: micro(e.finishTime),
    result: e.result,
    ...(details ? { traceback: e.traceback } : {}),
    ...(c.var.version.atLeast('2.62') ? { hostId: hostId(projectId, e.host), ...(details ? { host: e.host ?? '' } : {}) } : {}),
  };
}

instanceActionRoutes.get('/servers/:id/os-instance-actions', async (c) => {
  const s = await loadAny(c, c.req.param('id'));
  authorize(c, 'os_compute_api:os-instance-actions:list', { project_id: s.projectId });
  const rows = await database(c.env.DB)
    .select()
    .from(instanceActions)
    .where(eq(instanceActions.instanceUuid, s.uuid))
    .orderBy(desc(instanceActions.startTime), desc(instanceActions.id));
  if (!c.var.version.atLeast('2.58')) return c.json({ instanceActions: rows.map((a) => actionView(c, a)) });
  const { items, more } = paginate(rows.map((r) => ({ ...r, id: r.requestId, rowId: r.id })), pageParams(c));
  const body: Record<string, unknown> = { instanceActions: items.map((a) => actionView(c, { ...a, id: a.rowId })) };
  if (more && items.length) {
    const url = new URL(c.req.url);
    url.searchParams.set('marker', items[items.length - 1]!.requestId);
    body.links = [{ rel: 'next', href: url.toString() }];
  }
  return c.json(body);
});

instanceActionRoutes.get('/servers/:id/os-instance-actions/:req', async (c) => {
  const s = await loadAny(c, c.req.param('id'));
  authorize(c, 'os_compute_api:os-instance-actions:show', { project_id: s.projectId });
  const db = database(c.env.DB);
  const [a] = await db.select().from(instanceActions).where(and(eq(instanceActions.instanceUuid, s.uuid), eq(instanceActions.requestId, c.req.param('req'))));
  if (!a) throw notFound(`Action for request_id ${c.req.param('req')} on instance ${s.uuid} not found`);
  const view: Record<string, unknown> = actionView(c, a);
  if (allowed(c, 'os_compute_api:os-instance-actions:events', { project_id: s.projectId })) {
    const events = await db.select().from(instanceActionEvents).where(inArray(instanceActionEvents.actionId, [a.id])).orderBy(asc(instanceActionEvents.id));
    view.events = events.map((e) => eventView(c, e, s.projectId));
  }
  return c.json({ instanceAction: view });
});
