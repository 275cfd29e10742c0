// The actions that move a server: resize, migrate (cold), os-migrateLive, and the
// confirmResize and revertResize that end a resize or cold migration. As Nova's compute
// API does, each checks the lock and the state (409), takes the task_state, records the
// instance action, then schedules: the Scheduler moves the server's claim on its source to
// the migration and claims on the destination. The destination's Conductor takes it from
// there (durable-objects/conductor/moves.ts). No host found is not an error of the
// request: the server stays as it was and the action's event says why.
import { and, eq, isNull, sql } from 'drizzle-orm';
import { badRequest, conflict, ApiError } from '../../../lib/errors';
import { validate } from '../../../lib/validation';
import type { RequestSpec } from '../../../durable-objects/scheduler/types';
import { flavors, instances, serverGroupMembers, serverGroups, services, type FlavorSnapshot } from '../../../schema/nova';
import { conductor, database, isoNow, scheduler, type InstanceRow } from '../db';
import { visibleFlavors } from '../flavors';
import { authorize } from '../policies';
import { limitsFor, overQuota, usageFor, withinQuota } from '../quota';
import { migrateLiveV2_1, migrateLiveV2_25, migrateLiveV2_30, migrateV2_56, resizeV2_1 } from '../schemas/server-actions';
import { checkLock, checkState, recordAction, requestId, type C } from './api';
import { findImage, imageProperties, type GlanceImage } from './glance';
import { finishEvent, instantEvent } from './instance-updates';
import type { Migration } from './migration';
import { migrationCreated, notScheduled, usageOfFlavor } from './move-updates';
import { spawnInstanceOf } from './spawn-instance';

const NO_VALID_HOST = 'No valid host was found.';

/** Nova's check_instance_state(must_have_launched=True): a server that never ran cannot take these actions. */
export function checkLaunched(s: InstanceRow, action: string): void {
  if (!s.launchedAt) throw conflict(`Cannot '${action}' instance ${s.uuid} while it is in launched_at None`);
}

/** Nova's check_instance_host(check_is_up=True): a host, and one that answers. */
async function checkHostUp(c: C, s: InstanceRow): Promise<string> {
  if (!s.host) throw conflict(`Instance ${s.uuid} is not ready`);
  // "ComputeServiceUnavailable would make more sense here but we do not want to leak hostnames to end users."
  if (!(await conductor(c.env, s.host).isUp())) throw conflict('Service is unavailable at this time.');
  return s.host;
}

async function hostExists(c: C, host: string): Promise<boolean> {
  const [row] = await database(c.env.DB).select({ host: services.host }).from(services).where(and(eq(services.host, host), eq(services.binary, 'nova-compute')));
  return row !== undefined;
}

/** The server's RequestSpec for a move, as Nova keeps it: flavor, image, zone asked for at boot, group. */
async function moveSpec(c: C, s: InstanceRow, flavor: FlavorSnapshot, image: GlanceImage | null, forcedHost: string | null): Promise<RequestSpec> {
  const db = database(c.env.DB);
  const [membership] = await db.select().from(serverGroupMembers).where(eq(serverGroupMembers.instanceUuid, s.uuid));
  let group: RequestSpec['group'] = null;
  if (membership) {
    const [[g], members] = await db.batch([
      db.select().from(serverGroups).where(eq(serverGroups.uuid, membership.groupUuid)),
      db.select().from(serverGroupMembers).where(eq(serverGroupMembers.groupUuid, membership.groupUuid)),
    ]);
    if (g) {
      group = {
        uuid: g.uuid, policy: g.policy as NonNullable<RequestSpec['group']>['policy'], maxServerPerHost: g.rules.max_server_per_host,
        members: members.map((m) => m.instanceUuid).filter((u) => u !== s.uuid),
      };
    }
  }
  return {
    instanceUuid: s.uuid,
    projectId: s.projectId,
    flavor: { vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk, ephemeralGb: flavor.ephemeral, swapMb: flavor.swap, extraSpecs: flavor.extraSpecs },
    image: { id: s.imageRef, properties: imageProperties(image) },
    availabilityZone: s.requestedZone,
    forcedHost,
    group,
    sameHost: [],
    differentHost: [],
    // Nova's allow_resize_to_same_host is off by default: a move leaves its host.
    ignoreHosts: s.host ? [s.host] : [],
  };
}

