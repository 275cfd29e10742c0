// Token issue: authenticate the methods, resolve the scope, gather the effective roles,
// seal a self-contained token. Every failure to authenticate is the same 401.
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { revocations, tokenKeys, validateToken } from '../../lib/auth';
import { ApiError, badRequest, unauthorized } from '../../lib/errors';
import { verifyPassword } from '../../lib/password';
import { newAuditId, sealToken, type NamedRef, type ScopedRef, type TokenPayload } from '../../lib/token';
import { applicationCredentials, domains, projects, users } from '../../schema/keystone';
import { effectiveRoles, expandImplied, type ScopeTarget } from './assignments';
import { catalogFor } from './catalog';
import { database, type Db } from './db';
import type { KeystoneEnv } from './env';
import { memo, syncIdentityCache } from './identity-cache';
import type { AuthRequest } from './schemas/auth';

type UserRow = typeof users.$inferSelect;
type DomainRef = { id?: string; name?: string };

async function findDomain(db: Db, ref: DomainRef | undefined) {
  if (!ref || (!ref.id && !ref.name)) throw badRequest('Expecting to find domain in user or project - the server could not comply with the request since it is either malformed or otherwise incorrect.');
  const row = await memo(`domain:${ref.id ? `id:${ref.id}` : `name:${ref.name}`}`, () =>
    db.select().from(domains).where(ref.id ? eq(domains.id, ref.id) : eq(domains.name, ref.name!)).get(),
  );
  return row ?? null;
}

async function findUser(db: Db, ref: { id?: string; name?: string; domain?: DomainRef }): Promise<UserRow> {
  let row: UserRow | undefined;
  if (ref.id) {
    row = await memo(`user:id:${ref.id}`, () => db.select().from(users).where(eq(users.id, ref.id!)).get());
  } else if (ref.name) {
    const domain = await findDomain(db, ref.domain);
    if (!domain) throw unauthorized();
    const { name } = ref;
    row = await memo(`user:name:${domain.id}:${name}`, () =>
      db.select().from(users).where(and(eq(users.domainId, domain.id), eq(users.name, name))).get(),
    );
  } else {
    throw badRequest('Expecting to find id or name in user.');
  }
  if (!row || !row.enabled) throw unauthorized();
  const domain = await findDomain(db, { id: row.domainId });
  if (!domain?.enabled) throw unauthorized();
  return row;
}

async function domainRef(db: Db, id: string): Promise<NamedRef> {
  const d = await findDomain(db, { id });
  return d ? { id: d.id, name: d.name } : { id, name: id };
}

function projectById(db: Db, id: string) {
  return memo(`project:id:${id}`, () => db.select().from(projects).where(eq(projects.id, id)).get());
}

function rolesOn(db: Db, userId: string, target: ScopeTarget) {
  const key = target.type === 'system' ? 'system' : `${target.type}:${target.id}`;
  return memo(`roles:${userId}:${key}`, () => effectiveRoles(db, userId, target));
}

interface Authenticated {
  user: UserRow;
  methods: string[];
  auditIds: string[];
  expiresAt?: number;
  appCred?: typeof applicationCredentials.$inferSelect;
  /** Scope of the token being rescoped, used when the request names none. */
  parent?: TokenPayload;
}

async function authenticate(c: Context<KeystoneEnv>, db: Db, auth: AuthRequest): Promise<Authenticated> {
  const { identity } = auth;
  const method = identity.methods[0]!;
  if (identity.methods.length > 1 && new Set(identity.methods).size > 1) {
    throw unauthorized('Authenticating with more than one method at once is not supported.');
  }
  if (method === 'password') {
    if (!identity.password) throw badRequest("Expecting to find 'password' in identity.");
    const user = await findUser(db, identity.password.user);
    if (!(await verifyPassword(identity.password.user.password, user.passwordHash))) throw unauthorized();
    return { user, methods: ['password'], auditIds: [newAuditId()] };
  }
  if (method === 'token') {
    if (!identity.token) throw badRequest("Expecting to find 'token' in identity.");
    const parent = (await validateToken(c.env, identity.token.id)).payload;
    if (parent.applicationCredential) throw new ApiError(403, 'Tokens issued through an application credential cannot be rescoped.');
    const user = await findUser(db, { id: parent.user.id });
    const methods = [...new Set(['token', ...parent.methods])];
    return { user, methods, auditIds: [newAuditId(), parent.auditIds[0]!], expiresAt: parent.expiresAt, parent };
  }
  const ac = identity.application_credential;
  if (!ac) throw badRequest("Expecting to find 'application_credential' in identity.");
  let row;
  if (ac.id) {
    row = await db.select().from(applicationCredentials).where(eq(applicationCredentials.id, ac.id)).get();
  } else if (ac.name && ac.user) {
    const owner = await findUser(db, ac.user);
    row = await db
      .select()
      .from(applicationCredentials)
      .where(and(eq(applicationCredentials.userId, owner.id), eq(applicationCredentials.name, ac.name)))
      .get();
  } else {
    throw badRequest('An application credential is found by id, or by name and user.');
  }
  if (!row || (row.expiresAt && Date.parse(row.expiresAt) <= Date.now())) throw unauthorized();
  if (!(await verifyPassword(ac.secret, row.secretHash))) throw unauthorized();
  const user = await findUser(db, { id: row.userId });
  const expiresAt = row.expiresAt ? Date.parse(row.expiresAt) : undefined;
  return { user, methods: ['application_credential'], auditIds: [newAuditId()], appCred: row, expiresAt };
}

