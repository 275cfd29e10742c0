// Token validation for every service: a Hono middleware that opens X-Auth-Token with
// the shared key set, checks expiry and the revocation list, and sets c.var.auth.
import type { MiddlewareHandler } from 'hono';
import type { RevocationList } from '../durable-objects/revocation-list';
import { ApiError, unauthorized } from './errors';
import { RevocationMirror } from './revocation';
import { importKeySet, openToken, type TokenKey, type TokenPayload } from './token';

export interface AuthBindings {
  /** JSON array of base64url AES-256 keys, primary first. */
  TOKEN_KEYS: string;
  REVOCATIONS: DurableObjectNamespace<RevocationList>;
  /** How long an isolate trusts its mirror of the revocation list (ms). */
  REVOCATION_CACHE_TTL_MS?: string;
}

/** Who is calling, as a policy check and a handler see it. */
export interface AuthContext {
  token: string;
  payload: TokenPayload;
  userId: string;
  userDomainId: string;
  projectId?: string;
  projectDomainId?: string;
  domainId?: string;
  system: boolean;
  /** Role names, implied roles included. */
  roles: string[];
}

export type AuthVariables = { auth: AuthContext };

// Clients send the same token many times (keystonemiddleware caches validations for the
// same reason): an opened token is kept, and only expiry and revocation are checked again.
const OPENED_MAX = 4096;
let opened = new Map<string, TokenPayload>();

// Per isolate: the key set is imported once, and one revocation mirror is shared.
let keySet: { secret: string; keys: Promise<TokenKey[]> } | null = null;
let mirror: RevocationMirror | null = null;

export function tokenKeys(env: AuthBindings): Promise<TokenKey[]> {
  if (keySet?.secret !== env.TOKEN_KEYS) {
    keySet = { secret: env.TOKEN_KEYS, keys: importKeySet(env.TOKEN_KEYS) };
    opened = new Map(); // a key dropped from the set must stop opening its tokens at once
  }
  return keySet.keys;
}

export function revocations(env: AuthBindings): RevocationMirror {
  mirror ??= new RevocationMirror(env.REVOCATIONS, Number(env.REVOCATION_CACHE_TTL_MS ?? 1000));
  return mirror;
}

async function open(env: AuthBindings, token: string): Promise<TokenPayload | null> {
  const keys = tokenKeys(env); // first: a changed key set empties the cache
  const hit = opened.get(token);
  if (hit) return hit;
  const payload = await openToken(await keys, token);
  if (payload) {
    if (opened.size >= OPENED_MAX) opened = new Map();
    opened.set(token, payload);
  }
  return payload;
}

/** Opens and checks a token; throws 401 (or 404 for a subject token) when it is not valid now. */
export async function validateToken(env: AuthBindings, token: string, status: 401 | 404 = 401): Promise<AuthContext> {
  const fail = () => (status === 401 ? unauthorized() : new ApiError(404, 'Could not find token.'));
  const payload = await open(env, token);
  if (!payload || payload.expiresAt <= Date.now()) throw fail();
  if (await revocations(env).isRevoked(payload)) throw fail();
  return {
    token,
    payload,
    userId: payload.user.id,
    userDomainId: payload.user.domain.id,
    projectId: payload.project?.id,
    projectDomainId: payload.project?.domain.id,
    domainId: payload.domain?.id,
    system: payload.system === true,
    roles: payload.roles.map((r) => r.name),
  };
}

/** Requires a valid X-Auth-Token. */
export function authToken(): MiddlewareHandler<{ Bindings: AuthBindings; Variables: AuthVariables }> {
  return async (c, next) => {
    const token = c.req.header('X-Auth-Token');
    if (!token) throw unauthorized();
    c.set('auth', await validateToken(c.env, token));
    await next();
  };
}
