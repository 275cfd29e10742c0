// Role grants: a role for a user or group on a project, a domain or the system, and the
// OS-INHERIT grants that flow down to the projects below a domain or project.
import { and, eq, inArray } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { forbidden, notFound } from '../../../lib/errors';
import { assignments, domains, groups, projects, roles as roleTable, users } from '../../../schema/keystone';
import { subtreeOf, usersOfActor } from '../assignments';
import { database, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { collectionLinks } from '../views';
import { findRole, roleView } from './roles';

export const grants = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type TargetType = 'project' | 'domain' | 'system';
type ActorType = 'user' | 'group';
interface Grant {
  actor: { type: ActorType; id: string };
  target: { type: TargetType; id: string; domainId?: string };
  inherited: boolean;
}

async function findActor(db: Db, type: ActorType, id: string) {
  const table = type === 'user' ? users : groups;
  const row = await db.select({ id: table.id }).from(table).where(eq(table.id, id)).get();
  if (!row) throw notFound(`Could not find ${type}: ${id}.`);
}

/** Checks the target exists; a project's domain is what a domain-specific role must match. */
async function findTarget(db: Db, type: TargetType, id: string): Promise<Grant['target']> {
  if (type === 'system') return { type, id: 'all' };
  if (type === 'project') {
    const p = await db.select({ domainId: projects.domainId }).from(projects).where(eq(projects.id, id)).get();
    if (!p) throw notFound(`Could not find project: ${id}.`);
    return { type, id, domainId: p.domainId };
  }
  if (!(await db.select({ id: domains.id }).from(domains).where(eq(domains.id, id)).get())) throw notFound(`Could not find domain: ${id}.`);
  return { type, id, domainId: id };
}

async function resolve(c: C, target: TargetType, actor: ActorType, inherited: boolean): Promise<{ db: Db; grant: Grant }> {
  const db = database(c.env.DB);
  const actorId = c.req.param('actor_id')!;
  await findActor(db, actor, actorId);
  const t = await findTarget(db, target, c.req.param('target_id') ?? 'all');
  return { db, grant: { actor: { type: actor, id: actorId }, target: t, inherited } };
}

function where(g: Grant, roleId?: string) {
  return and(
    eq(assignments.actorType, g.actor.type),
    eq(assignments.actorId, g.actor.id),
    eq(assignments.targetType, g.target.type),
    eq(assignments.targetId, g.target.id),
    eq(assignments.inherited, g.inherited),
    roleId ? eq(assignments.roleId, roleId) : undefined,
  );
}

/** Keystone's policy names: system grants have their own rules. */
function rule(op: 'check' | 'list' | 'create' | 'revoke', g: { target: TargetType; actor: ActorType }) {
  if (g.target !== 'system') return `identity:${op}_grant`;
  return `identity:${op}_system_grant${op === 'list' ? 's' : ''}_for_${g.actor}`;
}

/** Tokens that relied on a removed grant stop being valid. */
async function revokeTokens(c: C, db: Db, g: Grant) {
  const userIds = await usersOfActor(db, g.actor);
  let scopes: { projectId?: string; domainId?: string }[];
  if (g.target.type === 'project' && !g.inherited) scopes = [{ projectId: g.target.id }];
  else if (g.target.type === 'project') {
    const all = await db.select({ id: projects.id, domainId: projects.domainId, parentId: projects.parentId }).from(projects);
    scopes = subtreeOf(all, g.target.id).slice(1).map((projectId) => ({ projectId }));
  } else if (g.target.type === 'domain') scopes = [{ domainId: g.target.id }];
  else scopes = [{}];
  for (const userId of userIds) for (const s of scopes) await revocations(c.env).revoke({ userId, ...s });
}

function register(base: string, target: TargetType, actor: ActorType, inherited: boolean) {
  const suffix = inherited ? '/inherited_to_projects' : '';
  const one = `${base}/roles/:role_id${suffix}`;
  const names = { target, actor };

  grants.put(one, async (c) => {
    authorize(c, rule('create', names));
    const { db, grant } = await resolve(c, target, actor, inherited);
    const role = await findRole(db, c.req.param('role_id')!);
    if (role.domainId && grant.target.domainId !== role.domainId) {
      throw forbidden(`Domain-specific role ${role.id} can only be granted within its domain ${role.domainId}.`);
    }
    await db
      .insert(assignments)
      .values({ actorType: actor, actorId: grant.actor.id, targetType: target, targetId: grant.target.id, roleId: role.id, inherited })
      .onConflictDoNothing();
    return c.body(null, 204);
  });

  // HEAD is served by this handler too (Hono answers HEAD with GET): both are a 204 check.
  /** The grant the path names, 404 unless the role is assigned there. */
  const existing = async (c: C) => {
    const { db, grant } = await resolve(c, target, actor, inherited);
    const role = await findRole(db, c.req.param('role_id')!);
    if (!(await db.select().from(assignments).where(where(grant, role.id)).get())) {
      throw notFound(`Could not find role assignment with role: ${role.id}, ${actor}: ${grant.actor.id}, ${target}: ${grant.target.id}.`);
    }
    return { db, grant, role };
  };

  grants.get(one, async (c) => {
    authorize(c, rule('check', names));
    await existing(c);
    return c.body(null, 204);
  });

  grants.delete(one, async (c) => {
    authorize(c, rule('revoke', names));
    const { db, grant, role } = await existing(c);
    await db.delete(assignments).where(where(grant, role.id));
    await revokeTokens(c, db, grant);
    return c.body(null, 204);
  });

  grants.get(`${base}/roles${suffix}`, async (c) => {
    authorize(c, rule('list', names));
    const { db, grant } = await resolve(c, target, actor, inherited);
    const ids = (await db.select({ roleId: assignments.roleId }).from(assignments).where(where(grant))).map((r) => r.roleId);
    const rows = ids.length ? await db.select().from(roleTable).where(inArray(roleTable.id, ids)).orderBy(roleTable.name) : [];
    return c.json({ roles: rows.map((r) => roleView(c, r)), links: collectionLinks(c) });
  });
}

for (const actor of ['user', 'group'] as const) {
  const plural = `${actor}s`;
  register(`/projects/:target_id/${plural}/:actor_id`, 'project', actor, false);
  register(`/domains/:target_id/${plural}/:actor_id`, 'domain', actor, false);
  register(`/system/${plural}/:actor_id`, 'system', actor, false);
  register(`/OS-INHERIT/domains/:target_id/${plural}/:actor_id`, 'domain', actor, true);
  register(`/OS-INHERIT/projects/:target_id/${plural}/:actor_id`, 'project', actor, true);
}

