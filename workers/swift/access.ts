// Who may do what in Swift, as keystoneauth and the tempurl middleware decide it: a temp
// URL alone decides when its parameters are present; then the reseller admin, the
// account's operators and readers; then the container's ACLs. Every route asks here.
import type { Context, MiddlewareHandler } from 'hono';
import { validateToken, type AuthContext } from '../../lib/auth';
import { ApiError, badRequest, forbidden, unauthorized } from '../../lib/errors';
import { AclError, aclGrant, aclKind, cleanAcl, roleGrant, type AccessRequest, type SwiftIdentity, type SwiftOp } from './acl';
import type { SwiftEnv } from './env';
import { capabilities } from './routes/info';
import { getAccountMetadata, getContainerInfo } from './storage';
import {
  TEMPURL_DISALLOWED_HEADERS,
  TEMPURL_INFO,
  keysFromMetadata,
  strippedOutgoing,
  tempUrlDisposition,
  tempUrlParams,
  verifyTempUrl,
  type KeyScope,
  type TempUrlParams,
} from './tempurl';

// Every route imports this module, so /info offers temp URLs whenever routes exist.
capabilities.tempurl = TEMPURL_INFO;

export type { SwiftOp } from './acl';
export { AclError, cleanAcl } from './acl';

export interface SwiftTarget {
  /** AUTH_<project_id> */
  account: string;
  container?: string;
  object?: string;
}

/** The project an account belongs to: AUTH_<project_id>. */
export function projectOf(account: string): string | null {
  return account.startsWith('AUTH_') && account.length > 5 ? account.slice(5) : null;
}

/**
 * Headers only the account's owner sees in responses and may set (Swift's
 * swift_owner_headers); routes drop them for callers where isSwiftOwner(c) is false.
 */
export const SWIFT_OWNER_HEADERS = [
  'x-container-read',
  'x-container-write',
  'x-container-sync-key',
  'x-container-sync-to',
  'x-account-meta-temp-url-key',
  'x-account-meta-temp-url-key-2',
  'x-container-meta-temp-url-key',
  'x-container-meta-temp-url-key-2',
  'x-account-access-control',
];

type ContainerInfo = Awaited<ReturnType<typeof getContainerInfo>>;

interface TempUrlGrant {
  account: string;
  container: string;
  object: string;
  scope: KeyScope;
  params: TempUrlParams;
}

// Per request (keyed by the Request object, which lives as long as the request): what was
// decided once is not decided again when a route asks several times (bulk delete, copies,
// large-object segments).
interface RequestState {
  /** undefined: not looked at yet; null: no token or an invalid one (anonymous). */
  who?: AuthContext | null;
  /** undefined: not looked at yet; null: not a temp URL request. */
  tempUrl?: TempUrlGrant | null;
  owner: boolean;
  containers: Map<string, Promise<ContainerInfo>>;
}
const states = new WeakMap<Request, RequestState>();

function stateOf(c: Context<SwiftEnv>): RequestState {
  let s = states.get(c.req.raw);
  if (!s) {
    s = { owner: false, containers: new Map() };
    states.set(c.req.raw, s);
  }
  return s;
}

/** Whether the caller owns the account of this request (may see and set ACLs and keys). */
export function isSwiftOwner(c: Context<SwiftEnv>): boolean {
  return states.get(c.req.raw)?.owner ?? false;
}

/** Drops the owner-only headers from a response's headers unless the caller owns the account. */
export function hideOwnerHeaders(c: Context<SwiftEnv>, headers: Record<string, string>): Record<string, string> {
  if (isSwiftOwner(c)) return headers;
  for (const name of Object.keys(headers)) if (SWIFT_OWNER_HEADERS.includes(name.toLowerCase())) delete headers[name];
  return headers;
}

/**
 * Cleans X-Container-Read/-Write values about to be stored (lower-case names, as in a
 * metadata update) the way Swift's clean_acl does; 400 for a value Swift refuses.
 */
export function cleanContainerAcls(set: Record<string, string>): void {
  for (const name of ['x-container-read', 'x-container-write']) {
    const value = set[name];
    if (!value) continue; // empty: the ACL is being removed
    try {
      set[name] = cleanAcl(name, value);
    } catch (err) {
      throw err instanceof AclError ? badRequest(err.message) : err;
    }
  }
}

/** The container's metadata and ACLs, read once per request. */
export function containerInfoOnce(c: Context<SwiftEnv>, account: string, container: string): Promise<ContainerInfo> {
  const s = stateOf(c);
  const key = `${account}/${container}`;
  const known = s.containers.get(key);
  if (known) return known;
  const p = getContainerInfo(c.env, account, container);
  s.containers.set(key, p);
  return p;
}

const TEMPURL_DISALLOWED_QUERY = ['multipart-manifest', 'symlink', 'version-id', 'heartbeat'];

const tempUrlInvalid = () => new ApiError(401, 'Temp URL invalid');

// The Swift path of the request: what precedes /v1/ is the mount (/object-storage).
function swiftPath(c: Context<SwiftEnv>): { mount: string; parts: string[] } | null {
  let pathname: string;
  try {
    pathname = decodeURIComponent(new URL(c.req.url).pathname);
  } catch {
    return null;
  }
  const i = pathname.indexOf('/v1/');
  if (i < 0) return null;
  return { mount: pathname.slice(0, i), parts: pathname.slice(i + 1).split('/') };
}

