// /v3/roles and the implied-role rules between them (/v3/roles/{id}/implies, /v3/role_inferences).
import { and, eq, inArray, or } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { badRequest, conflict, forbidden, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { assignments, domains, impliedRoles, roles as roleTable } from '../../../schema/keystone';
import { usersOfActor } from '../assignments';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { roleCreate, roleUpdate } from '../schemas/roles';
import { page, selfLink, withExtra } from '../views';

export const roles = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type RoleRow = typeof roleTable.$inferSelect;

/** Options live in extra, beside the free-form attributes. */
function splitOptions(extra: Record<string, unknown>) {
  const { options, ...rest } = extra;
  return { options: (options ?? {}) as Record<string, unknown>, rest };
}

export function roleView(c: C, r: RoleRow) {
  const { options, rest } = splitOptions(r.extra);
  return withExtra(
    { id: r.id, name: r.name, domain_id: r.domainId || null, description: r.description || null, options, links: selfLink(c, `roles/${r.id}`) },
    rest,
  );
}

export async function findRole(db: Db, id: string): Promise<RoleRow> {
  const row = await db.select().from(roleTable).where(eq(roleTable.id, id)).get();
  if (!row) throw notFound(`Could not find role: ${id}.`);
  return row;
}

async function assertDomain(db: Db, domainId: string) {
  if (!(await db.select({ id: domains.id }).from(domains).where(eq(domains.id, domainId)).get())) {
    throw notFound(`Could not find domain: ${domainId}.`);
  }
}

const isImmutable = (r: RoleRow) => (r.extra.options as { immutable?: boolean } | undefined)?.immutable === true;

roles.post('/roles', async (c) => {
  authorize(c, 'identity:create_role');
  const { role } = await jsonBody(c, roleCreate);
  const { name, description, domain_id, options, ...extra } = role;
  const db = database(c.env.DB);
  if (domain_id) await assertDomain(db, domain_id);
  const row: RoleRow = {
    id: newId(), name, domainId: domain_id ?? '', description: description ?? '',
    extra: options ? { ...extra, options } : extra, createdAt: new Date().toISOString(),
  };
  try {
    await db.insert(roleTable).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${name}.`);
    throw err;
  }
  return c.json({ role: roleView(c, row) }, 201);
});

roles.get('/roles', async (c) => {
  authorize(c, 'identity:list_roles');
  const name = c.req.query('name');
  // Keystone lists only global roles unless a domain is asked for.
  const domainId = c.req.query('domain_id') ?? '';
  const where = and(eq(roleTable.domainId, domainId), name !== undefined ? eq(roleTable.name, name) : undefined);
  const rows = await database(c.env.DB).select().from(roleTable).where(where).orderBy(roleTable.name);
  const { items, links } = page(c, rows);
  return c.json({ roles: items.map((r) => roleView(c, r)), links });
});

roles.get('/roles/:role_id', async (c) => {
  authorize(c, 'identity:get_role');
  return c.json({ role: roleView(c, await findRole(database(c.env.DB), c.req.param('role_id'))) });
});

roles.patch('/roles/:role_id', async (c) => {
  authorize(c, 'identity:update_role');
  const { role } = await jsonBody(c, roleUpdate);
  const db = database(c.env.DB);
  const have = await findRole(db, c.req.param('role_id'));
  const { name, description, domain_id, options, ...extra } = role;
  if (domain_id !== undefined && (domain_id ?? '') !== have.domainId) throw badRequest('Update of `domain_id` is not allowed.');
  const { options: oldOptions, rest } = splitOptions(have.extra);
  // An immutable role may only have its immutable option cleared.
  if (isImmutable(have) && !(options?.immutable === false && name === undefined && description === undefined && Object.keys(extra).length === 0)) {
    throw forbidden(`Role ${have.id} is immutable and cannot be updated.`);
  }
  const newOptions = options ? { ...oldOptions, ...options } : oldOptions;
  const update = {
    name: name ?? have.name,
    description: description === undefined ? have.description : (description ?? ''),
    extra: { ...rest, ...extra, ...(Object.keys(newOptions).length ? { options: newOptions } : {}) },
  };
  try {
    await db.update(roleTable).set(update).where(eq(roleTable.id, have.id));
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Conflict occurred attempting to store role - Duplicate entry found with name ${update.name}.`);
    throw err;
  }
  return c.json({ role: roleView(c, { ...have, ...update }) });
});

roles.delete('/roles/:role_id', async (c) => {
  authorize(c, 'identity:delete_role');
  const db = database(c.env.DB);
  const role = await findRole(db, c.req.param('role_id'));
  if (isImmutable(role)) throw forbidden(`Role ${role.id} is immutable and cannot be deleted.`);
  const held = await db.select().from(assignments).where(eq(assignments.roleId, role.id));
  await db.batch([
    db.delete(assignments).where(eq(assignments.roleId, role.id)),
    db.delete(impliedRoles).where(or(eq(impliedRoles.priorRoleId, role.id), eq(impliedRoles.impliedRoleId, role.id))),
    db.delete(roleTable).where(eq(roleTable.id, role.id)),
  ]);
  // Tokens carry their roles: those of every user who held this one stop being valid.
  const userIds = new Set<string>();
  for (const a of held) for (const u of await usersOfActor(db, { type: a.actorType, id: a.actorId })) userIds.add(u);
  for (const userId of userIds) await revocations(c.env).revoke({ userId });
  return c.body(null, 204);
});

