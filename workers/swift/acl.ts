// Container ACLs in Swift's v1 syntax (swift/common/middleware/acl.py) and the decision
// keystoneauth makes with them. Pure functions: access.ts fetches what they need.

export type SwiftOp =
  | 'account:read'
  | 'account:write'
  | 'container:read'
  | 'container:list'
  | 'container:write'
  | 'object:read'
  | 'object:write';

/** Operator roles own the account (keystoneauth's operator_roles, with Keystone's member). */
export const OPERATOR_ROLES = ['admin', 'member', 'swiftoperator'];
/** Roles that may only read in their own project's account. */
export const READER_ROLES = ['reader'];
/** keystoneauth's reseller_admin_role: every account. */
export const RESELLER_ADMIN_ROLE = 'reselleradmin';

const READ_OPS: ReadonlySet<SwiftOp> = new Set(['account:read', 'container:read', 'container:list', 'object:read']);

export class AclError extends Error {}

const REFERRER_DESIGNATORS = ['.r', '.ref', '.referer', '.referrer'];

/**
 * Cleans an X-Container-Read/-Write value as Swift stores it (`bob , sue` → `bob,sue`,
 * `.referrer:*` → `.r:*`); throws AclError for a value Swift refuses (400).
 */
export function cleanAcl(name: string, value: string): string {
  const isWrite = name.toLowerCase().includes('write');
  const out: string[] = [];
  for (const raw0 of value.split(',')) {
    const raw = raw0.trim();
    if (!raw) continue;
    const colon = raw.indexOf(':');
    if (colon < 0) {
      out.push(raw);
      continue;
    }
    const first = raw.slice(0, colon).trim();
    let second = raw.slice(colon + 1).trim();
    if (!first || first[0] !== '.') {
      out.push(raw);
    } else if (REFERRER_DESIGNATORS.includes(first)) {
      if (isWrite) throw new AclError(`Referrers not allowed in write ACL: '${raw}'`);
      let negate = false;
      if (second.startsWith('-')) {
        negate = true;
        second = second.slice(1).trim();
      }
      if (second && second !== '*' && second[0] === '*') second = second.slice(1).trim();
      if (!second || second === '.') throw new AclError(`No host/domain value after referrer designation in ACL: '${raw}'`);
      out.push(`.r:${negate ? '-' : ''}${second}`);
    } else {
      throw new AclError(`Unknown designator '${first}' in ACL: '${raw}'`);
    }
  }
  return out.join(',');
}

export interface ParsedAcl {
  /** Referrer designations without the leading `.r:`. */
  referrers: string[];
  /** Everything else: `project:user` grants, role names, `.rlistings`. */
  groups: string[];
}

export function parseAcl(acl: string | undefined | null): ParsedAcl {
  const referrers: string[] = [];
  const groups: string[] = [];
  if (acl) {
    for (const value of acl.split(',')) {
      if (value.startsWith('.r:')) referrers.push(value.slice(3));
      else groups.push(value);
    }
  }
  return { referrers, groups };
}

