// GET /v3/role_assignments: who holds which role where, as stored or (effective) as tokens see it.
import { inArray } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest } from '../../../lib/errors';
import { domains, groups, projects, roles, users } from '../../../schema/keystone';
import { listRoleAssignments, type RoleAssignment } from '../assignments';
import { database, type Db } from '../db';
import type { KeystoneEnv } from '../env';
import { authorize } from '../policies';
import { collectionLinks, identityBase } from '../views';

export const roleAssignments = new Hono<KeystoneEnv>();

type C = Context<KeystoneEnv>;

/** Keystone's query_filter_is_true: present and not "0"/"false". */
function flag(c: C, name: string): boolean {
  const v = c.req.query(name);
  return v !== undefined && !['0', 'false'].includes(v.toLowerCase());
}

interface Names {
  users: Map<string, { name: string; domainId: string }>;
  groups: Map<string, { name: string; domainId: string }>;
  roles: Map<string, { name: string; domainId: string }>;
  projects: Map<string, { name: string; domainId: string }>;
  domains: Map<string, string>;
}

async function lookupNames(db: Db, list: RoleAssignment[]): Promise<Names> {
  const ids = (pick: (a: RoleAssignment) => string | undefined) => [...new Set(list.map(pick).filter((x): x is string => !!x))];
  const userIds = ids((a) => (a.actor.type === 'user' ? a.actor.id : undefined));
  const groupIds = ids((a) => (a.actor.type === 'group' ? a.actor.id : undefined));
  const projectIds = ids((a) => (a.target.type === 'project' ? a.target.id : undefined));
  const roleIds = ids((a) => a.roleId);
  const sel = { id: users.id, name: users.name, domainId: users.domainId };
  const [u, g, p, r] = await Promise.all([
    userIds.length ? db.select(sel).from(users).where(inArray(users.id, userIds)) : [],
    groupIds.length ? db.select({ id: groups.id, name: groups.name, domainId: groups.domainId }).from(groups).where(inArray(groups.id, groupIds)) : [],
    projectIds.length ? db.select({ id: projects.id, name: projects.name, domainId: projects.domainId }).from(projects).where(inArray(projects.id, projectIds)) : [],
    roleIds.length ? db.select({ id: roles.id, name: roles.name, domainId: roles.domainId }).from(roles).where(inArray(roles.id, roleIds)) : [],
  ]);
  const domainIds = new Set([...u, ...g, ...p, ...r].map((x) => x.domainId).filter(Boolean));
  for (const a of list) if (a.target.type === 'domain') domainIds.add(a.target.id);
  const d = domainIds.size ? await db.select({ id: domains.id, name: domains.name }).from(domains).where(inArray(domains.id, [...domainIds])) : [];
  const map = (rows: { id: string; name: string; domainId: string }[]) => new Map(rows.map((x) => [x.id, x]));
  return { users: map(u), groups: map(g), projects: map(p), roles: map(r), domains: new Map(d.map((x) => [x.id, x.name])) };
}

/** The JSON of one assignment, with its links to the grant API (Keystone's _format_entity). */
function format(c: C, a: RoleAssignment, names: Names | null) {
  const base = `${identityBase(c)}/v3`;
  const dom = (id: string) => ({ id, name: names?.domains.get(id) ?? id });
  const named = (m: Map<string, { name: string; domainId: string }> | undefined, id: string) => {
    const x = m?.get(id);
    return names ? { id, name: x?.name ?? id, domain: dom(x?.domainId ?? '') } : { id };
  };
  const out: Record<string, unknown> = {};
  const links: Record<string, string> = {};
  let link = '';
  let inherited = a.inherited;
  if (a.target.type === 'project') {
    out.scope = { project: named(names?.projects, a.target.id) };
    const from = a.indirect?.domainId ? `/domains/${a.indirect.domainId}` : a.indirect?.projectId ? `/projects/${a.indirect.projectId}` : undefined;
    if (from) inherited = true;
    link = from ?? `/projects/${a.target.id}`;
  } else if (a.target.type === 'domain') {
    out.scope = { domain: names ? dom(a.target.id) : { id: a.target.id } };
    link = `/domains/${a.target.id}`;
  } else {
    out.scope = { system: { all: true } };
    link = '/system';
  }
  if (a.actor.type === 'user') {
    out.user = named(names?.users, a.actor.id);
    if (a.indirect?.groupId) {
      links.membership = `${base}/groups/${a.indirect.groupId}/users/${a.actor.id}`;
      link += `/groups/${a.indirect.groupId}`;
    } else link += `/users/${a.actor.id}`;
  } else {
    out.group = named(names?.groups, a.actor.id);
    link += `/groups/${a.actor.id}`;
  }
  const role = names?.roles.get(a.roleId);
  out.role = names ? { id: a.roleId, name: role?.name ?? a.roleId, ...(role?.domainId ? { domain: dom(role.domainId) } : {}) } : { id: a.roleId };
  link += `/roles/${a.indirect?.roleId ?? a.roleId}`;
  if (inherited) {
    (out.scope as Record<string, unknown>)['OS-INHERIT:inherited_to'] = 'projects';
    link = `/OS-INHERIT${link}/inherited_to_projects`;
  }
  links.assignment = `${base}${link}`;
  if (a.indirect?.roleId) links.prior_role = `${base}/roles/${a.indirect.roleId}/implies/${a.roleId}`;
  out.links = links;
  return out;
}

roleAssignments.get('/role_assignments', async (c) => {
  const q = (k: string) => c.req.query(k) || undefined;
  const projectId = q('scope.project.id');
  const includeSubtree = flag(c, 'include_subtree');
  authorize(c, includeSubtree ? 'identity:list_role_assignments_for_tree' : 'identity:list_role_assignments', { 'scope.project.id': projectId });

  const domainId = q('scope.domain.id');
  const system = q('scope.system');
  const inheritedTo = c.req.query('scope.OS-INHERIT:inherited_to');
  const effective = flag(c, 'effective');
  if (domainId && projectId) throw badRequest('Specify a domain or project, not both');
  if (domainId && system) throw badRequest('Specify system or domain, not both');
  if (projectId && system) throw badRequest('Specify system or project, not both');
  if (q('user.id') && q('group.id')) throw badRequest('Specify a user or group, not both');
  if (system !== undefined && system !== 'all') throw badRequest("scope.system must be 'all'.");
  if (includeSubtree && !projectId) throw badRequest('scope.project.id must be specified if include_subtree is also specified');
  const inherited = inheritedTo === undefined ? undefined : inheritedTo === 'projects';
  if (effective && q('group.id')) throw badRequest('Combining effective and group filter will always result in an empty list.');
  if (effective && inherited && domainId) {
    throw badRequest('Combining effective, domain and inherited filters will always result in an empty list.');
  }

  const db = database(c.env.DB);
  const list = await listRoleAssignments(db, {
    userId: q('user.id'), groupId: q('group.id'), roleId: q('role.id'), projectId, domainId,
    system: system !== undefined, inherited, includeSubtree, effective,
  });
  const names = flag(c, 'include_names') ? await lookupNames(db, list) : null;
  return c.json({ role_assignments: list.map((a) => format(c, a, names)), links: collectionLinks(c) });
});
