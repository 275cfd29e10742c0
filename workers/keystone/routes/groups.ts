// /v3/groups and group membership (and /v3/users/{id}/groups). Leaving a group can take
// roles away, so it revokes the user's tokens.
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { badRequest, conflict, notFound } from '../../../lib/errors';
import { nextLink, pageParams, paginate } from '../../../lib/pagination';
import { jsonBody } from '../../../lib/validation';
import { assignments, domains, groups as groupTable, userGroupMembership, users as userTable } from '../../../schema/keystone';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { GROUP_FIELDS, groupCreate, groupUpdate } from '../schemas/groups';
import { extraOf, queryFlag, sizedExtra } from '../schemas/parameter-types';
import { collectionLinks, selfLink, withExtra } from '../views';
import { userNotFound, userView } from './users';

export const groups = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type GroupRow = typeof groupTable.$inferSelect;

function groupView(c: C, g: GroupRow) {
  return withExtra(
    { id: g.id, name: g.name, domain_id: g.domainId, description: g.description, links: selfLink(c, `groups/${g.id}`) },
    g.extra,
  );
}

const groupNotFound = (id: string) => notFound(`Could not find group: ${id}.`);
const duplicate = (name: string, domainId: string) =>
  conflict(`Conflict occurred attempting to store group - Duplicate entry found with name ${name} at domain ID ${domainId}.`);

function groupTarget(g: GroupRow) {
  return { 'target.group.id': g.id, 'target.group.domain_id': g.domainId };
}

async function load(c: C, rule: string): Promise<{ db: Db; row: GroupRow }> {
  const db = database(c.env.DB);
  const id = c.req.param('group_id')!;
  const row = await db.select().from(groupTable).where(eq(groupTable.id, id)).get();
  authorize(c, rule, row ? groupTarget(row) : {});
  if (!row) throw groupNotFound(id);
  return { db, row };
}

groups.get('/groups', async (c) => {
  const q = c.req.query();
  authorize(c, 'identity:list_groups', { 'target.domain_id': q.domain_id });
  const page = pageParams(c);
  const where: SQL[] = [];
  if (q.name !== undefined) where.push(eq(groupTable.name, q.name));
  if (q.domain_id !== undefined) where.push(eq(groupTable.domainId, q.domain_id));
  const rows = await database(c.env.DB).select().from(groupTable).where(and(...where)).orderBy(asc(groupTable.id));
  const { items, more } = paginate(rows, page);
  return c.json({
    groups: items.map((g) => groupView(c, g)),
    links: collectionLinks(c, nextLink(c.req.url, items[items.length - 1], more)),
  });
});

groups.post('/groups', async (c) => {
  const b = (await jsonBody(c, groupCreate)).group;
  const domainId = b.domain_id ?? c.var.auth.domainId ?? 'default';
  authorize(c, 'identity:create_group', { 'target.group.domain_id': domainId });
  const db = database(c.env.DB);
  if (!(await db.select().from(domains).where(eq(domains.id, domainId)).get())) throw badRequest(`Could not find domain: ${domainId}.`);
  const name = b.name.trim();
  const row: GroupRow = {
    id: newId(), name, domainId, description: b.description ?? '', extra: sizedExtra(extraOf(b, GROUP_FIELDS)),
    createdAt: new Date().toISOString(),
  };
  try {
    await db.insert(groupTable).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(name, domainId);
    throw err;
  }
  return c.json({ group: groupView(c, row) }, 201);
});

groups.get('/groups/:group_id', async (c) => {
  const { row } = await load(c, 'identity:get_group');
  return c.json({ group: groupView(c, row) });
});

groups.patch('/groups/:group_id', async (c) => {
  const { db, row } = await load(c, 'identity:update_group');
  const b = (await jsonBody(c, groupUpdate)).group;
  if (b.domain_id !== undefined && b.domain_id !== row.domainId) throw badRequest('Cannot change Domain ID.');
  const next: GroupRow = {
    ...row,
    name: b.name?.trim() ?? row.name,
    description: b.description === undefined ? row.description : (b.description ?? ''),
    extra: sizedExtra({ ...row.extra, ...extraOf(b, GROUP_FIELDS) }),
  };
  try {
    await db
      .update(groupTable)
      .set({ name: next.name, description: next.description, extra: next.extra })
      .where(eq(groupTable.id, row.id));
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(next.name, row.domainId);
    throw err;
  }
  return c.json({ group: groupView(c, next) });
});

function memberIds(db: Db, groupId: string) {
  return db.select({ id: userGroupMembership.userId }).from(userGroupMembership).where(eq(userGroupMembership.groupId, groupId));
}

