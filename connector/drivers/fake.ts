// A hypervisor that exists only in memory, as Nova's nova/virt/fake.py: the local cloud
// and the simulator run fleets of these. It keeps real bookkeeping (capacity claims, power
// states, volume attachments, a console log) so the control plane above it behaves as it
// would with real hosts, and it can be slow or fail on purpose.
import { hostname as osHostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import {
  PowerState,
  hostInventory,
  type HostInventory,
  type HostInventoryInput,
  type InstanceReport,
  type PowerStateValue,
  type SpawnInstance,
} from '../../lib/connector-protocol';
import { StateFile } from '../state-file';
import { DriverError, type ComputeDriver, type ImageUpload, type InstanceInfo, type PowerStateListener, type SnapshotTaskState } from './driver';
import { actionLine, appendConsole, bootLines, tail } from './fake-console';
import { fakeDisk, uploadImage } from './fake-image';

export interface FakeDriverOptions {
  /** What the host offers; hypervisorHostname defaults to this machine's name. */
  inventory?: Partial<HostInventoryInput>;
  /** How long a spawn takes, in ms. */
  spawnLatencyMs?: number;
  /** How long every other action takes, in ms. */
  actionLatencyMs?: number;
  /**
   * The share of spawns that fail (0..1), after their latency, with nothing left behind.
   * Instances arriving by a move (finish_migration, pre_live_migration) fail as often.
   */
  failureRate?: number;
  /** Keep the instances in this JSON file, so a restarted host still has them. */
  stateFile?: string;
  /** The dice for failureRate (tests pass their own). */
  random?: () => number;
}

const fakeInstance = z.object({
  uuid: z.string(),
  name: z.string(),
  hostname: z.string(),
  powerState: z.union([z.literal(0), z.literal(1), z.literal(3), z.literal(4), z.literal(6), z.literal(7)]),
  /** What the instance claims of the host, from its flavor. */
  vcpus: z.number(),
  memoryMb: z.number(),
  diskGb: z.number(),
  /** volume id → device */
  volumes: z.record(z.string(), z.string()),
  bootedAt: z.number(),
  console: z.array(z.string()),
});
type FakeInstance = z.infer<typeof fakeInstance>;
const fakeState = z.object({ instances: z.array(fakeInstance) });
type Claim = Pick<FakeInstance, 'vcpus' | 'memoryMb' | 'diskGb'>;

export class FakeDriver implements ComputeDriver {
  readonly name = 'fake';
  private readonly inventory: HostInventory;
  private readonly instances = new Map<string, FakeInstance>();
  /** Spawns under way: their claims count against capacity, and a second spawn waits on them. */
  private readonly building = new Map<string, { claim: Claim; done: Promise<void> }>();
  private readonly listeners = new Set<PowerStateListener>();
  private readonly spawnLatencyMs: number;
  private readonly actionLatencyMs: number;
  private readonly failureRate: number;
  private readonly random: () => number;
  private readonly file: StateFile<z.infer<typeof fakeState>> | undefined;

  constructor(options: FakeDriverOptions = {}) {
    const inventory = hostInventory.safeParse({
      hypervisorHostname: osHostname(),
      hypervisorType: 'fake',
      hypervisorVersion: 1000,
      hostIp: '127.0.0.1',
      vcpus: 8,
      memoryMb: 16384,
      localGb: 200,
      ...options.inventory,
    });
    if (!inventory.success) {
      const issue = inventory.error.issues[0];
      throw new Error(`fake driver: invalid inventory ${issue?.path.join('.') ?? ''}: ${issue?.message ?? 'invalid'}`);
    }
    this.inventory = inventory.data;
    this.spawnLatencyMs = nonNegative('spawnLatencyMs', options.spawnLatencyMs ?? 0);
    this.actionLatencyMs = nonNegative('actionLatencyMs', options.actionLatencyMs ?? 0);
    this.failureRate = options.failureRate ?? 0;
    if (!(this.failureRate >= 0 && this.failureRate <= 1)) throw new Error(`fake driver: failureRate must be between 0 and 1, got ${this.failureRate}`);
    this.random = options.random ?? Math.random;
    if (options.stateFile) {
      this.file = new StateFile(options.stateFile, fakeState);
      for (const instance of this.file.read()?.instances ?? []) this.instances.set(instance.uuid, instance);
    }
  }

  getInventory(): HostInventory {
    return this.inventory;
  }

  async listInstances(): Promise<InstanceReport[]> {
    return [...this.instances.values()].map(({ uuid, powerState }) => ({ uuid, powerState }));
  }

  async getInfo(instanceUuid: string): Promise<InstanceInfo> {
    return { powerState: this.find(instanceUuid).powerState };
  }

  async spawn(instance: SpawnInstance): Promise<void> {
    return this.hold(instance, (claim) => this.build(instance, claim));
  }

  /**
   * Claims the flavor's room at once and holds it while `place` runs, as a real build holds
   * its resources from the start; a second call for the same instance waits on the first.
   */
  private hold(instance: SpawnInstance, place: (claim: Claim) => Promise<void>): Promise<void> {
    if (this.instances.has(instance.uuid)) return Promise.resolve();
    const pending = this.building.get(instance.uuid);
    if (pending) return pending.done;
    const { flavor } = instance;
    const claim = { vcpus: flavor.vcpus, memoryMb: flavor.memoryMb, diskGb: flavor.rootGb + flavor.ephemeralGb + Math.ceil(flavor.swapMb / 1024) };
    this.checkFits(flavor.name, claim);
    const entry = { claim, done: Promise.resolve() };
    this.building.set(instance.uuid, entry);
    entry.done = place(claim).finally(() => this.building.delete(instance.uuid));
    return entry.done;
  }

  private async build(instance: SpawnInstance, claim: Claim): Promise<void> {
    if (this.spawnLatencyMs > 0) await sleep(this.spawnLatencyMs);
    if (this.failureRate > 0 && this.random() < this.failureRate) {
      throw new DriverError(
        'InstanceDeployFailure',
        `Failed to deploy instance ${instance.uuid}: the fake driver failed this spawn on purpose (failure rate ${this.failureRate})`,
      );
    }
    const now = Date.now();
    const record: FakeInstance = { uuid: instance.uuid, name: instance.name, hostname: instance.hostname, powerState: PowerState.RUNNING, ...claim, volumes: {}, bootedAt: now, console: [] };
    appendConsole(record.console, bootLines(instance.name, instance.hostname, instance.uuid, claim.memoryMb, now));
    this.instances.set(instance.uuid, record);
    this.building.delete(instance.uuid);
    await this.save();
  }

  /** Placement's rule: an allocation fits when used + requested <= (total - reserved) * ratio. */
  private checkFits(flavorName: string, claim: Claim): void {
    const inv = this.inventory;
    const used: Claim = { vcpus: 0, memoryMb: 0, diskGb: 0 };
    for (const c of [...this.instances.values(), ...[...this.building.values()].map((b) => b.claim)]) {
      used.vcpus += c.vcpus;
      used.memoryMb += c.memoryMb;
      used.diskGb += c.diskGb;
    }
    const free: Claim = {
      vcpus: (inv.vcpus - inv.reservedHostCpus) * inv.cpuAllocationRatio - used.vcpus,
      memoryMb: (inv.memoryMb - inv.reservedHostMemoryMb) * inv.ramAllocationRatio - used.memoryMb,
      diskGb: (inv.localGb - inv.reservedHostDiskMb / 1024) * inv.diskAllocationRatio - used.diskGb,
    };
    if (claim.vcpus <= free.vcpus && claim.memoryMb <= free.memoryMb && claim.diskGb <= free.diskGb) return;
    throw new DriverError(
      'ComputeResourcesUnavailable',
      `Insufficient compute resources: flavor ${flavorName} needs ${claim.vcpus} vCPUs, ${claim.memoryMb} MB RAM, ${claim.diskGb} GB disk; ` +
        `host ${inv.hypervisorHostname} has ${Math.max(0, free.vcpus)} vCPUs, ${Math.max(0, free.memoryMb)} MB RAM, ${Math.max(0, free.diskGb)} GB disk free.`,
    );
  }

  async destroy(instanceUuid: string): Promise<void> {
    await this.building.get(instanceUuid)?.done.catch(() => undefined);
    if (!this.instances.has(instanceUuid)) return;
    await this.latency();
    this.instances.delete(instanceUuid);
    await this.save();
  }

  async reboot(instanceUuid: string, rebootType: 'SOFT' | 'HARD'): Promise<void> {
    const instance = this.find(instanceUuid);
    await this.latency();
    this.setState(instance, PowerState.RUNNING, `reboot-${rebootType}`, true);
    await this.save();
  }

  async powerOff(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'power-off', PowerState.SHUTDOWN, null);
  }

  async powerOn(instanceUuid: string): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.powerState === PowerState.RUNNING) return;
    await this.latency();
    this.setState(instance, PowerState.RUNNING, 'power-on', instance.powerState !== PowerState.PAUSED && instance.powerState !== PowerState.SUSPENDED);
    await this.save();
  }

  async pause(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'pause', PowerState.PAUSED, [PowerState.RUNNING]);
  }

  async unpause(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'unpause', PowerState.RUNNING, [PowerState.PAUSED]);
  }

  async suspend(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'suspend', PowerState.SUSPENDED, [PowerState.RUNNING, PowerState.PAUSED]);
  }

  async resume(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'resume', PowerState.RUNNING, [PowerState.SUSPENDED]);
  }

  async getConsoleOutput(instanceUuid: string, length?: number): Promise<string> {
    return tail(this.find(instanceUuid).console, length);
  }

  async attachVolume(instanceUuid: string, volumeId: string, device: string): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.volumes[volumeId] === device) return;
    const holder = Object.entries(instance.volumes).find(([, d]) => d === device);
    if (holder) throw new DriverError('DeviceIsBusy', `The supplied device (${device}) is busy: volume ${holder[0]} is attached there.`);
    if (instance.volumes[volumeId] !== undefined) {
      throw new DriverError('DeviceIsBusy', `Volume ${volumeId} is already attached to ${instanceUuid} at ${instance.volumes[volumeId]}.`);
    }
    await this.latency();
    instance.volumes[volumeId] = device;
    await this.save();
  }

  async detachVolume(instanceUuid: string, volumeId: string): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.volumes[volumeId] === undefined) return;
    await this.latency();
    delete instance.volumes[volumeId];
    await this.save();
  }

  async snapshot(instanceUuid: string, upload: ImageUpload, updateTaskState: (state: SnapshotTaskState) => void = () => undefined): Promise<void> {
    const instance = this.find(instanceUuid);
    await this.latency();
    // The copy is taken; the disk the fake makes up for it goes to Glance.
    const disk = fakeDisk(instance.uuid, Date.now());
    updateTaskState('image_pending_upload');
    await this.latency();
    updateTaskState('image_uploading');
    // The upload takes as long as any other action, as a real one takes a while.
    await this.latency();
    await uploadImage(upload, disk, 'raw');
  }

  async migrateDiskAndPowerOff(instanceUuid: string): Promise<void> {
    await this.transition(instanceUuid, 'resize: disk handed over', PowerState.SHUTDOWN, null);
  }

  async finishMigration(instance: SpawnInstance, powerOn: boolean): Promise<void> {
    await this.arrive(instance, powerOn ? PowerState.RUNNING : PowerState.SHUTDOWN, 'resize: disk received');
  }

  async confirmMigration(instanceUuid: string): Promise<void> {
    await this.destroy(instanceUuid);
  }

  async finishRevertMigration(instanceUuid: string, powerOn: boolean): Promise<void> {
    this.find(instanceUuid);
    if (powerOn) await this.powerOn(instanceUuid);
  }

  async preLiveMigration(instance: SpawnInstance): Promise<void> {
    await this.arrive(instance, PowerState.PAUSED, 'live migration: waiting for the incoming instance');
  }

  async liveMigration(instanceUuid: string): Promise<void> {
    // The fake's memory goes nowhere: the destination makes up its own copy on arrival.
    if (!this.instances.has(instanceUuid)) return;
    await this.latency();
    this.instances.delete(instanceUuid);
    await this.save();
  }

  async postLiveMigrationAtDestination(instanceUuid: string, powerState: PowerStateValue): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.powerState === powerState) return;
    this.setState(instance, powerState, 'live migration: arrived', false);
    await this.save();
  }

  /**
   * An instance that comes here by a move: as spawn, with its flavor's claim held from the
   * start and nothing left behind on failure, but no image to fetch and no boot unless it
   * comes up RUNNING.
   */
  private async arrive(instance: SpawnInstance, powerState: PowerStateValue, line: string): Promise<void> {
    return this.hold(instance, async (claim) => {
      await this.latency();
      if (this.failureRate > 0 && this.random() < this.failureRate) {
        throw new DriverError('InstanceDeployFailure', `Failed to receive instance ${instance.uuid}: the fake driver failed it on purpose (failure rate ${this.failureRate})`);
      }
      const now = Date.now();
      const record: FakeInstance = { uuid: instance.uuid, name: instance.name, hostname: instance.hostname, powerState, ...claim, volumes: {}, bootedAt: now, console: [] };
      appendConsole(record.console, [actionLine(line, now, now)]);
      if (powerState === PowerState.RUNNING) appendConsole(record.console, bootLines(instance.name, instance.hostname, instance.uuid, claim.memoryMb, now));
      this.instances.set(instance.uuid, record);
      this.building.delete(instance.uuid);
      await this.save();
    });
  }

  onPowerStateChange(listener: PowerStateListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.save();
  }

  /**
   * What the guest does on its own: shut itself down, crash, come back. Changes the power
   * state and tells the listeners (the connector reports it as a `power_state` message).
   */
  async simulateGuestPowerChange(instanceUuid: string, powerState: PowerStateValue): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.powerState === powerState) return;
    const boots = powerState === PowerState.RUNNING && (instance.powerState === PowerState.SHUTDOWN || instance.powerState === PowerState.CRASHED);
    this.setState(instance, powerState, `guest is now ${powerStateName(powerState)}`, boots);
    for (const listener of this.listeners) listener(instanceUuid, powerState);
    await this.save();
  }

  /** Move to `to` from one of `from` (null: any), idempotent when already there. */
  private async transition(instanceUuid: string, action: string, to: PowerStateValue, from: PowerStateValue[] | null): Promise<void> {
    const instance = this.find(instanceUuid);
    if (instance.powerState === to) return;
    if (from && !from.includes(instance.powerState)) {
      throw new DriverError('InstanceInvalidState', `Instance ${instanceUuid} in power state ${powerStateName(instance.powerState)} cannot ${action}.`);
    }
    await this.latency();
    this.setState(instance, to, action, false);
    await this.save();
  }

  private setState(instance: FakeInstance, powerState: PowerStateValue, action: string, boots: boolean): void {
    const now = Date.now();
    appendConsole(instance.console, [actionLine(action, instance.bootedAt, now)]);
    if (boots) {
      instance.bootedAt = now;
      appendConsole(instance.console, bootLines(instance.name, instance.hostname, instance.uuid, instance.memoryMb, now));
    }
    instance.powerState = powerState;
  }

  private find(instanceUuid: string): FakeInstance {
    const instance = this.instances.get(instanceUuid);
    if (!instance) throw new DriverError('InstanceNotFound', `Instance ${instanceUuid} could not be found.`);
    return instance;
  }

  private async latency(): Promise<void> {
    if (this.actionLatencyMs > 0) await sleep(this.actionLatencyMs);
  }

  private save(): Promise<void> {
    return this.file ? this.file.write(() => ({ instances: [...this.instances.values()] })) : Promise.resolve();
  }
}

function nonNegative(name: string, value: number): number {
  if (!(Number.isFinite(value) && value >= 0)) throw new Error(`fake driver: ${name} must be a number >= 0, got ${value}`);
  return value;
}

export function powerStateName(value: PowerStateValue): string {
  return Object.entries(PowerState).find(([, v]) => v === value)?.[0] ?? String(value);
}
