import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceActionEvents, instances, migrations } from '../../../schema/nova';
import { database, type Db } from '../db';
import type { Env } from '../env';
import { DEMO, novaTestDb, testApp, type TestDb } from '../test-support';
import { migrationRoutes } from './migrations';
import { serverMigrationRoutes } from './server-migrations';

const SERVER = 'cccccccc-0000-4000-8000-000000000001';
const OTHER_SERVER = 'cccccccc-0000-4000-8000-000000000002';
const uuid = (n: number) => `dddddddd-0000-4000-8000-00000000000${n}`;

/** One migrations row; created and updated a minute apart per n, so the order is known. */
const row = (n: number, set: Partial<typeof migrations.$inferInsert>): typeof migrations.$inferInsert => ({
  uuid: uuid(n), instanceUuid: SERVER, migrationType: 'resize', status: 'confirmed', sourceCompute: 'c1', sourceNode: 'c1.node', destCompute: 'c2',
  destNode: 'c2.node', destHost: '10.0.0.2', oldInstanceTypeId: '1', newInstanceTypeId: '2', createdAt: `2026-01-01T00:0${n}:00Z`,
  updatedAt: `2026-01-01T00:0${n}:30Z`, ...set,
});

/** The conductor's answer to a live_migration_abort step. */
let abortTaken = false;
const fakeConductor = {
  idFromName: (host: string) => host,
  get: () => ({ runMoveStep: async () => abortTaken }),
} as unknown as Env['CONDUCTOR'];

let db: TestDb;
let d: Db;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  d = database(db.d1);
  const server = (uuid: string, taskState: string | null) => ({
    uuid, name: 'web', hostname: 'web', projectId: DEMO.projectId, userId: DEMO.userId, imageRef: 'img', flavorId: '1',
    flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} },
    vcpus: 1, memoryMb: 512, vmState: 'active', taskState, reservationId: 'r', createdAt: 'now', updatedAt: 'now', host: 'c1',
  });
  await d.insert(instances).values([server(SERVER, 'migrating'), server(OTHER_SERVER, null)]);
  // One at a time: D1 binds at most 100 parameters per statement.
  for (const r of [
    row(1, {}),
    row(2, { migrationType: 'migration', status: 'error', sourceCompute: 'c2', destCompute: 'c3', newInstanceTypeId: 'custom-flavor' }),
    row(3, { instanceUuid: OTHER_SERVER, migrationType: 'live-migration', status: 'completed' }),
    row(4, { migrationType: 'live-migration', status: 'running' }),
    // Same created_at as 4: the id decides.
    row(5, { migrationType: 'live-migration', status: 'preparing', createdAt: '2026-01-01T00:04:00Z' }),
    row(6, { hidden: true }),
    row(7, { deleted: true }),
  ]) await d.insert(migrations).values(r);
  api = testApp([migrationRoutes, serverMigrationRoutes], { DB: db.d1, CONDUCTOR: fakeConductor });
});
afterAll(() => db.dispose());

const ids = (r: { json: { migrations: { id: number }[] } }) => r.json.migrations.map((m) => m.id);

