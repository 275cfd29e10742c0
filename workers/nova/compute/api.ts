// What the server routes share: loading a server as the caller may see it, Nova's state
// checks (409 when an action does not fit), instance actions, and request ids.
import { and, eq, inArray } from 'drizzle-orm';
import type { BatchItem } from 'drizzle-orm/batch';
import type { Context } from 'hono';
import { ApiError, conflict, notFound } from '../../../lib/errors';
import { instanceActions, instanceFaults, instances, serverGroupMembers, services } from '../../../schema/nova';
import { database, isoNow, type Db, type InstanceRow } from '../db';
import type { NovaEnv } from '../env';
import { allowed } from '../policies';
import type { ViewContext } from '../views/servers';
import { startEvent } from './instance-updates';

export type C = Context<NovaEnv>;

export function isAdmin(c: C): boolean {
  return allowed(c, 'context_is_admin');
}

/** The compute API's public base URL, e.g. http://127.0.0.1:8787/compute. */
export function computeBase(c: C): string {
  return `${new URL(c.req.url).origin}/compute`;
}

/** Nova's request id, returned in both headers Nova sets, and the id of the instance action. */
export function requestId(c: C): string {
  const id = `req-${crypto.randomUUID()}`;
  c.header('x-openstack-request-id', id);
  c.header('x-compute-request-id', id);
  return id;
}

/**
 * A server the caller may see: its project's, or any for an admin. Others' servers are
 * "not found", as Nova's project-scoped database lookups make them.
 */
export async function loadServer(c: C, uuid: string): Promise<InstanceRow> {
  const db = database(c.env.DB);
  const [row] = await db.select().from(instances).where(and(eq(instances.uuid, uuid), eq(instances.deleted, false)));
  if (!row || (!isAdmin(c) && row.projectId !== c.var.auth.projectId)) throw notFound(`Instance ${uuid} could not be found.`);
  return row;
}

/** What a detailed view needs beyond the row: faults, groups, host status. */
export async function viewContexts(c: C, rows: InstanceRow[]): Promise<Map<string, ViewContext>> {
  const admin = isAdmin(c);
  const db = database(c.env.DB);
  const base = computeBase(c);
  const failed = rows.filter((r) => r.vmState === 'error' || r.vmState === 'deleted').map((r) => r.uuid);
  const faults = failed.length
    ? await db.select().from(instanceFaults).where(inArray(instanceFaults.instanceUuid, failed)).orderBy(instanceFaults.id)
    : [];
  const groups = c.var.version.atLeast('2.71') && rows.length
    ? await db.select().from(serverGroupMembers).where(inArray(serverGroupMembers.instanceUuid, rows.map((r) => r.uuid)))
    : [];
  // Nova's host_status (2.16, admins), as the API reference defines it: DOWN when the
  // service is forced down, MAINTENANCE when disabled, UP when it reports, else UNKNOWN.
  const hosts = [...new Set(rows.map((r) => r.host).filter((h): h is string => !!h))];
  const states = admin && c.var.version.atLeast('2.16') && hosts.length
    ? await db.select({ host: services.host, up: services.up, disabled: services.disabled, forcedDown: services.forcedDown }).from(services).where(inArray(services.host, hosts))
    : [];
  const hostStatus = (host: string | null): string => {
    if (!host) return '';
    const s = states.find((x) => x.host === host);
    if (!s) return 'UNKNOWN';
    if (s.forcedDown) return 'DOWN';
    if (s.disabled) return 'MAINTENANCE';
    return s.up ? 'UP' : 'UNKNOWN';
  };
  const out = new Map<string, ViewContext>();
  for (const r of rows) {
    const f = faults.filter((x) => x.instanceUuid === r.uuid).pop();
    out.set(r.uuid, {
      base,
      version: c.var.version,
      isAdmin: admin,
      fault: f ? { code: f.code, message: f.message, details: f.details, created: f.createdAt } : null,
      groups: groups.filter((g) => g.instanceUuid === r.uuid).map((g) => g.groupUuid),
      hostStatus: admin ? hostStatus(r.host) : undefined,
    });
  }
  return out;
}


/** Nova's check_instance_state: 409 unless vm_state (and task_state) fit the action. */
export function checkState(s: InstanceRow, action: string, vmStates: string[], taskStates: (string | null)[] = [null]): void {
  if (!vmStates.includes(s.vmState)) {
    throw conflict(`Cannot '${action}' instance ${s.uuid} while it is in vm_state ${s.vmState}`);
  }
  if (!taskStates.includes(s.taskState)) {
    throw conflict(`Cannot '${action}' instance ${s.uuid} while it is in task_state ${s.taskState}`);
  }
}

/** Nova's check_instance_lock: a locked server takes no actions but from an admin. */
export function checkLock(c: C, s: InstanceRow): void {
  if (s.locked && !isAdmin(c)) throw conflict(`Instance ${s.uuid} is locked`);
}

/** Records an instance action (os-instance-actions) and the first event of it. */
export function recordAction(db: Db, c: C, reqId: string, uuid: string, action: string, event?: string, host?: string | null): [BatchItem<'sqlite'>, ...BatchItem<'sqlite'>[]] {
  const now = isoNow();
  return [
    db.insert(instanceActions).values({
      requestId: reqId, action, instanceUuid: uuid, projectId: c.var.auth.projectId ?? '', userId: c.var.auth.userId, startTime: now, updatedAt: now,
    }),
    ...(event ? [startEvent(db, reqId, event, host ?? null)] : []),
  ];
}

/** Nova answers 409 when a host-side action cannot reach a host. */
export function hostUnavailable(host: string | null): ApiError {
  return conflict(`Compute host ${host ?? '(none)'} could not be found or is down.`);
}