/** The temp URL this request carries, checked; null when it carries none; throws 401/400 when invalid. */
async function tempUrlGrant(c: Context<SwiftEnv>): Promise<TempUrlGrant | null> {
  const s = stateOf(c);
  if (s.tempUrl !== undefined) return s.tempUrl;
  const url = new URL(c.req.url);
  const params = tempUrlParams(url.searchParams, Math.floor(Date.now() / 1000));
  if (params === null) return (s.tempUrl = null);
  if (params === 'invalid') throw tempUrlInvalid();
  const path = swiftPath(c);
  // Only object paths: /v1/<account>/<container>/<object...>
  if (!path || path.parts.length < 4) throw tempUrlInvalid();
  const [, account = '', container = '', ...rest] = path.parts;
  const object = rest.join('/');
  if (!account || !container) throw tempUrlInvalid();
  const [accountMeta, containerInfo] = await Promise.all([getAccountMetadata(c.env, account), containerInfoOnce(c, account, container)]);
  const keys = [...keysFromMetadata(accountMeta, 'account'), ...keysFromMetadata(containerInfo?.metadata, 'container')];
  const scope = await verifyTempUrl({
    method: c.req.method,
    account,
    container,
    object,
    params,
    keys,
    // Signed over /v1/... as Swift's own tools do, or over the storage URL's full path.
    mounts: path.mount ? ['', path.mount] : [''],
    clientAddress: c.req.header('CF-Connecting-IP'),
  });
  if (!scope) throw tempUrlInvalid();
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') {
    for (const h of TEMPURL_DISALLOWED_HEADERS) {
      if (c.req.header(h) !== undefined) throw new ApiError(400, `The header '${titleCase(h)}' is not allowed in this tempurl`);
    }
    // Swift drops every other query parameter of a temp URL; the routes here read the
    // request as sent, so the ones that would change what a write does are refused instead.
    for (const q of TEMPURL_DISALLOWED_QUERY) {
      if (url.searchParams.has(q)) throw new ApiError(400, `The parameter '${q}' is not allowed in this tempurl`);
    }
  }
  return (s.tempUrl = { account, container, object, scope, params });
}

const titleCase = (h: string) => h.replace(/(^|-)([a-z])/g, (_m, d: string, ch: string) => d + ch.toUpperCase());

// An invalid or revoked token counts as none: keystonemiddleware's delay_auth_decision
// passes it on as unconfirmed, and keystoneauth then authorizes it as anonymous.
async function caller(c: Context<SwiftEnv>): Promise<AuthContext | null> {
  const s = stateOf(c);
  if (s.who !== undefined) return s.who;
  const token = c.req.header('X-Auth-Token') ?? c.req.header('X-Storage-Token');
  let who: AuthContext | null = null;
  if (token) {
    try {
      who = await validateToken(c.env, token);
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 401) throw err;
    }
  }
  if (who) c.set('auth', who);
  return (s.who = who);
}

function identityOf(auth: AuthContext): SwiftIdentity {
  return {
    userId: auth.userId,
    userName: auth.payload.user.name,
    userDomainId: auth.userDomainId,
    projectId: auth.projectId,
    projectName: auth.payload.project?.name,
    projectDomainId: auth.projectDomainId,
    roles: auth.roles,
  };
}

const describeTarget = (t: SwiftTarget) => [t.account, t.container, t.object].filter(Boolean).join('/');

/**
 * Decides whether the request may do op on target; throws 401 when the caller is
 * anonymous (or a temp URL is invalid) and 403 when an authenticated caller's grants do
 * not reach. Returns the caller (undefined for anonymous access that an ACL or a temp
 * URL allows).
 */
export async function authorizeSwift(c: Context<SwiftEnv>, op: SwiftOp, target: SwiftTarget): Promise<AuthContext | undefined> {
  // A temp URL decides alone (as the middleware overrides keystoneauth); it reaches its
  // account, or only its container when a container key signed it.
  const grant = await tempUrlGrant(c);
  if (grant) {
    if (target.account === grant.account && (grant.scope === 'account' || target.container === grant.container)) return undefined;
    throw unauthorized();
  }

  const auth = await caller(c);
  const who = auth ? identityOf(auth) : null;
  const req: AccessRequest = { method: c.req.method, op, ...target, referrer: c.req.header('Referer') };
  const byRole = who ? roleGrant(req, who) : null;
  if (byRole?.allow) {
    if (byRole.owner) stateOf(c).owner = true;
    return auth ?? undefined;
  }
  if (!byRole) {
    const kind = aclKind(op);
    let acl: string | undefined;
    if (kind && target.container) {
      const info = await containerInfoOnce(c, target.account, target.container);
      acl = (kind === 'read' ? info?.read : info?.write) || undefined;
    }
    const byAcl = aclGrant(req, who, acl);
    if (byAcl.allow) return auth ?? undefined;
  }
  if (!who) throw unauthorized();
  throw forbidden(`${op} on ${describeTarget(target)} is not allowed.`);
}

/**
 * After a temp URL request, as the middleware does: strip private object metadata, and
 * on a successful GET/HEAD name the download (Content-Disposition) and say when the URL
 * expires. Mount before the routes: app.use('/v1/*', tempUrlResponse).
 */
export const tempUrlResponse: MiddlewareHandler<SwiftEnv> = async (c, next) => {
  await next();
  const grant = states.get(c.req.raw)?.tempUrl;
  if (!grant) return;
  const res = new Response(c.res.body, c.res);
  for (const name of [...res.headers.keys()]) if (strippedOutgoing(name)) res.headers.delete(name);
  const method = c.req.method;
  if ((method === 'GET' || method === 'HEAD') && res.status >= 200 && res.status < 300) {
    res.headers.set('Content-Disposition', tempUrlDisposition(grant.params, grant.object, res.headers.get('Content-Disposition')));
    res.headers.set('Expires', new Date(grant.params.expires * 1000).toUTCString());
  }
  // Unset first: assigning over a response would copy its old headers back.
  c.res = undefined;
  c.res = res;
};
