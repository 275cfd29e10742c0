import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instances, quotas } from '../../../schema/nova';
import { database } from '../db';
import { DEFAULT_QUOTAS, limitsFor, overQuota, usageFor } from '../quota';
import { ADMIN, DEMO, OTHER, novaTestDb, testApp, type TestDb } from '../test-support';
import { limitRoutes } from './limits';
import { quotaSetRoutes } from './quota-sets';
import { serverGroupRoutes } from './server-groups';

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  api = testApp([quotaSetRoutes, limitRoutes, serverGroupRoutes], { DB: db.d1 });
  // Two servers of demo's (one deleted, which does not count).
  const server = (uuid: string, deleted: boolean) => ({
    uuid, name: uuid, hostname: uuid, projectId: DEMO.projectId, userId: DEMO.userId, imageRef: 'img', flavorId: '1',
    flavor: { id: '1', name: 'm1.tiny', vcpus: 2, ram: 1024, disk: 1, ephemeral: 0, swap: 0, extraSpecs: {} },
    vcpus: 2, memoryMb: 1024, vmState: 'active', reservationId: 'r', createdAt: 'now', updatedAt: 'now', deleted,
  });
  await database(db.d1).insert(instances).values([server('11111111-1111-4111-8111-111111111111', false), server('22222222-2222-4222-8222-222222222222', true)]);
});
afterAll(() => db.dispose());

describe('quota.ts', () => {
  it('takes project rows over the default class over Nova\'s defaults', async () => {
    const d = database(db.d1);
    await d.insert(quotas).values([
      { projectId: '__default__', resource: 'cores', hardLimit: 40 },
      { projectId: 'p1', resource: 'cores', hardLimit: 8 },
      { projectId: 'p1', resource: 'ram', hardLimit: -1 },
    ]);
    expect(await limitsFor(db.d1, 'p1')).toMatchObject({ cores: 8, ram: -1, instances: 10 });
    expect((await limitsFor(d, 'p2')).cores).toBe(40);
    await d.delete(quotas);
    expect(await limitsFor(db.d1, 'p2')).toEqual(DEFAULT_QUOTAS);
  });

  it('counts usage of servers not deleted', async () => {
    expect(await usageFor(db.d1, DEMO.projectId, DEMO.userId)).toEqual({ instances: 1, cores: 2, ram: 1024, key_pairs: 0, server_groups: 0 });
    const limits = { ...DEFAULT_QUOTAS, cores: 3, ram: -1 };
    const usage = await usageFor(db.d1, DEMO.projectId);
    expect(overQuota(limits, usage, { instances: 1, cores: 2, ram: 1 << 30 })).toEqual(['cores']);
  });
});

