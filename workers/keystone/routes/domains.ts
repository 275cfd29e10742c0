// /v3/domains: the namespaces of projects, users and groups.
import { and, asc, eq, inArray, or, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { conflict, forbidden, notFound } from '../../../lib/errors';
import { nextLink, pageParams, paginate } from '../../../lib/pagination';
import { jsonBody } from '../../../lib/validation';
import {
  applicationCredentials, assignments, domains as domainTable, groups, impliedRoles, projects, projectTags, roles,
  userGroupMembership, users,
} from '../../../schema/keystone';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { domainCreate, domainUpdate } from '../schemas/domains';
import { queryFlag } from '../schemas/parameter-types';
import { collectionLinks, selfLink } from '../views';
import { tagsOf } from './projects';

export const domains = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type DomainRow = typeof domainTable.$inferSelect;
type Options = Record<string, unknown>;

/** The domain keystone-manage bootstrap creates; deleting or disabling it would lock everyone out. */
const DEFAULT_DOMAIN = 'default';

// A domain's tags share the project_tag table: in Keystone a domain is a project acting as a domain.
function domainView(c: C, d: DomainRow, tags: string[]) {
  return {
    id: d.id, name: d.name, description: d.description, enabled: d.enabled, tags,
    options: (d.extra.options as Options | undefined) ?? {}, links: selfLink(c, `domains/${d.id}`),
  };
}

const duplicate = (name: string) =>
  conflict(`Conflict occurred attempting to store domain - Duplicate entry found with name ${name}.`);

function cleanOptions(opts: Options): Options {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== null && v !== undefined));
}

async function load(c: C, rule: string): Promise<{ db: Db; row: DomainRow }> {
  const db = database(c.env.DB);
  const id = c.req.param('domain_id')!;
  const row = await db.select().from(domainTable).where(eq(domainTable.id, id)).get();
  authorize(c, rule, row ? { 'target.domain.id': row.id } : {});
  if (!row) throw notFound(`Could not find domain: ${id}.`);
  return { db, row };
}

domains.get('/domains', async (c) => {
  authorize(c, 'identity:list_domains');
  const page = pageParams(c);
  const db = database(c.env.DB);
  const q = c.req.query();
  const where: SQL[] = [];
  if (q.name !== undefined) where.push(eq(domainTable.name, q.name));
  if (q.enabled !== undefined) where.push(eq(domainTable.enabled, queryFlag(q.enabled)));
  const rows = await db.select().from(domainTable).where(and(...where)).orderBy(asc(domainTable.id));
  const { items, more } = paginate(rows, page);
  const tags = await tagsOf(db, items.map((d) => d.id));
  return c.json({
    domains: items.map((d) => domainView(c, d, tags.get(d.id)!)),
    links: collectionLinks(c, nextLink(c.req.url, items[items.length - 1], more)),
  });
});

