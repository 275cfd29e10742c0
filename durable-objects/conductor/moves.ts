// A Conductor's part in moves (resize, cold and live migration): the steps it is asked to
// take, the jobs it queues for them on its host, and what each job's result does next.
// Steps on two hosts are put in order by handing the Migration from one Conductor to the
// other when a job is done, as nova-compute's RPC casts hand a move between hosts; a
// host's connector runs one instance's jobs in order, so steps on one host never overlap.
//
// Claims: from the API's scheduling until the move ends, the Scheduler holds the source's
// claim under the migration's id and the destination's under the instance's. A confirm (or
// the end of a live migration) releases the migration's claim; a revert, or a failure
// before the server lives on the destination, gives it back to the instance.
//
// A host that goes down with a step's job queued fails that step (jobFailed with timedOut):
// the Conductor's alarm says so once the host has been silent for the service down time.
import { PowerState, type Job, type JobResult, type MoveJob, type MoveJobKind } from '../../lib/connector-protocol';
import { EVENT_OF, instantEvent, startEvent } from '../../workers/nova/compute/instance-updates';
import type { Migration, MoveStep } from '../../workers/nova/compute/migration';
import * as updates from '../../workers/nova/compute/move-updates';
import { conductor, scheduler, type Db } from '../../workers/nova/db';
import type { Env } from '../../workers/nova/env';

/** What a Conductor lends its moves: storage, the nova database and its job queue. */
export interface MoveHost {
  readonly env: Env;
  readonly db: Db;
  readonly sql: SqlStorage;
  /** This Conductor's host. */
  host(): string;
  /** Its address, as its connector announced it (the migration's dest_host). */
  hostIp(): string | null;
  enqueue(job: Job, requestId: string | null): void;
}

export function isMoveJob(job: Job): job is MoveJob {
  return 'migrationId' in job;
}

const jobId = (m: Migration, kind: MoveJobKind, suffix = '') => `${m.instanceUuid}.${kind}.${m.id}${suffix}`;

export class Moves {
  constructor(private readonly at: MoveHost) {
    at.sql.exec('CREATE TABLE IF NOT EXISTS migrations (instance_uuid TEXT PRIMARY KEY, migration TEXT NOT NULL)');
  }

  /** The move of this instance this host has a part in, if any. */
  get(instanceUuid: string): Migration | null {
    const row = this.at.sql.exec<{ migration: string }>('SELECT migration FROM migrations WHERE instance_uuid = ?', instanceUuid).toArray()[0];
    return row ? (JSON.parse(row.migration) as Migration) : null;
  }

  /** Whether a job is a step of a move this host still has a part in (not a clean-up). */
  owns(job: MoveJob): boolean {
    return this.get(job.instanceUuid)?.id === job.migrationId;
  }

  /** The instances moving to or from this host: reconciliation leaves them alone. */
  instances(): Set<string> {
    return new Set(this.at.sql.exec<{ instance_uuid: string }>('SELECT instance_uuid FROM migrations').toArray().map((r) => r.instance_uuid));
  }

  private save(m: Migration): void {
    this.at.sql.exec('INSERT OR REPLACE INTO migrations (instance_uuid, migration) VALUES (?, ?)', m.instanceUuid, JSON.stringify(m));
  }

  private drop(instanceUuid: string): void {
    this.at.sql.exec('DELETE FROM migrations WHERE instance_uuid = ?', instanceUuid);
  }

  private queue(m: Migration, job: MoveJob): void {
    this.at.enqueue(job, m.requestId);
  }

  /** The destination's columns of the migrations row, set as it takes the move (Nova's move claim). */
  private destination(m: Migration) {
    return updates.migrationSaved(this.at.db, m.id, m.status, { destCompute: m.dest.host, destNode: m.dest.node, destHost: this.at.hostIp() });
  }

  /** Hands the move to the other host's Conductor. */
  private async forward(host: string, step: MoveStep): Promise<boolean> {
    return conductor(this.at.env, host).runMoveStep(host, step);
  }