describe('GET /os-migrations', () => {
  it('shows Nova\'s 2.1 fields, oldest first, without hidden or deleted ones', async () => {
    const r = await api.request('GET', '/os-migrations');
    expect(ids(r)).toEqual([1, 2, 3, 4, 5]);
    expect(r.json.migrations[1]).toEqual({
      created_at: '2026-01-01T00:02:00.000000', dest_compute: 'c3', dest_host: '10.0.0.2', dest_node: 'c2.node', id: 2, instance_uuid: SERVER,
      new_instance_type_id: 'custom-flavor', old_instance_type_id: 1, source_compute: 'c2', source_node: 'c1.node', status: 'error',
      updated_at: '2026-01-01T00:02:30.000000',
    });
  });

  it('filters by host (either end), source_compute, status, type and server', async () => {
    expect(ids(await api.request('GET', '/os-migrations?host=c3'))).toEqual([2]);
    expect(ids(await api.request('GET', '/os-migrations?host=c2'))).toEqual([1, 2, 3, 4, 5]);
    expect(ids(await api.request('GET', '/os-migrations?source_compute=c2'))).toEqual([2]);
    expect(ids(await api.request('GET', '/os-migrations?status=running'))).toEqual([4]);
    expect(ids(await api.request('GET', '/os-migrations?migration_type=live-migration&instance_uuid=' + SERVER))).toEqual([4, 5]);
    expect(ids(await api.request('GET', '/os-migrations?hidden=1'))).toEqual([]);
    expect(ids(await api.request('GET', '/os-migrations?migration_type=evacuation'))).toEqual([]);
  });

  it('adds migration_type and links to in-progress live migrations at 2.23, uuid at 2.59', async () => {
    const r = await api.request('GET', '/os-migrations', { version: '2.23' });
    const byId = new Map(r.json.migrations.map((m: { id: number }) => [m.id, m]));
    expect(byId.get(1)).toMatchObject({ migration_type: 'resize' });
    expect(byId.get(1)).not.toHaveProperty('links');
    expect(byId.get(3)).not.toHaveProperty('links');
    expect(byId.get(4)).toMatchObject({
      links: [
        { rel: 'self', href: `http://cloud.test/compute/v2.1/servers/${SERVER}/migrations/4` },
        { rel: 'bookmark', href: `http://cloud.test/compute/servers/${SERVER}/migrations/4` },
      ],
    });
    expect(byId.get(4)).not.toHaveProperty('uuid');
    expect((await api.request('GET', '/os-migrations', { version: '2.59' })).json.migrations[0]).toMatchObject({ id: 5, uuid: uuid(5) });
  });

  it('pages newest first from 2.59, by created_at then id', async () => {
    const p1 = await api.request('GET', '/os-migrations?limit=2', { version: '2.59' });
    expect(ids(p1)).toEqual([5, 4]);
    expect(p1.json.migrations_links).toEqual([{ rel: 'next', href: `http://cloud.test/compute/v2.1/os-migrations?limit=2&marker=${uuid(4)}` }]);
    const p2 = await api.request('GET', `/os-migrations?limit=2&marker=${uuid(4)}`, { version: '2.59' });
    expect(ids(p2)).toEqual([3, 2]);
    const p3 = await api.request('GET', `/os-migrations?limit=2&marker=${uuid(2)}`, { version: '2.59' });
    expect(ids(p3)).toEqual([1]);
    expect(p3.json.migrations_links).toBeUndefined();
    expect(ids(await api.request('GET', '/os-migrations?limit=0', { version: '2.59' }))).toEqual([]);
  });

  it('filters by changes-since from 2.59 and changes-before from 2.66, by updated_at', async () => {
    expect(ids(await api.request('GET', '/os-migrations?changes-since=2026-01-01T00:03:30Z', { version: '2.59' }))).toEqual([5, 4, 3]);
    expect(ids(await api.request('GET', '/os-migrations?changes-since=2026-01-01T00:03:30Z', { version: '2.58' }))).toEqual([1, 2, 3, 4, 5]);
    expect(ids(await api.request('GET', '/os-migrations?changes-before=2026-01-01T01:02:30%2B01:00', { version: '2.66' }))).toEqual([2, 1]);
    expect(ids(await api.request('GET', '/os-migrations?changes-since=2026-01-01T00:02:00&changes-before=2026-01-01T00:03:59', { version: '2.66' }))).toEqual([3, 2]);
  });

  it('refuses bad filters with Nova\'s 400s, and non-admins', async () => {
    const bad = async (query: string, version: string) => {
      const r = await api.request('GET', `/os-migrations${query}`, { version });
      expect([query, r.status]).toEqual([query, 400]);
      return r.json.badRequest.message as string;
    };
    expect(await bad('?project_id=x', '2.79')).toBe("Additional properties are not allowed ('project_id' was unexpected)");
    expect(await bad('?limit=abc', '2.59')).toBe("Invalid input for query parameters limit. Value: abc. 'abc' does not match '^[0-9]*$'");
    expect(await bad('?marker=nope', '2.59')).toBe('Marker nope could not be found.');
    expect(await bad(`?marker=${uuid(7)}`, '2.59')).toBe(`Marker ${uuid(7)} could not be found.`);
    expect(await bad('?changes-since=2026-13-45', '2.59')).toContain("is not a 'date-time'");
    expect(await bad('?changes-since=2026-01-02&changes-before=2026-01-01', '2.66')).toBe('The value of changes-since must be less than or equal to changes-before.');
    expect((await api.request('GET', '/os-migrations?project_id=x', { version: '2.58' })).status).toBe(200);
    const demo = await api.request('GET', '/os-migrations', { as: DEMO });
    expect(demo.status).toBe(403);
  });
});