domains.post('/domains', async (c) => {
  const b = (await jsonBody(c, domainCreate)).domain;
  authorize(c, 'identity:create_domain');
  const db = database(c.env.DB);
  const name = b.name.trim();
  const options = cleanOptions(b.options ?? {});
  const row: DomainRow = {
    id: b.explicit_domain_id ?? newId(), name, description: b.description ?? '', enabled: b.enabled ?? true,
    extra: Object.keys(options).length ? { options } : {}, createdAt: new Date().toISOString(),
  };
  const tags = b.tags ?? [];
  try {
    await db.batch([
      db.insert(domainTable).values(row),
      ...tags.map((tag) => db.insert(projectTags).values({ projectId: row.id, tag })),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw b.explicit_domain_id && (await db.select().from(domainTable).where(eq(domainTable.id, row.id)).get())
        ? conflict(`Conflict occurred attempting to store domain - Duplicate ID, ${row.id}.`)
        : duplicate(name);
    }
    throw err;
  }
  return c.json({ domain: domainView(c, row, [...tags].sort()) }, 201);
});

domains.get('/domains/:domain_id', async (c) => {
  const { db, row } = await load(c, 'identity:get_domain');
  return c.json({ domain: domainView(c, row, (await tagsOf(db, [row.id])).get(row.id)!) });
});

domains.patch('/domains/:domain_id', async (c) => {
  const { db, row } = await load(c, 'identity:update_domain');
  const b = (await jsonBody(c, domainUpdate)).domain;
  const oldOptions = (row.extra.options as Options | undefined) ?? {};
  if (oldOptions.immutable === true && b.options?.immutable !== false) {
    throw forbidden(`Domain ${row.id} is immutable: set its option "immutable" to false before changing it.`);
  }
  const enabled = b.enabled ?? row.enabled;
  if (row.id === DEFAULT_DOMAIN && !enabled) throw forbidden('The default domain cannot be disabled.');
  const options = cleanOptions({ ...oldOptions, ...b.options });
  const next: DomainRow = {
    ...row, name: b.name?.trim() ?? row.name, enabled, extra: { ...row.extra, options },
    description: b.description === undefined ? row.description : (b.description ?? ''),
  };
  if (!Object.keys(options).length) delete next.extra.options;
  try {
    await db.batch([
      db.update(domainTable).set({ name: next.name, description: next.description, enabled, extra: next.extra }).where(eq(domainTable.id, row.id)),
      ...(b.tags ? [db.delete(projectTags).where(eq(projectTags.projectId, row.id))] : []),
      ...(b.tags ?? []).map((tag) => db.insert(projectTags).values({ projectId: row.id, tag })),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(next.name);
    throw err;
  }
  if (row.enabled && !enabled) await revocations(c.env).revoke({ domainId: row.id });
  return c.json({ domain: domainView(c, next, (await tagsOf(db, [row.id])).get(row.id)!) });
});

domains.delete('/domains/:domain_id', async (c) => {
  const { db, row } = await load(c, 'identity:delete_domain');
  if (row.id === DEFAULT_DOMAIN) throw forbidden('The default domain cannot be deleted.');
  if (row.enabled) throw forbidden('Cannot delete a domain that is enabled, please disable it first.');
  if ((row.extra.options as Options | undefined)?.immutable === true) {
    throw forbidden(`Domain ${row.id} is immutable: set its option "immutable" to false before deleting it.`);
  }
  // Everything the domain holds goes with it, as in Keystone; subqueries keep the bound parameters few.
  const projectIds = db.select({ id: projects.id }).from(projects).where(eq(projects.domainId, row.id));
  const userIds = db.select({ id: users.id }).from(users).where(eq(users.domainId, row.id));
  const groupIds = db.select({ id: groups.id }).from(groups).where(eq(groups.domainId, row.id));
  const roleIds = db.select({ id: roles.id }).from(roles).where(eq(roles.domainId, row.id));
  await db.batch([
    db.delete(assignments).where(
      or(
        and(eq(assignments.targetType, 'domain'), eq(assignments.targetId, row.id)),
        and(eq(assignments.targetType, 'project'), inArray(assignments.targetId, projectIds)),
        and(eq(assignments.actorType, 'user'), inArray(assignments.actorId, userIds)),
        and(eq(assignments.actorType, 'group'), inArray(assignments.actorId, groupIds)),
        inArray(assignments.roleId, roleIds),
      ),
    ),
    db.delete(projectTags).where(or(eq(projectTags.projectId, row.id), inArray(projectTags.projectId, projectIds))),
    db.delete(applicationCredentials).where(
      or(inArray(applicationCredentials.projectId, projectIds), inArray(applicationCredentials.userId, userIds)),
    ),
    db.delete(userGroupMembership).where(
      or(inArray(userGroupMembership.userId, userIds), inArray(userGroupMembership.groupId, groupIds)),
    ),
    db.delete(impliedRoles).where(or(inArray(impliedRoles.priorRoleId, roleIds), inArray(impliedRoles.impliedRoleId, roleIds))),
    db.delete(roles).where(eq(roles.domainId, row.id)),
    db.delete(projects).where(eq(projects.domainId, row.id)),
    db.delete(users).where(eq(users.domainId, row.id)),
    db.delete(groups).where(eq(groups.domainId, row.id)),
    db.delete(domainTable).where(eq(domainTable.id, row.id)),
  ]);
  await revocations(c.env).revoke({ domainId: row.id });
  return c.body(null, 204);
});
