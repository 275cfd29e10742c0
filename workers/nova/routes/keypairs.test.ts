import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quotas } from '../../../schema/nova';
import { database } from '../db';
import { ADMIN, DEMO, OTHER, novaTestDb, testApp, type TestDb } from '../test-support';
import { keypairRoutes } from './keypairs';

const ED25519 = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKC+Ir8d4PUNHT4fl1tXDsAzZhipZF+Nbx8uhDx9X3Ed user@host';
const ED25519_MD5 = 'e7:37:5f:e5:ba:ed:4a:21:89:e4:73:4f:c7:eb:e5:d7';

let db: TestDb;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  api = testApp([keypairRoutes], { DB: db.d1 });
});
afterAll(() => db.dispose());

const create = (keypair: Record<string, unknown>, version = '2.79', as = DEMO) => api.request('POST', '/os-keypairs', { body: { keypair }, version, as });

describe('keypairs', () => {
  it('imports a public key with its MD5 fingerprint, and refuses a duplicate with 409', async () => {
    const r = await create({ name: 'imported', public_key: ED25519 });
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ keypair: { name: 'imported', public_key: ED25519, fingerprint: ED25519_MD5, user_id: DEMO.userId, type: 'ssh' } });
    const dup = await create({ name: 'imported', public_key: ED25519 });
    expect(dup.json).toEqual({ conflictingRequest: { code: 409, message: "Key pair 'imported' already exists." } });
    // Before 2.2: 200 and no type.
    const old = await create({ name: 'old', public_key: ED25519 }, '2.1');
    expect(old.status).toBe(200);
    expect(old.json.keypair).not.toHaveProperty('type');
  });

  it('generates an RSA key pair when no public key is given', async () => {
    const r = await create({ name: 'generated' });
    expect(r.status).toBe(201);
    expect(r.json.keypair.private_key).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n/);
    expect(r.json.keypair.public_key).toMatch(/^ssh-rsa \S+ Generated-by-Nova$/);
    expect(r.json.keypair.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
  });

  it('refuses bad names, bad keys and unknown fields with 400', async () => {
    for (const bad of [{ name: 'bad/name', public_key: ED25519 }, { name: '', public_key: ED25519 }, { public_key: ED25519 }, { name: 'x', public_key: 'ssh-rsa garbage' }, { name: 'x', type: 'pgp' }, { name: 'x', extra: 1 }]) {
      const r = await create(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
    }
    expect((await create({ name: 'x', public_key: 'ssh-rsa garbage' })).json.badRequest.message).toBe('Keypair data is invalid: failed to generate fingerprint');
    // type is a 2.2 field, user_id a 2.10 one.
    expect((await create({ name: 'x', type: 'ssh', public_key: ED25519 }, '2.1')).status).toBe(400);
    expect((await create({ name: 'x', user_id: DEMO.userId, public_key: ED25519 }, '2.9')).status).toBe(400);
  });

  it('lists, shows and deletes the caller\'s key pairs only', async () => {
    const list = await api.request('GET', '/os-keypairs', { as: DEMO, version: '2.2' });
    expect(list.json.keypairs.map((k: any) => k.keypair.name)).toEqual(['generated', 'imported', 'old']);
    expect(Object.keys(list.json.keypairs[0].keypair).sort()).toEqual(['fingerprint', 'name', 'public_key', 'type']);
    expect((await api.request('GET', '/os-keypairs', { as: OTHER })).json.keypairs).toEqual([]);
    const show = await api.request('GET', '/os-keypairs/imported', { as: DEMO, version: '2.2' });
    expect(show.json.keypair).toMatchObject({ name: 'imported', user_id: DEMO.userId, deleted: false, deleted_at: null, updated_at: null, type: 'ssh' });
    expect(typeof show.json.keypair.id).toBe('number');
    expect((await api.request('GET', '/os-keypairs/imported', { as: OTHER })).json).toEqual({
      itemNotFound: { code: 404, message: `Keypair imported not found for user ${OTHER.userId}` },
    });
    expect((await api.request('DELETE', '/os-keypairs/old', { as: DEMO, version: '2.1' })).status).toBe(202);
    expect((await api.request('DELETE', '/os-keypairs/old', { as: DEMO, version: '2.2' })).status).toBe(404);
  });

  it('pages from 2.35 with limit, marker and keypairs_links', async () => {
    const page = await api.request('GET', '/os-keypairs?limit=1', { as: DEMO, version: '2.35' });
    expect(page.json.keypairs.map((k: any) => k.keypair.name)).toEqual(['generated']);
    expect(page.json.keypairs_links).toEqual([{ rel: 'next', href: 'http://cloud.test/compute/v2.1/os-keypairs?limit=1&marker=generated' }]);
    const next = await api.request('GET', '/os-keypairs?limit=1&marker=generated', { as: DEMO, version: '2.35' });
    expect(next.json.keypairs.map((k: any) => k.keypair.name)).toEqual(['imported']);
    expect((await api.request('GET', '/os-keypairs?marker=nope', { as: DEMO, version: '2.35' })).json.badRequest.message).toBe('Marker nope could not be found.');
    // Before 2.35 limit is ignored.
    expect((await api.request('GET', '/os-keypairs?limit=1', { as: DEMO, version: '2.34' })).json.keypairs).toHaveLength(2);
    expect((await api.request('GET', '/os-keypairs?bogus=1', { as: DEMO, version: '2.75' })).status).toBe(400);
  });

  it('lets admins (only) act for other users from 2.10', async () => {
    const r = await create({ name: 'for-demo', public_key: ED25519, user_id: DEMO.userId }, '2.10', ADMIN);
    expect(r.json.keypair.user_id).toBe(DEMO.userId);
    expect((await api.request('GET', `/os-keypairs/for-demo?user_id=${DEMO.userId}`, { version: '2.10' })).status).toBe(200);
    expect((await create({ name: 'sneaky', public_key: ED25519, user_id: OTHER.userId }, '2.10', DEMO)).status).toBe(403);
    expect((await api.request('GET', `/os-keypairs?user_id=${OTHER.userId}`, { version: '2.10', as: DEMO })).status).toBe(403);
    expect((await api.request('DELETE', `/os-keypairs/for-demo?user_id=${DEMO.userId}`, { version: '2.10' })).status).toBe(204);
  });

  it('counts key pairs against the key_pairs quota', async () => {
    await database(db.d1).insert(quotas).values({ projectId: OTHER.projectId, resource: 'key_pairs', hardLimit: 1 });
    expect((await create({ name: 'one', public_key: ED25519 }, '2.79', OTHER)).status).toBe(201);
    const over = await create({ name: 'two', public_key: ED25519 }, '2.79', OTHER);
    expect(over.json).toEqual({ forbidden: { code: 403, message: 'Quota exceeded, too many key pairs.' } });
  });
});
