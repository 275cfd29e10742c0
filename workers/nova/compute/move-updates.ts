// What the steps of a move do to the nova database, as nova-compute's resize, migration and
// live migration methods save the instance. Each update names the task_state it expects
// (Nova's expected_task_state), so a step that comes late, after a delete or a failure,
// changes nothing and says so (false).
import { and, eq, inArray, sql } from 'drizzle-orm';
import type { MoveJobKind, PowerStateValue } from '../../../lib/connector-protocol';
import { instanceFaults, instances, type FlavorSnapshot } from '../../../schema/nova';
import { isoNow, type Db } from '../db';
import { EVENT_OF, finishEvent, startEvent } from './instance-updates';
import type { Migration, MoveEnd } from './migration';

/** The task_states of a move on its way, for a failure that may come at any of them. */
const MOVING = ['resize_prep', 'resize_migrating', 'resize_migrated', 'resize_finish', 'resize_reverting', 'migrating'];

/** The columns that say where a server is and with which flavor. */
function placedAt(end: MoveEnd, flavor: FlavorSnapshot) {
  return { host: end.host, node: end.node, availabilityZone: end.zone, flavor, flavorId: flavor.id, vcpus: flavor.vcpus, memoryMb: flavor.ram };
}

function expecting(uuid: string, taskStates: string[]) {
  return and(eq(instances.uuid, uuid), eq(instances.deleted, false), inArray(instances.taskState, taskStates));
}

/** Moves the task_state on and opens the step's event. */
export async function stepStarted(db: Db, m: Migration, kind: MoveJobKind, host: string, taskState: string | null, expected: string[]): Promise<boolean> {
  const [updated] = await db.batch([
    db.update(instances).set({ ...(taskState ? { taskState } : {}), updatedAt: isoNow() }).where(expecting(m.instanceUuid, expected)).returning({ uuid: instances.uuid }),
    startEvent(db, m.requestId, EVENT_OF[kind], host),
  ]);
  return updated.length > 0;
}

/** The move found no host: the server stays as it was, a fault says why, the event fails. */
export async function notScheduled(db: Db, uuid: string, requestId: string, event: string, message: string): Promise<void> {
  const now = isoNow();
  await db.batch([
    db.update(instances).set({ taskState: null, newFlavor: null, updatedAt: now }).where(expecting(uuid, MOVING)),
    db.insert(instanceFaults).values({ instanceUuid: uuid, code: 500, message, createdAt: now }),
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
    ...finishEvent(db, m.requestId, EVENT_OF.post_live_migration_at_destination, 'Success', m.dest.host),
  ]);
}

/**
 * A step failed. The task ends, a fault says why and the step's event fails. `error` puts
 * the server in ERROR (Nova does for failures past the point of no return); `at` names
 * the end it now lives on, with that end's flavor, when that changed.
 */
export async function moveFailed(
  db: Db,
  m: Migration,
  kind: MoveJobKind,
  host: string,
  message: string,
  outcome: { error: boolean; at?: 'source' | 'dest' },
): Promise<void> {
  const now = isoNow();
  const place = outcome.at === 'source' ? placedAt(m.source, m.oldFlavor) : outcome.at === 'dest' ? placedAt(m.dest, m.newFlavor) : {};
  await db.batch([
    db
      .update(instances)
      .set({ ...place, ...(outcome.error ? { vmState: 'error' } : {}), taskState: null, newFlavor: null, updatedAt: now })
      .where(and(eq(instances.uuid, m.instanceUuid), eq(instances.deleted, false))),
    db.insert(instanceFaults).values({ instanceUuid: m.instanceUuid, code: 500, message, host, createdAt: now }),
    ...finishEvent(db, m.requestId, EVENT_OF[kind], 'Error', host, message),
  ]);
}
