// /v3/projects: the unit of resource ownership, in a hierarchy under a domain, with tags.
import { and, asc, eq, inArray, type SQL } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { badRequest, conflict, forbidden, notFound } from '../../../lib/errors';
import { nextLink, pageParams, paginate } from '../../../lib/pagination';
import { jsonBody, validate } from '../../../lib/validation';
import { applicationCredentials, assignments, domains, projects as projectTable, projectTags } from '../../../schema/keystone';
import { ancestorsOf } from '../assignments';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { extraOf, queryFlag, sizedExtra } from '../schemas/parameter-types';
import { PROJECT_FIELDS, projectCreate, projectTag, projectTagsUpdate, projectUpdate } from '../schemas/projects';
import { collectionLinks, selfLink, withExtra } from '../views';

export const projects = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
export type ProjectRow = typeof projectTable.$inferSelect;
type Options = Record<string, unknown>;

/** Keystone's max_project_tree_depth: projects below a domain, the new one included. */
const MAX_DEPTH = 5;
const MAX_TAGS = 80;

export function projectView(c: C, p: ProjectRow, tags: string[]) {
  const { options, ...extra } = p.extra;
  return withExtra(
    {
      id: p.id, name: p.name, domain_id: p.domainId, parent_id: p.parentId ?? p.domainId,
      description: p.description, enabled: p.enabled, is_domain: false, tags,
      options: (options as Options | undefined) ?? {}, links: selfLink(c, `projects/${p.id}`),
    },
    extra,
  );
}

/** Tags of many projects, queried in chunks (D1 binds at most 100 parameters). */
export async function tagsOf(db: Db, ids: string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (let i = 0; i < ids.length; i += 90) {
    const rows = await db.select().from(projectTags).where(inArray(projectTags.projectId, ids.slice(i, i + 90)));
    for (const r of rows) out.get(r.projectId)?.push(r.tag);
  }
  for (const list of out.values()) list.sort();
  return out;
}

const projectNotFound = (id: string) => notFound(`Could not find project: ${id}.`);
const duplicate = (name: string, domainId: string) =>
  conflict(`Conflict occurred attempting to store project - Duplicate entry found with name ${name} at domain ID ${domainId}.`);
const immutable = (id: string) =>
  forbidden(`Project ${id} is immutable: set its option "immutable" to false before changing or deleting it.`);

function byId(db: Db, id: string) {
  return db.select().from(projectTable).where(eq(projectTable.id, id)).get();
}

/** Finds the project and checks the rule against it; an unknown id is a 404 only for those the rule lets look. */
async function load(c: C, rule: string): Promise<{ db: Db; row: ProjectRow }> {
  const db = database(c.env.DB);
  const id = c.req.param('project_id')!;
  const row = await byId(db, id);
  authorize(c, rule, row ? { 'target.project.id': row.id, 'target.project.domain_id': row.domainId } : {});
  if (!row) throw projectNotFound(id);
  return { db, row };
}

/** Every project below the given one. */
export async function subtreeOf(db: Db, id: string): Promise<ProjectRow[]> {
  const out: ProjectRow[] = [];
  let level = [id];
  while (level.length && out.length < 10_000) {
    const rows = await db.select().from(projectTable).where(inArray(projectTable.parentId, level.slice(0, 90)));
    out.push(...rows);
    level = [...level.slice(90), ...rows.map((r) => r.id)];
  }
  return out;
}

function tagFilter(c: C): ((tags: string[]) => boolean) | null {
  const list = (key: string) => c.req.query(key)?.split(',').filter((t) => t !== '');
  const all = list('tags');
  const any = list('tags-any');
  const notAll = list('not-tags');
  const notAny = list('not-tags-any');
  if (!all && !any && !notAll && !notAny) return null;
  return (tags) =>
    (!all || all.every((t) => tags.includes(t))) &&
    (!any || any.some((t) => tags.includes(t))) &&
    (!notAll || !notAll.every((t) => tags.includes(t))) &&
    (!notAny || !notAny.some((t) => tags.includes(t)));
}

projects.get('/projects', async (c) => {
  const q = c.req.query();
  authorize(c, 'identity:list_projects', { 'target.domain_id': q.domain_id });
  const page = pageParams(c);
  const db = database(c.env.DB);
  // Domains are not listed as projects here: is_domain=true matches nothing.
  if (q.is_domain !== undefined && queryFlag(q.is_domain)) return c.json({ projects: [], links: collectionLinks(c) });
  const where: SQL[] = [];
  if (q.name !== undefined) where.push(eq(projectTable.name, q.name));
  if (q.domain_id !== undefined) where.push(eq(projectTable.domainId, q.domain_id));
  if (q.parent_id !== undefined) where.push(eq(projectTable.parentId, q.parent_id));
  if (q.enabled !== undefined) where.push(eq(projectTable.enabled, queryFlag(q.enabled)));
  const rows = await db.select().from(projectTable).where(and(...where)).orderBy(asc(projectTable.id));
  const tags = await tagsOf(db, rows.map((r) => r.id));
  const keep = tagFilter(c);
  const matching = keep ? rows.filter((r) => keep(tags.get(r.id)!)) : rows;
  const { items, more } = paginate(matching, page);
  return c.json({
    projects: items.map((p) => projectView(c, p, tags.get(p.id)!)),
    links: collectionLinks(c, nextLink(c.req.url, items[items.length - 1], more)),
  });
});

