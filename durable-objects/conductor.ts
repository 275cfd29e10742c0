// Nova's conductor for one compute host, as a Durable Object named after the host. It
// holds the WebSocket its connector dials (hibernation API), a durable job queue in its
// SQLite storage, the builds in progress on the host, and the host's heartbeat. It is the
// only writer of host-side results to the nova database.
//
// Builds are driven by this object's alarm rather than by Workflows: the state that
// matters (the job queue, the host's liveness) already lives here, an alarm survives a
// restart of the local cloud as the storage does, and a reschedule is one call to the
// Scheduler and one to the next host's Conductor. Moves (resize, migrations) are steps
// handed from one host's Conductor to the other's (conductor/moves.ts).
import { DurableObject } from 'cloudflare:workers';
import { tokenKeys } from '../lib/auth';
import { openSecret, sealSecret } from '../lib/token';
import {
  hostMessage,
  PowerState,
  type ConductorMessage,
  type HostInventory,
  type HostMessage,
  type InstanceReport,
  type Job,
  type JobResult,
  type JobTaskState,
  type SpawnInstance,
} from '../lib/connector-protocol';
import { conductor, database, scheduler, type Db } from '../workers/nova/db';
import type { Env } from '../workers/nova/env';
import { deleteImage } from '../workers/nova/compute/glance';
import * as updates from '../workers/nova/compute/instance-updates';
import { hostGone, hostReturned, noteHeartbeat, reconcile } from '../workers/nova/compute/host-status';
import type { Migration, MoveStep } from '../workers/nova/compute/migration';
import { isMoveJob, Moves } from './conductor/moves';
import type { RequestSpec } from './scheduler/types';

/** A build on its way: what to spawn, where else it may go, and how it went so far. */
export interface BuildRequest {
  instance: SpawnInstance;
  spec: RequestSpec;
  alternates: string[];
  /** 1 for the first host tried. */
  attempt: number;
  requestId: string;
  /** Why earlier hosts failed, for the fault when no host is left. */
  failures: string[];
  /** The instance record already names this host and node (set when the API placed it). */
  placed?: boolean;
}

export interface ActionRequest {
  job: Job;
  /** The instance action this job belongs to (its events are finished with the result). */
  requestId: string | null;
}

interface JobRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: string;
  instance_uuid: string;
  job: string;
  request_id: string | null;
}

