// /v3/users/{user_id}/application_credentials: a user delegates some of its roles on the
// token's project to an id and secret. The secret is shown once and stored only hashed.
import { and, eq, inArray } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { revocations } from '../../../lib/auth';
import { badRequest, conflict, forbidden, notFound } from '../../../lib/errors';
import { hashPassword } from '../../../lib/password';
import { base64url } from '../../../lib/token';
import { jsonBody } from '../../../lib/validation';
import { applicationCredentials as table, roles, users } from '../../../schema/keystone';
import { database, isUniqueViolation, newId, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { applicationCredentialCreate } from '../schemas/application-credentials';
import { collectionLinks, selfLink } from '../views';

export const applicationCredentials = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;
type Row = typeof table.$inferSelect;
type RoleRef = { id: string; name: string; domain_id: string | null };

/** ISO 8601 in, UTC ms out; a time without a zone is UTC, as in Keystone. */
function parseExpiry(text: string): number {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}(?::\d{2})?)(\.\d+)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(text.trim());
  const ms = m ? Date.parse(`${m[1]}T${m[2]}${m[3] ? m[3].slice(0, 4) : ''}${m[4] ?? 'Z'}`) : NaN;
  if (Number.isNaN(ms)) throw badRequest(`Invalid expires_at: '${text}' is not an ISO 8601 date and time.`);
  return ms;
}

/** Keystone's format for expires_at: microseconds, no zone. */
const showTime = (iso: string | null) => (iso ? new Date(iso).toISOString().replace(/\.(\d{3})Z$/, '.$1000') : null);

async function rolesOf(db: Db, ids: string[]): Promise<RoleRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.select().from(roles).where(inArray(roles.id, ids));
  return rows.map((r) => ({ id: r.id, name: r.name, domain_id: r.domainId || null }));
}

async function view(c: C, db: Db, r: Row, secret?: string) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    project_id: r.projectId,
    expires_at: showTime(r.expiresAt),
    unrestricted: r.unrestricted,
    roles: await rolesOf(db, r.roleIds),
    ...(secret !== undefined ? { secret } : {}),
    links: selfLink(c, `users/${r.userId}/application_credentials/${r.id}`),
  };
}

async function assertUser(db: Db, userId: string) {
  if (!(await db.select({ id: users.id }).from(users).where(eq(users.id, userId)).get())) throw notFound(`Could not find user: ${userId}.`);
}

/** A token from a restricted application credential may not mint or remove credentials. */
function assertUnrestricted(c: C) {
  const ac = c.var.auth.payload.applicationCredential;
  if (ac?.restricted) {
    throw forbidden("Using method 'application_credential' is not allowed for managing additional application credentials.");
  }
}

applicationCredentials.post('/users/:user_id/application_credentials', async (c) => {
  const userId = c.req.param('user_id');
  authorize(c, 'identity:create_application_credential', { target: { user: { id: userId } } });
  const { application_credential: body } = await jsonBody(c, applicationCredentialCreate);
  assertUnrestricted(c);
  const auth = c.var.auth;
  if (auth.userId !== userId) throw forbidden('Cannot create an application credential for another user.');
  if (!auth.projectId) throw badRequest('An application credential is created with a project-scoped token.');
  if (body.access_rules?.length) throw badRequest('Access rules are not supported.');
  let expiresAt: string | null = null;
  if (body.expires_at) {
    const ms = parseExpiry(body.expires_at);
    if (ms <= Date.now()) throw badRequest(`The expiration date ${body.expires_at} is in the past.`);
    expiresAt = new Date(ms).toISOString();
  }

  // The roles delegated must be among the token's; none named means all of them.
  const db = database(c.env.DB);
  const held = auth.payload.roles;
  let roleIds: string[];
  if (body.roles?.length) {
    roleIds = [];
    for (const ref of body.roles) {
      let id = ref.id ?? held.find((r) => r.name === ref.name)?.id;
      if (!id) {
        const named = await db.select({ id: roles.id }).from(roles).where(and(eq(roles.name, ref.name!), eq(roles.domainId, ref.domain_id ?? ''))).get();
        if (!named) throw notFound(`Could not find role: ${ref.name}.`);
        id = named.id;
      }
      if (!held.some((r) => r.id === id)) throw badRequest('Cannot create an application credential with unassigned role');
      if (!roleIds.includes(id)) roleIds.push(id);
    }
  } else {
    roleIds = held.map((r) => r.id);
  }

  const secret = body.secret || base64url(crypto.getRandomValues(new Uint8Array(64)));
  const row: Row = {
    id: newId(),
    name: body.name,
    userId,
    projectId: auth.projectId,
    secretHash: await hashPassword(secret),
    description: body.description ?? null,
    expiresAt,
    unrestricted: body.unrestricted ?? false,
    roleIds,
    createdAt: new Date().toISOString(),
  };
  try {
    await db.insert(table).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Duplicate application credential name: ${body.name}.`);
    throw err;
  }
  return c.json({ application_credential: await view(c, db, row, secret) }, 201);
});

applicationCredentials.get('/users/:user_id/application_credentials', async (c) => {
  const userId = c.req.param('user_id');
  authorize(c, 'identity:list_application_credentials', { target: { user: { id: userId } } });
  const db = database(c.env.DB);
  await assertUser(db, userId);
  const name = c.req.query('name');
  const rows = await db
    .select()
    .from(table)
    .where(and(eq(table.userId, userId), name !== undefined ? eq(table.name, name) : undefined))
    .orderBy(table.name);
  const list = [];
  for (const r of rows) list.push(await view(c, db, r));
  return c.json({ application_credentials: list, links: collectionLinks(c) });
});

async function findCredential(c: C, rule: string): Promise<{ db: Db; row: Row }> {
  const userId = c.req.param('user_id')!;
  authorize(c, rule, { target: { user: { id: userId } } });
  const db = database(c.env.DB);
  await assertUser(db, userId);
  const id = c.req.param('application_credential_id')!;
  const row = await db.select().from(table).where(and(eq(table.id, id), eq(table.userId, userId))).get();
  if (!row) throw notFound(`Could not find Application Credential: ${id}.`);
  return { db, row };
}

applicationCredentials.get('/users/:user_id/application_credentials/:application_credential_id', async (c) => {
  const { db, row } = await findCredential(c, 'identity:get_application_credential');
  return c.json({ application_credential: await view(c, db, row) });
});

applicationCredentials.delete('/users/:user_id/application_credentials/:application_credential_id', async (c) => {
  const { db, row } = await findCredential(c, 'identity:delete_application_credential');
  assertUnrestricted(c);
  await db.delete(table).where(eq(table.id, row.id));
  await revocations(c.env).revoke({ applicationCredentialId: row.id });
  return c.body(null, 204);
});
