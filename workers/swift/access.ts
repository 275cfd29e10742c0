// Who may do what in Swift: the account's owner (a token scoped to its project) and
// admins; later container ACLs and temp URLs grant more. Every route asks here.
import type { Context } from 'hono';
import { validateToken, type AuthContext } from '../../lib/auth';
import { forbidden, unauthorized } from '../../lib/errors';
import type { SwiftEnv } from './env';

export type SwiftOp =
  | 'account:read'
  | 'account:write'
  | 'container:read'
  | 'container:list'
  | 'container:write'
  | 'object:read'
  | 'object:write';

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
 * Decides whether the request may do op on target; throws 401 without credentials and 403
 * when they do not reach. Returns the caller (undefined for anonymous access that an ACL
 * or a temp URL allows).
 */
export async function authorizeSwift(c: Context<SwiftEnv>, op: SwiftOp, target: SwiftTarget): Promise<AuthContext | undefined> {
  const token = c.req.header('X-Auth-Token') ?? c.req.header('X-Storage-Token');
  if (!token) throw unauthorized();
  const auth = await validateToken(c.env, token);
  c.set('auth', auth);
  if (auth.roles.includes('admin') || auth.projectId === projectOf(target.account)) return auth;
  throw forbidden(`${op} on ${[target.account, target.container, target.object].filter(Boolean).join('/')} is not allowed.`);
}