projects.post('/projects', async (c) => {
  const b = (await jsonBody(c, projectCreate)).project;
  authorize(c, 'identity:create_project', { 'target.project.domain_id': b.domain_id ?? undefined });
  if (b.is_domain) throw badRequest('A project acting as a domain is created through POST /v3/domains.');
  const db = database(c.env.DB);
  let domainId = b.domain_id ?? undefined;
  let parentId = b.parent_id ?? undefined;
  if (parentId) {
    const parent = await byId(db, parentId);
    if (parent) {
      if (domainId && domainId !== parent.domainId) {
        throw badRequest(`Cannot create project, since it specifies its domain_id ${domainId}, but specifies a parent in a different domain (${parent.domainId}).`);
      }
      domainId = parent.domainId;
      const depth = (await ancestorsOf(db, parent.id)).length; // the parents, then the domain
      if (depth >= MAX_DEPTH + 1) throw forbidden(`Max hierarchy depth reached for ${parent.id} branch.`);
      if (!parent.enabled && b.enabled !== false) throw badRequest(`Cannot create an enabled project under the disabled project ${parent.id}.`);
    } else if (await db.select().from(domains).where(eq(domains.id, parentId)).get()) {
      if (domainId && domainId !== parentId) throw badRequest(`The parent ${parentId} is a domain other than ${domainId}.`);
      domainId = parentId;
    } else {
      throw badRequest(`Could not find parent project: ${parentId}.`);
    }
  }
  domainId ??= c.var.auth.domainId ?? 'default';
  parentId ??= domainId;
  if (!(await db.select().from(domains).where(eq(domains.id, domainId)).get())) throw badRequest(`Could not find domain: ${domainId}.`);
  const name = b.name.trim();
  const extra: Record<string, unknown> = sizedExtra(extraOf(b, PROJECT_FIELDS));
  if (b.options) extra.options = cleanOptions(b.options);
  const row: ProjectRow = {
    id: newId(), name, domainId, parentId, description: b.description ?? '', enabled: b.enabled ?? true,
    extra, createdAt: new Date().toISOString(),
  };
  const tags = b.tags ?? [];
  try {
    await db.batch([
      db.insert(projectTable).values(row),
      ...tags.map((tag) => db.insert(projectTags).values({ projectId: row.id, tag })),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(name, domainId);
    throw err;
  }
  return c.json({ project: projectView(c, row, [...tags].sort()) }, 201);
});

/** Options set to null are removed, as Keystone does. */
function cleanOptions(opts: Options): Options {
  return Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== null && v !== undefined));
}

projects.get('/projects/:project_id', async (c) => {
  const { db, row } = await load(c, 'identity:get_project');
  const tags = (await tagsOf(db, [row.id])).get(row.id)!;
  const body: Record<string, unknown> = projectView(c, row, tags);
  if (c.req.query('parents_as_ids') !== undefined) {
    // Nested ids from the parent up, as Keystone renders them.
    const chain = (await ancestorsOf(db, row.parentId)).filter((id) => id !== row.domainId);
    body.parents = chain.reduceRight<Record<string, unknown> | null>((inner, id) => ({ [id]: inner }), null);
  }
  if (c.req.query('subtree_as_ids') !== undefined) {
    const below = await subtreeOf(db, row.id);
    const nest = (id: string): Record<string, unknown> | null => {
      const kids = below.filter((p) => p.parentId === id);
      return kids.length ? Object.fromEntries(kids.map((k) => [k.id, nest(k.id)])) : null;
    };
    body.subtree = nest(row.id);
  }
  return c.json({ project: body });
});

