// /v3/auth: token issue, validation, revocation, and what a token may be rescoped to.
import { and, eq, inArray } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { authToken, revocations, validateToken } from '../../../lib/auth';
import { ApiError, forbidden } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { assignments, domains, projects } from '../../../schema/keystone';
import { expandImplied, groupIdsOf } from '../assignments';
import { catalogFor } from '../catalog';
import { database } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { authV3 } from '../schemas/auth';
import { issueToken, tokenBody } from '../tokens';
import { selfLink } from '../views';

export const auth = new Hono<KeystoneEnv>();

auth.post('/tokens', async (c) => {
  const body = await jsonBody(c, authV3);
  return issueToken(c, body.auth, c.req.query('nocatalog') === undefined);
});

// Everything below needs the caller's own token.
auth.use('*', authToken());

async function subject(c: Context<KeystoneEnv>, rule: string) {
  const token = c.req.header('X-Subject-Token');
  if (!token) throw new ApiError(400, 'X-Subject-Token is required.');
  const caller = c.var.auth;
  const subject = token === caller.token ? caller : await validateToken(c.env, token, 404);
  authorize(c, rule, { 'target.token.user_id': subject.userId });
  return subject;
}

// Hono answers HEAD with the GET handler (and drops the body), so both live here.
auth.get('/tokens', async (c) => {
  if (c.req.method === 'HEAD') {
    await subject(c, 'identity:check_token');
    return c.body(null, 200);
  }
  const s = await subject(c, 'identity:validate_token');
  c.header('X-Subject-Token', s.token);
  return c.json(await tokenBody(database(c.env.DB), s.payload, c.req.query('nocatalog') === undefined));
});

auth.delete('/tokens', async (c) => {
  const s = await subject(c, 'identity:revoke_token');
  await revocations(c.env).revoke({ auditId: s.payload.auditIds[0]! });
  return c.body(null, 204);
});

auth.get('/catalog', async (c) => {
  const t = c.var.auth.payload;
  if (!t.project && !t.domain && !t.system) throw forbidden('A scoped token is required to read the catalog.');
  return c.json({ catalog: await catalogFor(database(c.env.DB), t.project?.id), links: selfLink(c, 'auth/catalog') });
});

/** Targets of a type on which the caller's user holds a role, directly, through a group or inherited. */
async function targetsWithRoles(c: Context<KeystoneEnv>, type: 'project' | 'domain') {
  const db = database(c.env.DB);
  const userId = c.var.auth.userId;
  const groups = await groupIdsOf(db, userId);
  const rows = await db
    .select({ targetType: assignments.targetType, targetId: assignments.targetId, inherited: assignments.inherited })
    .from(assignments)
    .where(inArray(assignments.actorId, [userId, ...groups]));
  const direct = new Set(rows.filter((r) => r.targetType === type && !r.inherited).map((r) => r.targetId));
  if (type === 'project') {
    const inheritedDomains = rows.filter((r) => r.targetType === 'domain' && r.inherited).map((r) => r.targetId);
    if (inheritedDomains.length) {
      for (const p of await db.select({ id: projects.id }).from(projects).where(inArray(projects.domainId, inheritedDomains))) {
        direct.add(p.id);
      }
    }
  }
  return [...direct];
}

auth.get('/projects', async (c) => {
  const ids = await targetsWithRoles(c, 'project');
  const db = database(c.env.DB);
  const rows = ids.length
    ? await db.select().from(projects).where(and(inArray(projects.id, ids), eq(projects.enabled, true)))
    : [];
  return c.json({
    projects: rows.map((p) => ({
      id: p.id, name: p.name, domain_id: p.domainId, parent_id: p.parentId ?? p.domainId,
      description: p.description, enabled: p.enabled, is_domain: false, links: selfLink(c, `projects/${p.id}`),
    })),
    links: selfLink(c, 'auth/projects'),
  });
});

auth.get('/domains', async (c) => {
  const ids = await targetsWithRoles(c, 'domain');
  const db = database(c.env.DB);
  const rows = ids.length
    ? await db.select().from(domains).where(and(inArray(domains.id, ids), eq(domains.enabled, true)))
    : [];
  return c.json({
    domains: rows.map((d) => ({ id: d.id, name: d.name, description: d.description, enabled: d.enabled, links: selfLink(c, `domains/${d.id}`) })),
    links: selfLink(c, 'auth/domains'),
  });
});

auth.get('/system', async (c) => {
  const db = database(c.env.DB);
  const userId = c.var.auth.userId;
  const groups = await groupIdsOf(db, userId);
  const rows = await db
    .select({ roleId: assignments.roleId })
    .from(assignments)
    .where(and(eq(assignments.targetType, 'system'), inArray(assignments.actorId, [userId, ...groups])));
  const has = (await expandImplied(db, rows.map((r) => r.roleId))).size > 0;
  return c.json({ system: has ? [{ all: true }] : [], links: selfLink(c, 'auth/system') });
});
