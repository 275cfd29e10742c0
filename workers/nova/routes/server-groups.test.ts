import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instances, quotas, serverGroupMembers } from '../../../schema/nova';
import { database } from '../db';
import { ADMIN, DEMO, OTHER, novaTestDb, testApp, type TestDb } from '../test-support';
import { serverGroupRoutes } from './server-groups';

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  api = testApp([serverGroupRoutes], { DB: db.d1 });
});
afterAll(() => db.dispose());

const create = (server_group: Record<string, unknown>, version = '2.64', as = DEMO) =>
  api.request('POST', '/os-server-groups', { body: { server_group }, version, as });

describe('server groups', () => {
  it('are created with a policy and rules at 2.64, with policies before', async () => {
    const r = await create({ name: 'spread', policy: 'anti-affinity', rules: { max_server_per_host: '2' } });
    expect(r.status).toBe(200);
    expect(r.json.server_group).toMatchObject({
      name: 'spread', policy: 'anti-affinity', rules: { max_server_per_host: 2 }, members: [], project_id: DEMO.projectId, user_id: DEMO.userId,
    });
    expect(r.json.server_group).not.toHaveProperty('policies');
    const old = await create({ name: 'old', policies: ['affinity'] }, '2.1');
    expect(old.json.server_group).toEqual({ id: old.json.server_group.id, name: 'old', policies: ['affinity'], metadata: {}, members: [] });
    expect((await create({ name: 'soft', policies: ['soft-affinity'] }, '2.15')).status).toBe(200);
  });

  it('refuses bad bodies with 400', async () => {
    for (const [body, version] of [
      [{ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } }, '2.64'],
      [{ name: 'x', policy: 'bogus' }, '2.64'],
      [{ name: 'x', policies: ['affinity'] }, '2.64'],
      [{ name: 'x', policy: 'anti-affinity', rules: { max_server_per_host: 0 } }, '2.64'],
      [{ name: 'x', policy: 'anti-affinity', rules: { other: 1 } }, '2.64'],
      [{ name: 'x', policies: ['soft-affinity'] }, '2.14'],
      [{ name: 'x', policies: ['affinity', 'anti-affinity'] }, '2.14'],
      [{ name: '', policies: ['affinity'] }, '2.14'],
    ] as const) {
      const r = await create(body, version);
      expect(r.status, JSON.stringify(body)).toBe(400);
    }
    expect((await create({ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } })).json.badRequest.message).toBe(
      'Only anti-affinity policy supports rules.',
    );
  });

  it('lists the project\'s groups, or all of them for admins asking so', async () => {
    await create({ name: 'admins', policy: 'affinity' }, '2.64', ADMIN);
    const mine = await api.request('GET', '/os-server-groups', { as: DEMO, version: '2.64' });
    expect(mine.json.server_groups.map((g: any) => g.name)).toEqual(['spread', 'old', 'soft']);
    expect((await api.request('GET', '/os-server-groups?all_projects=true', { as: DEMO })).json.server_groups).toHaveLength(3);
    expect((await api.request('GET', '/os-server-groups?all_projects=true')).json.server_groups).toHaveLength(4);
    expect((await api.request('GET', '/os-server-groups?all_projects=1&limit=2&offset=1')).json.server_groups.map((g: any) => g.name)).toEqual(['old', 'soft']);
    expect((await api.request('GET', '/os-server-groups?limit=x')).status).toBe(400);
    expect((await api.request('GET', '/os-server-groups?bogus=1', { version: '2.75' })).status).toBe(400);
  });

  it('shows members that are not deleted, and deletes', async () => {
    const g = (await create({ name: 'with-members', policy: 'affinity' })).json.server_group;
    const d = database(db.d1);
    const server = (uuid: string, deleted: boolean) => ({
      uuid, name: uuid, hostname: uuid, projectId: DEMO.projectId, userId: DEMO.userId, imageRef: 'img', flavorId: '1',
      flavor: { id: '1', name: 'm1.tiny', vcpus: 1, ram: 512, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} },
      vcpus: 1, memoryMb: 512, vmState: 'active', reservationId: 'r', createdAt: 'now', updatedAt: 'now', deleted,
    });
    const live = '33333333-3333-4333-8333-333333333333';
    const dead = '44444444-4444-4444-8444-444444444444';
    await d.insert(instances).values([server(live, false), server(dead, true)]);
    await d.insert(serverGroupMembers).values([{ groupUuid: g.id, instanceUuid: live }, { groupUuid: g.id, instanceUuid: dead }]);
    expect((await api.request('GET', `/os-server-groups/${g.id}`, { as: DEMO })).json.server_group.members).toEqual([live]);
    expect((await api.request('GET', `/os-server-groups/${g.id}`, { as: OTHER })).status).toBe(403);
    expect((await api.request('DELETE', `/os-server-groups/${g.id}`, { as: OTHER })).status).toBe(403);
    expect((await api.request('DELETE', `/os-server-groups/${g.id}`, { as: DEMO })).status).toBe(204);
    expect((await api.request('GET', `/os-server-groups/${g.id}`, { as: DEMO })).json).toEqual({
      itemNotFound: { code: 404, message: `Instance group ${g.id} could not be found.` },
    });
  });

  it('enforces the server_groups quota, also under concurrent creates', async () => {
    await database(db.d1).insert(quotas).values({ projectId: OTHER.projectId, resource: 'server_groups', hardLimit: 3 });
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => create({ name: `g${i}`, policy: 'affinity' }, '2.64', OTHER)));
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    const refused = results.filter((r) => r.status === 403);
    expect(refused).toHaveLength(3);
    expect(refused[0]!.json).toEqual({ forbidden: { code: 403, message: 'Quota exceeded, too many server groups.' } });
  });
});
