// What the steps of a move do to the nova database, as nova-compute's resize, migration and
// live migration methods save the instance and its migration record. Each update names the
// task_state it expects (Nova's expected_task_state), so a step that comes late, after a
// delete or a failure, changes nothing and says so (false).
//
// Quota: a server's vcpus and memory_mb are what its project's quota counts. A resize takes
// the larger of its two flavors' when it starts (server-moves.ts), the new flavor's when it
// finishes, and the old one's back when it is reverted, fails or finds no host.
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { MoveJobKind, PowerStateValue } from '../../../lib/connector-protocol';
import { instanceFaults, instances, migrations, type FlavorSnapshot } from '../../../schema/nova';
import { isoNow, type Db } from '../db';
import { EVENT_OF, finishEvent, startEvent } from './instance-updates';
import type { Migration, MoveEnd } from './migration';

type MigrationRow = typeof migrations.$inferInsert;

/** Nova's live_migration_cancel action finishes with this event. */
export const ABORT_EVENT = 'compute_live_migration_abort';

/** The task_states of a move on its way, for a failure that may come at any of them. */
const MOVING = ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish', 'resize_reverting', 'migrating'];

/** The columns that say where a server is and with which flavor. */
function placedAt(end: MoveEnd, flavor: FlavorSnapshot) {
  return { host: end.host, node: end.node, availabilityZone: end.zone, flavor, flavorId: flavor.id, vcpus: flavor.vcpus, memoryMb: flavor.ram };
}

/** Quota usage back to the flavor the server has (its flavor column): what a resize took goes back. */
export const usageOfFlavor = {
  vcpus: sql<number>`json_extract(${instances.flavor}, '$.vcpus')`,
  memoryMb: sql<number>`json_extract(${instances.flavor}, '$.ram')`,
};

function expecting(uuid: string, taskStates: string[]) {
  return and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, taskStates));
}

/** The migrations row a move starts with: the source, and for a live one the host asked for. */
export function migrationCreated(db: Db, m: Migration, by: { projectId: string | null; userId: string }, destCompute: string | null) {
  return db.insert(migrations).values({
    uuid: m.id,
    instanceUuid: m.instanceUuid,
    migrationType: m.type,
    status: m.status,
    sourceCompute: m.source.host,
    sourceNode: m.source.node,
    destCompute,
    oldInstanceTypeId: m.oldFlavor.id,
    newInstanceTypeId: m.newFlavor.id,
    projectId: by.projectId,
    userId: by.userId,
    createdAt: isoNow(),
  });
}

/** The move's migrations row with a new status (Nova's migration.save()). */
export function migrationSaved(db: Db, migrationId: string, status: string, set: Partial<MigrationRow> = {}) {
  return db.update(migrations).set({ ...set, status, updatedAt: isoNow() }).where(eq(migrations.uuid, migrationId));
}

/** Moves the task_state on, opens the step's event and, when given, saves the migration's new status. */
export async function stepStarted(
  db: Db, m: Migration, kind: MoveJobKind, host: string, taskState: string | null, expected: string[], status?: string,
): Promise<boolean> {
  const [updated] = await db.batch([
    db.update(instances).set({ ...(taskState ? { taskState } : {}), updatedAt: isoNow() }).where(expecting(m.instanceUuid, expected)).returning({ uuid: instances.uuid }),
    startEvent(db, m.requestId, EVENT_OF[kind], host),
    ...(status ? [migrationSaved(db, m.id, status)] : []),
  ]);
  return updated.length > 0;
}

/** The move found no host, or failed the conductor's checks: the server stays as it was, a fault says why, the event and the migration fail. */
export async function notScheduled(db: Db, uuid: string, migrationId: string, requestId: string, event: string, message: string): Promise<void> {
  const now = isoNow();
  await db.batch([
    db.update(instances).set({ taskState: null, newFlavor: null, ...usageOfFlavor, updatedAt: now }).where(expecting(uuid, MOVING)),
    db.insert(instanceFaults).values({ instanceUuid: uuid, code: 500, message, createdAt: now }),
    migrationSaved(db, migrationId, 'error'),
    ...finishEvent(db, requestId, event, 'Error', '', message),
  ]);
}

/** The source let go of the disk: the server is the destination's from here (Nova's resize_instance). */
export async function resizeMigrated(db: Db, m: Migration, powerState: PowerStateValue | undefined): Promise<boolean> {
  const [updated] = await db.batch([
    db
      .update(instances)
      .set({ host: m.dest.host, node: m.dest.node, taskState: 'resize_migrated', ...(powerState !== undefined ? { powerState } : {}), updatedAt: isoNow() })
      .where(expecting(m.instanceUuid, ['resize_migrating']))
      .returning({ uuid: instances.uuid }),
    migrationSaved(db, m.id, 'post-migrating'),
    ...finishEvent(db, m.requestId, EVENT_OF.resize_instance, 'Success', m.source.host),
  ]);
  return updated.length > 0;
}

/** The destination made the server with the new flavor: VERIFY_RESIZE (Nova's finish_resize). */
export async function resizeFinished(db: Db, m: Migration, powerState: PowerStateValue | undefined): Promise<boolean> {
  const [updated] = await db.batch([
    db
      .update(instances)
      .set({ ...placedAt(m.dest, m.newFlavor), vmState: 'resized', taskState: null, ...(powerState !== undefined ? { powerState } : {}), updatedAt: isoNow() })
      .where(expecting(m.instanceUuid, ['resize_finish']))
      .returning({ uuid: instances.uuid }),
    migrationSaved(db, m.id, 'finished'),
    ...finishEvent(db, m.requestId, EVENT_OF.finish_resize, 'Success', m.dest.host),
  ]);
  return updated.length > 0;
}