  /** Takes a step of a move on this host. */
  async step(s: MoveStep): Promise<boolean> {
    const { db } = this.at;
    const host = this.at.host();
    switch (s.step) {
      case 'drop': {
        const m = this.get(s.instanceUuid);
        if (!m || m.id !== s.migrationId) return false;
        this.drop(s.instanceUuid);
        if (s.cleanup) {
          // The server was deleted mid-move: the copy it left here goes too.
          const kind: MoveJobKind = host === m.source.host ? 'confirm_resize' : m.type === 'live-migration' ? 'rollback_live_migration_at_destination' : 'revert_resize';
          this.at.enqueue({ id: jobId(m, kind, '.cleanup'), kind, instanceUuid: m.instanceUuid, migrationId: m.id }, null);
        }
        return true;
      }
      case 'confirm_resize':
      case 'revert_resize': {
        // From the API, on the destination: only a finished move can be confirmed or reverted once.
        const found = this.get(s.instanceUuid);
        if (!found || found.status !== 'finished') return false;
        const m: Migration = { ...found, status: s.step === 'confirm_resize' ? 'confirming' : 'reverting', requestId: s.requestId };
        this.save(m);
        if (s.step === 'confirm_resize') {
          await updates.migrationSaved(db, m.id, m.status);
          return this.forward(m.source.host, { step: 'confirm_resize_at_source', migration: m });
        }
        await db.batch([startEvent(db, m.requestId, EVENT_OF.revert_resize, host), updates.migrationSaved(db, m.id, m.status)]);
        this.queue(m, { id: jobId(m, 'revert_resize'), kind: 'revert_resize', instanceUuid: m.instanceUuid, migrationId: m.id });
        return true;
      }
      case 'live_migration_abort': {
        // Only while pre_live_migration runs: the next step then rolls back instead. The
        // source's live_migration, once sent, runs to its end on the host.
        const found = this.get(s.instanceUuid);
        if (!found || found.id !== s.migrationId || found.status !== 'preparing' || found.cancelRequestId) return false;
        this.save({ ...found, cancelRequestId: s.requestId });
        return true;
      }
    }
    const m = s.migration;
    const base = { instanceUuid: m.instanceUuid, migrationId: m.id };
    this.save(m);
    switch (s.step) {
      case 'prep_resize':
        // The Scheduler claimed here already: preparing is the hand-over to the source.
        await db.batch([instantEvent(db, m.requestId, 'compute_prep_resize', host, 'Success'), this.destination(m)]);
        return this.forward(m.source.host, { step: 'resize_instance', migration: { ...m, status: 'migrating' } });
      case 'resize_instance':
        if (!(await updates.stepStarted(db, m, 'resize_instance', host, 'resize_migrating', ['resize_prep'], m.status))) return this.gone(m);
        this.queue(m, { ...base, id: jobId(m, 'resize_instance'), kind: 'resize_instance' });
        return true;
      case 'finish_resize':
        if (!(await updates.stepStarted(db, m, 'finish_resize', host, 'resize_finish', ['resize_migrated']))) return this.gone(m);
        this.queue(m, { ...base, id: jobId(m, 'finish_resize'), kind: 'finish_resize', instance: m.instance, powerOn: m.oldVmState !== 'stopped' });
        return true;
      case 'confirm_resize_at_source':
        await startEvent(db, m.requestId, EVENT_OF.confirm_resize, host);
        this.queue(m, { ...base, id: jobId(m, 'confirm_resize'), kind: 'confirm_resize' });
        return true;
      case 'finish_revert_resize':
        await startEvent(db, m.requestId, EVENT_OF.finish_revert_resize, host);
        this.queue(m, { ...base, id: jobId(m, 'finish_revert_resize'), kind: 'finish_revert_resize', powerOn: m.oldVmState !== 'stopped' });
        return true;
      case 'pre_live_migration':
        await db.batch([startEvent(db, m.requestId, EVENT_OF.pre_live_migration, host), this.destination(m)]);
        this.queue(m, { ...base, id: jobId(m, 'pre_live_migration'), kind: 'pre_live_migration', instance: m.instance });
        return true;
      case 'live_migration':
        await db.batch([startEvent(db, m.requestId, EVENT_OF.live_migration, host), updates.migrationSaved(db, m.id, m.status)]);
        this.queue(m, { ...base, id: jobId(m, 'live_migration'), kind: 'live_migration', destHost: m.dest.host });
        return true;
      case 'post_live_migration_at_destination': {
        await startEvent(db, m.requestId, EVENT_OF.post_live_migration_at_destination, host);
        const powerState = m.oldVmState === 'paused' ? PowerState.PAUSED : PowerState.RUNNING;
        this.queue(m, { ...base, id: jobId(m, 'post_live_migration_at_destination'), kind: 'post_live_migration_at_destination', powerState });
        return true;
      }
      case 'rollback_live_migration_at_destination':
        await startEvent(db, m.requestId, EVENT_OF.rollback_live_migration_at_destination, host);
        this.queue(m, { ...base, id: jobId(m, 'rollback_live_migration_at_destination'), kind: 'rollback_live_migration_at_destination' });
        return true;
    }
  }

