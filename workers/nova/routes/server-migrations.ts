// /servers/{id}/migrations: a server's live migrations under way (2.23), one of them
// (2.23), and aborting one (2.24), as nova/api/openstack/compute/server_migrations.py and
// the compute API's live_migrate_abort answer them. A live migration is aborted only while
// it prepares (2.65, as Nova's queued and preparing ones): the destination then rolls it
// back instead of handing it to the source. Once the source's connector runs it, it runs to
// its end, so a running one answers as Nova does for a state it cannot abort in (400).
import { and, asc, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { badRequest, conflict, notFound } from '../../../lib/errors';
import { migrations } from '../../../schema/nova';
import { checkLock, loadServer, recordAction, requestId, type C } from '../compute/api';
import { finishEvent } from '../compute/instance-updates';
import { LIVE_MIGRATION_IN_PROGRESS } from '../compute/migration';
import { ABORT_EVENT } from '../compute/move-updates';
import { conductor, database } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { isLiveInProgress, serverMigrationView, type MigrationRow } from '../views/migrations';

export const serverMigrationRoutes = new Hono<NovaEnv>();

/** Routes a microversion does not have yet are not found, as Nova's api_version decorator makes them. */
function since(c: C, version: string): void {
  if (!c.var.version.atLeast(version)) throw notFound('The resource could not be found.');
}

/** A migration of this server by its integer id (migration_get_by_id_and_instance), or null. */
async function migrationOf(c: C, serverUuid: string, id: string): Promise<MigrationRow | null> {
  if (!/^\d+$/.test(id)) return null;
  const [m] = await database(c.env.DB)
    .select()
    .from(migrations)
    .where(and(eq(migrations.id, Number(id)), eq(migrations.instanceUuid, serverUuid), eq(migrations.deleted, false)));
  return m ?? null;
}

serverMigrationRoutes.get('/servers/:id/migrations', async (c) => {
  since(c, '2.23');
  const s = await loadServer(c, c.req.param('id'));
  authorize(c, 'os_compute_api:servers:migrations:index', { project_id: s.projectId });
  const rows = await database(c.env.DB)
    .select()
    .from(migrations)
    .where(and(
      eq(migrations.instanceUuid, s.uuid), eq(migrations.deleted, false),
      eq(migrations.migrationType, 'live-migration'), inArray(migrations.status, LIVE_MIGRATION_IN_PROGRESS),
    ))
    .orderBy(asc(migrations.id));
  return c.json({ migrations: rows.map((m) => serverMigrationView(m, c.var.version)) });
});

serverMigrationRoutes.get('/servers/:id/migrations/:migrationId', async (c) => {
  since(c, '2.23');
  const s = await loadServer(c, c.req.param('id'));
  authorize(c, 'os_compute_api:servers:migrations:show', { project_id: s.projectId });
  const id = c.req.param('migrationId');
  const m = await migrationOf(c, s.uuid, id);
  if (!m) throw notFound(`In-progress live migration ${id} is not found for server ${s.uuid}.`);
  if (m.migrationType !== 'live-migration') throw notFound(`Migration ${id} for server ${s.uuid} is not live-migration.`);
  if (!isLiveInProgress(m)) throw notFound(`Live migration ${id} for server ${s.uuid} is not in progress.`);
  return c.json({ migration: serverMigrationView(m, c.var.version) });
});

serverMigrationRoutes.delete('/servers/:id/migrations/:migrationId', async (c) => {
  since(c, '2.24');
  const s = await loadServer(c, c.req.param('id'));
  authorize(c, 'os_compute_api:servers:migrations:delete', { project_id: s.projectId });
  checkLock(c, s);
  if (s.taskState !== 'migrating') throw conflict(`Cannot 'abort live migration' instance ${s.uuid} while it is in task_state ${s.taskState ?? 'None'}`);
  const id = c.req.param('migrationId');
  const m = await migrationOf(c, s.uuid, id);
  if (!m) throw notFound(`Migration ${id} not found for instance ${s.uuid}`);
  const invalid = (status: string) => badRequest(`Migration ${id} state of instance ${s.uuid} is ${status}. Cannot abort live migration while the migration is in this state.`);
  // Nova aborts a running one in the hypervisor; these hosts cannot. Queued and preparing ones from 2.65.
  const abortable = c.var.version.atLeast('2.65') ? ['queued', 'preparing'] : [];
  if (!abortable.includes(m.status) || !m.destCompute) throw invalid(m.status);
  const db = database(c.env.DB);
  const reqId = requestId(c);
  await db.batch(recordAction(db, c, reqId, s.uuid, 'live_migration_cancel', ABORT_EVENT, s.host));
  const taken = await conductor(c.env, m.destCompute).runMoveStep(m.destCompute, { step: 'live_migration_abort', instanceUuid: s.uuid, migrationId: m.uuid, requestId: reqId });
  if (!taken) {
    // It went past preparing meanwhile.
    const refused = invalid((await migrationOf(c, s.uuid, id))?.status ?? m.status);
    const [first, ...rest] = finishEvent(db, reqId, ABORT_EVENT, 'Error', s.host ?? '', refused.message);
    if (first) await db.batch([first, ...rest]);
    throw refused;
  }
  return c.body(null, 202);
});
