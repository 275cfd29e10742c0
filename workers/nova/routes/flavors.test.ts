import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bootstrapNova } from '../bootstrap';
import { ADMIN, DEMO, OTHER, novaTestDb, testApp, type TestDb } from '../test-support';
import { flavorRoutes } from './flavors';

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  await bootstrapNova(db.d1);
  await bootstrapNova(db.d1); // idempotent
  api = testApp([flavorRoutes], { DB: db.d1 });
});
afterAll(() => db.dispose());

const create = (flavor: Record<string, unknown>, version = '2.79', as = ADMIN) =>
  api.request('POST', '/flavors', { body: { flavor }, version, as });

describe('the default flavors', () => {
  it('are the five m1 flavors, sorted by flavorid, with links', async () => {
    const r = await api.request('GET', '/flavors/detail', { as: DEMO });
    expect(r.status).toBe(200);
    expect(r.json.flavors.map((f: any) => [f.id, f.name, f.ram, f.vcpus, f.disk])).toEqual([
      ['1', 'm1.tiny', 512, 1, 1],
      ['2', 'm1.small', 2048, 1, 20],
      ['3', 'm1.medium', 4096, 2, 40],
      ['4', 'm1.large', 8192, 4, 80],
      ['5', 'm1.xlarge', 16384, 8, 160],
    ]);
    const tiny = r.json.flavors[0];
    expect(tiny).toMatchObject({ swap: '', 'OS-FLV-EXT-DATA:ephemeral': 0, 'OS-FLV-DISABLED:disabled': false, 'os-flavor-access:is_public': true, rxtx_factor: 1 });
    expect(tiny).not.toHaveProperty('description');
    expect(tiny.links).toEqual([
      { rel: 'self', href: 'http://cloud.test/compute/v2.1/flavors/1' },
      { rel: 'bookmark', href: 'http://cloud.test/compute/flavors/1' },
    ]);
    expect(r.json).not.toHaveProperty('flavors_links');
  });

  it('show per microversion: description at 2.55, extra_specs at 2.61, swap 0 at 2.75', async () => {
    expect((await api.request('GET', '/flavors/1', { version: '2.55' })).json.flavor).toMatchObject({ description: null, swap: '' });
    const v61 = (await api.request('GET', '/flavors/1', { version: '2.61' })).json.flavor;
    expect(v61.extra_specs).toEqual({});
    expect((await api.request('GET', '/flavors/1', { version: '2.75' })).json.flavor.swap).toBe(0);
    const brief = (await api.request('GET', '/flavors', { version: '2.55' })).json.flavors[0];
    expect(Object.keys(brief).sort()).toEqual(['description', 'id', 'links', 'name']);
  });
});

describe('listing', () => {
  it('filters by minRam and minDisk, sorts, pages with limit and marker', async () => {
    const big = await api.request('GET', '/flavors?minRam=8192&minDisk=100');
    expect(big.json.flavors.map((f: any) => f.id)).toEqual(['5']);
    const sorted = await api.request('GET', '/flavors?sort_key=memory_mb&sort_dir=desc');
    expect(sorted.json.flavors.map((f: any) => f.id).slice(0, 2)).toEqual(['5', '4']);
    const page = await api.request('GET', '/flavors?limit=2&marker=2');
    expect(page.json.flavors.map((f: any) => f.id)).toEqual(['3', '4']);
    expect(page.json.flavors_links).toEqual([{ rel: 'next', href: 'http://cloud.test/compute/v2.1/flavors?limit=2&marker=4' }]);
  });

  it('refuses bad filters with 400, and unknown parameters from 2.75', async () => {
    expect((await api.request('GET', '/flavors?minRam=abc')).json).toEqual({ badRequest: { code: 400, message: 'Invalid minRam filter [abc]' } });
    expect((await api.request('GET', '/flavors?marker=nope')).json.badRequest.message).toBe('marker [nope] not found');
    expect((await api.request('GET', '/flavors?sort_key=bogus')).status).toBe(400);
    expect((await api.request('GET', '/flavors?limit=-1')).status).toBe(400);
    expect((await api.request('GET', '/flavors?is_public=maybe')).status).toBe(400);
    expect((await api.request('GET', '/flavors?foo=1', { version: '2.74' })).status).toBe(200);
    expect((await api.request('GET', '/flavors?foo=1', { version: '2.75' })).status).toBe(400);
  });
});

