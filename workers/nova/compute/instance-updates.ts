// What a host's results do to the nova database. The Conductor is the only writer of
// host-side results (the seed's "no-db-compute"): connectors never see the database.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { PowerState, type JobKind, type PowerStateValue } from '../../../lib/connector-protocol';
import { instanceActionEvents, instanceActions, instanceFaults, instances, serverGroupMembers } from '../../../schema/nova';
import { isoNow, type Db } from '../db';

/** Nova's instance action event names, per job kind. */
export const EVENT_OF: Record<JobKind, string> = {
  spawn: 'compute__do_build_and_run_instance',
  destroy: 'compute_terminate_instance',
  reboot: 'compute_reboot_instance',
  power_off: 'compute_stop_instance',
  power_on: 'compute_start_instance',
  pause: 'compute_pause_instance',
  unpause: 'compute_unpause_instance',
  suspend: 'compute_suspend_instance',
  resume: 'compute_resume_instance',
  get_console_output: 'compute_get_console_output',
  snapshot: 'compute_snapshot_instance',
  attach_volume: 'compute_attach_volume',
  detach_volume: 'compute_detach_volume',
};

/** vm_state and power_state after a power action succeeds. */
const AFTER: Partial<Record<JobKind, { vmState: string; powerState: PowerStateValue }>> = {
  spawn: { vmState: 'active', powerState: PowerState.RUNNING },
  reboot: { vmState: 'active', powerState: PowerState.RUNNING },
  power_on: { vmState: 'active', powerState: PowerState.RUNNING },
  power_off: { vmState: 'stopped', powerState: PowerState.SHUTDOWN },
  pause: { vmState: 'paused', powerState: PowerState.PAUSED },
  unpause: { vmState: 'active', powerState: PowerState.RUNNING },
  suspend: { vmState: 'suspended', powerState: PowerState.SUSPENDED },
  resume: { vmState: 'active', powerState: PowerState.RUNNING },
};

/** Finishes the open event of an action (Nova: EventReporter), if there is one. */
function finishEvent(db: Db, requestId: string | null, event: string, result: 'Success' | 'Error', host: string, traceback?: string) {
  if (!requestId) return [];
  return [
    db
      .update(instanceActionEvents)
      .set({ finishTime: isoNow(), result, host, traceback: traceback ?? null })
      .where(
        and(
          eq(instanceActionEvents.event, event),
          isNull(instanceActionEvents.finishTime),
          sql`${instanceActionEvents.actionId} = (SELECT id FROM instance_actions WHERE request_id = ${requestId})`,
        ),
      ),
    db.update(instanceActions).set({ updatedAt: isoNow() }).where(eq(instanceActions.requestId, requestId)),
  ];
}

/** Opens an event of an action, as the compute manager does when it starts the work. */
export function startEvent(db: Db, requestId: string, event: string, host: string | null) {
  return db.insert(instanceActionEvents).values({
    actionId: sql`(SELECT id FROM instance_actions WHERE request_id = ${requestId})`,
    event,
    startTime: isoNow(),
    host,
  });
}

export async function spawned(db: Db, uuid: string, host: string, requestId: string | null, powerState: PowerStateValue): Promise<boolean> {
  const now = isoNow();
  // Only a server still building on this host becomes ACTIVE: a delete may have come first.
  const [updated] = await db.batch([
    db
      .update(instances)
      .set({ vmState: 'active', taskState: null, powerState, launchedAt: now, updatedAt: now })
      .where(and(eq(instances.uuid, uuid), eq(instances.host, host), eq(instances.vmState, 'building'), eq(instances.deleted, false)))
      .returning({ uuid: instances.uuid }),
    ...finishEvent(db, requestId, EVENT_OF.spawn, 'Success', host),
  ]);
  return updated.length > 0;
}

/** A power action finished on the host. */
export async function actionDone(db: Db, uuid: string, kind: JobKind, host: string, requestId: string | null, powerState?: PowerStateValue): Promise<void> {
  const after = AFTER[kind];
  const now = isoNow();
  const set = after
    ? { vmState: after.vmState, powerState: powerState ?? after.powerState, taskState: null, updatedAt: now }
    : { taskState: null, updatedAt: now };
  await db.batch([
    db.update(instances).set(set).where(and(eq(instances.uuid, uuid), eq(instances.deleted, false))),
    ...finishEvent(db, requestId, EVENT_OF[kind], 'Success', host),
  ]);
}

/** A power action failed: the task ends, a fault says why (the vm_state stays, as in Nova). */
export async function actionFailed(db: Db, uuid: string, kind: JobKind, host: string, requestId: string | null, message: string): Promise<void> {
  const now = isoNow();
  await db.batch([
    db.update(instances).set({ taskState: null, updatedAt: now }).where(and(eq(instances.uuid, uuid), eq(instances.deleted, false))),
    db.insert(instanceFaults).values({ instanceUuid: uuid, code: 500, message, host, createdAt: now }),
    ...finishEvent(db, requestId, EVENT_OF[kind], 'Error', host, message),
  ]);
}

/** The server is gone from its host (or never got one): the row is soft-deleted. */
export async function terminated(db: Db, uuid: string, host: string | null, requestId: string | null): Promise<void> {
  const now = isoNow();
  await db.batch([
    db
      .update(instances)
      .set({ vmState: 'deleted', taskState: null, powerState: PowerState.NOSTATE, terminatedAt: now, deletedAt: now, updatedAt: now, deleted: true })
      .where(eq(instances.uuid, uuid)),
    db.delete(serverGroupMembers).where(eq(serverGroupMembers.instanceUuid, uuid)),
    ...finishEvent(db, requestId, EVENT_OF.destroy, 'Success', host ?? ''),
  ]);
}

/** The build failed everywhere it could run: ERROR with a fault, no host. */
export async function buildFailed(db: Db, uuid: string, requestId: string | null, message: string, lastHost: string | null): Promise<void> {
  const now = isoNow();
  await db.batch([
    db
      .update(instances)
      .set({ vmState: 'error', taskState: null, host: null, node: null, updatedAt: now })
      .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false))),
    db.insert(instanceFaults).values({ instanceUuid: uuid, code: 500, message, host: lastHost, createdAt: now }),
    ...finishEvent(db, requestId, EVENT_OF.spawn, 'Error', lastHost ?? '', message),
  ]);
}

/** The build moves to another host (a reschedule). */
export async function movedTo(db: Db, uuid: string, host: string, node: string | null, zone: string | null): Promise<void> {
  await db
    .update(instances)
    .set({ host, node, availabilityZone: zone, taskState: 'spawning', updatedAt: isoNow() })
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false)));
}

/** The host says an instance's power state changed on its own (Nova's _sync_power_states). */
export async function powerStateChanged(db: Db, uuid: string, host: string, powerState: PowerStateValue): Promise<void> {
  const now = isoNow();
  const stoppedOnItsOwn = powerState === PowerState.SHUTDOWN || powerState === PowerState.CRASHED || powerState === PowerState.NOSTATE;
  await db
    .update(instances)
    .set(
      stoppedOnItsOwn
        ? { powerState, vmState: sql`CASE WHEN ${instances.vmState} = 'active' THEN 'stopped' ELSE ${instances.vmState} END`, updatedAt: now }
        : { powerState, updatedAt: now },
    )
    .where(and(eq(instances.uuid, uuid), eq(instances.host, host), eq(instances.deleted, false), isNull(instances.taskState)));
}