  /** A step's job is done: the server moves on, here or on the other host. */
  async jobDone(job: MoveJob, result: JobResult): Promise<void> {
    const m = this.get(job.instanceUuid);
    // No move here (any more), or another one: a clean-up, or a step the delete overtook.
    if (!m || m.id !== job.migrationId) return;
    const { db } = this.at;
    const host = this.at.host();
    const sched = scheduler(this.at.env);
    switch (job.kind) {
      case 'resize_instance': {
        if (!(await updates.resizeMigrated(db, m, result.powerState))) return void (await this.gone(m));
        const next: Migration = { ...m, status: 'post-migrating' };
        this.save(next);
        await this.forward(m.dest.host, { step: 'finish_resize', migration: next });
        return;
      }
      case 'finish_resize': {
        this.save({ ...m, status: 'finished' });
        if (!(await updates.resizeFinished(db, m, result.powerState))) await this.gone(m);
        return;
      }
      case 'confirm_resize':
        await sched.releaseClaim(m.id);
        await updates.resizeConfirmed(db, m);
        this.drop(m.instanceUuid);
        await this.forward(m.dest.host, { step: 'drop', instanceUuid: m.instanceUuid, migrationId: m.id, cleanup: false });
        return;
      case 'revert_resize':
        await sched.revertMove(m.instanceUuid, m.id);
        await updates.stepDone(db, m, 'revert_resize', host);
        this.drop(m.instanceUuid);
        await this.forward(m.source.host, { step: 'finish_revert_resize', migration: m });
        return;
      case 'finish_revert_resize':
        await updates.resizeReverted(db, m, result.powerState);
        this.drop(m.instanceUuid);
        return;
      case 'pre_live_migration': {
        await updates.stepDone(db, m, 'pre_live_migration', host);
        if (m.cancelRequestId) {
          // Aborted while preparing: it never leaves the source; what was made here goes.
          await sched.revertMove(m.instanceUuid, m.id);
          await updates.liveMigrationCancelled(db, m);
          await this.step({ step: 'rollback_live_migration_at_destination', migration: { ...m, status: 'cancelled' } });
          return;
        }
        const next: Migration = { ...m, status: 'running' };
        this.save(next);
        await this.forward(m.source.host, { step: 'live_migration', migration: next });
        return;
      }
      case 'live_migration':
        await sched.releaseClaim(m.id);
        if (!(await updates.liveMigrated(db, m))) return void (await this.gone(m));
        this.drop(m.instanceUuid);
        await this.forward(m.dest.host, { step: 'post_live_migration_at_destination', migration: m });
        return;
      case 'post_live_migration_at_destination':
        await updates.liveMigrationDone(db, m, result.powerState);
        this.drop(m.instanceUuid);
        return;
      case 'rollback_live_migration_at_destination':
        await updates.stepDone(db, m, job.kind, host);
        this.drop(m.instanceUuid);
        return;
    }
  }