describe('/servers/{id}/migrations', () => {
  it('lists and shows only in-progress live migrations, from 2.23', async () => {
    const r = await api.request('GET', `/servers/${SERVER}/migrations`, { version: '2.59' });
    expect(ids(r)).toEqual([4, 5]);
    expect(r.json.migrations[0]).toEqual({
      created_at: '2026-01-01T00:04:00.000000', dest_compute: 'c2', dest_host: '10.0.0.2', dest_node: 'c2.node', disk_processed_bytes: null,
      disk_remaining_bytes: null, disk_total_bytes: null, id: 4, memory_processed_bytes: null, memory_remaining_bytes: null, memory_total_bytes: null,
      server_uuid: SERVER, source_compute: 'c1', source_node: 'c1.node', status: 'running', updated_at: '2026-01-01T00:04:30.000000', uuid: uuid(4),
    });
    expect((await api.request('GET', `/servers/${SERVER}/migrations/5`, { version: '2.23' })).json.migration).toMatchObject({ id: 5, status: 'preparing' });
    const notFound = async (path: string, version = '2.23') => (await api.request('GET', path, { version })).json.itemNotFound?.message;
    expect(await notFound(`/servers/${SERVER}/migrations`, '2.22')).toBe('The resource could not be found.');
    expect(await notFound(`/servers/${SERVER}/migrations/1`)).toBe(`Migration 1 for server ${SERVER} is not live-migration.`);
    expect(await notFound(`/servers/${OTHER_SERVER}/migrations/3`)).toBe(`Live migration 3 for server ${OTHER_SERVER} is not in progress.`);
    expect(await notFound(`/servers/${SERVER}/migrations/3`)).toBe(`In-progress live migration 3 is not found for server ${SERVER}.`);
    expect(await notFound(`/servers/${SERVER}/migrations/x`)).toBe(`In-progress live migration x is not found for server ${SERVER}.`);
    expect((await api.request('GET', `/servers/${SERVER}/migrations`, { version: '2.23', as: DEMO })).status).toBe(403);
  });

  it('aborts only a preparing one from 2.65, and says why not otherwise', async () => {
    const abort = (server: string, id: string | number, version = '2.65') => api.request('DELETE', `/servers/${server}/migrations/${id}`, { version });
    expect((await abort(SERVER, 5, '2.23')).status).toBe(404);
    const idle = await abort(OTHER_SERVER, 3);
    expect([idle.status, idle.json.conflictingRequest.message]).toEqual([409, `Cannot 'abort live migration' instance ${OTHER_SERVER} while it is in task_state None`]);
    expect((await abort(SERVER, 99)).json.itemNotFound.message).toBe(`Migration 99 not found for instance ${SERVER}`);
    const running = await abort(SERVER, 4);
    expect([running.status, running.json.badRequest.message]).toEqual([
      400, `Migration 4 state of instance ${SERVER} is running. Cannot abort live migration while the migration is in this state.`,
    ]);
    expect((await abort(SERVER, 5, '2.64')).status).toBe(400);
    // The destination says it is past preparing: refused, and the cancel's event says so.
    abortTaken = false;
    expect((await abort(SERVER, 5)).status).toBe(400);
    const [event] = await d.select().from(instanceActionEvents);
    expect(event).toMatchObject({ event: 'compute_live_migration_abort', result: 'Error' });
    abortTaken = true;
    const ok = await abort(SERVER, 5);
    expect([ok.status, ok.text]).toEqual([202, '']);
  });
});