interface Scope {
  target: ScopeTarget | null;
  project?: ScopedRef;
  domain?: NamedRef;
}

async function projectScope(db: Db, row: typeof projects.$inferSelect | undefined): Promise<Scope> {
  if (!row || !row.enabled) throw unauthorized();
  const domain = await findDomain(db, { id: row.domainId });
  if (!domain?.enabled) throw unauthorized();
  return {
    target: { type: 'project', id: row.id, domainId: row.domainId, parentId: row.parentId },
    project: { id: row.id, name: row.name, domain: { id: domain.id, name: domain.name } },
  };
}

async function resolveScope(db: Db, auth: AuthRequest, who: Authenticated): Promise<Scope> {
  const scope = auth.scope;
  if (who.appCred) {
    if (scope && scope !== 'unscoped') throw unauthorized('Application credentials cannot request a scope.');
    return projectScope(db, await projectById(db, who.appCred.projectId));
  }
  if (scope === 'unscoped') return { target: null };
  if (scope?.project) {
    const p = scope.project;
    if (p.id) return projectScope(db, await projectById(db, p.id));
    if (!p.name) throw badRequest('Expecting to find id or name in project.');
    const domain = await findDomain(db, p.domain);
    if (!domain) throw unauthorized();
    const { name } = p;
    return projectScope(
      db,
      await memo(`project:name:${domain.id}:${name}`, () =>
        db.select().from(projects).where(and(eq(projects.domainId, domain.id), eq(projects.name, name))).get(),
      ),
    );
  }
  if (scope?.domain) {
    const d = await findDomain(db, scope.domain);
    if (!d || !d.enabled) throw unauthorized();
    return { target: { type: 'domain', id: d.id }, domain: { id: d.id, name: d.name } };
  }
  if (scope?.system) return { target: { type: 'system' } };
  // No scope asked: a rescoped token keeps nothing, a password login uses the default project.
  if (!who.parent && who.user.defaultProjectId) {
    const row = await projectById(db, who.user.defaultProjectId);
    if (row?.enabled) {
      const s = await projectScope(db, row);
      if ((await rolesOn(db, who.user.id, s.target!)).length > 0) return s;
    }
  }
  return { target: null };
}

/** Builds the token's claims; 401 when the user holds no role on the scope asked for. */
async function claims(db: Db, env: KeystoneEnv['Bindings'], who: Authenticated, scope: Scope): Promise<TokenPayload> {
  const now = Date.now();
  const lifetime = Number(env.TOKEN_EXPIRATION || 3600) * 1000;
  let roles: NamedRef[] = [];
  if (scope.target) {
    roles = await rolesOn(db, who.user.id, scope.target);
    if (who.appCred) {
      // The credential delegates its own roles (and what they imply), only while the user still holds them.
      const { roleIds } = who.appCred;
      const delegated = await memo(`implied:${roleIds.join(',')}`, () => expandImplied(db, roleIds));
      roles = roles.filter((r) => delegated.has(r.id));
    }
    if (roles.length === 0) {
      const what = scope.project ? `project ${scope.project.id}` : scope.domain ? `domain ${scope.domain.id}` : 'the system';
      throw unauthorized(`User ${who.user.id} has no access to ${what}.`);
    }
  }
  const payload: TokenPayload = {
    user: { id: who.user.id, name: who.user.name, domain: await domainRef(db, who.user.domainId) },
    methods: who.methods,
    issuedAt: now,
    expiresAt: Math.min(who.expiresAt ?? Infinity, now + lifetime),
    auditIds: who.auditIds,
    roles,
  };
  if (scope.project) payload.project = scope.project;
  if (scope.domain) payload.domain = scope.domain;
  if (scope.target?.type === 'system') payload.system = true;
  if (who.appCred) {
    payload.applicationCredential = { id: who.appCred.id, name: who.appCred.name, restricted: !who.appCred.unrestricted };
  }
  return payload;
}

function iso(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

/** The token body as Keystone returns it on issue and validation. */
export async function tokenBody(db: Db, t: TokenPayload, withCatalog: boolean) {
  const body: Record<string, unknown> = {
    methods: t.methods,
    user: { ...t.user, password_expires_at: null },
    audit_ids: t.auditIds,
    expires_at: iso(t.expiresAt),
    issued_at: iso(t.issuedAt),
  };
  if (t.project) {
    body.project = { id: t.project.id, name: t.project.name, domain: t.project.domain };
    body.is_domain = false;
  }
  if (t.domain) body.domain = t.domain;
  if (t.system) body.system = { all: true };
  if (t.project || t.domain || t.system) body.roles = t.roles;
  if (t.applicationCredential) body.application_credential = t.applicationCredential;
  if (withCatalog && (t.project || t.domain || t.system)) body.catalog = await catalogFor(db, t.project?.id);
  return { token: body };
}

export async function issueToken(c: Context<KeystoneEnv>, auth: AuthRequest, withCatalog: boolean) {
  const db = database(c.env.DB);
  await syncIdentityCache(revocations(c.env));
  const who = await authenticate(c, db, auth);
  const scope = await resolveScope(db, auth, who);
  const payload = await claims(db, c.env, who, scope);
  const token = await sealToken(await tokenKeys(c.env), payload);
  c.header('X-Subject-Token', token);
  return c.json(await tokenBody(db, payload, withCatalog), 201);
}
