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
