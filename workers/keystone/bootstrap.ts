// What `keystone-manage bootstrap` does, idempotently: the default domain, the admin
// and demo projects and users, the admin > member > reader roles, their assignments,
// RegionOne and the service catalog. Safe to run at every start.
import { and, eq } from 'drizzle-orm';
import { hashPassword } from '../../lib/password';
import {
  assignments,
  domains,
  endpoints,
  impliedRoles,
  projects,
  regions,
  roles,
  services,
  users,
} from '../../schema/keystone';
import { database, newId, type Db } from './db';

export interface BootstrapOptions {
  /** The public base URL, e.g. http://127.0.0.1:8787 */
  publicUrl: string;
  adminPassword: string;
  demoPassword: string;
  /** Service users (e.g. glance) and their passwords; they get admin on project "service", as in DevStack. */
  servicePasswords?: Record<string, string>;
  /** Set the passwords even on users that already exist (keystone-manage bootstrap does). */
  resetPasswords: boolean;
  region?: string;
}

/**
 * Service type, name and the path of its public endpoint at the gateway (DevStack's layout).
 * Only services that run are listed: clients read the catalog to decide what to call (the
 * openstack CLI's `quota show` asks every quota API it finds), so Neutron (`/network`) and
 * Cinder (`/volume/v3/$(project_id)s`) join it when they are built.
 */
export const CATALOG: { type: string; name: string; path: string }[] = [
  { type: 'identity', name: 'keystone', path: '/identity' },
  { type: 'compute', name: 'nova', path: '/compute/v2.1' },
  { type: 'image', name: 'glance', path: '/image' },
  { type: 'object-store', name: 'swift', path: '/object-storage/v1/AUTH_$(project_id)s' },
];

async function ensureByName<T extends { id: string }>(
  find: () => Promise<T | undefined>,
  create: (id: string) => Promise<unknown>,
): Promise<string> {
  const have = await find();
  if (have) return have.id;
  const id = newId();
  await create(id);
  return id;
}

async function ensureUser(db: Db, name: string, password: string, projectId: string, reset: boolean) {
  const have = await db.select().from(users).where(and(eq(users.domainId, 'default'), eq(users.name, name))).get();
  if (have) {
    if (reset) await db.update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, have.id));
    return have.id;
  }
  const id = newId();
  await db.insert(users).values({
    id, name, domainId: 'default', passwordHash: await hashPassword(password), defaultProjectId: projectId,
  });
  return id;
}

export async function bootstrap(d1: D1Database, opts: BootstrapOptions) {
  const db = database(d1);
  const region = opts.region ?? 'RegionOne';
  await db.insert(domains).values({ id: 'default', name: 'Default', description: 'The default domain' }).onConflictDoNothing();

  const roleId: Record<string, string> = {};
  for (const name of ['admin', 'member', 'reader']) {
    roleId[name] = await ensureByName(
      () => db.select().from(roles).where(and(eq(roles.domainId, ''), eq(roles.name, name))).get(),
      (id) => db.insert(roles).values({ id, name }),
    );
  }
  await db
    .insert(impliedRoles)
    .values([
      { priorRoleId: roleId.admin!, impliedRoleId: roleId.member! },
      { priorRoleId: roleId.member!, impliedRoleId: roleId.reader! },
    ])
    .onConflictDoNothing();

  const projectId: Record<string, string> = {};
  for (const name of ['admin', 'demo', 'service']) {
    projectId[name] = await ensureByName(
      () => db.select().from(projects).where(and(eq(projects.domainId, 'default'), eq(projects.name, name))).get(),
      (id) => db.insert(projects).values({ id, name, domainId: 'default', parentId: 'default', description: `Bootstrap project ${name}` }),
    );
  }
  const adminId = await ensureUser(db, 'admin', opts.adminPassword, projectId.admin!, opts.resetPasswords);
  const demoId = await ensureUser(db, 'demo', opts.demoPassword, projectId.demo!, opts.resetPasswords);
  const serviceAssignments = [];
  for (const [name, password] of Object.entries(opts.servicePasswords ?? {})) {
    const id = await ensureUser(db, name, password, projectId.service!, opts.resetPasswords);
    serviceAssignments.push({ actorType: 'user' as const, actorId: id, targetType: 'project' as const, targetId: projectId.service!, roleId: roleId.admin! });
  }
  await db
    .insert(assignments)
    .values([
      ...serviceAssignments,
      { actorType: 'user', actorId: adminId, targetType: 'project', targetId: projectId.admin!, roleId: roleId.admin! },
      { actorType: 'user', actorId: adminId, targetType: 'system', targetId: 'all', roleId: roleId.admin! },
      { actorType: 'user', actorId: demoId, targetType: 'project', targetId: projectId.demo!, roleId: roleId.member! },
    ])
    .onConflictDoNothing();

  await db.insert(regions).values({ id: region, description: '' }).onConflictDoNothing();
  for (const entry of CATALOG) {
    const serviceId = await ensureByName(
      () => db.select().from(services).where(eq(services.type, entry.type)).get(),
      (id) => db.insert(services).values({ id, type: entry.type, name: entry.name, description: `${entry.name} service` }),
    );
    const url = `${opts.publicUrl}${entry.path}`;
    const have = await db
      .select()
      .from(endpoints)
      .where(and(eq(endpoints.serviceId, serviceId), eq(endpoints.interface, 'public')))
      .get();
    if (!have) await db.insert(endpoints).values({ id: newId(), serviceId, interface: 'public', url, regionId: region });
    else if (have.url !== url) await db.update(endpoints).set({ url }).where(eq(endpoints.id, have.id));
  }
  return { projectId, userId: { admin: adminId, demo: demoId }, roleId };
}

/** Runs the bootstrap unless the default domain already exists (a hosted cloud's first request). */
export async function bootstrapOnce(
  d1: D1Database,
  publicUrl: string,
  passwords: { admin: string; demo?: string; glance?: string },
) {
  const db = database(d1);
  if (await db.select({ id: domains.id }).from(domains).where(eq(domains.id, 'default')).get()) return;
  await bootstrap(d1, {
    publicUrl,
    adminPassword: passwords.admin,
    demoPassword: passwords.demo ?? crypto.randomUUID(),
    servicePasswords: passwords.glance ? { glance: passwords.glance } : {},
    resetPasswords: false,
  });
}
