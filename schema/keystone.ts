// The keystone D1 database: identity, resources, assignments and the catalog.
// drizzle-kit generates the migrations under schema/migrations/keystone from this file.
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';

const created = () => text('created_at').notNull().default(sql`(strftime('%Y-%m-%dT%H:%M:%fZ','now'))`);
/** Free-form attributes a client may add to a resource (Keystone keeps them as "extra"). */
const extra = () => text('extra', { mode: 'json' }).$type<Record<string, unknown>>().notNull().default({});

export const domains = sqliteTable(
  'domain',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    description: text('description').notNull().default(''),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    extra: extra(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('domain_name_unique').on(t.name)],
);

export const projects = sqliteTable(
  'project',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id').notNull(),
    parentId: text('parent_id'),
    description: text('description').notNull().default(''),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    extra: extra(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('project_domain_name_unique').on(t.domainId, t.name), index('project_parent').on(t.parentId)],
);

export const projectTags = sqliteTable(
  'project_tag',
  { projectId: text('project_id').notNull(), tag: text('tag').notNull() },
  (t) => [primaryKey({ columns: [t.projectId, t.tag] })],
);

export const users = sqliteTable(
  'user',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id').notNull(),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    passwordHash: text('password_hash'),
    passwordExpiresAt: text('password_expires_at'),
    defaultProjectId: text('default_project_id'),
    description: text('description'),
    email: text('email'),
    extra: extra(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('user_domain_name_unique').on(t.domainId, t.name)],
);

export const groups = sqliteTable(
  'group',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    domainId: text('domain_id').notNull(),
    description: text('description').notNull().default(''),
    extra: extra(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('group_domain_name_unique').on(t.domainId, t.name)],
);

export const userGroupMembership = sqliteTable(
  'user_group_membership',
  { userId: text('user_id').notNull(), groupId: text('group_id').notNull() },
  (t) => [primaryKey({ columns: [t.userId, t.groupId] }), index('membership_group').on(t.groupId)],
);

export const roles = sqliteTable(
  'role',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    /** Empty for global roles; a domain id for domain-specific roles. */
    domainId: text('domain_id').notNull().default(''),
    description: text('description').notNull().default(''),
    extra: extra(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('role_domain_name_unique').on(t.domainId, t.name)],
);

export const impliedRoles = sqliteTable(
  'implied_role',
  { priorRoleId: text('prior_role_id').notNull(), impliedRoleId: text('implied_role_id').notNull() },
  (t) => [primaryKey({ columns: [t.priorRoleId, t.impliedRoleId] })],
);

/** actorType user|group; targetType project|domain|system (system target id is "all"). */
export const assignments = sqliteTable(
  'assignment',
  {
    actorType: text('actor_type', { enum: ['user', 'group'] }).notNull(),
    actorId: text('actor_id').notNull(),
    targetType: text('target_type', { enum: ['project', 'domain', 'system'] }).notNull(),
    targetId: text('target_id').notNull(),
    roleId: text('role_id').notNull(),
    inherited: integer('inherited', { mode: 'boolean' }).notNull().default(false),
  },
  (t) => [
    primaryKey({ columns: [t.actorType, t.actorId, t.targetType, t.targetId, t.roleId, t.inherited] }),
    index('assignment_target').on(t.targetType, t.targetId),
    index('assignment_role').on(t.roleId),
  ],
);

export const regions = sqliteTable('region', {
  id: text('id').primaryKey(),
  description: text('description').notNull().default(''),
  parentRegionId: text('parent_region_id'),
  extra: extra(),
});

export const services = sqliteTable('service', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  name: text('name'),
  description: text('description'),
  enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
  extra: extra(),
});

export const endpoints = sqliteTable(
  'endpoint',
  {
    id: text('id').primaryKey(),
    serviceId: text('service_id').notNull(),
    interface: text('interface', { enum: ['public', 'internal', 'admin'] }).notNull(),
    url: text('url').notNull(),
    regionId: text('region_id'),
    enabled: integer('enabled', { mode: 'boolean' }).notNull().default(true),
    extra: extra(),
  },
  (t) => [index('endpoint_service').on(t.serviceId)],
);

export const applicationCredentials = sqliteTable(
  'application_credential',
  {
    id: text('id').primaryKey(),
    name: text('name').notNull(),
    userId: text('user_id').notNull(),
    projectId: text('project_id').notNull(),
    secretHash: text('secret_hash').notNull(),
    description: text('description'),
    expiresAt: text('expires_at'),
    unrestricted: integer('unrestricted', { mode: 'boolean' }).notNull().default(false),
    /** The role ids delegated: a subset of the creator's roles on the project. */
    roleIds: text('role_ids', { mode: 'json' }).$type<string[]>().notNull(),
    createdAt: created(),
  },
  (t) => [uniqueIndex('app_cred_user_name_unique').on(t.userId, t.name)],
);
