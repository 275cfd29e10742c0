// Effective roles: direct and group assignments, roles inherited from the domain and
// parent projects, and implied roles (admin implies member implies reader).
import { and, eq, inArray, or } from 'drizzle-orm';
import type { NamedRef } from '../../lib/token';
import { assignments, impliedRoles, projects, roles, userGroupMembership } from '../../schema/keystone';
import type { Db } from './db';

export type ScopeTarget =
  | { type: 'project'; id: string; domainId: string; parentId: string | null }
  | { type: 'domain'; id: string }
  | { type: 'system' };

export async function groupIdsOf(db: Db, userId: string): Promise<string[]> {
  const rows = await db
    .select({ groupId: userGroupMembership.groupId })
    .from(userGroupMembership)
    .where(eq(userGroupMembership.userId, userId));
  return rows.map((r) => r.groupId);
}

/** The chain of parent project ids, nearest first. */
export async function ancestorsOf(db: Db, parentId: string | null): Promise<string[]> {
  const out: string[] = [];
  let next = parentId;
  while (next && out.length < 32 && !out.includes(next)) {
    out.push(next);
    const row = await db.select({ parentId: projects.parentId }).from(projects).where(eq(projects.id, next)).get();
    next = row?.parentId ?? null;
  }
  return out;
}

/** Adds every role implied by the given ones (transitively). */
export async function expandImplied(db: Db, roleIds: Iterable<string>): Promise<Set<string>> {
  const all = new Set(roleIds);
  if (all.size === 0) return all;
  const rules = await db.select().from(impliedRoles);
  let grew = true;
  while (grew) {
    grew = false;
    for (const r of rules) {
      if (all.has(r.priorRoleId) && !all.has(r.impliedRoleId)) {
        all.add(r.impliedRoleId);
        grew = true;
      }
    }
  }
  return all;
}

/** The ids of roles assigned to a user (directly or through groups) on a target, before implication. */
export async function assignedRoleIds(db: Db, userId: string, target: ScopeTarget): Promise<string[]> {
  const groupIds = await groupIdsOf(db, userId);
  const actor = or(
    and(eq(assignments.actorType, 'user'), eq(assignments.actorId, userId)),
    groupIds.length ? and(eq(assignments.actorType, 'group'), inArray(assignments.actorId, groupIds)) : undefined,
  );
  let where;
  if (target.type === 'project') {
    const inheritedFrom = [target.domainId, ...(await ancestorsOf(db, target.parentId))];
    where = or(
      and(eq(assignments.targetType, 'project'), eq(assignments.targetId, target.id), eq(assignments.inherited, false)),
      and(inArray(assignments.targetId, inheritedFrom), eq(assignments.inherited, true)),
    );
  } else if (target.type === 'domain') {
    where = and(eq(assignments.targetType, 'domain'), eq(assignments.targetId, target.id), eq(assignments.inherited, false));
  } else {
    where = eq(assignments.targetType, 'system');
  }
  const rows = await db.select({ roleId: assignments.roleId }).from(assignments).where(and(actor, where));
  return [...new Set(rows.map((r) => r.roleId))];
}

/** Roles a token scoped to the target carries: assigned roles and all they imply. */
export async function effectiveRoles(db: Db, userId: string, target: ScopeTarget): Promise<NamedRef[]> {
  const ids = await expandImplied(db, await assignedRoleIds(db, userId, target));
  return namedRoles(db, [...ids]);
}

export async function namedRoles(db: Db, ids: string[]): Promise<NamedRef[]> {
  if (ids.length === 0) return [];
  const rows = await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.id, ids));
  return rows.sort((a, b) => a.name.localeCompare(b.name));
}

/** One role assignment as GET /v3/role_assignments reports it, before formatting. */
export interface RoleAssignment {
  roleId: string;
  actor: { type: 'user' | 'group'; id: string };
  target: { type: 'project' | 'domain' | 'system'; id: string };
  inherited: boolean;
  /** How an effective assignment was derived (Keystone's "indirect"). */
  indirect?: { groupId?: string; projectId?: string; domainId?: string; roleId?: string };
}

export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  roleId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  /** true: only inherited_to projects; false: only direct; undefined: both. */
  inherited?: boolean;
  includeSubtree?: boolean;
  effective?: boolean;
}

type ProjectNode = { id: string; domainId: string; parentId: string | null };

/** The project and every project below it. */
export function subtreeOf(all: ProjectNode[], rootId: string): string[] {
  const out = [rootId];
  for (let i = 0; i < out.length; i++) for (const p of all) if (p.parentId === out[i] && !out.includes(p.id)) out.push(p.id);
  return out;
}

function toAssignment(r: typeof assignments.$inferSelect): RoleAssignment {
  return { roleId: r.roleId, actor: { type: r.actorType, id: r.actorId }, target: { type: r.targetType, id: r.targetId }, inherited: r.inherited };
}

