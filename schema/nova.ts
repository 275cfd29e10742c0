// The nova D1 database: servers (instances), flavors, keypairs, quotas, server groups,
// instance actions and faults, compute services and the host credentials connectors use.
// Host inventories and claims live in the Scheduler Durable Object, job queues in each
// host's Conductor Durable Object. drizzle-kit generates schema/migrations/nova from this file.
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

/** The flavor as it was when the server was built (Nova keeps a copy on the instance). */
export interface FlavorSnapshot {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
  ephemeral: number;
  swap: number;
  extraSpecs: Record<string, string>;
}

export const instances = sqliteTable(
  'instances',
  {
    uuid: text('uuid').primaryKey(),
    name: text('name').notNull(),
    hostname: text('hostname').notNull(),
    description: text('description'),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    imageRef: text('image_ref').notNull(),
    flavorId: text('flavor_id').notNull(),
    flavor: text('flavor', { mode: 'json' }).$type<FlavorSnapshot>().notNull(),
    /** The flavor being resized to, until the resize is confirmed or reverted. */
    newFlavor: text('new_flavor', { mode: 'json' }).$type<FlavorSnapshot>(),
    /** Quota usage, copied from the flavor so sums need no join. */
    vcpus: integer('vcpus').notNull(),
    memoryMb: integer('memory_mb').notNull(),
    keyName: text('key_name'),
    keyData: text('key_data'),
    userData: text('user_data'),
    metadata: text('metadata', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    tags: text('tags', { mode: 'json' }).$type<string[]>().notNull().default([]),
    /** The zone asked for at boot (null: any), and the one the server landed in. */
    requestedZone: text('requested_zone'),
    availabilityZone: text('availability_zone'),
    host: text('host'),
    node: text('node'),
    vmState: text('vm_state').notNull(),
    taskState: text('task_state'),
    powerState: integer('power_state').notNull().default(0),
    locked: integer('locked', { mode: 'boolean' }).notNull().default(false),
    lockedBy: text('locked_by'),
    lockedReason: text('locked_reason'),
    reservationId: text('reservation_id').notNull(),
    launchIndex: integer('launch_index').notNull().default(0),
    configDrive: text('config_drive').notNull().default(''),
    accessIpV4: text('access_ip_v4').notNull().default(''),
    accessIpV6: text('access_ip_v6').notNull().default(''),
    /** The create request's networks, security groups and block devices, for the build steps. */
    networks: text('networks', { mode: 'json' }).$type<unknown>(),
    securityGroups: text('security_groups', { mode: 'json' }).$type<string[]>().notNull().default([]),
    blockDeviceMapping: text('block_device_mapping', { mode: 'json' }).$type<unknown[]>().notNull().default([]),
    /** Addresses by network name, as the server view shows them. */
    addresses: text('addresses', { mode: 'json' }).$type<Record<string, unknown[]>>().notNull().default({}),
    launchedAt: text('launched_at'),
    terminatedAt: text('terminated_at'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    deletedAt: text('deleted_at'),
    /** 0 while the server exists; soft-deleted rows keep their history for instance actions. */
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    index('instances_project').on(t.projectId, t.deleted),
    index('instances_host').on(t.host, t.deleted),
    index('instances_updated').on(t.updatedAt),
  ],
);

export const instanceFaults = sqliteTable(
  'instance_faults',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    instanceUuid: text('instance_uuid').notNull(),
    code: integer('code').notNull(),
    message: text('message').notNull(),
    details: text('details').notNull().default(''),
    host: text('host'),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('instance_faults_instance').on(t.instanceUuid)],
);

export const instanceActions = sqliteTable(
  'instance_actions',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    requestId: text('request_id').notNull(),
    action: text('action').notNull(),
    instanceUuid: text('instance_uuid').notNull(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    message: text('message'),
    startTime: text('start_time').notNull(),
    updatedAt: text('updated_at'),
  },
  (t) => [index('instance_actions_instance').on(t.instanceUuid), uniqueIndex('instance_actions_request').on(t.requestId)],
);

export const instanceActionEvents = sqliteTable(
  'instance_actions_events',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    actionId: integer('action_id').notNull(),
    event: text('event').notNull(),
    startTime: text('start_time').notNull(),
    finishTime: text('finish_time'),
    result: text('result'),
    traceback: text('traceback'),
    host: text('host'),
  },
  (t) => [index('instance_actions_events_action').on(t.actionId)],
);

/**
 * A move of a server (resize, cold or live migration), as Nova's migrations table records
 * it for os-migrations. The Conductors drive the move; each step writes its status here.
 */