/**
 * Takes the task_state for a move, only if no other task holds it. With `grow` (a resize
 * or its revert), the same statement takes the quota the flavor needs beyond what the
 * server uses (Nova's _check_quota_for_upsize: cores and ram), so concurrent resizes of a
 * project cannot go over it together: the server's vcpus and memory_mb, which the quota
 * counts, become the larger of the two until the move ends (move-updates.ts).
 */
async function takeTask(c: C, s: InstanceRow, action: string, taskState: string, set: Partial<InstanceRow> = {}, grow?: FlavorSnapshot): Promise<void> {
  const db = database(c.env.DB);
  const deltas = { cores: Math.max(0, (grow?.vcpus ?? 0) - s.vcpus), ram: Math.max(0, (grow?.ram ?? 0) - s.memoryMb) };
  const grows = deltas.cores > 0 || deltas.ram > 0;
  const usage = grow ? { vcpus: sql<number>`max(${instances.vcpus}, ${grow.vcpus})`, memoryMb: sql<number>`max(${instances.memoryMb}, ${grow.ram})` } : {};
  const [taken] = await db
    .update(instances)
    .set({ ...set, ...usage, taskState, updatedAt: isoNow() })
    .where(and(eq(instances.uuid, s.uuid), eq(instances.deleted, false), isNull(instances.taskState), grows ? withinQuota(s.projectId, s.userId, deltas) : undefined))
    .returning({ uuid: instances.uuid });
  if (taken) return;
  if (grows) {
    const [limits, now] = await Promise.all([limitsFor(db, s.projectId), usageFor(db, s.projectId, s.userId)]);
    const [over] = overQuota(limits, now, deltas);
    if (over === 'cores' || over === 'ram') {
      throw new ApiError(403, `Quota exceeded for ${over}: Requested ${deltas[over]}, but already used ${now[over]} of ${limits[over]} ${over}`);
    }
  }
  throw conflict(`Cannot '${action}' instance ${s.uuid} while it is in task_state ${s.taskState}`);
}

function migrationOf(s: InstanceRow, type: Migration['type'], dest: { host: string; node?: string; zone?: string }, newFlavor: FlavorSnapshot, image: GlanceImage | null, reqId: string): Migration {
  return {
    id: crypto.randomUUID(),
    instanceUuid: s.uuid,
    type,
    // Nova's conductor creates a live migration's record as accepted, a cold one's as pre-migrating.
    status: type === 'live-migration' ? 'accepted' : 'pre-migrating',
    source: { host: s.host!, node: s.node ?? s.host!, zone: s.availabilityZone },
    dest: { host: dest.host, node: dest.node ?? dest.host, zone: dest.zone ?? null },
    oldFlavor: s.flavor,
    newFlavor,
    oldVmState: s.vmState,
    instance: spawnInstanceOf(s, newFlavor, s.imageRef, image),
    requestId: reqId,
  };
}

/** Who asked for a move, as the migrations row records it. */
const requester = (c: C) => ({ projectId: c.var.auth.projectId ?? null, userId: c.var.auth.userId });

/** Resize and cold migration: the same move, with a new flavor or the same one (Nova's API.resize). */
async function coldMove(c: C, s: InstanceRow, action: 'resize' | 'migrate', newFlavor: FlavorSnapshot, requestedHost: string | null, image: GlanceImage | null): Promise<void> {
  const db = database(c.env.DB);
  const reqId = requestId(c);
  await takeTask(c, s, action, 'resize_prep', { newFlavor }, action === 'resize' ? newFlavor : undefined);
  const event = 'conductor_migrate_server';
  const m = migrationOf(s, action === 'resize' ? 'resize' : 'migration', { host: '' }, newFlavor, image, reqId);
  await db.batch([...recordAction(db, c, reqId, s.uuid, action, event, null), migrationCreated(db, m, requester(c), null)]);
  const spec = await moveSpec(c, s, newFlavor, image, null);
  const selection = await scheduler(c.env).selectMoveDestination(spec, m.id, requestedHost);
  if (!selection) {
    await notScheduled(db, s.uuid, m.id, reqId, event, `${NO_VALID_HOST} No valid host found for ${action === 'resize' ? 'resize' : 'cold migrate'}`);
    return;
  }
  const [first, ...rest] = finishEvent(db, reqId, event, 'Success', '');
  if (first) await db.batch([first, ...rest]);
  const migration: Migration = { ...m, dest: { host: selection.host, node: selection.node ?? selection.host, zone: selection.zone ?? null } };
  await conductor(c.env, selection.host).runMoveStep(selection.host, { step: 'prep_resize', migration });
}

