// The contract between the connector and a hypervisor, in the spirit of Nova's
// nova/virt/driver.py: one method per operation on an instance. The connector's job
// runner is the only caller, and it runs one job at a time per instance, so a driver
// needs no locking of its own for one uuid (it may still be asked for many uuids at once).
//
// Jobs are delivered at least once and a host may crash between doing something and
// reporting it, so every method is idempotent: asking for the state an instance is
// already in succeeds without doing anything.
import type { HostInventory, InstanceReport, PowerStateValue, SpawnInstance } from '../../lib/connector-protocol';

/** Where a snapshot goes: an image queued in Glance, and the caller's token to write it with. */
export interface ImageUpload {
  imageId: string;
  /** The image record (`.../v2/images/{id}`): its disk and container formats are set there. */
  imageUrl: string;
  /** Where the data goes (`.../v2/images/{id}/file`). */
  uploadUrl: string;
  token: string;
}

/** Nova's update_task_state callback: the steps of a snapshot the API shows as task_state. */
export type SnapshotTaskState = 'image_pending_upload' | 'image_uploading';

/** What getInfo returns, as Nova's hardware.InstanceInfo. */
export interface InstanceInfo {
  powerState: PowerStateValue;
}

/**
 * An error a driver raises on purpose. `code` is the name of the Nova exception it stands
 * for, so the conductor can tell a refusal (reschedule elsewhere) from a missing instance.
 */