/**
 * Lists role assignments. In effective mode (Keystone's rules): group assignments become
 * one per member, inherited assignments become one per project below their target, and
 * each role brings the roles it implies.
 */
export async function listRoleAssignments(db: Db, f: AssignmentFilter): Promise<RoleAssignment[]> {
  let rows: RoleAssignment[];
  const needProjects = f.includeSubtree || f.effective;
  const allProjects: ProjectNode[] = needProjects
    ? await db.select({ id: projects.id, domainId: projects.domainId, parentId: projects.parentId }).from(projects)
    : [];
  const projectIds = f.projectId ? (f.includeSubtree ? subtreeOf(allProjects, f.projectId) : [f.projectId]) : undefined;

  if (!f.effective) {
    const conds = [];
    if (f.userId) conds.push(and(eq(assignments.actorType, 'user'), eq(assignments.actorId, f.userId)));
    if (f.groupId) conds.push(and(eq(assignments.actorType, 'group'), eq(assignments.actorId, f.groupId)));
    if (f.roleId) conds.push(eq(assignments.roleId, f.roleId));
    if (projectIds) conds.push(and(eq(assignments.targetType, 'project'), inArray(assignments.targetId, projectIds)));
    if (f.domainId) conds.push(and(eq(assignments.targetType, 'domain'), eq(assignments.targetId, f.domainId)));
    if (f.system) conds.push(eq(assignments.targetType, 'system'));
    if (f.inherited !== undefined) conds.push(eq(assignments.inherited, f.inherited));
    return (await db.select().from(assignments).where(and(...conds))).map(toAssignment);
  }

  // Effective: start from the user's own and its groups' assignments (or everyone's).
  const groupIds = f.userId ? await groupIdsOf(db, f.userId) : undefined;
  const actor = f.userId
    ? or(
        and(eq(assignments.actorType, 'user'), eq(assignments.actorId, f.userId)),
        groupIds!.length ? and(eq(assignments.actorType, 'group'), inArray(assignments.actorId, groupIds!)) : undefined,
      )
    : undefined;
  rows = (await db.select().from(assignments).where(actor)).map(toAssignment);

  // Groups become their members.
  const groupsUsed = [...new Set(rows.filter((r) => r.actor.type === 'group').map((r) => r.actor.id))];
  const members = groupsUsed.length
    ? await db.select().from(userGroupMembership).where(inArray(userGroupMembership.groupId, groupsUsed))
    : [];
  rows = rows.flatMap((r) => {
    if (r.actor.type === 'user') return [r];
    return members
      .filter((m) => m.groupId === r.actor.id && (!f.userId || m.userId === f.userId))
      .map((m) => ({ ...r, actor: { type: 'user' as const, id: m.userId }, indirect: { groupId: r.actor.id } }));
  });

  // Inherited assignments land on the projects below their target, never on the target itself.
  rows = rows.flatMap((r) => {
    if (!r.inherited) return [r];
    const below =
      r.target.type === 'domain'
        ? allProjects.filter((p) => p.domainId === r.target.id).map((p) => p.id)
        : subtreeOf(allProjects, r.target.id).slice(1);
    const from = r.target.type === 'domain' ? { domainId: r.target.id } : { projectId: r.target.id };
    return below.map((pid) => ({ ...r, target: { type: 'project' as const, id: pid }, indirect: { ...r.indirect, ...from } }));
  });

  // Each role brings the roles it implies, transitively.
  const rules = await db.select().from(impliedRoles);
  rows = rows.flatMap((r) => {
    const out = [r];
    const seen = new Set([r.roleId]);
    for (let i = 0; i < out.length; i++) {
      for (const rule of rules) {
        if (rule.priorRoleId !== out[i]!.roleId || seen.has(rule.impliedRoleId)) continue;
        seen.add(rule.impliedRoleId);
        out.push({ ...r, roleId: rule.impliedRoleId, indirect: { ...r.indirect, roleId: r.roleId } });
      }
    }
    return out;
  });

  return rows.filter(
    (r) =>
      (!f.roleId || r.roleId === f.roleId) &&
      (!projectIds || (r.target.type === 'project' && projectIds.includes(r.target.id))) &&
      (!f.domainId || (r.target.type === 'domain' && r.target.id === f.domainId)) &&
      (!f.system || r.target.type === 'system') &&
      (f.inherited === undefined || r.inherited === f.inherited),
  );
}

/** The ids of users an actor stands for: the user itself, or a group's members. */
export async function usersOfActor(db: Db, actor: { type: 'user' | 'group'; id: string }): Promise<string[]> {
  if (actor.type === 'user') return [actor.id];
  const rows = await db
    .select({ userId: userGroupMembership.userId })
    .from(userGroupMembership)
    .where(eq(userGroupMembership.groupId, actor.id));
  return rows.map((r) => r.userId);
}
