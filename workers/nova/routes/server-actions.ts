// POST /servers/{id}/action: power actions, lock, console output and the like. Each
// checks Nova's allowed states (409 otherwise), sets the task_state, records an instance
// action and queues a job on the server's host; the Conductor writes the outcome. Rebuild,
// createImage and the moves (resize, migrations) have files of their own in compute/.
import { and, eq, inArray, isNull, or } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import type { Job } from '../../../lib/connector-protocol';
import { ApiError, badRequest, conflict } from '../../../lib/errors';
import { readJson, validate } from '../../../lib/validation';
import { instances } from '../../../schema/nova';
import { checkLock, checkState, hostUnavailable, isAdmin, loadServer, recordAction, requestId, type C } from '../compute/api';
import { EVENT_OF } from '../compute/instance-updates';
import { rebuild } from '../compute/rebuild';
import { confirmResize, migrate, migrateLive, resize, revertResize } from '../compute/server-moves';
import { createServerImage } from '../compute/snapshot';
import { conductor, database, isoNow, type InstanceRow } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';

export const serverActionRoutes = new Hono<NovaEnv>();

const HARD_REBOOT_STATES = ['active', 'stopped', 'paused', 'suspended', 'error'];
const REBOOT_TASKS = [null, 'rebooting', 'reboot_pending', 'reboot_started', 'rebooting_hard', 'reboot_pending_hard', 'reboot_started_hard'];

/** A power action: its policy, allowed states, task_state while it runs, and the job. */
interface PowerAction {
  policy: string;
  action: string;
  vmStates: string[];
  taskStates?: (string | null)[];
  taskState: string;
  job: (uuid: string, id: string) => Job;
}

const POWER_ACTIONS: Record<string, PowerAction> = {
  'os-start': { policy: 'os_compute_api:servers:start', action: 'start', vmStates: ['stopped'], taskState: 'powering-on', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'power_on' }) },
  'os-stop': { policy: 'os_compute_api:servers:stop', action: 'stop', vmStates: ['active', 'rescued', 'error'], taskState: 'powering-off', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'power_off' }) },
  pause: { policy: 'os_compute_api:os-pause-server:pause', action: 'pause', vmStates: ['active'], taskState: 'pausing', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'pause' }) },
  unpause: { policy: 'os_compute_api:os-pause-server:unpause', action: 'unpause', vmStates: ['paused'], taskState: 'unpausing', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'unpause' }) },
  suspend: { policy: 'os_compute_api:os-suspend-server:suspend', action: 'suspend', vmStates: ['active'], taskState: 'suspending', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'suspend' }) },
  resume: { policy: 'os_compute_api:os-suspend-server:resume', action: 'resume', vmStates: ['suspended'], taskState: 'resuming', job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'resume' }) },
};

const rebootBody = z.strictObject({ type: z.string().transform((t) => t.toUpperCase()).pipe(z.enum(['SOFT', 'HARD'])) });
const lockBody = z.union([z.null(), z.strictObject({ locked_reason: z.string().max(255).optional() })]);
const consoleBody = z.union([z.null(), z.strictObject({ length: z.union([z.number().int(), z.string().regex(/^-?\d+$/), z.null()]).optional() })]);

/** Not built yet: said plainly, as Nova says an API it lacks. */
const NOT_YET = new Set(['os-resetState', 'evacuate', 'shelve', 'unshelve', 'rescue', 'unrescue']);

async function queue(c: C, s: InstanceRow, kind: PowerAction, job: Job, action: string): Promise<void> {
  if (!s.host) throw hostUnavailable(null);
  const db = database(c.env.DB);
  const reqId = requestId(c);
  const cond = conductor(c.env, s.host);
  if (!(await cond.isUp())) throw hostUnavailable(s.host);
  // The task_state is taken only if nobody else took it first: two actions never overlap.
  const tasks = kind.taskStates ?? [null];
  const named = tasks.filter((t): t is string => t !== null);
  const free = or(tasks.includes(null) ? isNull(instances.taskState) : undefined, named.length ? inArray(instances.taskState, named) : undefined);
  const [taken] = await db
    .update(instances)
    .set({ taskState: kind.taskState, updatedAt: isoNow() })
    .where(and(eq(instances.uuid, s.uuid), eq(instances.deleted, false), free))
    .returning({ uuid: instances.uuid });
  if (!taken) throw conflict(`Cannot '${action}' instance ${s.uuid} while it is in task_state ${s.taskState}`);
  await db.batch(recordAction(db, c, reqId, s.uuid, action, EVENT_OF[job.kind], s.host));
  await cond.runInstanceAction(s.host, { job: { ...job, id: `${s.uuid}.${job.kind}.${reqId}` }, requestId: reqId });
}