function hostOf(referrer: string | undefined): string {
  if (!referrer) return 'unknown';
  try {
    return new URL(referrer).hostname.toLowerCase() || 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Whether the Referer header passes the referrer designations, applied in order. */
export function referrerAllowed(referrer: string | undefined, referrerAcl: string[]): boolean {
  let allow = false;
  if (referrerAcl.length === 0) return false;
  const rhost = hostOf(referrer);
  for (let mhost of referrerAcl) {
    if (!mhost) continue;
    if (mhost[0] === '-') {
      mhost = mhost.slice(1);
      if (mhost === rhost || (mhost[0] === '.' && rhost.endsWith(mhost))) allow = false;
    } else if (mhost === '*' || mhost === rhost || (mhost[0] === '.' && rhost.endsWith(mhost))) {
      allow = true;
    }
  }
  return allow;
}

/** The caller as keystoneauth sees it. */
export interface SwiftIdentity {
  userId: string;
  userName?: string;
  userDomainId?: string;
  projectId?: string;
  projectName?: string;
  projectDomainId?: string;
  /** Effective role names (implied roles included). */
  roles: string[];
}

export interface AccessRequest {
  method: string;
  op: SwiftOp;
  account: string;
  container?: string;
  object?: string;
  referrer?: string;
}

export type Decision = { allow: true; owner: boolean } | { allow: false; status: 401 | 403 };

const DENY = (who: SwiftIdentity | null): Decision => ({ allow: false, status: who ? 403 : 401 });

/** Which container ACL an operation consults, as Swift's proxy sets req.acl; none for the rest. */
export function aclKind(op: SwiftOp): 'read' | 'write' | null {
  if (op === 'object:read' || op === 'container:read' || op === 'container:list') return 'read';
  if (op === 'object:write') return 'write';
  return null;
}

export function isReadOp(op: SwiftOp): boolean {
  return READ_OPS.has(op);
}

const accountOf = (projectId: string | undefined) => (projectId ? `AUTH_${projectId}` : undefined);

/**
 * The grants that need no container ACL: the reseller admin in every account, the account's
 * operators (owners), and its readers for reads. Null when the ACL must decide.
 */
export function roleGrant(req: AccessRequest, who: SwiftIdentity): Decision | null {
  // Accounts are AUTH_<project id>, for the reseller admin too: R2 keys outside that
  // prefix are this service's own (stripes.ts).
  if (!req.account.startsWith('AUTH_')) return DENY(who);
  const roles = who.roles.map((r) => r.toLowerCase());
  if (roles.includes(RESELLER_ADMIN_ROLE)) return { allow: true, owner: true };
  // Only a reseller admin deletes an account, even its own.
  if (!req.container && !req.object && req.method === 'DELETE') return { allow: false, status: 403 };
  if (accountOf(who.projectId) === req.account) {
    if (roles.some((r) => OPERATOR_ROLES.includes(r))) return { allow: true, owner: true };
    if (isReadOp(req.op) && roles.some((r) => READER_ROLES.includes(r))) return { allow: true, owner: false };
  }
  return null;
}

/**
 * Cross-project grants `project:user` (ids, `*`, and names when everyone is in the
 * default domain, as keystoneauth's allow_names_in_acls); the matched grant or null.
 */
export function matchCrossTenant(groups: string[], who: SwiftIdentity): string | null {
  const allowNames =
    (!who.userDomainId || who.userDomainId === 'default') && (!who.projectDomainId || who.projectDomainId === 'default');
  const projects: string[] = [who.projectId ?? '', '*'];
  const users: string[] = [who.userId, '*'];
  if (allowNames) {
    if (who.projectName) projects.push(who.projectName);
    if (who.userName) users.push(who.userName);
  }
  for (const p of projects) {
    if (!p) continue;
    for (const u of users) {
      const s = `${p}:${u}`;
      if (groups.includes(s)) return s;
    }
  }
  return null;
}

/**
 * keystoneauth's authorize / authorize_anonymous once the role grants did not decide:
 * acl is the container's read or write ACL as aclKind picks (undefined when none applies).
 */
export function aclGrant(req: AccessRequest, who: SwiftIdentity | null, acl: string | undefined): Decision {
  if (!req.account.startsWith('AUTH_')) return DENY(who);
  const { referrers, groups } = parseAcl(acl);
  if (who && groups.length > 0 && matchCrossTenant(groups, who) !== null) return { allow: true, owner: false };
  // Referrer grants reach objects; listings only with .rlistings.
  let referrerDecision: boolean | null = null;
  if (referrerAllowed(req.referrer, referrers)) {
    if (req.object || groups.includes('.rlistings')) return { allow: true, owner: false };
    referrerDecision = false;
  }
  if (!who) return DENY(who);
  if (accountOf(who.projectId) !== req.account) return DENY(who);
  if (referrerDecision === false) return DENY(who);
  const lowered = groups.map((g) => g.toLowerCase());
  if (who.roles.some((r) => lowered.includes(r.toLowerCase()))) return { allow: true, owner: false };
  return DENY(who);
}