/** The source's copy is gone: ACTIVE on the destination, or SHUTOFF if it is powered off there. */
export async function resizeConfirmed(db: Db, m: Migration): Promise<void> {
  await db.batch([
    db
      .update(instances)
      .set({ vmState: sql`CASE WHEN ${instances.powerState} = 4 THEN 'stopped' ELSE 'active' END`, taskState: null, newFlavor: null, updatedAt: isoNow() })
      .where(and(eq(instances.uuid, m.instanceUuid), eq(instances.deleted, false), eq(instances.vmState, 'resized'))),
    migrationSaved(db, m.id, 'confirmed'),
    ...finishEvent(db, m.requestId, EVENT_OF.confirm_resize, 'Success', m.source.host),
  ]);
}

/** A step that changes nothing on the server itself ended well: its event ends. */
export async function stepDone(db: Db, m: Migration, kind: MoveJobKind, host: string): Promise<void> {
  const [first, ...rest] = finishEvent(db, m.requestId, EVENT_OF[kind], 'Success', host);
  if (first) await db.batch([first, ...rest]);
}

/** Back on the source with the old flavor, as it was before the resize (Nova's finish_revert_resize). */
export async function resizeReverted(db: Db, m: Migration, powerState: PowerStateValue | undefined): Promise<void> {
  await db.batch([
    db
      .update(instances)
      .set({
        ...placedAt(m.source, m.oldFlavor), newFlavor: null, vmState: m.oldVmState === 'stopped' ? 'stopped' : 'active', taskState: null,
        ...(powerState !== undefined ? { powerState } : {}), updatedAt: isoNow(),
      })
      .where(expecting(m.instanceUuid, ['resize_reverting'])),
    migrationSaved(db, m.id, 'reverted'),
    ...finishEvent(db, m.requestId, EVENT_OF.finish_revert_resize, 'Success', m.source.host),
  ]);
}

/** The instance left the source: it is the destination's (Nova's _post_live_migration). */
export async function liveMigrated(db: Db, m: Migration): Promise<boolean> {
  const [updated] = await db.batch([
    db
      .update(instances)
      .set({ host: m.dest.host, node: m.dest.node, availabilityZone: m.dest.zone, updatedAt: isoNow() })
      .where(expecting(m.instanceUuid, ['migrating']))
      .returning({ uuid: instances.uuid }),
    ...finishEvent(db, m.requestId, EVENT_OF.live_migration, 'Success', m.source.host),
  ]);
  return updated.length > 0;
}

/** It runs on the destination: the live migration is over. */
export async function liveMigrationDone(db: Db, m: Migration, powerState: PowerStateValue | undefined): Promise<void> {
  await db.batch([
    db
      .update(instances)
      .set({ taskState: null, ...(powerState !== undefined ? { powerState } : {}), updatedAt: isoNow() })
      .where(expecting(m.instanceUuid, ['migrating'])),
    migrationSaved(db, m.id, 'completed'),
    ...finishEvent(db, m.requestId, EVENT_OF.post_live_migration_at_destination, 'Success', m.dest.host),
  ]);
}

/**
 * A live migration asked to stop while preparing has stopped before the instance left the
 * source: it runs there as before, the migration is cancelled and so is the cancel's event
 * done (Nova's _rollback_live_migration with migration_status 'cancelled').
 */
export async function liveMigrationCancelled(db: Db, m: Migration): Promise<void> {
  await db.batch([
    db.update(instances).set({ taskState: null, updatedAt: isoNow() }).where(expecting(m.instanceUuid, ['migrating'])),
    migrationSaved(db, m.id, 'cancelled'),
    ...finishEvent(db, m.cancelRequestId ?? null, ABORT_EVENT, 'Success', m.dest.host),
  ]);
}

/**
 * A step failed. The task ends, a fault says why, the step's event fails and the migration
 * takes `status` (error, or failed for a live migration rolled back). `error` puts the
 * server in ERROR (Nova does for failures past the point of no return); `at` names the end
 * it now lives on, with that end's flavor, when that changed.
 */
export async function moveFailed(
  db: Db,
  m: Migration,
  kind: MoveJobKind,
  host: string,
  message: string,
  outcome: { error: boolean; at?: 'source' | 'dest'; status: 'error' | 'failed' },
): Promise<void> {
  const now = isoNow();
  const place = outcome.at === 'source' ? placedAt(m.source, m.oldFlavor) : outcome.at === 'dest' ? placedAt(m.dest, m.newFlavor) : usageOfFlavor;
  await db.batch([
    db
      .update(instances)
      .set({ ...place, ...(outcome.error ? { vmState: 'error' } : {}), taskState: null, newFlavor: null, updatedAt: now })
      .where(and(eq(instances.uuid, m.instanceUuid), eq(instances.deleted, false))),
    db.insert(instanceFaults).values({ instanceUuid: m.instanceUuid, code: 500, message, host, createdAt: now }),
    migrationSaved(db, m.id, outcome.status),
    ...finishEvent(db, m.requestId, EVENT_OF[kind], 'Error', host, message),
    // A cancel asked for meanwhile is over too: the migration stopped.
    ...finishEvent(db, m.cancelRequestId ?? null, ABORT_EVENT, 'Success', host),
  ]);
}
