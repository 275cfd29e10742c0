// /os-quota-sets/{tenant_id}: a project's quota (show, detail with usage, the defaults),
// changed by admins (a limit below current usage only with force) or reverted to the
// defaults. Per-user quotas are not kept: ?user_id= reads the project's quota.
import { and, eq, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { quotas } from '../../../schema/nova';
import { database } from '../db';
import type { NovaEnv } from '../env';
import { verifyProjectId } from '../identity';
import { authorize } from '../policies';
import { defaultLimits, limitsFor, quotaResourcesAt, usageFor, type QuotaResource, type Quotas } from '../quota';
import { QUOTA_SET_QUERY, quotaSetUpdate, type QuotaSetUpdate } from '../schemas/quota-sets';
import { refuseUnknownQuery } from '../schemas/query';

type C = Context<NovaEnv>;

export const quotaSetRoutes = new Hono<NovaEnv>();

/** The resources shown at the request's microversion, with their values. */
function shown<T>(c: C, values: (r: QuotaResource) => T): Record<string, T> {
  return Object.fromEntries(quotaResourcesAt(c.var.version).map((r) => [r, values(r)]));
}

/** What each resource counts as used for the project (Nova counts key pairs and group members per user: 0 here). */
async function inUse(c: C, projectId: string, userId: string | undefined): Promise<(r: QuotaResource) => number> {
  const u = await usageFor(database(c.env.DB), projectId, userId);
  return (r) => {
    switch (r) {
      case 'instances':
      case 'cores':
      case 'ram':
      case 'server_groups':
        return u[r];
      case 'key_pairs':
        return userId === undefined ? 0 : u.key_pairs;
      default:
        return 0;
    }
  };
}

/** Checks the caller against a quota-set rule, then that Keystone knows the project. */
async function begin(c: C, rule: string): Promise<string> {
  if (c.var.version.atLeast('2.75')) refuseUnknownQuery(c, QUOTA_SET_QUERY);
  const projectId = c.req.param('tenant_id')!;
  authorize(c, `os_compute_api:os-quota-sets:${rule}`, { project_id: projectId });
  await verifyProjectId(c, projectId);
  return projectId;
}

quotaSetRoutes.get('/os-quota-sets/:tenant_id/defaults', async (c) => {
  const projectId = c.req.param('tenant_id');
  authorize(c, 'os_compute_api:os-quota-sets:defaults', { project_id: projectId });
  await verifyProjectId(c, projectId);
  const defaults = await defaultLimits(database(c.env.DB));
  return c.json({ quota_set: { id: projectId, ...shown(c, (r) => defaults[r]) } });
});

quotaSetRoutes.get('/os-quota-sets/:tenant_id/detail', async (c) => {
  const projectId = await begin(c, 'detail');
  const limits = await limitsFor(database(c.env.DB), projectId);
  const used = await inUse(c, projectId, c.req.queries('user_id')?.[0]);
  return c.json({ quota_set: { id: projectId, ...shown(c, (r) => ({ limit: limits[r], in_use: used(r), reserved: 0 })) } });
});

quotaSetRoutes.get('/os-quota-sets/:tenant_id', async (c) => {
  const projectId = await begin(c, 'show');
  const limits = await limitsFor(database(c.env.DB), projectId);
  return c.json({ quota_set: { id: projectId, ...shown(c, (r) => limits[r]) } });
});

quotaSetRoutes.put('/os-quota-sets/:tenant_id', async (c) => {
  const projectId = await begin(c, 'update');
  const body = (await jsonBody(c, quotaSetUpdate(c.var.version))).quota_set as QuotaSetUpdate;
  if (c.req.queries('user_id')?.[0]) throw badRequest('Per-user quotas are not supported; set the quota of the project.');
  const { force = false, ...wanted } = body;
  const db = database(c.env.DB);
  const limits: Quotas = await limitsFor(db, projectId);
  // Pass 1: every value is checked before any is written.
  if (!force) {
    const used = await inUse(c, projectId, undefined);
    for (const [r, limit] of Object.entries(wanted) as [QuotaResource, number][]) {
      const minimum = used(r);
      if (limit !== -1 && limit < minimum) {
        throw badRequest(`Quota limit ${limit} for ${r} must be greater than or equal to already used and reserved ${minimum}.`);
      }
    }
  }
  const entries = Object.entries(wanted) as [QuotaResource, number][];
  if (entries.length > 0) {
    const [first, ...rest] = entries.map(([resource, hardLimit]) =>
      db.insert(quotas).values({ projectId, resource, hardLimit })
        .onConflictDoUpdate({ target: [quotas.projectId, quotas.resource], set: { hardLimit: sql`excluded.hard_limit` } }),
    );
    await db.batch([first!, ...rest]);
  }
  for (const [r, limit] of entries) limits[r] = limit;
  return c.json({ quota_set: shown(c, (r) => limits[r]) });
});

quotaSetRoutes.delete('/os-quota-sets/:tenant_id', async (c) => {
  if (c.var.version.atLeast('2.75')) refuseUnknownQuery(c, QUOTA_SET_QUERY);
  const projectId = c.req.param('tenant_id');
  authorize(c, 'os_compute_api:os-quota-sets:delete', { project_id: projectId });
  // Only per-user rows would match a user_id, and there are none.
  if (!c.req.queries('user_id')?.[0]) await database(c.env.DB).delete(quotas).where(and(eq(quotas.projectId, projectId)));
  return c.body(null, 202);
});
