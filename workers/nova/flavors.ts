// Which flavors a caller sees, as Nova's Flavor._flavor_get_query_from_db decides it:
// admins see every flavor; others see public flavors and the private ones their project
// was given access to. A flavor the caller cannot see is a 404.
import { and, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Context } from 'hono';
import { notFound } from '../../lib/errors';
import { flavorProjects, flavors } from '../../schema/nova';
import { database, type Db, type FlavorRow } from './db';
import type { NovaEnv } from './env';
import { allowed } from './policies';

type C = Context<NovaEnv>;

/** Nova's context.is_admin: the caller passes context_is_admin. */
export const isAdmin = (c: C): boolean => allowed(c, 'context_is_admin');

export const flavorNotFound = (id: string) => notFound(`Flavor ${id} could not be found.`);

/** Projects other than the caller's may see a private flavor only through flavor_projects. */
export function sharedWith(projectId: string): SQL {
  return sql`exists (select 1 from ${flavorProjects} where ${flavorProjects.flavorId} = ${flavors.id} and ${flavorProjects.projectId} = ${projectId})`;
}

/** The condition on flavors that the caller may see, or undefined for admins (all). */
export function visibleFlavors(c: C): SQL | undefined {
  if (isAdmin(c)) return undefined;
  return or(eq(flavors.isPublic, true), sharedWith(c.var.auth.projectId ?? ''));
}

/** The flavor with this id if the caller may see it; otherwise 404 "Flavor X could not be found." */
export async function loadFlavor(c: C, id: string): Promise<{ db: Db; row: FlavorRow }> {
  const db = database(c.env.DB);
  const row = await db.select().from(flavors).where(and(eq(flavors.id, id), visibleFlavors(c))).get();
  if (!row) throw flavorNotFound(id);
  return { db, row };
}

/** The projects a private flavor was shared with, in the order access was given. */
export async function flavorAccess(db: Db, flavorId: string): Promise<string[]> {
  const rows = await db
    .select({ projectId: flavorProjects.projectId })
    .from(flavorProjects)
    .where(eq(flavorProjects.flavorId, flavorId))
    .orderBy(sql`rowid`);
  return rows.map((r) => r.projectId);
}