// --- implied roles ---

const ref = (c: C, r: RoleRow) => ({ id: r.id, name: r.name, links: selfLink(c, `roles/${r.id}`) });

async function rulePair(c: C) {
  const db = database(c.env.DB);
  const prior = await findRole(db, c.req.param('prior_role_id')!);
  const implied = await findRole(db, c.req.param('implied_role_id')!);
  return { db, prior, implied };
}

async function ruleExists(db: Db, priorId: string, impliedId: string) {
  return !!(await db
    .select()
    .from(impliedRoles)
    .where(and(eq(impliedRoles.priorRoleId, priorId), eq(impliedRoles.impliedRoleId, impliedId)))
    .get());
}

roles.put('/roles/:prior_role_id/implies/:implied_role_id', async (c) => {
  authorize(c, 'identity:create_implied_role');
  const { db, prior, implied } = await rulePair(c);
  if (prior.id === implied.id) throw badRequest('A role cannot imply itself.');
  // Keystone forbids a domain-specific role as the implied role.
  if (implied.domainId) throw forbidden(`Role ${implied.id} is domain-specific and cannot be an implied role.`);
  const rules = await db.select().from(impliedRoles);
  // No cycles: the implied role must not already (transitively) imply the prior role.
  const reach = new Set([implied.id]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rules) if (reach.has(r.priorRoleId) && !reach.has(r.impliedRoleId)) (reach.add(r.impliedRoleId), (grew = true));
  }
  if (reach.has(prior.id)) throw badRequest(`Role ${implied.id} already implies ${prior.id}: the rule would make a cycle.`);
  await db.insert(impliedRoles).values({ priorRoleId: prior.id, impliedRoleId: implied.id }).onConflictDoNothing();
  return c.json(
    { role_inference: { prior_role: ref(c, prior), implies: ref(c, implied) }, links: selfLink(c, `roles/${prior.id}/implies/${implied.id}`) },
    201,
  );
});

roles.get('/roles/:prior_role_id/implies/:implied_role_id', async (c) => {
  const head = c.req.method === 'HEAD';
  authorize(c, head ? 'identity:check_implied_role' : 'identity:get_implied_role');
  const { db, prior, implied } = await rulePair(c);
  if (!(await ruleExists(db, prior.id, implied.id))) throw notFound(`${prior.id} does not imply ${implied.id}.`);
  if (head) return c.body(null, 204);
  return c.json({
    role_inference: { prior_role: ref(c, prior), implies: ref(c, implied) },
    links: selfLink(c, `roles/${prior.id}/implies/${implied.id}`),
  });
});

roles.delete('/roles/:prior_role_id/implies/:implied_role_id', async (c) => {
  authorize(c, 'identity:delete_implied_role');
  const { db, prior, implied } = await rulePair(c);
  if (!(await ruleExists(db, prior.id, implied.id))) throw notFound(`${prior.id} does not imply ${implied.id}.`);
  await db.delete(impliedRoles).where(and(eq(impliedRoles.priorRoleId, prior.id), eq(impliedRoles.impliedRoleId, implied.id)));
  return c.body(null, 204);
});

roles.get('/roles/:prior_role_id/implies', async (c) => {
  authorize(c, 'identity:list_implied_roles');
  const db = database(c.env.DB);
  const prior = await findRole(db, c.req.param('prior_role_id'));
  const rules = await db.select().from(impliedRoles).where(eq(impliedRoles.priorRoleId, prior.id));
  const implied = rules.length
    ? await db.select().from(roleTable).where(inArray(roleTable.id, rules.map((r) => r.impliedRoleId)))
    : [];
  return c.json({
    role_inference: { prior_role: ref(c, prior), implies: implied.map((r) => ref(c, r)) },
    links: selfLink(c, `roles/${prior.id}/implies`),
  });
});

roles.get('/role_inferences', async (c) => {
  authorize(c, 'identity:list_role_inference_rules');
  const db = database(c.env.DB);
  const [rules, all] = await db.batch([db.select().from(impliedRoles), db.select().from(roleTable)]);
  const byId = new Map(all.map((r) => [r.id, r]));
  const priors = [...new Set(rules.map((r) => r.priorRoleId))].filter((id) => byId.has(id));
  return c.json({
    role_inferences: priors.map((p) => ({
      prior_role: ref(c, byId.get(p)!),
      implies: rules.filter((r) => r.priorRoleId === p && byId.has(r.impliedRoleId)).map((r) => ref(c, byId.get(r.impliedRoleId)!)),
    })),
    links: selfLink(c, 'role_inferences'),
  });
});