serverActionRoutes.post('/servers/:id/action', async (c) => {
  const body = await readJson(c);
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw badRequest('There is either no action or more than one action in the request body.');
  }
  const [name, arg] = Object.entries(body)[0]!;
  const s = await loadServer(c, c.req.param('id'));
  const target = { project_id: s.projectId, user_id: s.userId };

  const power = POWER_ACTIONS[name];
  if (power) {
    authorize(c, power.policy, target);
    checkLock(c, s);
    checkState(s, power.action, power.vmStates, power.taskStates);
    await queue(c, s, power, power.job(s.uuid, ''), power.action);
    return c.body(null, 202);
  }

  switch (name) {
    case 'reboot': {
      authorize(c, 'os_compute_api:servers:reboot', target);
      const { type } = validate(rebootBody, arg);
      checkLock(c, s);
      checkState(s, 'reboot', type === 'SOFT' ? ['active'] : HARD_REBOOT_STATES, REBOOT_TASKS);
      const kind: PowerAction = {
        policy: '', action: 'reboot', vmStates: [], taskStates: REBOOT_TASKS, taskState: type === 'SOFT' ? 'rebooting' : 'rebooting_hard',
        job: (instanceUuid, id) => ({ id, instanceUuid, kind: 'reboot', rebootType: type }),
      };
      await queue(c, s, kind, kind.job(s.uuid, ''), 'reboot');
      return c.body(null, 202);
    }
    case 'lock': {
      authorize(c, 'os_compute_api:os-lock-server:lock', target);
      const lock = validate(lockBody, arg);
      if (lock?.locked_reason !== undefined && !c.var.version.atLeast('2.73')) throw badRequest("Invalid input for field/attribute lock. Additional properties are not allowed ('locked_reason' was unexpected)");
      const db = database(c.env.DB);
      const reqId = requestId(c);
      await db.batch([
        db.update(instances).set({ locked: true, lockedBy: isAdmin(c) && s.projectId !== c.var.auth.projectId ? 'admin' : 'owner', lockedReason: lock?.locked_reason ?? null, updatedAt: isoNow() }).where(eq(instances.uuid, s.uuid)),
        ...recordAction(db, c, reqId, s.uuid, 'lock'),
      ]);
      return c.body(null, 202);
    }
    case 'unlock': {
      authorize(c, 'os_compute_api:os-lock-server:unlock', target);
      // Only an admin may lift a lock an admin set on someone else's server.
      if (s.locked && s.lockedBy === 'admin' && s.projectId === c.var.auth.projectId && !isAdmin(c)) {
        authorize(c, 'os_compute_api:os-lock-server:unlock:unlock_override', target);
      }
      const db = database(c.env.DB);
      const reqId = requestId(c);
      await db.batch([
        db.update(instances).set({ locked: false, lockedBy: null, lockedReason: null, updatedAt: isoNow() }).where(eq(instances.uuid, s.uuid)),
        ...recordAction(db, c, reqId, s.uuid, 'unlock'),
      ]);
      return c.body(null, 202);
    }
    case 'os-getConsoleOutput': {
      authorize(c, 'os_compute_api:os-console-output', target);
      const req = validate(consoleBody, arg);
      const raw = req?.length ?? null;
      const length = raw === null ? undefined : Number(raw);
      if (length !== undefined && length < -1) throw badRequest('Invalid input for field/attribute length. Value: must be >= -1');
      if (!s.host || s.vmState === 'building') throw conflict(`Instance ${s.uuid} is not ready`);
      const cond = conductor(c.env, s.host);
      try {
        const result = await cond.call(s.host, { id: `${s.uuid}.console.${crypto.randomUUID()}`, kind: 'get_console_output', instanceUuid: s.uuid, ...(length && length > 0 ? { length } : {}) });
        let output = result.output ?? '';
        if (length !== undefined && length >= 0) output = output.split('\n').slice(-length - 1).join('\n');
        if (length === 0) output = '';
        return c.json({ output });
      } catch (err) {
        throw conflict(err instanceof Error ? err.message : `Instance ${s.uuid} is not ready`);
      }
    }
    case 'rebuild':
      return rebuild(c, s, arg);
    case 'createImage':
      return createServerImage(c, s, arg);
    case 'resize':
      await resize(c, s, arg);
      return c.body(null, 202);
    case 'migrate':
      await migrate(c, s, arg);
      return c.body(null, 202);
    case 'os-migrateLive':
      await migrateLive(c, s, arg);
      return c.body(null, 202);
    case 'confirmResize':
      // 204, "for backwards compatibility", as Nova answers it.
      await confirmResize(c, s);
      return c.body(null, 204);
    case 'revertResize':
      await revertResize(c, s);
      return c.body(null, 202);
    case 'forceDelete': {
      authorize(c, 'os_compute_api:os-deferred-delete:force', target);
      // Without deferred delete (reclaim_instance_interval = 0) no server is ever SOFT_DELETED.
      checkState(s, 'forceDelete', ['soft-delete']);
      return c.body(null, 202);
    }
  }
  if (NOT_YET.has(name)) throw new ApiError(501, `The server action '${name}' is not implemented yet in this cloud.`);
  throw badRequest(`There is no such action: ${name}`);
});
