// /v3/users: identities with a password, in a domain. The password and its hash are
// never returned; disabling, deleting or changing the password revokes the user's tokens.
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { badRequest, conflict, forbidden, notFound, unauthorized } from '../../../lib/errors';
import { nextLink, pageParams, paginate } from '../../../lib/pagination';
import { hashPassword, verifyPassword } from '../../../lib/password';
import { jsonBody } from '../../../lib/validation';
import {
  applicationCredentials, assignments, domains, projects as projectTable, userGroupMembership, users as userTable,
} from '../../../schema/keystone';
import { groupIdsOf } from '../assignments';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { extraOf, queryFlag, sizedExtra } from '../schemas/parameter-types';
import { passwordChange, USER_FIELDS, userCreate, userUpdate, type UserOptions } from '../schemas/users';
import { collectionLinks, selfLink, withExtra } from '../views';
import { projectView, subtreeOf, tagsOf, type ProjectRow } from './projects';

export const users = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
export type UserRow = typeof userTable.$inferSelect;

export function userView(c: C, u: UserRow) {
  const { options, ...extra } = u.extra;
  return withExtra(
    {
      id: u.id, name: u.name, domain_id: u.domainId, enabled: u.enabled, default_project_id: u.defaultProjectId,
      description: u.description, email: u.email, password_expires_at: u.passwordExpiresAt,
      options: (options as UserOptions | undefined) ?? {}, links: selfLink(c, `users/${u.id}`),
    },
    extra,
  );
}

export const userNotFound = (id: string) => notFound(`Could not find user: ${id}.`);
const duplicate = (name: string, domainId: string) =>
  conflict(`Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID ${domainId}.`);

function cleanOptions(opts: Record<string, unknown>): UserOptions {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== null && v !== undefined));
}

async function load(c: C, rule: string): Promise<{ db: Db; row: UserRow }> {
  const db = database(c.env.DB);
  const id = c.req.param('user_id')!;
  const row = await db.select().from(userTable).where(eq(userTable.id, id)).get();
  authorize(c, rule, row ? { 'target.user.id': row.id, 'target.user.domain_id': row.domainId } : {});
  if (!row) throw userNotFound(id);
  return { db, row };
}

async function assertDefaultProject(db: Db, id: string | null | undefined) {
  if (!id) return;
  if (!(await db.select({ id: projectTable.id }).from(projectTable).where(eq(projectTable.id, id)).get())) {
    throw badRequest(`Could not find default project: ${id}.`);
  }
}

users.get('/users', async (c) => {
  const q = c.req.query();
  authorize(c, 'identity:list_users', { 'target.domain_id': q.domain_id });
  const page = pageParams(c);
  const where: SQL[] = [];
  if (q.name !== undefined) where.push(eq(userTable.name, q.name));
  if (q.domain_id !== undefined) where.push(eq(userTable.domainId, q.domain_id));
  if (q.enabled !== undefined) where.push(eq(userTable.enabled, queryFlag(q.enabled)));
  const rows = await database(c.env.DB).select().from(userTable).where(and(...where)).orderBy(asc(userTable.id));
  const { items, more } = paginate(rows, page);
  return c.json({
    users: items.map((u) => userView(c, u)),
    links: collectionLinks(c, nextLink(c.req.url, items[items.length - 1], more)),
  });
});

users.post('/users', async (c) => {
  const b = (await jsonBody(c, userCreate)).user;
  const domainId = b.domain_id ?? c.var.auth.domainId ?? 'default';
  authorize(c, 'identity:create_user', { 'target.user.domain_id': domainId });
  const db = database(c.env.DB);
  if (!(await db.select().from(domains).where(eq(domains.id, domainId)).get())) throw badRequest(`Could not find domain: ${domainId}.`);
  await assertDefaultProject(db, b.default_project_id);
  const name = b.name.trim();
  const extra: Record<string, unknown> = sizedExtra(extraOf(b, USER_FIELDS));
  if (b.options) extra.options = cleanOptions(b.options);
  const row: UserRow = {
    id: newId(), name, domainId, enabled: b.enabled ?? true,
    passwordHash: b.password == null ? null : await hashPassword(b.password), passwordExpiresAt: null,
    defaultProjectId: b.default_project_id ?? null, description: b.description ?? null, email: b.email ?? null,
    extra, createdAt: new Date().toISOString(),
  };
  try {
    await db.insert(userTable).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(name, domainId);
    throw err;
  }
  return c.json({ user: userView(c, row) }, 201);
});

users.get('/users/:user_id', async (c) => {
  const { row } = await load(c, 'identity:get_user');
  return c.json({ user: userView(c, row) });
});