groups.delete('/groups/:group_id', async (c) => {
  const { db, row } = await load(c, 'identity:delete_group');
  const members = (await memberIds(db, row.id)).map((m) => m.id);
  const hadRoles = await db
    .select({ roleId: assignments.roleId })
    .from(assignments)
    .where(and(eq(assignments.actorType, 'group'), eq(assignments.actorId, row.id)))
    .get();
  await db.batch([
    db.delete(userGroupMembership).where(eq(userGroupMembership.groupId, row.id)),
    db.delete(assignments).where(and(eq(assignments.actorType, 'group'), eq(assignments.actorId, row.id))),
    db.delete(groupTable).where(eq(groupTable.id, row.id)),
  ]);
  // The members lose the group's roles: their tokens must not keep them.
  if (hadRoles) await Promise.all(members.map((userId) => revocations(c.env).revoke({ userId })));
  return c.body(null, 204);
});

groups.get('/groups/:group_id/users', async (c) => {
  const { db, row } = await load(c, 'identity:list_users_in_group');
  const q = c.req.query();
  const where: SQL[] = [inArray(userTable.id, memberIds(db, row.id))];
  if (q.name !== undefined) where.push(eq(userTable.name, q.name));
  if (q.domain_id !== undefined) where.push(eq(userTable.domainId, q.domain_id));
  if (q.enabled !== undefined) where.push(eq(userTable.enabled, queryFlag(q.enabled)));
  const rows = await db.select().from(userTable).where(and(...where)).orderBy(asc(userTable.id));
  return c.json({ users: rows.map((u) => userView(c, u)), links: collectionLinks(c) });
});

/** The group (checked against the rule with both as target) and the user of a membership URL. */
async function membership(c: C, rule: string) {
  const db = database(c.env.DB);
  const groupId = c.req.param('group_id')!;
  const userId = c.req.param('user_id')!;
  const group = await db.select().from(groupTable).where(eq(groupTable.id, groupId)).get();
  const user = await db.select().from(userTable).where(eq(userTable.id, userId)).get();
  authorize(c, rule, {
    ...(group ? groupTarget(group) : {}),
    ...(user ? { 'target.user.id': user.id, 'target.user.domain_id': user.domainId } : {}),
  });
  if (!group) throw groupNotFound(groupId);
  if (!user) throw userNotFound(userId);
  const member = await db
    .select()
    .from(userGroupMembership)
    .where(and(eq(userGroupMembership.groupId, groupId), eq(userGroupMembership.userId, userId)))
    .get();
  return { db, groupId, userId, member: member !== undefined };
}

const notMember = (userId: string, groupId: string) => notFound(`User ${userId} is not a member of group ${groupId}.`);

groups.put('/groups/:group_id/users/:user_id', async (c) => {
  const { db, groupId, userId } = await membership(c, 'identity:add_user_to_group');
  await db.insert(userGroupMembership).values({ groupId, userId }).onConflictDoNothing();
  return c.body(null, 204);
});

// Hono answers HEAD with the GET route (and drops the body), so the check is a GET route.
groups.get('/groups/:group_id/users/:user_id', async (c) => {
  const { groupId, userId, member } = await membership(c, 'identity:check_user_in_group');
  if (!member) throw notMember(userId, groupId);
  return c.body(null, 204);
});

groups.delete('/groups/:group_id/users/:user_id', async (c) => {
  const { db, groupId, userId, member } = await membership(c, 'identity:remove_user_from_group');
  if (!member) throw notMember(userId, groupId);
  await db
    .delete(userGroupMembership)
    .where(and(eq(userGroupMembership.groupId, groupId), eq(userGroupMembership.userId, userId)));
  await revocations(c.env).revoke({ userId });
  return c.body(null, 204);
});

groups.get('/users/:user_id/groups', async (c) => {
  const userId = c.req.param('user_id');
  authorize(c, 'identity:list_groups_for_user', { 'target.user.id': userId });
  const db = database(c.env.DB);
  if (!(await db.select({ id: userTable.id }).from(userTable).where(eq(userTable.id, userId)).get())) throw userNotFound(userId);
  const ids = db.select({ id: userGroupMembership.groupId }).from(userGroupMembership).where(eq(userGroupMembership.userId, userId));
  const rows = await db.select().from(groupTable).where(inArray(groupTable.id, ids)).orderBy(asc(groupTable.id));
  return c.json({ groups: rows.map((g) => groupView(c, g)), links: collectionLinks(c) });
});