  /**
   * A step's job failed. Before the server lives on the destination the move is undone and
   * the server stays as it was on the source; after, it goes to ERROR where it is, as
   * nova-compute's _error_out_instance_on_exception leaves it. Claims follow the server.
   *
   * `timedOut`: this host went down with the job queued, so what it did is unknown. A server
   * whose disk was on it goes to ERROR (a hard reboot brings it back once the host is up);
   * one still running on the other host, as when preparing a live migration, stays as it was.
   */
  async jobFailed(job: MoveJob, message: string, timedOut = false): Promise<void> {
    const m = this.get(job.instanceUuid);
    if (!m || m.id !== job.migrationId) return;
    const { db } = this.at;
    const host = this.at.host();
    const sched = scheduler(this.at.env);
    const dropOther = (other: string) => this.forward(other, { step: 'drop', instanceUuid: m.instanceUuid, migrationId: m.id, cleanup: false });
    this.drop(m.instanceUuid);
    switch (job.kind) {
      case 'resize_instance':
        await sched.revertMove(m.instanceUuid, m.id);
        await updates.moveFailed(db, m, job.kind, host, message, { error: timedOut, at: 'source', status: 'error' });
        await dropOther(m.dest.host);
        return;
      case 'finish_resize':
        // The disk is still on the source: the server is the source's again, with its old flavor.
        await sched.revertMove(m.instanceUuid, m.id);
        await updates.moveFailed(db, m, job.kind, host, message, { error: true, at: 'source', status: 'error' });
        await dropOther(m.source.host);
        return;
      case 'confirm_resize':
      case 'revert_resize':
        if (timedOut && job.kind === 'revert_resize') {
          // The destination is gone, the source still holds the old copy: the server is the source's.
          await sched.revertMove(m.instanceUuid, m.id);
          await updates.moveFailed(db, m, job.kind, host, message, { error: true, at: 'source', status: 'error' });
          await dropOther(m.source.host);
          return;
        }
        // The server stays on the destination; what is left on the source is reaped when it reconnects.
        await sched.releaseClaim(m.id);
        await updates.moveFailed(db, m, job.kind, host, message, { error: true, at: 'dest', status: 'error' });
        await dropOther(job.kind === 'confirm_resize' ? m.dest.host : m.source.host);
        return;
      case 'finish_revert_resize':
        await updates.moveFailed(db, m, job.kind, host, message, { error: true, at: 'source', status: 'error' });
        return;
      case 'pre_live_migration':
        // Nova's _cleanup_pre_live_migration: the migration errors, the server runs on at the source.
        await sched.revertMove(m.instanceUuid, m.id);
        await updates.moveFailed(db, m, job.kind, host, message, { error: false, status: 'error' });
        return;
      case 'live_migration':
        // Nova's _rollback_live_migration: it keeps running here (status failed); the destination
        // lets go. A source gone mid-way leaves the server nowhere known: ERROR.
        await sched.revertMove(m.instanceUuid, m.id);
        await updates.moveFailed(db, m, job.kind, host, message, { error: timedOut, status: timedOut ? 'error' : 'failed' });
        await this.forward(m.dest.host, { step: 'rollback_live_migration_at_destination', migration: m });
        return;
      case 'post_live_migration_at_destination':
        await updates.moveFailed(db, m, job.kind, host, message, { error: true, status: 'error' });
        return;
      case 'rollback_live_migration_at_destination':
        await instantEvent(db, m.requestId, EVENT_OF[job.kind], host, 'Error', message);
        return;
    }
  }

  /** The server is being deleted: the move ends here, the other host forgets it and drops its copy. */
  async abandon(instanceUuid: string): Promise<void> {
    const m = this.get(instanceUuid);
    if (!m) return;
    this.drop(instanceUuid);
    // The instance's own claim goes with its delete; the migration's goes now.
    await scheduler(this.at.env).releaseClaim(m.id);
    const other = this.at.host() === m.source.host ? m.dest.host : m.source.host;
    await this.forward(other, { step: 'drop', instanceUuid, migrationId: m.id, cleanup: true });
  }

  /** The server changed under the move (a delete came first): let the move go. */
  private async gone(m: Migration): Promise<false> {
    await this.abandon(m.instanceUuid);
    return false;
  }
}
