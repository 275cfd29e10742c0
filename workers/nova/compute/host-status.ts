// A host coming and going, as its Conductor sees it: the services row (os-services), the
// Scheduler's view of the host, and reconciliation of what the host runs with what Nova
// thinks it runs.
import { and, eq, inArray } from 'drizzle-orm';
import { PowerState, type HostInventory, type InstanceReport, type Job } from '../../../lib/connector-protocol';
import { instances, services } from '../../../schema/nova';
import { isoNow, scheduler, type Db } from '../db';
import type { Env } from '../env';

/** The services row is touched at most this often by heartbeats (os-services updated_at). */
const HEARTBEAT_WRITE_MS = 30_000;
const lastWrite = new Map<string, number>();

export async function hostReturned(env: Env, db: Db, host: string, inventory: HostInventory): Promise<void> {
  const now = isoNow();
  await db
    .insert(services)
    .values({ id: crypto.randomUUID(), host, availabilityZone: inventory.availabilityZone, up: true, lastSeenAt: now, createdAt: now, updatedAt: now })
    .onConflictDoUpdate({
      target: [services.host, services.binary],
      set: { up: true, lastSeenAt: now, availabilityZone: inventory.availabilityZone, updatedAt: now },
    });
  lastWrite.set(host, Date.now());
  const [row] = await db.select().from(services).where(and(eq(services.host, host), eq(services.binary, 'nova-compute')));
  await scheduler(env).upsertHost(host, inventory, {
    up: true,
    enabled: !row?.disabled,
    disabledReason: row?.disabledReason ?? null,
    forcedDown: row?.forcedDown ?? false,
  });
}

export async function noteHeartbeat(db: Db, host: string): Promise<void> {
  if (Date.now() - (lastWrite.get(host) ?? 0) < HEARTBEAT_WRITE_MS) return;
  lastWrite.set(host, Date.now());
  await db.update(services).set({ lastSeenAt: isoNow(), up: true }).where(eq(services.host, host));
}

export async function hostGone(env: Env, db: Db, host: string): Promise<void> {
  await db.update(services).set({ up: false, updatedAt: isoNow() }).where(eq(services.host, host));
  lastWrite.delete(host);
  await scheduler(env).setHostStatus(host, { up: false });
}

/**
 * Compares what a host runs with what Nova placed there. Servers Nova thinks run on the
 * host but the host lacks are shut off (power state NOSTATE); instances the host runs that
 * Nova deleted or placed elsewhere are destroyed (Nova's running_deleted_instance_action
 * "reap"); instances Nova never knew are reported and left alone. Returns destroy jobs.
 */
export async function reconcile(db: Db, host: string, running: InstanceReport[], pendingSpawns: Set<string>): Promise<Job[]> {
  const reported = new Set(running.map((r) => r.uuid));
  const placed = await db
    .select({ uuid: instances.uuid, vmState: instances.vmState, powerState: instances.powerState })
    .from(instances)
    .where(and(eq(instances.host, host), eq(instances.deleted, false)));
  const missing = placed.filter((i) => !reported.has(i.uuid) && !pendingSpawns.has(i.uuid) && i.vmState !== 'building' && i.vmState !== 'error');
  if (missing.length > 0) {
    await db
      .update(instances)
      .set({ vmState: 'stopped', powerState: PowerState.NOSTATE, taskState: null, updatedAt: isoNow() })
      .where(inArray(instances.uuid, missing.map((i) => i.uuid)));
  }
  const placedHere = new Set(placed.map((i) => i.uuid));
  const strangers = running.filter((r) => !placedHere.has(r.uuid));
  if (strangers.length === 0) return [];
  const known = await db
    .select({ uuid: instances.uuid })
    .from(instances)
    .where(inArray(instances.uuid, strangers.map((s) => s.uuid)));
  const knownSet = new Set(known.map((k) => k.uuid));
  const unknown = strangers.filter((s) => !knownSet.has(s.uuid));
  if (unknown.length > 0) console.warn(`host ${host} runs ${unknown.length} instance(s) unknown to Nova: ${unknown.map((u) => u.uuid).join(', ')}`);
  return strangers
    .filter((s) => knownSet.has(s.uuid))
    .map((s) => ({ id: `${s.uuid}.reap.${host}`, kind: 'destroy' as const, instanceUuid: s.uuid }));
}
