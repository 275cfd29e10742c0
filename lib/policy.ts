// An oslo.policy-compatible rule engine: the same check strings ("role:admin",
// "project_id:%(target.project.id)s", "rule:admin_required", and/or/not, "@", "!"),
// defaults in code, overrides from a policy.json-style object.
import type { AuthContext } from './auth';
import { forbidden } from './errors';

export interface PolicyRule {
  name: string;
  checkStr: string;
  description: string;
  /** What the rule guards, as Keystone and Nova document it. */
  operations?: { method: string; path: string }[];
}

export type Credentials = Record<string, string | string[] | undefined>;
export type Target = Record<string, unknown>;

type Check = (creds: Credentials, target: Target, rules: RuleSet) => boolean;
interface RuleSet {
  get(name: string): Check | undefined;
}

export function credentialsOf(auth: AuthContext): Credentials {
  return {
    user_id: auth.userId,
    user_domain_id: auth.userDomainId,
    project_id: auth.projectId,
    project_domain_id: auth.projectDomainId,
    domain_id: auth.domainId,
    system_scope: auth.system ? 'all' : undefined,
    roles: auth.roles,
  };
}

// Target keys may be dotted paths ("target.project.id") or flat keys holding dots.
function lookup(target: Target, key: string): unknown {
  if (key in target) return target[key];
  let cur: unknown = target;
  for (const part of key.split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function leaf(text: string): Check {
  if (text === '@') return () => true;
  if (text === '!') return () => false;
  const colon = text.indexOf(':');
  if (colon < 0) throw new Error(`policy: cannot parse check "${text}"`);
  const kind = text.slice(0, colon);
  const match = text.slice(colon + 1);
  if (kind === 'rule') {
    return (creds, target, rules) => {
      const rule = rules.get(match);
      return rule ? rule(creds, target, rules) : false;
    };
  }
  if (kind === 'role') {
    return (creds, target) => {
      const want = substitute(match, target)?.toLowerCase();
      const roles = creds.roles;
      return want !== undefined && Array.isArray(roles) && roles.some((r) => r.toLowerCase() === want);
    };
  }
  // A quoted literal on the left ("'public':%(visibility)s") compares it with the target.
  const literal = /^'(.*)'$|^"(.*)"$/.exec(kind);
  if (literal) {
    const value = literal[1] ?? literal[2];
    return (_creds, target) => substitute(match, target) === value;
  }
  return (creds, target) => {
    const want = substitute(match, target);
    const have = creds[kind];
    return want !== undefined && have !== undefined && (Array.isArray(have) ? have.includes(want) : have === want);
  };
}

function substitute(match: string, target: Target): string | undefined {
  const m = /^%\((.+)\)s$/.exec(match);
  if (!m) return match.replace(/^'(.*)'$/, '$1').replace(/^"(.*)"$/, '$1');
  const v = lookup(target, m[1]!);
  return v === undefined || v === null ? undefined : String(v);
}

/** Parses a check string: "or" binds loosest, then "and", then "not". */
export function parseCheck(text: string): Check {
  // A word may hold "%(key)s", whose parentheses are not grouping.
  const tokens = text.match(/\(|\)|(?:%\([^)]*\)s|[^\s()])+/g) ?? [];
  if (tokens.length === 0) return () => true; // oslo.policy: an empty rule always passes
  let i = 0;
  const peek = () => tokens[i];
  const orExpr = (): Check => {
    const parts = [andExpr()];
    while (peek() === 'or') {
      i++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : (c, t, r) => parts.some((p) => p(c, t, r));
  };
  const andExpr = (): Check => {
    const parts = [notExpr()];
    while (peek() === 'and') {
      i++;
      parts.push(notExpr());
    }
    return parts.length === 1 ? parts[0]! : (c, t, r) => parts.every((p) => p(c, t, r));
  };
  const notExpr = (): Check => {
    if (peek() === 'not') {
      i++;
      const inner = notExpr();
      return (c, t, r) => !inner(c, t, r);
    }
    const tok = tokens[i++];
    if (tok === undefined) throw new Error(`policy: unexpected end of "${text}"`);
    if (tok === '(') {
      const inner = orExpr();
      if (tokens[i++] !== ')') throw new Error(`policy: missing ")" in "${text}"`);
      return inner;
    }
    return leaf(tok);
  };
  const check = orExpr();
  if (i !== tokens.length) throw new Error(`policy: trailing "${tokens.slice(i).join(' ')}" in "${text}"`);
  return check;
}

export class Enforcer {
  private readonly checks = new Map<string, Check>();

  /** Builds the rule set once; a rule that does not parse fails here, not per request. */
  constructor(defaults: PolicyRule[], overrides: Record<string, string> = {}) {
    for (const rule of defaults) this.checks.set(rule.name, parseCheck(overrides[rule.name] ?? rule.checkStr));
    for (const [name, str] of Object.entries(overrides)) if (!this.checks.has(name)) this.checks.set(name, parseCheck(str));
  }

  enforce(name: string, creds: Credentials, target: Target = {}): boolean {
    const check = this.checks.get(name);
    if (!check) throw new Error(`policy: no rule named ${name}`);
    return check(creds, target, this.checks);
  }

  /** Throws 403 unless the caller passes the named rule. */
  authorize(name: string, auth: AuthContext, target: Target = {}): void {
    if (!this.enforce(name, credentialsOf(auth), target)) {
      throw forbidden(`You are not authorized to perform the requested action: ${name}.`);
    }
  }
}

/** What a policy check reads off a request: the service's bindings and the caller. */
export interface PolicyContext {
  env: { POLICY_OVERRIDES?: string };
  var: { auth: AuthContext };
}

/**
 * A service's policy: its default rules, overridden by the POLICY_OVERRIDES binding (a
 * policy.json-style object), built once per isolate.
 */
export function servicePolicy(defaults: PolicyRule[]) {
  let enforcer: Enforcer | null = null;
  const of = (c: PolicyContext) =>
    (enforcer ??= new Enforcer(defaults, c.env.POLICY_OVERRIDES ? (JSON.parse(c.env.POLICY_OVERRIDES) as Record<string, string>) : {}));
  return {
    /** Throws 403 unless the caller passes the named rule against the target. */
    authorize: (c: PolicyContext, name: string, target: Target = {}): void => of(c).authorize(name, c.var.auth, target),
    allowed: (c: PolicyContext, name: string, target: Target = {}): boolean => of(c).enforce(name, credentialsOf(c.var.auth), target),
  };
}
