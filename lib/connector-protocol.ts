// The connector protocol: JSON messages over the WebSocket a host's connector dials to
// its Conductor. One definition, read by both ends: the conductor validates what a host
// sends with these schemas, the connector builds its messages from the same types.
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** Nova's power states (nova/compute/power_state.py). */
export const PowerState = { NOSTATE: 0, RUNNING: 1, PAUSED: 3, SHUTDOWN: 4, CRASHED: 6, SUSPENDED: 7 } as const;
export type PowerStateValue = (typeof PowerState)[keyof typeof PowerState];
const powerState = z.union([z.literal(0), z.literal(1), z.literal(3), z.literal(4), z.literal(6), z.literal(7)]);

/** What a host offers, as nova-compute reports a compute node. */
export const hostInventory = z.object({
  hypervisorHostname: z.string().min(1).max(255),
  hypervisorType: z.string().min(1).max(64),
  hypervisorVersion: z.number().int().nonnegative(),
  hostIp: z.string().max(64),
  vcpus: z.number().int().positive(),
  memoryMb: z.number().int().positive(),
  localGb: z.number().int().nonnegative(),
  cpuAllocationRatio: z.number().positive().default(4),
  ramAllocationRatio: z.number().positive().default(1),
  diskAllocationRatio: z.number().positive().default(1),
  reservedHostMemoryMb: z.number().int().nonnegative().default(512),
  reservedHostCpus: z.number().int().nonnegative().default(0),
  reservedHostDiskMb: z.number().int().nonnegative().default(0),
  availabilityZone: z.string().min(1).max(255).default('nova'),
  /** Host traits / capabilities the image properties filter matches (e.g. hw_architecture). */
  cpuInfo: z.object({ arch: z.string(), model: z.string().optional(), vendor: z.string().optional() }).default({ arch: 'x86_64' }),
});
export type HostInventory = z.infer<typeof hostInventory>;
export type HostInventoryInput = z.input<typeof hostInventory>;

/** An instance a host runs, reported on connect so the conductor can reconcile. */
export const instanceReport = z.object({ uuid: z.string().uuid(), powerState });
export type InstanceReport = z.infer<typeof instanceReport>;

/** What a spawn needs to know about the server. */
export const spawnInstance = z.object({
  uuid: z.string().uuid(),
  name: z.string(),
  hostname: z.string(),
  projectId: z.string(),
  flavor: z.object({ name: z.string(), vcpus: z.number().int(), memoryMb: z.number().int(), rootGb: z.number().int(), ephemeralGb: z.number().int(), swapMb: z.number().int() }),
  image: z.object({
    id: z.string(),
    /** Where the host may fetch the image data (a temporary URL), when it needs it. */
    url: z.string().optional(),
    checksum: z.string().nullable().optional(),
    diskFormat: z.string().nullable().optional(),
    properties: z.record(z.string(), z.string()).default({}),
  }),
  keyData: z.string().nullable().optional(),
  userData: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.string()).default({}),
});
export type SpawnInstance = z.infer<typeof spawnInstance>;

const jobBase = { id: z.string().min(1).max(128), instanceUuid: z.string().uuid() };
/** A step of a move (resize, cold or live migration): the migration it belongs to. */
const moveBase = { ...jobBase, migrationId: z.string().min(1).max(64) };

