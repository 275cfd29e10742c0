// Private flavors: GET /flavors/{id}/os-flavor-access lists the projects given access, and
// POST /flavors/{id}/action with addTenantAccess or removeTenantAccess changes them.
import { and, eq } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest, conflict, notFound } from '../../../lib/errors';
import { readJson, validate } from '../../../lib/validation';
import { flavorProjects } from '../../../schema/nova';
import { isUniqueViolation } from '../db';
import type { NovaEnv } from '../env';
import { flavorAccess, loadFlavor } from '../flavors';
import { verifyProjectId } from '../identity';
import { authorize } from '../policies';
import { addTenantAccess, removeTenantAccess } from '../schemas/flavors';

type C = Context<NovaEnv>;

export const flavorAccessRoutes = new Hono<NovaEnv>();

async function accessList(c: C, flavorId: string) {
  const { db } = await loadFlavor(c, flavorId);
  const projects = await flavorAccess(db, flavorId);
  return { flavor_access: projects.map((p) => ({ flavor_id: flavorId, tenant_id: p })) };
}

flavorAccessRoutes.get('/flavors/:flavor_id/os-flavor-access', async (c) => {
  authorize(c, 'os_compute_api:os-flavor-access', { project_id: c.var.auth.projectId });
  const { row } = await loadFlavor(c, c.req.param('flavor_id'));
  if (row.isPublic) throw notFound('Access list not available for public flavors.');
  return c.json(await accessList(c, row.id));
});

/** Nova's action_peek: an action body is an object with exactly one key, the action's name. */
function actionOf(body: unknown): string {
  if (body === null || typeof body !== 'object' || Array.isArray(body) || Object.keys(body).length !== 1) {
    throw badRequest('Malformed request body');
  }
  return Object.keys(body)[0]!;
}

flavorAccessRoutes.post('/flavors/:flavor_id/action', async (c) => {
  const body = await readJson(c);
  const action = actionOf(body);
  const flavorId = c.req.param('flavor_id');
  if (action === 'addTenantAccess') {
    authorize(c, 'os_compute_api:os-flavor-access:add_tenant_access', {});
    const { tenant } = validate(addTenantAccess, body).addTenantAccess;
    await verifyProjectId(c, tenant);
    const { db, row } = await loadFlavor(c, flavorId);
    // 2.7: access to a public flavor is a conflict (before, it was recorded and meant nothing).
    if (row.isPublic && c.var.version.atLeast('2.7')) throw conflict('Can not add access to a public flavor.');
    try {
      await db.insert(flavorProjects).values({ flavorId: row.id, projectId: tenant });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw conflict(`Flavor access already exists for flavor ${row.id} and project ${tenant} combination.`);
      }
      throw err;
    }
    return c.json(await accessList(c, row.id));
  }
  if (action === 'removeTenantAccess') {
    authorize(c, 'os_compute_api:os-flavor-access:remove_tenant_access', {});
    const { tenant } = validate(removeTenantAccess, body).removeTenantAccess;
    // Nova checks the project here only to ignore its absence: one deleted since may still be removed.
    const { db, row } = await loadFlavor(c, flavorId);
    const gone = await db
      .delete(flavorProjects)
      .where(and(eq(flavorProjects.flavorId, row.id), eq(flavorProjects.projectId, tenant)))
      .returning({ projectId: flavorProjects.projectId });
    if (gone.length === 0) throw notFound(`Flavor access not found for ${row.id} / ${tenant} combination.`);
    return c.json(await accessList(c, row.id));
  }
  throw badRequest(`There is no such action: ${action}`);
});