describe('managing flavors', () => {
  it('creates with a given or generated id, refuses duplicates with 409', async () => {
    const r = await create({ name: 'f.custom', ram: '1024', vcpus: 2, disk: 10, id: 'custom-1', swap: 512, 'os-flavor-access:is_public': 'yes', description: 'a flavor' });
    expect(r.status).toBe(200);
    expect(r.json.flavor).toMatchObject({ id: 'custom-1', name: 'f.custom', ram: 1024, vcpus: 2, disk: 10, swap: 512, description: 'a flavor', extra_specs: {} });
    const auto = await create({ name: 'f.auto', ram: 64, vcpus: 1, disk: 0 });
    expect(auto.json.flavor.id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await create({ name: 'f.custom', ram: 64, vcpus: 1, disk: 0 })).json).toEqual({
      conflictingRequest: { code: 409, message: 'Flavor with name f.custom already exists.' },
    });
    expect((await create({ name: 'other', ram: 64, vcpus: 1, disk: 0, id: 'custom-1' })).json.conflictingRequest.message).toBe(
      'Flavor with ID custom-1 already exists.',
    );
  });

  it('validates bodies (400) and policy (403)', async () => {
    for (const bad of [
      { name: 'x', ram: 0, vcpus: 1, disk: 0 },
      { name: ' x', ram: 1, vcpus: 1, disk: 0 },
      { name: 'x', ram: 1, vcpus: 1 },
      { name: 'x', ram: 1, vcpus: 1, disk: -1 },
      { name: 'x', ram: 1, vcpus: 1, disk: 0, rxtx_factor: 0 },
      { name: 'x', ram: 1, vcpus: 1, disk: 0, bogus: 1 },
      { name: 'x', ram: 1, vcpus: 1, disk: 0, id: ' lead' },
    ]) {
      const r = await create(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
    expect((await create({ name: 'x', ram: 1, vcpus: 1, disk: 0, description: 'd' }, '2.54')).status).toBe(400);
    expect((await api.request('POST', '/flavors', { body: 'not json' })).status).toBe(400);
    const denied = await create({ name: 'x', ram: 1, vcpus: 1, disk: 0 }, '2.79', DEMO);
    expect(denied.status).toBe(403);
    expect(denied.json.forbidden.code).toBe(403);
  });

  it('updates the description from 2.55 only, and deletes with 202', async () => {
    await create({ name: 'f.upd', ram: 64, vcpus: 1, disk: 0, id: 'upd' });
    expect((await api.request('PUT', '/flavors/upd', { body: { flavor: { description: 'new' } }, version: '2.54' })).status).toBe(404);
    const r = await api.request('PUT', '/flavors/upd', { body: { flavor: { description: 'new' } }, version: '2.55' });
    expect(r.json.flavor.description).toBe('new');
    expect((await api.request('PUT', '/flavors/upd', { body: { flavor: { name: 'n' } }, version: '2.55' })).status).toBe(400);
    expect((await api.request('DELETE', '/flavors/upd')).status).toBe(202);
    expect((await api.request('DELETE', '/flavors/upd')).json).toEqual({ itemNotFound: { code: 404, message: 'Flavor upd could not be found.' } });
    expect((await api.request('GET', '/flavors/upd')).status).toBe(404);
  });
});

describe('private flavors', () => {
  it('are seen only by admins and the projects given access', async () => {
    await create({ name: 'f.private', ram: 64, vcpus: 1, disk: 0, id: 'priv', 'os-flavor-access:is_public': false });
    expect((await api.request('GET', '/flavors/priv', { as: DEMO })).status).toBe(404);
    expect((await api.request('GET', '/flavors', { as: DEMO })).json.flavors.map((f: any) => f.id)).not.toContain('priv');
    // An admin's default listing shows public flavors; is_public=false or none shows the private one.
    expect((await api.request('GET', '/flavors')).json.flavors.map((f: any) => f.id)).not.toContain('priv');
    expect((await api.request('GET', '/flavors?is_public=false')).json.flavors.map((f: any) => f.id)).toEqual(['priv']);
    expect((await api.request('GET', '/flavors?is_public=None')).json.flavors.map((f: any) => f.id)).toContain('priv');

    const add = await api.request('POST', '/flavors/priv/action', { body: { addTenantAccess: { tenant: DEMO.projectId } } });
    expect(add.json).toEqual({ flavor_access: [{ flavor_id: 'priv', tenant_id: DEMO.projectId }] });
    expect((await api.request('POST', '/flavors/priv/action', { body: { addTenantAccess: { tenant: DEMO.projectId } } })).status).toBe(409);
    expect((await api.request('GET', '/flavors/priv', { as: DEMO })).status).toBe(200);
    expect((await api.request('GET', '/flavors', { as: DEMO })).json.flavors.map((f: any) => f.id)).toContain('priv');
    expect((await api.request('GET', '/flavors/priv', { as: OTHER })).status).toBe(404);
    expect((await api.request('GET', '/flavors/priv/os-flavor-access')).json.flavor_access).toHaveLength(1);
    expect((await api.request('GET', '/flavors/priv/os-flavor-access', { as: DEMO })).status).toBe(403);

    const rm = await api.request('POST', '/flavors/priv/action', { body: { removeTenantAccess: { tenant: DEMO.projectId } } });
    expect(rm.json).toEqual({ flavor_access: [] });
    expect((await api.request('POST', '/flavors/priv/action', { body: { removeTenantAccess: { tenant: DEMO.projectId } } })).status).toBe(404);
    expect((await api.request('GET', '/flavors/priv', { as: DEMO })).status).toBe(404);
  });

  it('answers access errors as Nova does', async () => {
    expect((await api.request('GET', '/flavors/1/os-flavor-access')).json.itemNotFound.message).toBe('Access list not available for public flavors.');
    // Before 2.7 access to a public flavor was recorded; from 2.7 it is a conflict.
    expect((await api.request('POST', '/flavors/1/action', { body: { addTenantAccess: { tenant: DEMO.projectId } }, version: '2.7' })).status).toBe(409);
    expect((await api.request('POST', '/flavors/1/action', { body: { addTenantAccess: { tenant: DEMO.projectId } }, version: '2.6' })).status).toBe(200);
    expect((await api.request('POST', '/flavors/priv/action', { body: { addTenantAccess: { tenant: 'missing-project' } } })).json.badRequest.message).toBe(
      'Project ID missing-project is not a valid project.',
    );
    expect((await api.request('POST', '/flavors/priv/action', { body: { bogus: {} } })).json.badRequest.message).toBe('There is no such action: bogus');
    expect((await api.request('POST', '/flavors/priv/action', { body: { a: 1, b: 2 } })).json.badRequest.message).toBe('Malformed request body');
    expect((await api.request('POST', '/flavors/priv/action', { body: { addTenantAccess: { tenant: DEMO.projectId } }, as: DEMO })).status).toBe(403);
  });
});

describe('extra specs', () => {
  it('are created, shown, updated and deleted', async () => {
    const set = await api.request('POST', '/flavors/2/os-extra_specs', { body: { extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': 1024 } } });
    expect(set.json).toEqual({ extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': 1024 } });
    expect((await api.request('GET', '/flavors/2/os-extra_specs', { as: DEMO })).json).toEqual({
      extra_specs: { 'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': '1024' },
    });
    expect((await api.request('GET', '/flavors/2/os-extra_specs/hw:cpu_policy')).json).toEqual({ 'hw:cpu_policy': 'dedicated' });
    expect((await api.request('PUT', '/flavors/2/os-extra_specs/hw:cpu_policy', { body: { 'hw:cpu_policy': 'shared' } })).json).toEqual({ 'hw:cpu_policy': 'shared' });
    expect((await api.request('PUT', '/flavors/2/os-extra_specs/hw:cpu_policy', { body: { other: 'x' } })).json.badRequest.message).toBe('Request body and URI mismatch');
    expect((await api.request('GET', '/flavors/2', { version: '2.61' })).json.flavor.extra_specs).toEqual({ 'hw:cpu_policy': 'shared', 'quota:cpu_shares': '1024' });
    expect((await api.request('DELETE', '/flavors/2/os-extra_specs/quota:cpu_shares')).status).toBe(200);
    expect((await api.request('DELETE', '/flavors/2/os-extra_specs/quota:cpu_shares')).json.itemNotFound.message).toBe(
      'Flavor 2 has no extra specs with key quota:cpu_shares.',
    );
    expect((await api.request('GET', '/flavors/2/os-extra_specs/nope')).status).toBe(404);
  });

  it('refuses bad keys and non-admin writers', async () => {
    expect((await api.request('POST', '/flavors/2/os-extra_specs', { body: { extra_specs: { 'bad/key': 'v' } } })).status).toBe(400);
    expect((await api.request('POST', '/flavors/2/os-extra_specs', { body: { extra_specs: { k: 'x'.repeat(256) } } })).status).toBe(400);
    expect((await api.request('POST', '/flavors/2/os-extra_specs', { body: { extra_specs: { k: 'v' } }, as: DEMO })).status).toBe(403);
    expect((await api.request('POST', '/flavors/nope/os-extra_specs', { body: { extra_specs: { k: 'v' } } })).status).toBe(404);
  });
});