export class DriverError extends Error {
  constructor(
    readonly code: DriverErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

export type DriverErrorCode =
  /** The uuid is not on this host. */
  | 'InstanceNotFound'
  /** The instance is in a power state the operation cannot start from (pause a SHUTDOWN one). */
  | 'InstanceInvalidState'
  /** The flavor does not fit in what is left of the host. */
  | 'ComputeResourcesUnavailable'
  /** The build went wrong on the host; another host may do better. */
  | 'InstanceDeployFailure'
  /** The device name is taken by another volume. */
  | 'DeviceIsBusy'
  /** The image service refused or lost the snapshot's image. */
  | 'ImageNotFound'
  | 'ImageNotAuthorized'
  /** The job asks for something this driver cannot do. */
  | 'NotSupported';

/** Called when an instance's power state changed on its own (guest shut down, crashed). */
export type PowerStateListener = (instanceUuid: string, powerState: PowerStateValue) => void;

export interface ComputeDriver {
  /** The driver's name in `hello` (`fake`, `qemu`). */
  readonly name: string;

  /** What this host offers, reported in every `hello`. Cheap: called on each connect. */
  getInventory(): HostInventory;

  /**
   * Every instance the hypervisor knows, with its power state, for the conductor to
   * reconcile on connect. Instances still being spawned are not listed.
   */
  listInstances(): Promise<InstanceReport[]>;

  /**
   * The current power state of one instance.
   * Fails with InstanceNotFound when the uuid is not on this host.
   */
  getInfo(instanceUuid: string): Promise<InstanceInfo>;

  /**
   * Create the instance and start it.
   * Preconditions: the flavor fits in what the host has left (else
   * ComputeResourcesUnavailable, nothing claimed).
   * After success: the instance is listed, RUNNING, and holds its flavor's resources.
   * On failure: every partial piece (disk, claim, console log) is removed, so the host is
   * as it was before the call and the conductor may reschedule the build elsewhere.
   * Idempotent: spawn of a uuid the host already has succeeds and changes nothing; a
   * spawn of a uuid that is still being built waits for that build and shares its outcome.
   */
  spawn(instance: SpawnInstance): Promise<void>;

  /**
   * Stop the instance if it runs and remove it with its disks, volume attachments and
   * console log, releasing its resources.
   * After success: the uuid is not listed.
   * Idempotent: destroy of an unknown uuid succeeds (as Nova's: it may never have been
   * built, or a destroy was delivered twice).
   */
  destroy(instanceUuid: string): Promise<void>;

  /**
   * Reboot: SOFT asks the guest to restart, HARD resets it. Either way the instance ends
   * RUNNING, even when it was paused, suspended or shut down (as Nova's contract says).
   * Fails with InstanceNotFound for an unknown uuid; a failed reboot leaves the instance
   * in the state it was in.
   */
  reboot(instanceUuid: string, rebootType: 'SOFT' | 'HARD'): Promise<void>;

  /**
   * Power the instance off. After success: SHUTDOWN; its resources stay claimed.
   * Idempotent: an instance already SHUTDOWN stays so. InstanceNotFound for an unknown uuid.
   */
  powerOff(instanceUuid: string): Promise<void>;

  /**
   * Power the instance on from any state (SHUTDOWN, CRASHED, PAUSED, SUSPENDED).
   * After success: RUNNING. Idempotent: a RUNNING instance stays so.
   * InstanceNotFound for an unknown uuid.
   */
  powerOn(instanceUuid: string): Promise<void>;

  /**
   * Pause: the guest keeps its memory but gets no CPU. Precondition: RUNNING or already
   * PAUSED (else InstanceInvalidState). After success: PAUSED.
   */
  pause(instanceUuid: string): Promise<void>;

  /**
   * Unpause a PAUSED instance. After success: RUNNING. Idempotent: a RUNNING instance
   * stays so; any other state is InstanceInvalidState.
   */
  unpause(instanceUuid: string): Promise<void>;

  /**
   * Suspend: the guest's memory is saved to disk and it stops using host CPU and memory.
   * Precondition: RUNNING, PAUSED or already SUSPENDED (else InstanceInvalidState).
   * After success: SUSPENDED.
   */
  suspend(instanceUuid: string): Promise<void>;

  /**
   * Resume a SUSPENDED instance. After success: RUNNING. Idempotent: a RUNNING instance
   * stays so; any other state is InstanceInvalidState.
   */
  resume(instanceUuid: string): Promise<void>;

  /**
   * The guest's console log (serial console), the last `length` lines when given.
   * InstanceNotFound for an unknown uuid. Changes nothing.
   */
  getConsoleOutput(instanceUuid: string, length?: number): Promise<string>;

  /**
   * Attach a volume at a device name (`/dev/vdb`).
   * Preconditions: the instance exists; no other volume uses the device (else DeviceIsBusy).
   * After success: the guest sees the volume. Idempotent: attaching the same volume at the
   * same device again succeeds. On failure nothing stays half attached.
   */
  attachVolume(instanceUuid: string, volumeId: string, device: string): Promise<void>;

  /**
   * Detach a volume. After success: the guest no longer sees it.
   * Idempotent: detaching a volume that is not attached succeeds (as Nova's fake does).
   * InstanceNotFound for an unknown uuid.
   */
  detachVolume(instanceUuid: string, volumeId: string): Promise<void>;

  /**
   * Copy the instance's root disk and upload it as the queued image `upload.imageId`: set
   * its disk and container formats, then send the data, with `upload.token`. Calls
   * `updateTaskState` with image_pending_upload once the copy is taken and image_uploading
   * as the upload starts.
   * Precondition: the instance exists (any power state). After success: the image is
   * active and the instance is in the power state it was in before. On failure any
   * temporary copy is removed; the instance is left as it was (ImageNotFound or
   * ImageNotAuthorized when Glance refuses).
   */
  snapshot(instanceUuid: string, upload: ImageUpload, updateTaskState?: (state: SnapshotTaskState) => void): Promise<void>;

  // --- moves: Nova's migrate_disk_and_power_off, finish_migration, confirm_migration,
  // finish_revert_migration, pre_live_migration, live_migration and
  // post_live_migration_at_destination. A move's other half runs on another host; the
  // conductors put the steps in order.

  /**
   * Source of a resize or cold migration: power the instance off and hand its disk over.
   * After success: SHUTDOWN, still listed, its resources still held (the copy stays until
   * the move is confirmed or reverted). Idempotent. InstanceNotFound for an unknown uuid.
   */
  migrateDiskAndPowerOff(instanceUuid: string): Promise<void>;

  /**
   * Destination of a resize or cold migration: make the instance from the disk handed
   * over, with `instance.flavor`, RUNNING when `powerOn`, SHUTDOWN otherwise.
   * Preconditions and failure as spawn (ComputeResourcesUnavailable, nothing left behind).
   * Idempotent: an instance already here succeeds and changes nothing.
   */
  finishMigration(instance: SpawnInstance, powerOn: boolean): Promise<void>;

  /**
   * Source, after a confirmed move: remove the copy left here, as destroy does.
   * Idempotent: an unknown uuid succeeds.
   */
  confirmMigration(instanceUuid: string): Promise<void>;

  /**
   * Source, after a reverted move: take the copy left here back, RUNNING when `powerOn`.
   * InstanceNotFound for an unknown uuid. Idempotent.
   */
  finishRevertMigration(instanceUuid: string, powerOn: boolean): Promise<void>;

  /**
   * Destination of a live migration: take the resources and wait for the instance, PAUSED
   * until it arrives. Preconditions and failure as spawn. Idempotent.
   */
  preLiveMigration(instance: SpawnInstance): Promise<void>;

  /**
   * Source of a live migration: send the running instance to `destHost`. After success it
   * is no longer listed here. Idempotent: an instance already gone succeeds.
   */
  liveMigration(instanceUuid: string, destHost: string): Promise<void>;

  /**
   * Destination of a live migration: the instance arrived and runs in `powerState`
   * (RUNNING, or PAUSED for a paused one). InstanceNotFound if pre_live_migration did not
   * run here. Idempotent.
   */
  postLiveMigrationAtDestination(instanceUuid: string, powerState: PowerStateValue): Promise<void>;

  /**
   * Subscribe to power state changes the guest made on its own (not those a method call
   * made). Returns the function that unsubscribes.
   */
  onPowerStateChange(listener: PowerStateListener): () => void;

  /** Release what the driver holds (files, sockets) when the connector stops. Optional. */
  close?(): Promise<void>;
}