users.patch('/users/:user_id', async (c) => {
  const { db, row } = await load(c, 'identity:update_user');
  const b = (await jsonBody(c, userUpdate)).user;
  if (b.id !== undefined && b.id !== row.id) throw badRequest('Cannot change user ID.');
  if (b.domain_id !== undefined && b.domain_id !== row.domainId) throw badRequest('Cannot change Domain ID.');
  await assertDefaultProject(db, b.default_project_id);
  const { options: oldOptions, ...oldExtra } = row.extra;
  const extra: Record<string, unknown> = sizedExtra({ ...oldExtra, ...extraOf(b, USER_FIELDS) });
  const options = cleanOptions({ ...(oldOptions as UserOptions | undefined), ...b.options });
  if (Object.keys(options).length) extra.options = options;
  const next: UserRow = {
    ...row, extra,
    name: b.name?.trim() ?? row.name,
    enabled: b.enabled ?? row.enabled,
    defaultProjectId: b.default_project_id === undefined ? row.defaultProjectId : b.default_project_id,
    description: b.description === undefined ? row.description : b.description,
    email: b.email === undefined ? row.email : b.email,
    // null clears the password: the user can no longer log in with one.
    passwordHash: b.password === undefined ? row.passwordHash : b.password === null ? null : await hashPassword(b.password),
  };
  try {
    await db
      .update(userTable)
      .set({
        name: next.name, enabled: next.enabled, defaultProjectId: next.defaultProjectId, description: next.description,
        email: next.email, passwordHash: next.passwordHash, extra,
      })
      .where(eq(userTable.id, row.id));
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(next.name, row.domainId);
    throw err;
  }
  if ((row.enabled && !next.enabled) || b.password !== undefined) await revocations(c.env).revoke({ userId: row.id });
  return c.json({ user: userView(c, next) });
});

users.delete('/users/:user_id', async (c) => {
  const { db, row } = await load(c, 'identity:delete_user');
  await db.batch([
    db.delete(userGroupMembership).where(eq(userGroupMembership.userId, row.id)),
    db.delete(assignments).where(and(eq(assignments.actorType, 'user'), eq(assignments.actorId, row.id))),
    db.delete(applicationCredentials).where(eq(applicationCredentials.userId, row.id)),
    db.delete(userTable).where(eq(userTable.id, row.id)),
  ]);
  await revocations(c.env).revoke({ userId: row.id });
  return c.body(null, 204);
});

users.post('/users/:user_id/password', async (c) => {
  const id = c.req.param('user_id');
  authorize(c, 'identity:change_password', { 'target.user.id': id });
  const { password, original_password } = (await jsonBody(c, passwordChange)).user;
  const db = database(c.env.DB);
  const row = await db.select().from(userTable).where(eq(userTable.id, id)).get();
  if (!row) throw userNotFound(id);
  if (!(await verifyPassword(original_password, row.passwordHash))) throw unauthorized();
  if ((row.extra.options as UserOptions | undefined)?.lock_password === true) {
    throw forbidden('You cannot change your password at this time due to password policy disallowing password changes. Please contact your administrator.');
  }
  await db.update(userTable).set({ passwordHash: await hashPassword(password) }).where(eq(userTable.id, row.id));
  await revocations(c.env).revoke({ userId: row.id });
  return c.body(null, 204);
});

/** Projects where the user holds a role: directly, through a group, or inherited from a domain or parent. */
async function projectsOfUser(db: Db, userId: string): Promise<ProjectRow[]> {
  // D1 binds at most 100 parameters: a user in more than 89 groups sees the first 89 groups' projects.
  const actors = [userId, ...(await groupIdsOf(db, userId))];
  const rows = await db
    .select({ targetType: assignments.targetType, targetId: assignments.targetId, inherited: assignments.inherited })
    .from(assignments)
    .where(inArray(assignments.actorId, actors.slice(0, 90)));
  const found = new Map<string, ProjectRow>();
  const ids = [...new Set(rows.filter((r) => r.targetType === 'project' && !r.inherited).map((r) => r.targetId))];
  for (let i = 0; i < ids.length; i += 90) {
    for (const p of await db.select().from(projectTable).where(inArray(projectTable.id, ids.slice(i, i + 90)))) found.set(p.id, p);
  }
  for (const r of rows.filter((r) => r.inherited)) {
    const below = r.targetType === 'domain'
      ? await db.select().from(projectTable).where(eq(projectTable.domainId, r.targetId))
      : r.targetType === 'project' ? await subtreeOf(db, r.targetId) : [];
    for (const p of below) found.set(p.id, p);
  }
  return [...found.values()].sort((a, b) => a.id.localeCompare(b.id));
}

users.get('/users/:user_id/projects', async (c) => {
  const id = c.req.param('user_id');
  authorize(c, 'identity:list_user_projects', { 'target.user.id': id });
  const db = database(c.env.DB);
  if (!(await db.select({ id: userTable.id }).from(userTable).where(eq(userTable.id, id)).get())) throw userNotFound(id);
  const q = c.req.query();
  const rows = (await projectsOfUser(db, id)).filter(
    (p) =>
      (q.name === undefined || p.name === q.name) &&
      (q.domain_id === undefined || p.domainId === q.domain_id) &&
      (q.enabled === undefined || p.enabled === queryFlag(q.enabled)),
  );
  const tags = await tagsOf(db, rows.map((p) => p.id));
  return c.json({ projects: rows.map((p) => projectView(c, p, tags.get(p.id)!)), links: collectionLinks(c) });
});