projects.patch('/projects/:project_id', async (c) => {
  const { db, row } = await load(c, 'identity:update_project');
  const b = (await jsonBody(c, projectUpdate)).project;
  const oldOptions = (row.extra.options as Options | undefined) ?? {};
  if (oldOptions.immutable === true && !(b.options?.immutable === false)) throw immutable(row.id);
  if (b.domain_id !== undefined && b.domain_id !== row.domainId) throw badRequest('Update of `domain_id` is not allowed.');
  if (b.parent_id !== undefined && b.parent_id !== (row.parentId ?? row.domainId)) throw forbidden('Update of `parent_id` is not allowed.');
  if (b.is_domain === true) throw badRequest('Update of `is_domain` is not allowed.');
  const enabled = b.enabled ?? row.enabled;
  if (enabled && !row.enabled) {
    for (const id of await ancestorsOf(db, row.parentId)) {
      const p = await byId(db, id);
      if (p && !p.enabled) throw forbidden(`Cannot enable project ${row.id} since it has disabled parents.`);
    }
  }
  if (!enabled && row.enabled && (await subtreeOf(db, row.id)).some((p) => p.enabled)) {
    throw forbidden(`Cannot disable project ${row.id} since its subtree contains enabled projects.`);
  }
  const { options: _options, ...oldExtra } = row.extra;
  const extra: Record<string, unknown> = sizedExtra({ ...oldExtra, ...extraOf(b, PROJECT_FIELDS) });
  const options = cleanOptions({ ...oldOptions, ...b.options });
  if (Object.keys(options).length) extra.options = options;
  const next: ProjectRow = {
    ...row, name: b.name?.trim() ?? row.name, enabled, extra,
    description: b.description === undefined ? row.description : (b.description ?? ''),
  };
  try {
    await db.batch([
      db.update(projectTable).set({ name: next.name, description: next.description, enabled, extra }).where(eq(projectTable.id, row.id)),
      ...(b.tags ? [db.delete(projectTags).where(eq(projectTags.projectId, row.id))] : []),
      ...(b.tags ?? []).map((tag) => db.insert(projectTags).values({ projectId: row.id, tag })),
    ]);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate(next.name, row.domainId);
    throw err;
  }
  if (row.enabled && !enabled) await revocations(c.env).revoke({ projectId: row.id });
  const tags = (await tagsOf(db, [row.id])).get(row.id)!;
  return c.json({ project: projectView(c, next, tags) });
});

projects.delete('/projects/:project_id', async (c) => {
  const { db, row } = await load(c, 'identity:delete_project');
  if ((row.extra.options as Options | undefined)?.immutable === true) throw immutable(row.id);
  if (await db.select({ id: projectTable.id }).from(projectTable).where(eq(projectTable.parentId, row.id)).get()) {
    throw forbidden(`Cannot delete the project ${row.id} since it is not a leaf in the hierarchy. Use the cascade option if you want to delete a whole subtree.`);
  }
  await db.batch([
    db.delete(assignments).where(and(eq(assignments.targetType, 'project'), eq(assignments.targetId, row.id))),
    db.delete(projectTags).where(eq(projectTags.projectId, row.id)),
    db.delete(applicationCredentials).where(eq(applicationCredentials.projectId, row.id)),
    db.delete(projectTable).where(eq(projectTable.id, row.id)),
  ]);
  await revocations(c.env).revoke({ projectId: row.id });
  return c.body(null, 204);
});

// Project tags: https://docs.openstack.org/api-ref/identity/v3/#project-tags

async function tagList(db: Db, id: string) {
  return (await tagsOf(db, [id])).get(id)!;
}

projects.get('/projects/:project_id/tags', async (c) => {
  const { db, row } = await load(c, 'identity:list_project_tags');
  return c.json({ tags: await tagList(db, row.id) });
});

projects.put('/projects/:project_id/tags', async (c) => {
  const { db, row } = await load(c, 'identity:update_project_tags');
  const { tags } = await jsonBody(c, projectTagsUpdate);
  if ((row.extra.options as Options | undefined)?.immutable === true) throw immutable(row.id);
  await db.batch([
    db.delete(projectTags).where(eq(projectTags.projectId, row.id)),
    ...tags.map((tag) => db.insert(projectTags).values({ projectId: row.id, tag })),
  ]);
  return c.json({ tags: [...tags].sort() });
});

projects.delete('/projects/:project_id/tags', async (c) => {
  const { db, row } = await load(c, 'identity:delete_project_tags');
  if ((row.extra.options as Options | undefined)?.immutable === true) throw immutable(row.id);
  await db.delete(projectTags).where(eq(projectTags.projectId, row.id));
  return c.body(null, 204);
});

projects.get('/projects/:project_id/tags/:tag', async (c) => {
  const { db, row } = await load(c, 'identity:get_project_tag');
  const tag = c.req.param('tag');
  if (!(await tagList(db, row.id)).includes(tag)) throw notFound(`Could not find project tag: ${tag}.`);
  return c.body(null, 204);
});

projects.put('/projects/:project_id/tags/:tag', async (c) => {
  const { db, row } = await load(c, 'identity:create_project_tag');
  const tag = validate(projectTag, c.req.param('tag'));
  if ((row.extra.options as Options | undefined)?.immutable === true) throw immutable(row.id);
  const have = await tagList(db, row.id);
  if (!have.includes(tag)) {
    if (have.length >= MAX_TAGS) throw badRequest(`A project has at most ${MAX_TAGS} tags.`);
    await db.insert(projectTags).values({ projectId: row.id, tag }).onConflictDoNothing();
  }
  c.header('Location', selfLink(c, `projects/${row.id}/tags/${encodeURIComponent(tag)}`).self);
  return c.body(null, 201);
});

projects.delete('/projects/:project_id/tags/:tag', async (c) => {
  const { db, row } = await load(c, 'identity:delete_project_tag');
  const tag = c.req.param('tag');
  if ((row.extra.options as Options | undefined)?.immutable === true) throw immutable(row.id);
  if (!(await tagList(db, row.id)).includes(tag)) throw notFound(`Could not find project tag: ${tag}.`);
  await db.delete(projectTags).where(and(eq(projectTags.projectId, row.id), eq(projectTags.tag, tag)));
  return c.body(null, 204);
});