/** A unit of work for a host. `id` is the idempotency key: a host runs each id once. */
export const job = z.discriminatedUnion('kind', [
  z.object({ ...jobBase, kind: z.literal('spawn'), instance: spawnInstance }),
  z.object({ ...jobBase, kind: z.literal('destroy') }),
  z.object({ ...jobBase, kind: z.literal('reboot'), rebootType: z.enum(['SOFT', 'HARD']) }),
  z.object({ ...jobBase, kind: z.literal('power_off') }),
  z.object({ ...jobBase, kind: z.literal('power_on') }),
  z.object({ ...jobBase, kind: z.literal('pause') }),
  z.object({ ...jobBase, kind: z.literal('unpause') }),
  z.object({ ...jobBase, kind: z.literal('suspend') }),
  z.object({ ...jobBase, kind: z.literal('resume') }),
  z.object({ ...jobBase, kind: z.literal('get_console_output'), length: z.number().int().positive().optional() }),
  /**
   * Upload the root disk as image `imageId`. The caller's token rides along, as nova-compute
   * talks to Glance with the request context's token: the host PATCHes the formats on
   * `imageUrl` and PUTs the data to `uploadUrl` (Glance's /file).
   */
  z.object({ ...jobBase, kind: z.literal('snapshot'), imageId: z.string(), uploadUrl: z.string(), imageUrl: z.string(), token: z.string().min(1) }),
  z.object({ ...jobBase, kind: z.literal('attach_volume'), volumeId: z.string(), device: z.string() }),
  z.object({ ...jobBase, kind: z.literal('detach_volume'), volumeId: z.string() }),
  /** Destroy and spawn again from `instance.image` on the same host; power off after when it was stopped. */
  z.object({ ...jobBase, kind: z.literal('rebuild'), instance: spawnInstance, powerOff: z.boolean() }),
  // Moves, each step named after the nova-compute method that does it.
  /** Source: power off and hand the disk over (the copy stays until confirm or revert). */
  z.object({ ...moveBase, kind: z.literal('resize_instance') }),
  /** Destination: make the instance with the new flavor, powered on unless it was stopped. */
  z.object({ ...moveBase, kind: z.literal('finish_resize'), instance: spawnInstance, powerOn: z.boolean() }),
  /** Source: remove the copy a finished move left behind. */
  z.object({ ...moveBase, kind: z.literal('confirm_resize') }),
  /** Destination: remove the instance a move made here. */
  z.object({ ...moveBase, kind: z.literal('revert_resize') }),
  /** Source: take the old copy back, powered on unless it was stopped. */
  z.object({ ...moveBase, kind: z.literal('finish_revert_resize'), powerOn: z.boolean() }),
  /** Destination: get ready to receive a running instance. */
  z.object({ ...moveBase, kind: z.literal('pre_live_migration'), instance: spawnInstance }),
  /** Source: move the running instance to `destHost`; it is gone from here after. */
  z.object({ ...moveBase, kind: z.literal('live_migration'), destHost: z.string() }),
  /** Destination: the instance arrived; it runs (or stays paused) here. */
  z.object({ ...moveBase, kind: z.literal('post_live_migration_at_destination'), powerState }),
  /** Destination: a live migration failed; remove what pre_live_migration made. */
  z.object({ ...moveBase, kind: z.literal('rollback_live_migration_at_destination') }),
]);
export type Job = z.infer<typeof job>;
export type JobKind = Job['kind'];
/** The jobs that are steps of a move. */
export type MoveJob = Extract<Job, { migrationId: string }>;
export type MoveJobKind = MoveJob['kind'];

/** The task_states a host reports while a job runs (Nova's update_task_state callbacks). */
export const JOB_TASK_STATES = ['image_snapshot', 'image_pending_upload', 'image_uploading', 'rebuild_block_device_mapping', 'rebuild_spawning'] as const;
export type JobTaskState = (typeof JOB_TASK_STATES)[number];

/** What a job gave back: the power state after it, and for some kinds an output. */
export const jobResult = z.object({
  powerState: powerState.optional(),
  /** get_console_output */
  output: z.string().optional(),
});
export type JobResult = z.infer<typeof jobResult>;

/** Connector → conductor. */
export const hostMessage = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('hello'),
    protocol: z.literal(PROTOCOL_VERSION),
    driver: z.string().max(32),
    inventory: hostInventory,
    instances: z.array(instanceReport).max(100_000),
  }),
  z.object({ type: z.literal('heartbeat') }),
  /** The job arrived; it will be run (or was already run, when delivered again). */
  z.object({ type: z.literal('ack'), jobId: z.string() }),
  // Both results share type 'result', which a flat discriminated union refuses ("Duplicate
  // discriminator value"), so they are a union of their own, told apart by `ok`.
  z.discriminatedUnion('ok', [
    z.object({ type: z.literal('result'), jobId: z.string(), ok: z.literal(true), result: jobResult }),
    z.object({
      type: z.literal('result'),
      jobId: z.string(),
      ok: z.literal(false),
      error: z.object({ message: z.string().max(4096), code: z.string().max(64).optional() }),
    }),
  ]),
  /** The power state of an instance changed on its own (guest shut down, crashed). */
  z.object({ type: z.literal('power_state'), instanceUuid: z.string().uuid(), powerState }),
  /** A job reached its next step; the conductor shows it as the instance's task_state. */
  z.object({ type: z.literal('task_state'), jobId: z.string(), taskState: z.enum(JOB_TASK_STATES) }),
]);
export type HostMessage = z.infer<typeof hostMessage>;

/** Conductor → connector. The connector validates what it receives with this schema. */
export const conductorMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('welcome'), host: z.string(), heartbeatIntervalMs: z.number().int().positive() }),
  z.object({ type: z.literal('job'), job }),
  /** The host was refused (revoked credential, protocol mismatch); the socket closes after. */
  z.object({ type: z.literal('error'), message: z.string() }),
]);
export type ConductorMessage = z.infer<typeof conductorMessage>;

/** The WebSocket path on the compute endpoint, and the credential header. */
export const CONNECTOR_PATH = '/compute/connector';
/** `Authorization: Bearer <credential id>.<secret>` */
export function credentialHeader(id: string, secret: string): string {
  return `Bearer ${id}.${secret}`;
}
