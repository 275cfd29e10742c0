// Runs the jobs a conductor sends through the driver, each job id once. A job is acked as
// soon as it arrives; its result goes out when it ends. A job delivered again is answered
// from the journal when it has finished, and only acked while it still runs (the run under
// way answers for both). Jobs for one instance run one after another, in the order they
// came, as nova-compute serialises the operations on an instance; so the steps of a
// rebuild, or a move's steps on this host, never overlap.
import { PowerState, type HostMessage, type Job, type JobResult, type JobTaskState } from '../lib/connector-protocol';
import { DriverError, type ComputeDriver } from './drivers/driver';
import type { JobJournal, ResultMessage } from './journal';

/** Sends a message on the current connection; drops it when there is none. */
export type Send = (message: HostMessage) => void;

const MAX_ERROR_LENGTH = 4096;

export class JobRunner {
  private readonly running = new Map<string, Promise<void>>();
  /** Per instance, the end of its queue of jobs. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(
    private readonly driver: ComputeDriver,
    private readonly journal: JobJournal,
    private readonly send: Send,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** A job arrived, for the first time or again. */
  deliver(job: Job): void {
    this.send({ type: 'ack', jobId: job.id });
    const finished = this.journal.get(job.id);
    if (finished) {
      this.send(finished);
      return;
    }
    if (this.running.has(job.id)) return;
    this.track(job.id, this.enqueue(job.instanceUuid, () => this.run(job)));
  }

  /**
   * A job the connector cannot read (a kind this version does not know, a bad field). It
   * is answered with an error like any other, so the conductor stops redelivering it.
   */
  reject(jobId: string, reason: string): void {
    this.send({ type: 'ack', jobId });
    const finished = this.journal.get(jobId);
    if (finished) {
      this.send(finished);
      return;
    }
    if (this.running.has(jobId)) return;
    this.track(jobId, Promise.resolve(failure(jobId, `This connector cannot run job ${jobId}: ${reason}`, 'NotSupported')));
  }

  /** How many jobs are under way. */
  get size(): number {
    return this.running.size;
  }

  /** Resolves when every job under way has ended and its result is journaled. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all(this.running.values());
  }

  private track(jobId: string, outcome: Promise<ResultMessage>): void {
    const done = outcome.then(async (result) => {
      // In the journal before it is sent: a redelivery that arrives now is answered from it.
      const saved = this.journal.record(result);
      this.send(result);
      await saved.catch((error: unknown) => this.log(`could not save the job journal: ${error instanceof Error ? error.message : String(error)}`));
    });
    const tracked = done.finally(() => this.running.delete(jobId));
    this.running.set(jobId, tracked);
  }

  private enqueue(instanceUuid: string, task: () => Promise<ResultMessage>): Promise<ResultMessage> {
    const previous = this.queues.get(instanceUuid) ?? Promise.resolve();
    const outcome = previous.then(task);
    const tail = outcome.then(() => undefined);
    this.queues.set(instanceUuid, tail);
    void tail.then(() => {
      if (this.queues.get(instanceUuid) === tail) this.queues.delete(instanceUuid);
    });
    return outcome;
  }

  /** Tells the conductor the job reached a step it shows as task_state; lost if the connection is down. */
  private taskState(job: Job, taskState: JobTaskState): void {
    this.send({ type: 'task_state', jobId: job.id, taskState });
  }

  /** Never rejects: whatever the driver throws becomes an error result. */
  private async run(job: Job): Promise<ResultMessage> {
    try {
      const result = await this.perform(job);
      return { type: 'result', jobId: job.id, ok: true, result };
    } catch (error) {
      if (error instanceof DriverError) return failure(job.id, error.message, error.code);
      return failure(job.id, error instanceof Error ? error.message : String(error));
    }
  }

  private async perform(job: Job): Promise<JobResult> {
    const { driver } = this;
    const uuid = job.instanceUuid;
    switch (job.kind) {
      case 'spawn':
        if (job.instance.uuid !== uuid) throw new DriverError('NotSupported', `spawn job ${job.id} names instance ${job.instance.uuid}, not ${uuid}`);
        await driver.spawn(job.instance);
        break;
      case 'destroy':
        await driver.destroy(uuid);
        // Nova sets NOSTATE on a deleted instance.
        return { powerState: PowerState.NOSTATE };
      case 'reboot':
        await driver.reboot(uuid, job.rebootType);
        break;
      case 'power_off':
        await driver.powerOff(uuid);
        break;
      case 'power_on':
        await driver.powerOn(uuid);
        break;
      case 'pause':
        await driver.pause(uuid);
        break;
      case 'unpause':
        await driver.unpause(uuid);
        break;
      case 'suspend':
        await driver.suspend(uuid);
        break;
      case 'resume':
        await driver.resume(uuid);
        break;
      case 'get_console_output': {
        const output = await driver.getConsoleOutput(uuid, job.length);
        return { powerState: (await driver.getInfo(uuid)).powerState, output };
      }
      case 'snapshot': {
        this.taskState(job, 'image_snapshot');
        const { imageId, imageUrl, uploadUrl, token } = job;
        await driver.snapshot(uuid, { imageId, imageUrl, uploadUrl, token }, (state) => this.taskState(job, state));
        break;
      }
      case 'rebuild':
        // Nova's _rebuild_default_impl: destroy, then spawn from the new image.
        if (job.instance.uuid !== uuid) throw new DriverError('NotSupported', `rebuild job ${job.id} names instance ${job.instance.uuid}, not ${uuid}`);
        await driver.destroy(uuid);
        this.taskState(job, 'rebuild_block_device_mapping');
        this.taskState(job, 'rebuild_spawning');
        await driver.spawn(job.instance);
        if (job.powerOff) await driver.powerOff(uuid);
        break;
      case 'resize_instance':
        await driver.migrateDiskAndPowerOff(uuid);
        break;
      case 'finish_resize':
        await driver.finishMigration(job.instance, job.powerOn);
        break;
      case 'confirm_resize':
        await driver.confirmMigration(uuid);
        return {};
      case 'revert_resize':
      case 'rollback_live_migration_at_destination':
        await driver.destroy(uuid);
        return {};
      case 'finish_revert_resize':
        await driver.finishRevertMigration(uuid, job.powerOn);
        break;
      case 'pre_live_migration':
        await driver.preLiveMigration(job.instance);
        break;
      case 'live_migration':
        await driver.liveMigration(uuid, job.destHost);
        return {};
      case 'post_live_migration_at_destination':
        await driver.postLiveMigrationAtDestination(uuid, job.powerState);
        break;
      case 'attach_volume':
        await driver.attachVolume(uuid, job.volumeId, job.device);
        break;
      case 'detach_volume':
        await driver.detachVolume(uuid, job.volumeId);
        break;
      default: {
        const unknown: never = job;
        throw new DriverError('NotSupported', `unknown job kind ${(unknown as { kind: string }).kind}`);
      }
    }
    return { powerState: (await driver.getInfo(uuid)).powerState };
  }
}

function failure(jobId: string, message: string, code?: string): ResultMessage {
  const error = { message: message.slice(0, MAX_ERROR_LENGTH), ...(code ? { code } : {}) };
  return { type: 'result', jobId, ok: false, error };
}