export const migrations = sqliteTable(
  'migrations',
  {
    id: integer('id').primaryKey({ autoIncrement: true }),
    /** The id the Scheduler and Conductors know the move by. */
    uuid: text('uuid').notNull(),
    sourceCompute: text('source_compute'),
    destCompute: text('dest_compute'),
    sourceNode: text('source_node'),
    destNode: text('dest_node'),
    /** The destination's IP address, set when it takes the move. */
    destHost: text('dest_host'),
    /** The public ids of the flavors before and after (Nova keeps its internal ones). */
    oldInstanceTypeId: text('old_instance_type_id'),
    newInstanceTypeId: text('new_instance_type_id'),
    instanceUuid: text('instance_uuid').notNull(),
    status: text('status').notNull(),
    /** resize, migration or live-migration. */
    migrationType: text('migration_type').notNull(),
    hidden: integer('hidden', { mode: 'boolean' }).notNull().default(false),
    /** Live migration progress; hosts do not report it yet. */
    memoryTotal: integer('memory_total'),
    memoryProcessed: integer('memory_processed'),
    memoryRemaining: integer('memory_remaining'),
    diskTotal: integer('disk_total'),
    diskProcessed: integer('disk_processed'),
    diskRemaining: integer('disk_remaining'),
    /** Who asked for the move. */
    projectId: text('project_id'),
    userId: text('user_id'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at'),
    deletedAt: text('deleted_at'),
    /** Set with the server's delete, as Nova's instance_destroy soft-deletes its migrations. */
    deleted: integer('deleted', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    uniqueIndex('migrations_uuid').on(t.uuid),
    index('migrations_instance').on(t.instanceUuid, t.status),
    index('migrations_created').on(t.createdAt, t.id),
  ],
);

export const flavors = sqliteTable(
  'flavors',
  {
    /** The public id (Nova's flavorid). */
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    vcpus: integer('vcpus').notNull(),
    memoryMb: integer('memory_mb').notNull(),
    rootGb: integer('root_gb').notNull(),
    ephemeralGb: integer('ephemeral_gb').notNull().default(0),
    swap: integer('swap').notNull().default(0),
    rxtxFactor: integer('rxtx_factor').notNull().default(1),
    isPublic: integer('is_public', { mode: 'boolean' }).notNull().default(true),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    description: text('description'),
    extraSpecs: text('extra_specs', { mode: 'json' }).$type<Record<string, string>>().notNull().default({}),
    createdAt: text('created_at').notNull(),
  },
  (t) => [uniqueIndex('flavors_name').on(t.name)],
);

export const flavorProjects = sqliteTable(
  'flavor_projects',
  {
    flavorId: text('flavor_id').notNull(),
    projectId: text('project_id').notNull(),
  },
  (t) => [primaryKey({ columns: [t.flavorId, t.projectId] })],
);

export const keyPairs = sqliteTable(
  'key_pairs',
  {
    userId: text('user_id').notNull(),
    name: text('name').notNull(),
    type: text('type').notNull().default('ssh'),
    fingerprint: text('fingerprint').notNull(),
    publicKey: text('public_key').notNull(),
    createdAt: text('created_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.name] })],
);

/** Per-project hard limits; a resource without a row takes the default (project_id '__default__'). */
export const quotas = sqliteTable(
  'quotas',
  {
    projectId: text('project_id').notNull(),
    resource: text('resource').notNull(),
    hardLimit: integer('hard_limit').notNull(),
  },
  (t) => [primaryKey({ columns: [t.projectId, t.resource] })],
);

export const serverGroups = sqliteTable(
  'instance_groups',
  {
    uuid: text('uuid').primaryKey(),
    name: text('name').notNull(),
    projectId: text('project_id').notNull(),
    userId: text('user_id').notNull(),
    policy: text('policy').notNull(),
    rules: text('rules', { mode: 'json' }).$type<Record<string, number>>().notNull().default({}),
    createdAt: text('created_at').notNull(),
  },
  (t) => [index('instance_groups_project').on(t.projectId)],
);

export const serverGroupMembers = sqliteTable(
  'instance_group_member',
  {
    groupUuid: text('group_uuid').notNull(),
    instanceUuid: text('instance_uuid').notNull(),
  },
  (t) => [primaryKey({ columns: [t.groupUuid, t.instanceUuid] }), index('instance_group_member_instance').on(t.instanceUuid)],
);

/** One nova-compute service per host, as os-services shows it. */
export const services = sqliteTable(
  'services',
  {
    id: text('id').primaryKey(),
    host: text('host').notNull(),
    binary: text('binary').notNull().default('nova-compute'),
    availabilityZone: text('availability_zone').notNull().default('nova'),
    disabled: integer('disabled', { mode: 'boolean' }).notNull().default(false),
    disabledReason: text('disabled_reason'),
    forcedDown: integer('forced_down', { mode: 'boolean' }).notNull().default(false),
    /** When the host's connector was last heard from. */
    lastSeenAt: text('last_seen_at'),
    /** Whether the host's conductor counts it as up (connected and heartbeating). */
    up: integer('up', { mode: 'boolean' }).notNull().default(false),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at'),
  },
  (t) => [uniqueIndex('services_host_binary').on(t.host, t.binary)],
);

/**
 * The credential a host's connector authenticates with. Only a SHA-256 of the secret is
 * kept: the secret is 256 random bits, so a slow hash would add nothing.
 */
export const hostCredentials = sqliteTable(
  'host_credentials',
  {
    id: text('id').primaryKey(),
    host: text('host').notNull(),
    secretHash: text('secret_hash').notNull(),
    description: text('description'),
    createdAt: text('created_at').notNull(),
    revokedAt: text('revoked_at'),
  },
  (t) => [index('host_credentials_host').on(t.host)],
);