describe('os-quota-sets', () => {
  it('shows the quota, per microversion', async () => {
    const old = await api.request('GET', `/os-quota-sets/${DEMO.projectId}`, { as: DEMO });
    expect(old.json.quota_set).toEqual({ id: DEMO.projectId, ...DEFAULT_QUOTAS });
    const v236 = (await api.request('GET', `/os-quota-sets/${DEMO.projectId}`, { as: DEMO, version: '2.36' })).json.quota_set;
    expect(v236).not.toHaveProperty('floating_ips');
    expect(v236).toHaveProperty('injected_files');
    const v257 = (await api.request('GET', `/os-quota-sets/${DEMO.projectId}`, { as: DEMO, version: '2.57' })).json.quota_set;
    expect(Object.keys(v257).sort()).toEqual(['cores', 'id', 'instances', 'key_pairs', 'metadata_items', 'ram', 'server_group_members', 'server_groups']);
    expect((await api.request('GET', `/os-quota-sets/${DEMO.projectId}/defaults`, { as: DEMO, version: '2.57' })).json.quota_set.instances).toBe(10);
  });

  it('shows usage in detail', async () => {
    const r = await api.request('GET', `/os-quota-sets/${DEMO.projectId}/detail`, { as: DEMO, version: '2.57' });
    expect(r.json.quota_set.cores).toEqual({ limit: 20, in_use: 2, reserved: 0 });
    expect(r.json.quota_set.instances).toEqual({ limit: 10, in_use: 1, reserved: 0 });
  });

  it('lets admins set limits, not below usage unless forced, and revert to defaults', async () => {
    const path = `/os-quota-sets/${DEMO.projectId}`;
    const set = await api.request('PUT', path, { body: { quota_set: { instances: '5', cores: 4, key_pairs: -1 } }, version: '2.57' });
    expect(set.status).toBe(200);
    expect(set.json.quota_set).toMatchObject({ instances: 5, cores: 4, key_pairs: -1 });
    expect(set.json.quota_set).not.toHaveProperty('id');
    const below = await api.request('PUT', path, { body: { quota_set: { cores: 1 } }, version: '2.57' });
    expect(below.json).toEqual({ badRequest: { code: 400, message: 'Quota limit 1 for cores must be greater than or equal to already used and reserved 2.' } });
    expect((await api.request('PUT', path, { body: { quota_set: { cores: 1, force: true } }, version: '2.57' })).json.quota_set.cores).toBe(1);
    expect((await api.request('GET', path, { as: DEMO })).json.quota_set).toMatchObject({ instances: 5, cores: 1 });
    expect((await api.request('DELETE', path)).status).toBe(202);
    expect((await api.request('GET', path, { as: DEMO })).json.quota_set).toMatchObject({ instances: 10, cores: 20 });
  });

  it('refuses bad bodies, other projects and non-admin writers', async () => {
    const path = `/os-quota-sets/${DEMO.projectId}`;
    expect((await api.request('PUT', path, { body: { quota_set: { cores: -2 } } })).status).toBe(400);
    expect((await api.request('PUT', path, { body: { quota_set: { cores: 'lots' } } })).status).toBe(400);
    expect((await api.request('PUT', path, { body: { quota_set: { bogus: 1 } } })).status).toBe(400);
    expect((await api.request('PUT', path, { body: { quota_set: { floating_ips: 1 } }, version: '2.36' })).status).toBe(400);
    expect((await api.request('PUT', path, { body: { quota_set: { floating_ips: 1 } }, version: '2.35' })).status).toBe(200);
    expect((await api.request('DELETE', path)).status).toBe(202);
    expect((await api.request('PUT', path, { body: { quota_set: { cores: 30 } }, as: DEMO })).status).toBe(403);
    expect((await api.request('GET', path, { as: OTHER })).status).toBe(403);
    expect((await api.request('GET', '/os-quota-sets/missing-project')).json.badRequest.message).toBe('Project ID missing-project is not a valid project.');
    expect((await api.request('GET', `${path}?bogus=1`, { version: '2.75' })).status).toBe(400);
  });
});

describe('limits', () => {
  it('shows absolute limits and usage, per microversion', async () => {
    const r = await api.request('GET', '/limits', { as: DEMO });
    expect(r.json.limits.rate).toEqual([]);
    expect(r.json.limits.absolute).toMatchObject({
      maxTotalInstances: 10, maxTotalCores: 20, maxTotalRAMSize: 51200, maxTotalKeypairs: 100, maxServerMeta: 128, maxImageMeta: 128,
      maxPersonality: 5, maxTotalFloatingIps: -1, totalInstancesUsed: 1, totalCoresUsed: 2, totalRAMUsed: 1024, totalServerGroupsUsed: 0,
      totalFloatingIpsUsed: 0, totalSecurityGroupsUsed: 0,
    });
    const latest = (await api.request('GET', '/limits', { as: DEMO, version: '2.57' })).json.limits.absolute;
    expect(Object.keys(latest).sort()).toEqual([
      'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize',
      'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
    ]);
  });

  it('lets only admins ask about another project', async () => {
    expect((await api.request('GET', `/limits?tenant_id=${DEMO.projectId}`)).json.limits.absolute.totalInstancesUsed).toBe(1);
    expect((await api.request('GET', `/limits?tenant_id=${ADMIN.projectId}`, { as: DEMO })).status).toBe(403);
  });
});
