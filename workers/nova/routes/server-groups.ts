// /os-server-groups: create (within the server_groups quota, claimed by the insert itself),
// list (the project's, or all for admins), show with the members that still exist, delete.
import { and, asc, eq, inArray, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest, forbidden, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { instances, serverGroupMembers, serverGroups } from '../../../schema/nova';
import { database, isoNow, type Db } from '../db';
import type { NovaEnv } from '../env';
import { isAdmin } from '../flavors';
import { authorize } from '../policies';
import { withinQuota } from '../quota';
import { MAX_LIMIT, nonNegativeQuery, refuseUnknownQuery } from '../schemas/query';
import {
  SERVER_GROUP_LIST_QUERY, serverGroupCreateV2_1, serverGroupCreateV2_15, serverGroupCreateV2_64, type ServerGroupPolicy,
} from '../schemas/server-groups';
import { serverGroupView, type ServerGroupRow } from '../views/server-groups';

type C = Context<NovaEnv>;

export const serverGroupRoutes = new Hono<NovaEnv>();

/** The members of each group that are servers not deleted, in the order they joined. */
async function membersOf(db: Db, groupIds: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(groupIds.map((id) => [id, []]));
  if (groupIds.length === 0) return out;
  const rows = await db
    .select({ group: serverGroupMembers.groupUuid, member: serverGroupMembers.instanceUuid })
    .from(serverGroupMembers)
    .innerJoin(instances, and(eq(instances.uuid, serverGroupMembers.instanceUuid), eq(instances.deleted, false)))
    .where(inArray(serverGroupMembers.groupUuid, groupIds))
    .orderBy(sql`${serverGroupMembers}.rowid`);
  for (const r of rows) out.get(r.group)?.push(r.member);
  return out;
}

async function loadGroup(c: C): Promise<{ db: Db; group: ServerGroupRow }> {
  const id = c.req.param('server_group_id')!;
  const db = database(c.env.DB);
  const group = await db.select().from(serverGroups).where(eq(serverGroups.uuid, id)).get();
  if (!group) throw notFound(`Instance group ${id} could not be found.`);
  return { db, group };
}

serverGroupRoutes.post('/os-server-groups', async (c) => {
  const v = c.var.version;
  const projectId = c.var.auth.projectId ?? '';
  const userId = c.var.auth.userId;
  authorize(c, 'os_compute_api:os-server-groups:create', { project_id: projectId });
  let policy: ServerGroupPolicy;
  let rules: Record<string, number> = {};
  let name: string;
  if (v.atLeast('2.64')) {
    const b = (await jsonBody(c, serverGroupCreateV2_64)).server_group;
    ({ policy, name } = b);
    if (b.rules?.max_server_per_host !== undefined) rules = { max_server_per_host: b.rules.max_server_per_host };
    if (policy !== 'anti-affinity' && Object.keys(rules).length > 0) throw badRequest('Only anti-affinity policy supports rules.');
  } else {
    const b = (await jsonBody(c, v.atLeast('2.15') ? serverGroupCreateV2_15 : serverGroupCreateV2_1)).server_group;
    name = b.name;
    policy = b.policies[0]!;
  }
  const db = database(c.env.DB);
  const group: ServerGroupRow = { uuid: crypto.randomUUID(), name, projectId, userId, policy, rules, createdAt: isoNow() };
  // The quota is checked by the insert itself: concurrent creates cannot both take the last group.
  const res = await db.run(sql`insert into ${serverGroups} (uuid, name, project_id, user_id, policy, rules, created_at)
    select ${group.uuid}, ${group.name}, ${group.projectId}, ${group.userId}, ${group.policy}, ${JSON.stringify(group.rules)}, ${group.createdAt}
    where ${withinQuota(projectId, userId, { server_groups: 1 })}`);
  if (res.meta.changes === 0) throw forbidden('Quota exceeded, too many server groups.');
  return c.json({ server_group: serverGroupView(v, group, []) });
});

serverGroupRoutes.get('/os-server-groups', async (c) => {
  const v = c.var.version;
  if (v.atLeast('2.75')) refuseUnknownQuery(c, SERVER_GROUP_LIST_QUERY);
  const projectId = c.var.auth.projectId ?? '';
  authorize(c, 'os_compute_api:os-server-groups:index', { project_id: projectId });
  // A non-admin asking for all projects gets the project's groups, as in Nova.
  const all = c.req.queries('all_projects') !== undefined && isAdmin(c);
  if (all) authorize(c, 'os_compute_api:os-server-groups:index:all_projects', { project_id: projectId });
  const offset = nonNegativeQuery(c, 'offset') ?? 0;
  const limit = Math.min(nonNegativeQuery(c, 'limit') || MAX_LIMIT, MAX_LIMIT);
  const db = database(c.env.DB);
  const groups = await db
    .select()
    .from(serverGroups)
    .where(all ? undefined : eq(serverGroups.projectId, projectId))
    .orderBy(asc(sql`${serverGroups}.rowid`))
    .limit(limit)
    .offset(offset);
  const members = await membersOf(db, groups.map((g) => g.uuid));
  return c.json({ server_groups: groups.map((g) => serverGroupView(v, g, members.get(g.uuid) ?? [])) });
});

serverGroupRoutes.get('/os-server-groups/:server_group_id', async (c) => {
  const { db, group } = await loadGroup(c);
  authorize(c, 'os_compute_api:os-server-groups:show', { project_id: group.projectId });
  const members = await membersOf(db, [group.uuid]);
  return c.json({ server_group: serverGroupView(c.var.version, group, members.get(group.uuid) ?? []) });
});

serverGroupRoutes.delete('/os-server-groups/:server_group_id', async (c) => {
  const { db, group } = await loadGroup(c);
  authorize(c, 'os_compute_api:os-server-groups:delete', { project_id: group.projectId });
  await db.batch([
    db.delete(serverGroupMembers).where(eq(serverGroupMembers.groupUuid, group.uuid)),
    db.delete(serverGroups).where(eq(serverGroups.uuid, group.uuid)),
  ]);
  return c.body(null, 204);
});