/** The flavor a resize asks for, by id or link, as the caller may see it. */
async function requestedFlavor(c: C, ref: string): Promise<FlavorSnapshot & { disabled: boolean }> {
  const id = ref.split('/').pop() ?? ref;
  const [f] = await database(c.env.DB).select().from(flavors).where(and(eq(flavors.id, id), visibleFlavors(c)));
  if (!f) throw badRequest(`Flavor ${id} could not be found.`);
  return { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.memoryMb, disk: f.rootGb, ephemeral: f.ephemeralGb, swap: f.swap, extraSpecs: f.extraSpecs, disabled: f.disabled };
}

export async function resize(c: C, s: InstanceRow, arg: unknown): Promise<void> {
  authorize(c, 'os_compute_api:servers:resize', { user_id: s.userId, project_id: s.projectId });
  const body = validate(resizeV2_1, arg);
  checkLock(c, s);
  checkState(s, 'resize', ['active', 'stopped']);
  checkLaunched(s, 'resize');
  await checkHostUp(c, s);
  const { disabled, ...flavor } = await requestedFlavor(c, body.flavorRef);
  if (flavor.id === s.flavorId) throw badRequest('When resizing, instances must change flavor!');
  if (disabled) throw badRequest(`Flavor ${flavor.id} could not be found.`);
  if (flavor.disk === 0 && s.flavor.disk !== 0) throw badRequest('Server disk was unable to be resized because: Resize to zero disk flavor is not allowed.');
  const image = await findImage(c, s.imageRef);
  if (image && (image.min_ram ?? 0) > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
  if (image && flavor.disk > 0 && (image.min_disk ?? 0) > flavor.disk) {
    throw badRequest(`Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${flavor.disk * 1024 ** 3} bytes, minimum size is ${(image.min_disk ?? 0) * 1024 ** 3} bytes.`);
  }
  await coldMove(c, s, 'resize', flavor, null, image);
}

export async function migrate(c: C, s: InstanceRow, arg: unknown): Promise<void> {
  const host = c.var.version.atLeast('2.56') ? (validate(migrateV2_56, arg)?.host ?? null) : null;
  authorize(c, 'os_compute_api:os-migrate-server:migrate', { project_id: s.projectId });
  checkLock(c, s);
  checkState(s, 'migrate', ['active', 'stopped']);
  checkLaunched(s, 'migrate');
  await checkHostUp(c, s);
  if (host !== null) {
    if (host === s.host) throw badRequest('Cannot migrate to the host where the server exists.');
    if (!(await hostExists(c, host))) throw badRequest(`Compute host ${host} could not be found.`);
  }
  await coldMove(c, s, 'migrate', s.flavor, host, await findImage(c, s.imageRef));
}

export async function migrateLive(c: C, s: InstanceRow, arg: unknown): Promise<void> {
  const v = c.var.version;
  const schema = v.atLeast('2.68') ? migrateLiveV2_25 : v.atLeast('2.30') ? migrateLiveV2_30 : v.atLeast('2.25') ? migrateLiveV2_25 : migrateLiveV2_1;
  const body = validate(schema, arg);
  const host = body.host ?? null;
  authorize(c, 'os_compute_api:os-migrate-server:migrate_live', { project_id: s.projectId });
  // Before 2.30 a named host skips the scheduler; from 2.30 only with force, until 2.68 took force away.
  const force = 'force' in body && body.force !== undefined ? body.force : !v.atLeast('2.30') && host !== null;
  if (force && !host) throw badRequest("Can't force to a non-provided destination");
  checkLock(c, s);
  checkState(s, 'os-migrateLive', ['active', 'paused']);
  checkLaunched(s, 'os-migrateLive');
  if (host !== null && !(await hostExists(c, host))) throw badRequest(`Compute host ${host} could not be found.`);

  const db = database(c.env.DB);
  const reqId = requestId(c);
  const image = await findImage(c, s.imageRef);
  await takeTask(c, s, 'os-migrateLive', 'migrating');
  // From 2.34 the conductor's checks run after the answer (async); before, their failure is the answer.
  const async = v.atLeast('2.34');
  const event = async ? 'conductor_live_migrate_instance' : 'conductor_migrate_server';
  const m = migrationOf(s, 'live-migration', { host: '' }, s.flavor, image, reqId);
  await db.batch([...recordAction(db, c, reqId, s.uuid, 'live-migration', event, null), migrationCreated(db, m, requester(c), host)]);
  const fail = async (message: string): Promise<void> => {
    await notScheduled(db, s.uuid, m.id, reqId, event, message);
    if (!async) throw badRequest(message);
  };
  if (!s.host || !(await conductor(c.env, s.host).isUp())) return fail(`Compute service of ${s.host ?? '(none)'} is unavailable at this time.`);
  if (host === s.host) return fail(`Unable to migrate instance (${s.uuid}) to current host (${s.host}).`);
  if (host !== null && !(await conductor(c.env, host).isUp())) return fail(`Compute service of ${host} is unavailable at this time.`);
  const spec = await moveSpec(c, s, s.flavor, image, force ? host : null);
  const selection = await scheduler(c.env).selectMoveDestination(spec, m.id, force ? null : host);
  if (!selection) return fail(`${NO_VALID_HOST} There are not enough hosts available.`);
  const [first, ...rest] = finishEvent(db, reqId, event, 'Success', '');
  // The source takes it from the queue and prepares (Nova's queued, then preparing).
  const migration: Migration = { ...m, status: 'preparing', dest: { host: selection.host, node: selection.node ?? selection.host, zone: selection.zone ?? null } };
  await db.batch([
    instantEvent(db, reqId, 'compute_check_can_live_migrate_destination', selection.host, 'Success'),
    instantEvent(db, reqId, 'compute_check_can_live_migrate_source', s.host, 'Success'),
    ...(first ? [first, ...rest] : []),
  ]);
  await conductor(c.env, selection.host).runMoveStep(selection.host, { step: 'pre_live_migration', migration });
}

/** The finished move of a server in VERIFY_RESIZE, from its (destination) host's Conductor. */
async function finishedMove(c: C, s: InstanceRow): Promise<Migration> {
  const m = s.host ? await conductor(c.env, s.host).migrationOf(s.uuid) : null;
  if (!m || m.status !== 'finished') throw badRequest('Instance has not been resized.');
  return m;
}

export async function confirmResize(c: C, s: InstanceRow): Promise<void> {
  authorize(c, 'os_compute_api:servers:confirm_resize', { project_id: s.projectId });
  checkLock(c, s);
  checkState(s, 'confirmResize', ['resized']);
  checkLaunched(s, 'confirmResize');
  const m = await finishedMove(c, s);
  if (!(await conductor(c.env, m.source.host).isUp())) throw conflict('Service is unavailable at this time.');
  const db = database(c.env.DB);
  const reqId = requestId(c);
  await db.batch(recordAction(db, c, reqId, s.uuid, 'confirmResize'));
  const started = await conductor(c.env, m.dest.host).runMoveStep(m.dest.host, { step: 'confirm_resize', instanceUuid: s.uuid, requestId: reqId });
  if (!started) throw badRequest('Instance has not been resized.');
}

export async function revertResize(c: C, s: InstanceRow): Promise<void> {
  authorize(c, 'os_compute_api:servers:revert_resize', { project_id: s.projectId });
  checkLock(c, s);
  checkState(s, 'revertResize', ['resized']);
  checkLaunched(s, 'revertResize');
  const m = await finishedMove(c, s);
  const db = database(c.env.DB);
  const reqId = requestId(c);
  // Going back to a bigger flavor takes quota, as the resize did.
  await takeTask(c, s, 'revertResize', 'resize_reverting', {}, m.oldFlavor);
  await db.batch(recordAction(db, c, reqId, s.uuid, 'revertResize'));
  const started = await conductor(c.env, m.dest.host).runMoveStep(m.dest.host, { step: 'revert_resize', instanceUuid: s.uuid, requestId: reqId });
  if (!started) {
    await db.update(instances).set({ taskState: null, ...usageOfFlavor, updatedAt: isoNow() }).where(and(eq(instances.uuid, s.uuid), eq(instances.taskState, 'resize_reverting')));
    throw badRequest('Instance has not been resized.');
  }
}