// jobs.acked is no longer written (acks are kept in memory, see `unacked`); the column stays
// for the storage of objects made before.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS jobs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  instance_uuid TEXT NOT NULL, job TEXT NOT NULL, request_id TEXT, acked INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS builds (instance_uuid TEXT PRIMARY KEY, build TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS finished (id TEXT PRIMARY KEY, at INTEGER NOT NULL);
`;

/** Finished job ids are remembered this long, so a late duplicate result is recognised. */
const FINISHED_RETENTION_MS = 24 * 3600 * 1000;

export class Conductor extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private readonly db: Db;
  /** Callers waiting for a job's result (console output), by job id. */
  private readonly waiters = new Map<string, { resolve: (r: JobResult) => void; reject: (e: Error) => void }>();
  private readonly moves: Moves;
  /**
   * Jobs queued since this object started that the host has not acked yet. Kept in memory
   * only, so an ack costs no storage commit: after a restart every queued job counts as
   * possibly acked, and a delete then lets a queued spawn run and destroys after it (as for
   * one the host acked) rather than dropping it.
   */
  private readonly unacked = new Set<string>();

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec(SCHEMA);
    this.db = database(env.DB);
    this.moves = new Moves({
      env, db: this.db, sql: this.sql, host: () => this.host,
      hostIp: () => (JSON.parse(this.meta('inventory') ?? '{}') as Partial<HostInventory>).hostIp ?? null,
      enqueue: (job, requestId) => this.enqueue(job, requestId),
    });
  }

  // --- state kept in `meta` -------------------------------------------------------------

  /** The `meta` table, mirrored in memory: every RPC names the host, and most change nothing. */
  private metaCache: Map<string, string> | null = null;

  private meta(key: string): string | null {
    this.metaCache ??= new Map(this.sql.exec<{ key: string; value: string }>('SELECT key, value FROM meta').toArray().map((r) => [r.key, r.value]));
    return this.metaCache.get(key) ?? null;
  }

  private setMeta(key: string, value: string): void {
    if (this.meta(key) === value) return;
    this.sql.exec('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value', key, value);
    this.metaCache!.set(key, value);
  }

  private get host(): string {
    const host = this.meta('host');
    if (!host) throw new Error('conductor: host unknown');
    return host;
  }

  private get downAfterMs(): number {
    return Number(this.env.SERVICE_DOWN_TIME) * 1000;
  }

  /** Up: heard from within the service down time. */
  isUp(): boolean {
    return this.meta('up') === '1';
  }

  status(): { host: string | null; up: boolean; connected: boolean; lastSeenAt: number | null } {
    const last = this.meta('last_seen');
    return { host: this.meta('host'), up: this.isUp(), connected: this.ctx.getWebSockets().length > 0, lastSeenAt: last ? Number(last) : null };
  }

  // --- the connector's WebSocket ----------------------------------------------------------

  /** The Nova Worker has checked the host credential; it passes the host and credential id. */
  override async fetch(request: Request): Promise<Response> {
    const host = request.headers.get('X-Flarestack-Host');
    const credential = request.headers.get('X-Flarestack-Credential');
    if (request.headers.get('Upgrade')?.toLowerCase() !== 'websocket' || !host || !credential) {
      return new Response('expected a WebSocket upgrade', { status: 426 });
    }
    this.setMeta('host', host);
    // One connection per host: a new one (a reconnect) replaces the old.
    for (const old of this.ctx.getWebSockets()) old.close(1012, 'replaced by a new connection');
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1], [credential]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  private send(message: ConductorMessage): boolean {
    const ws = this.ctx.getWebSockets()[0];
    if (!ws) return false;
    try {
      ws.send(JSON.stringify(message));
      return true;
    } catch {
      return false;
    }
  }

  override async webSocketMessage(ws: WebSocket, data: string | ArrayBuffer): Promise<void> {
    let message: HostMessage;
    try {
      message = hostMessage.parse(JSON.parse(typeof data === 'string' ? data : new TextDecoder().decode(data)));
    } catch {
      ws.send(JSON.stringify({ type: 'error', message: 'malformed message' } satisfies ConductorMessage));
      ws.close(1008, 'malformed message');
      return;
    }
    switch (message.type) {
      case 'hello':
        return this.hello(ws, message.inventory, message.instances);
      case 'heartbeat':
        return this.heartbeat();
      case 'ack':
        this.unacked.delete(message.jobId);
        return;
      case 'result':
        return message.ok ? this.jobDone(message.jobId, message.result) : this.jobFailed(message.jobId, message.error.message);
      case 'power_state':
        return updates.powerStateChanged(this.db, message.instanceUuid, this.host, message.powerState);
      case 'task_state':
        return this.taskStateReached(message.jobId, message.taskState);
    }
  }

  override async webSocketClose(ws: WebSocket, code: number): Promise<void> {
    // 1005/1006 are not codes one may send back.
    if (code !== 1005 && code !== 1006) ws.close(code, 'closing');
  }

  override async webSocketError(): Promise<void> {
    // The heartbeat deadline decides when the host counts as down.
  }

  private async hello(ws: WebSocket, inventory: HostInventory, running: InstanceReport[]): Promise<void> {
    const host = this.host;
    this.setMeta('inventory', JSON.stringify(inventory));
    this.noteSeen();
    const heartbeatIntervalMs = Number(this.env.HEARTBEAT_INTERVAL_MS);
    ws.send(JSON.stringify({ type: 'welcome', host, heartbeatIntervalMs } satisfies ConductorMessage));
    await hostReturned(this.env, this.db, host, inventory);
    this.setMeta('up', '1');
    const pendingSpawns = new Set(this.sql.exec<{ instance_uuid: string }>("SELECT instance_uuid FROM jobs WHERE kind IN ('spawn', 'rebuild')").toArray().map((r) => r.instance_uuid));
    // A moving server is on two hosts at once, and on neither the way Nova's record says:
    // its move decides what each host keeps.
    const moving = this.moves.instances();
    for (const uuid of moving) pendingSpawns.add(uuid);
    const settled = running.filter((r) => !moving.has(r.uuid));
    for (const job of await reconcile(this.db, host, settled, pendingSpawns)) this.enqueue(job, null);
    // Everything not finished goes out again; the connector runs each job id once.
    for (const row of this.sql.exec<JobRow>('SELECT * FROM jobs ORDER BY seq').toArray()) {
      this.send({ type: 'job', job: await this.opened(JSON.parse(row.job) as Job) });
    }
    await this.armAlarm();
  }

  private noteSeen(): void {
    this.setMeta('last_seen', String(Date.now()));
  }

  private async heartbeat(): Promise<void> {
    this.noteSeen();
    if (!this.isUp()) {
      const inventory = this.meta('inventory');
      if (inventory) await hostReturned(this.env, this.db, this.host, JSON.parse(inventory) as HostInventory);
      this.setMeta('up', '1');
    } else {
      await noteHeartbeat(this.db, this.host);
    }
    await this.armAlarm();
  }

  // --- the job queue -----------------------------------------------------------------------

  /** Queues a job and sends it; stored is the job as kept (its secrets sealed, see sealed()). */
  private enqueue(job: Job, requestId: string | null, stored: Job = job): void {
    if (this.sql.exec('SELECT 1 FROM finished WHERE id = ?', job.id).toArray().length > 0) return;
    if (job.kind === 'snapshot' && stored === job) throw new Error('a snapshot job is kept with its token sealed');
    const inserted = this.sql.exec(
      'INSERT INTO jobs (id, kind, instance_uuid, job, request_id) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING',
      job.id,
      job.kind,
      job.instanceUuid,
      JSON.stringify(stored),
      requestId,
    ).rowsWritten;
    // A job queued before (and perhaps acked) keeps the state it has.
    if (inserted > 0) this.unacked.add(job.id);
    this.send({ type: 'job', job });
  }

  /**
   * A job as this object keeps it. A snapshot carries the caller's token to the host, as
   * nova-compute holds the request context of the RPC it works on; in storage the token is
   * sealed under the deployment's token keys, so no secret is kept in clear. It goes with
   * the job's row as soon as the host has answered.
   */
  private async sealed(job: Job): Promise<Job> {
    if (job.kind !== 'snapshot') return job;
    return { ...job, token: await sealSecret(await tokenKeys(this.env), job.token) };
  }

  /**
   * A kept job as the host gets it. A token whose key has left the set stays sealed: Glance
   * refuses it and the snapshot fails, as it does for a host away longer than tokens live.
   */
  private async opened(job: Job): Promise<Job> {
    return job.kind === 'snapshot' ? { ...job, token: await this.openedToken(job.token) } : job;
  }

  private async openedToken(sealed: string): Promise<string> {
    return (await openSecret(await tokenKeys(this.env), sealed)) ?? sealed;
  }

  /** Removes a job and remembers it finished; null when it was not queued (a duplicate result). */
  private take(jobId: string): JobRow | null {
    const row = this.sql.exec<JobRow>('SELECT * FROM jobs WHERE id = ?', jobId).toArray()[0];
    if (!row) return null;
    this.unacked.delete(jobId);
    this.sql.exec('DELETE FROM jobs WHERE id = ?', jobId);
    this.sql.exec('INSERT OR REPLACE INTO finished (id, at) VALUES (?, ?)', jobId, Date.now());
    return row;
  }

  private async jobDone(jobId: string, result: JobResult): Promise<void> {
    const row = this.take(jobId);
    if (!row) return;
    const job = JSON.parse(row.job) as Job;
    const host = this.host;
    this.waiters.get(jobId)?.resolve(result);
    this.waiters.delete(jobId);
    switch (job.kind) {
      case 'spawn': {
        this.sql.exec('DELETE FROM builds WHERE instance_uuid = ?', job.instanceUuid);
        const active = await updates.spawned(this.db, job.instanceUuid, host, row.request_id, result.powerState ?? PowerState.RUNNING);
        // Deleted (or moved) while it was spawning: the host must not keep it.
        if (!active) this.enqueue({ id: `${job.instanceUuid}.destroy.${jobId}`, kind: 'destroy', instanceUuid: job.instanceUuid }, null);
        return;
      }
      case 'destroy':
        // Two stores, neither waiting on the other.
        await Promise.all([scheduler(this.env).releaseClaim(job.instanceUuid), updates.terminated(this.db, job.instanceUuid, host, row.request_id)]);
        return;
      case 'get_console_output':
        return;
      case 'rebuild':
        return updates.rebuilt(this.db, job.instanceUuid, host, row.request_id, result.powerState ?? PowerState.RUNNING);
      case 'snapshot':
        return updates.snapshotDone(this.db, job.instanceUuid, host, row.request_id);
      default:
        if (isMoveJob(job)) return this.moves.jobDone(job, result);
        await updates.actionDone(this.db, job.instanceUuid, job.kind, host, row.request_id, result.powerState);
    }
  }

  private async jobFailed(jobId: string, message: string): Promise<void> {
    const row = this.take(jobId);
    if (!row) return;
    const job = JSON.parse(row.job) as Job;
    this.waiters.get(jobId)?.reject(new Error(message));
    this.waiters.delete(jobId);
    if (job.kind === 'spawn') return this.reschedule(job.instanceUuid, message);
    if (job.kind === 'get_console_output') return;
    if (isMoveJob(job)) return this.moves.jobFailed(job, message);
    if (job.kind === 'rebuild') return updates.rebuildFailed(this.db, job.instanceUuid, this.host, row.request_id, message);
    await updates.actionFailed(this.db, job.instanceUuid, job.kind, this.host, row.request_id, message);
    // Nova's delete_image_on_error: the queued image goes, with the same token.
    if (job.kind === 'snapshot') await deleteImage(this.env.GLANCE, job.imageUrl, await this.openedToken(job.token));
  }

  /** A host says a job reached a step Nova shows as task_state (a snapshot uploading, a rebuild spawning). */
  private async taskStateReached(jobId: string, taskState: JobTaskState): Promise<void> {
    const row = this.sql.exec<JobRow>('SELECT * FROM jobs WHERE id = ?', jobId).toArray()[0];
    if (!row) return;
    await updates.taskStateAdvanced(this.db, row.instance_uuid, taskState);
  }

  // --- builds --------------------------------------------------------------------------------

  /** Takes a build the Scheduler placed here (claim made): queues its spawn. */
  async buildAndRunInstance(host: string, build: BuildRequest): Promise<void> {
    this.setMeta('host', host);
    this.sql.exec('INSERT OR REPLACE INTO builds (instance_uuid, build) VALUES (?, ?)', build.instance.uuid, JSON.stringify(build));
    if (!this.isUp()) return this.reschedule(build.instance.uuid, `Host ${host} is down.`);
    if (!build.placed) {
      const inventory = JSON.parse(this.meta('inventory') ?? '{}') as Partial<HostInventory>;
      await updates.movedTo(this.db, build.instance.uuid, host, inventory.hypervisorHostname ?? host, inventory.availabilityZone ?? null);
    }
    this.enqueue({ id: `${build.instance.uuid}.spawn.${build.attempt}`, kind: 'spawn', instanceUuid: build.instance.uuid, instance: build.instance }, build.requestId);
    await this.armAlarm();
  }

  /** The spawn failed here, or the host went away: release the claim and try an alternate. */
  private async reschedule(uuid: string, reason: string): Promise<void> {
    const row = this.sql.exec<{ build: string }>('SELECT build FROM builds WHERE instance_uuid = ?', uuid).toArray()[0];
    if (!row) return;
    this.sql.exec('DELETE FROM builds WHERE instance_uuid = ?', uuid);
    for (const { id } of this.sql.exec<{ id: string }>("DELETE FROM jobs WHERE instance_uuid = ? AND kind = 'spawn' RETURNING id", uuid).toArray()) this.unacked.delete(id);
    const build = JSON.parse(row.build) as BuildRequest;
    const host = this.host;
    const sched = scheduler(this.env);
    await sched.releaseClaim(uuid);
    const failures = [...build.failures, `${host}: ${reason}`];
    const maxAttempts = Number(this.env.SCHEDULER_MAX_ATTEMPTS);
    if (build.attempt < maxAttempts && build.alternates.length > 0) {
      const spec = { ...build.spec, ignoreHosts: [...build.spec.ignoreHosts, host] };
      const next = await sched.claimAlternate(spec, build.alternates);
      if (next) {
        const alternates = build.alternates.filter((h) => h !== next);
        await conductor(this.env, next).buildAndRunInstance(next, { ...build, spec, alternates, attempt: build.attempt + 1, failures, placed: false });
        return;
      }
    }
    const message =
      build.attempt >= maxAttempts
        ? `No valid host was found. Exceeded max scheduling attempts ${maxAttempts} for instance ${uuid}. Last exception: ${reason}`
        : `No valid host was found. Exhausted all hosts available for retrying build failures for instance ${uuid}.`;
    await updates.buildFailed(this.db, uuid, build.requestId, message, host);
  }

  // --- other instance actions ------------------------------------------------------------

  /** Queues a power action, delete or the like for an instance on this host; answers whether the host is up. */
  async runInstanceAction(host: string, request: ActionRequest): Promise<boolean> {
    this.setMeta('host', host);
    const { job } = request;
    if (job.kind === 'destroy') {
      // A build not yet sent is simply dropped; one being spawned is destroyed after.
      const build = this.sql.exec('SELECT 1 FROM builds WHERE instance_uuid = ?', job.instanceUuid).toArray().length > 0;
      if (build) {
        this.sql.exec('DELETE FROM builds WHERE instance_uuid = ?', job.instanceUuid);
        const spawns = this.sql.exec<{ id: string }>("SELECT id FROM jobs WHERE instance_uuid = ? AND kind = 'spawn'", job.instanceUuid).toArray();
        for (const { id } of spawns) {
          if (!this.unacked.delete(id)) continue;
          this.sql.exec('DELETE FROM jobs WHERE id = ?', id);
        }
      }
      // Deleted mid-move (or while VERIFY_RESIZE): the move ends and the other host lets go.
      await this.moves.abandon(job.instanceUuid);
    }
    // A delete while the host is down is Nova's "local delete": the API ends it at once,
    // and the job only destroys the instance if the host comes back.
    const up = this.isUp();
    this.enqueue(job, job.kind === 'destroy' && !up ? null : request.requestId, await this.sealed(job));
    await this.armAlarm();
    return up;
  }

  /** The move of an instance this host has a part in (the API reads it to confirm or revert). */
  migrationOf(instanceUuid: string): Migration | null {
    return this.moves.get(instanceUuid);
  }

  /** Takes a step of a move (resize, cold or live migration) on this host. */
  async runMoveStep(host: string, step: MoveStep): Promise<boolean> {
    this.setMeta('host', host);
    const done = await this.moves.step(step);
    await this.armAlarm();
    return done;
  }

  /** Runs a job and waits for its result (console output): a synchronous call to the host. */
  async call(host: string, job: Job, timeoutMs = 20_000): Promise<JobResult> {
    this.setMeta('host', host);
    if (!this.isUp() || this.ctx.getWebSockets().length === 0) throw new Error(`Compute host ${host} could not be found or is down.`);
    const result = new Promise<JobResult>((resolve, reject) => {
      this.waiters.set(job.id, { resolve, reject });
      setTimeout(() => {
        if (this.waiters.delete(job.id)) reject(new Error(`Timed out waiting for a reply from ${host}.`));
      }, timeoutMs);
    });
    this.enqueue(job, null);
    return result;
  }

  /** A revoked credential's connection is dropped at once. */
  revokeCredential(credentialId: string): void {
    for (const ws of this.ctx.getWebSockets(credentialId)) {
      try {
        ws.send(JSON.stringify({ type: 'error', message: 'host credential revoked' } satisfies ConductorMessage));
      } catch {
        // already gone
      }
      ws.close(1008, 'credential revoked');
    }
  }

  // --- liveness ------------------------------------------------------------------------------

  private async armAlarm(): Promise<void> {
    const last = Number(this.meta('last_seen') ?? Date.now());
    const at = Math.max(Date.now(), last + this.downAfterMs) + 50;
    // The alarm set last is remembered, so a busy host's jobs do not each read it back.
    const current = this.alarmAt ?? (await this.ctx.storage.getAlarm());
    if (current === null || Math.abs(current - at) > 1000 || current < Date.now()) {
      await this.ctx.storage.setAlarm(at);
      this.alarmAt = at;
    } else {
      this.alarmAt = current;
    }
  }

  private alarmAt: number | null = null;

  override async alarm(): Promise<void> {
    this.alarmAt = null;
    const cutoff = Date.now() - FINISHED_RETENTION_MS;
    this.sql.exec('DELETE FROM finished WHERE at < ?', cutoff);
    const host = this.meta('host');
    if (!host) return;
    const last = Number(this.meta('last_seen') ?? 0);
    if (Date.now() - last < this.downAfterMs) return this.armAlarm();
    if (this.isUp()) {
      this.setMeta('up', '0');
      await hostGone(this.env, this.db, host);
    }
    // Builds waiting on a host that went away go elsewhere; other jobs wait for its return.
    const builds = this.sql.exec<{ instance_uuid: string }>('SELECT instance_uuid FROM builds').toArray();
    for (const b of builds) await this.reschedule(b.instance_uuid, `Host ${host} stopped answering.`);
    // A move cannot wait on it: the step it has queued here fails (conductor/moves.ts).
    for (const row of this.sql.exec<JobRow>('SELECT * FROM jobs ORDER BY seq').toArray()) {
      const job = JSON.parse(row.job) as Job;
      if (isMoveJob(job) && this.moves.owns(job) && this.take(row.id)) await this.moves.jobFailed(job, `Host ${host} stopped answering.`, true);
    }
  }
}
