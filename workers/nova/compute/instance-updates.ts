// What a host's results do to the nova database. The Conductor is the only writer of
// host-side results (the seed's "no-db-compute"): connectors never see the database.
import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import { PowerState, type JobKind, type JobTaskState, type PowerStateValue } from '../../../lib/connector-protocol';
import { instanceActionEvents, instanceActions, instanceFaults, instances, migrations, serverGroupMembers } from '../../../schema/nova';
import { isoNow, preciseNow, type Db } from '../db';

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
  rebuild: 'compute_rebuild_instance',
  resize_instance: 'compute_resize_instance',
  finish_resize: 'compute_finish_resize',
  confirm_resize: 'compute_confirm_resize',
  revert_resize: 'compute_revert_resize',
  finish_revert_resize: 'compute_finish_revert_resize',
  pre_live_migration: 'compute_pre_live_migration',
  live_migration: 'compute_live_migration',
  post_live_migration_at_destination: 'compute_post_live_migration_at_destination',
  rollback_live_migration_at_destination: 'compute_rollback_live_migration_at_destination',
};

/** The task_states a snapshot and a rebuild go through, as Nova's task_states has them. */
export const SNAPSHOT_TASK_STATES = ['image_snapshot_pending', 'image_snapshot', 'image_pending_upload', 'image_uploading'];
export const REBUILD_TASK_STATES = ['rebuilding', 'rebuild_block_device_mapping', 'rebuild_spawning'];

/** For each step a host reports, the task_states it may follow (Nova's expected_task_state). */
const TASK_STEPS: Record<JobTaskState, string[]> = {
  image_snapshot: ['image_snapshot_pending'],
  image_pending_upload: ['image_snapshot_pending', 'image_snapshot'],
  image_uploading: ['image_pending_upload'],
  rebuild_block_device_mapping: ['rebuilding'],
  rebuild_spawning: ['rebuilding', 'rebuild_block_device_mapping'],
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
export function finishEvent(db: Db, requestId: string | null, event: string, result: 'Success' | 'Error', host: string, traceback?: string) {
  if (!requestId) return [];
  return [
    db
      .update(instanceActionEvents)
      .set({ finishTime: preciseNow(), result, host, traceback: traceback ?? null })
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
    startTime: preciseNow(),
    host,
  });
}

/** An event begun and ended at once: a check or a hand-over that needs no job on a host. */
export function instantEvent(db: Db, requestId: string, event: string, host: string | null, result: 'Success' | 'Error', traceback?: string) {
  const now = isoNow();
  return db.insert(instanceActionEvents).values({
    actionId: sql`(SELECT id FROM instance_actions WHERE request_id = ${requestId})`,
    event,
    startTime: now,
    finishTime: now,
    result,
    traceback: traceback ?? null,
    host,
  });
}

/** A host reached the next step of a job: the task_state follows, if it still fits. */
export async function taskStateAdvanced(db: Db, uuid: string, taskState: JobTaskState): Promise<void> {
  await db
    .update(instances)
    .set({ taskState, updatedAt: isoNow() })
    .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, TASK_STEPS[taskState])));
}

/** The snapshot is uploaded (Glance made the image active): the task ends. */
export async function snapshotDone(db: Db, uuid: string, host: string, requestId: string | null): Promise<void> {
  await db.batch([
    db
      .update(instances)
      .set({ taskState: null, updatedAt: isoNow() })
      .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, SNAPSHOT_TASK_STATES))),
    ...finishEvent(db, requestId, EVENT_OF.snapshot, 'Success', host),
  ]);
}

/** Rebuilt from the new image: ACTIVE again, or SHUTOFF when it was stopped before. */
export async function rebuilt(db: Db, uuid: string, host: string, requestId: string | null, powerState: PowerStateValue): Promise<void> {
  const now = isoNow();
  await db.batch([
    db
      .update(instances)
      .set({ vmState: powerState === PowerState.SHUTDOWN ? 'stopped' : 'active', taskState: null, powerState, launchedAt: now, updatedAt: now })
      .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, REBUILD_TASK_STATES))),
    ...finishEvent(db, requestId, EVENT_OF.rebuild, 'Success', host),
  ]);
}

/** A rebuild that failed leaves the server in ERROR, as Nova's rebuild_instance does. */
export async function rebuildFailed(db: Db, uuid: string, host: string, requestId: string | null, message: string): Promise<void> {
  const now = isoNow();
  await db.batch([
    db
      .update(instances)
      .set({ vmState: 'error', taskState: null, updatedAt: now })
      .where(and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, REBUILD_TASK_STATES))),
    db.insert(instanceFaults).values({ instanceUuid: uuid, code: 500, message, host, createdAt: now }),
    ...finishEvent(db, requestId, EVENT_OF.rebuild, 'Error', host, message),
  ]);
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
    // Its migrations go with it, as Nova's instance_destroy soft-deletes them.
    db.update(migrations).set({ deleted: true, deletedAt: now }).where(and(eq(migrations.instanceUuid, uuid), eq(migrations.deleted, false))),
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
