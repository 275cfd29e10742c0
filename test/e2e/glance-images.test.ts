// Glance images through the openstack CLI and HTTP: create, upload, download, update,
// list, delete, and the errors a client gets for bad input.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const unique = (what: string) => `gl-${what}-${randomBytes(4).toString('hex')}`;
type Image = Record<string, any>;

let dir: string;
let token: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'glance-e2e-'));
  token = await adminToken();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function md5File(path: string): Promise<string> {
  const h = createHash('md5');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** A file of random bytes written in 1 MiB pieces; returns its MD5. */
async function randomFile(path: string, mib: number): Promise<string> {
  const h = createHash('md5');
  const out = createWriteStream(path);
  for (let i = 0; i < mib; i++) {
    const chunk = randomBytes(1 << 20);
    h.update(chunk);
    if (!out.write(chunk)) await new Promise<void>((ok) => out.once('drain', () => ok()));
  }
  await new Promise<void>((ok, fail) => out.end((err?: Error | null) => (err ? fail(err) : ok())));
  return h.digest('hex');
}

/** A queued image made over HTTP (the CLI would read stdin as image data). */
async function createImage(body: Record<string, unknown>): Promise<Image> {
  const res = await api('POST', '/image/v2/images', { token, body: { disk_format: 'raw', container_format: 'bare', ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const patch = (id: string, ops: unknown, t = token) =>
  api('PATCH', `/image/v2/images/${id}`, { token: t, raw: JSON.stringify(ops), headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } });

describe('discovery and schemas', () => {
  it('lists v2 at /image (300) and /image/versions, and serves the schemas', async () => {
    const root = await api('GET', '/image');
    expect(root.status).toBe(300);
    expect(root.json.versions[0]).toMatchObject({ status: 'CURRENT' });
    expect((await api('GET', '/image/versions')).json.versions.some((v: Image) => v.id === 'v2.0')).toBe(true);
    for (const name of ['image', 'images', 'member', 'members']) {
      const s = await api('GET', `/image/v2/schemas/${name}`, { token });
      expect(s.status).toBe(200);
      expect(s.json.name).toBe(name);
    }
    const info = await api('GET', '/image/v2/info/import', { token });
    expect(info.json['import-methods'].value).toEqual(['glance-direct']);
    const stores = await api('GET', '/image/v2/info/stores', { token });
    expect(stores.json.stores).toEqual([expect.objectContaining({ id: 'swift', default: true })]);
  });
});

describe('upload and download through the CLI', () => {
  it('round-trips a 200 MiB image with matching checksums', async () => {
    const src = join(dir, 'big.qcow2');
    const out = join(dir, 'big.out');
    const md5 = await randomFile(src, 200);
    const name = unique('big');
    const created = await openstackJson<Image>(['image', 'create', '--file', src, '--disk-format', 'qcow2', '--container-format', 'bare', name]);
    const shown = await openstackJson<Image>(['image', 'show', created.id]);
    expect(shown).toMatchObject({ status: 'active', size: 200 << 20, checksum: md5, disk_format: 'qcow2', container_format: 'bare' });
    const show = await api('GET', `/image/v2/images/${created.id}`, { token });
    expect(show.json.os_hash_algo).toBe('sha512');
    expect(show.json.os_hash_value).toMatch(/^[0-9a-f]{128}$/);
    await openstackOk(['image', 'save', '--file', out, created.id]);
    expect(await md5File(out)).toBe(md5);
    await rm(out);
    await rm(src);
    const object = await glanceObject(created.id);
    expect((await api('HEAD', object.path, { token: object.token })).status).toBe(200);
    await openstackOk(['image', 'delete', created.id]);
    expect((await api('GET', `/image/v2/images/${created.id}`, { token })).status).toBe(404);
    // The data went with the record.
    expect((await api('HEAD', object.path, { token: object.token })).status).toBe(404);
  });

  it('answers ranges, refuses a second upload (409), and stages then imports', async () => {
    const file = join(dir, 'small.raw');
    const bytes = randomBytes(100_000);
    await writeFile(file, bytes);
    const img = await openstackJson<Image>(['image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', unique('small')]);
    const part = await api('GET', `/image/v2/images/${img.id}/file`, { token, headers: { Range: 'bytes=10-19' } });
    expect(part.status).toBe(206);
    expect(part.headers.get('Content-Range')).toBe('bytes 10-19/100000');
    expect(part.headers.get('Content-MD5')).toBeNull();
    const whole = await api('GET', `/image/v2/images/${img.id}/file`, { token });
    expect(whole.headers.get('Content-MD5')).toBe(createHash('md5').update(bytes).digest('hex'));
    const again = await api('PUT', `/image/v2/images/${img.id}/file`, { token, raw: 'x', headers: { 'Content-Type': 'application/octet-stream' } });
    expect(again.status).toBe(409);

    const staged = await createImage({ name: unique('staged') });
    const stage = await api('PUT', `/image/v2/images/${staged.id}/stage`, { token, raw: 'staged data', headers: { 'Content-Type': 'application/octet-stream' } });
    expect(stage.status).toBe(204);
    expect((await api('GET', `/image/v2/images/${staged.id}`, { token })).json.status).toBe('uploading');
    const imp = await api('POST', `/image/v2/images/${staged.id}/import`, { token, body: { method: { name: 'glance-direct' } } });
    expect(imp.status).toBe(202);
    const done = (await api('GET', `/image/v2/images/${staged.id}`, { token })).json;
    expect(done).toMatchObject({ status: 'active', size: 11, checksum: createHash('md5').update('staged data').digest('hex') });
    const badMethod = await api('POST', `/image/v2/images/${img.id}/import`, { token, body: { method: { name: 'web-download', uri: 'http://x' } } });
    expect(badMethod.status).toBe(400);
  });

  it('deactivates (no download for non-admins) and reactivates', async () => {
    const file = join(dir, 'deact.raw');
    await writeFile(file, randomBytes(4096));
    const img = await openstackJson<Image>(['image', 'create', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', '--public', unique('deact')]);
    await openstackOk(['image', 'set', '--deactivate', img.id]);
    expect((await openstackJson<Image>(['image', 'show', img.id])).status).toBe('deactivated');
    const demo = await openstack(['image', 'save', '--file', join(dir, 'deact.out'), img.id], { cloud: 'flarestack-demo' });
    expect(demo.code).not.toBe(0);
    await openstackOk(['image', 'set', '--activate', img.id]);
    expect((await openstackJson<Image>(['image', 'show', img.id])).status).toBe('active');
    expect((await api('POST', `/image/v2/images/${img.id}/actions/deactivate`, { token: (await demoToken()) })).status).toBe(403);
  });
});

/** Where Glance keeps an image's data in Swift, and a token of the glance service user to look. */
async function glanceObject(id: string): Promise<{ path: string; token: string }> {
  const secrets = JSON.parse(await readFile(join(inject('cloud').stateDir, 'secrets.json'), 'utf8')) as { glancePassword: string };
  const { token: t, body } = await passwordToken('glance', secrets.glancePassword, 'service');
  return { path: `/object-storage/v1/AUTH_${body.token.project.id}/glance/${id}`, token: t };
}

async function demoToken(): Promise<string> {
  return (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
}

describe('metadata', () => {
  it('sets and unsets properties and tags through the CLI', async () => {
    const img = await createImage({ name: unique('props'), kernel_id: '5a0fc1ae-7d6a-4a5a-9a5b-0c6f5f4a1d11', tags: ['a'] });
    await openstackOk(['image', 'set', '--property', 'os_distro=cirros', '--property', 'hw_rng=yes', '--tag', 'b', '--min-ram', '64', img.id]);
    let shown = (await api('GET', `/image/v2/images/${img.id}`, { token })).json;
    expect(shown).toMatchObject({ os_distro: 'cirros', hw_rng: 'yes', min_ram: 64, kernel_id: '5a0fc1ae-7d6a-4a5a-9a5b-0c6f5f4a1d11' });
    expect([...shown.tags].sort()).toEqual(['a', 'b']);
    await openstackOk(['image', 'unset', '--property', 'hw_rng', '--tag', 'a', img.id]);
    shown = (await api('GET', `/image/v2/images/${img.id}`, { token })).json;
    expect(shown.hw_rng).toBeUndefined();
    expect(shown.tags).toEqual(['b']);
    expect((await api('PUT', `/image/v2/images/${img.id}/tags/c`, { token })).status).toBe(204);
    expect((await api('DELETE', `/image/v2/images/${img.id}/tags/nope`, { token })).status).toBe(404);
    const listed = await openstackJson<Image[]>(['image', 'list', '--tag', 'c', '--long']);
    expect(listed.map((i) => i.ID)).toContain(img.id);
  });

  it('applies JSON patches as Glance does, and refuses bad ones', async () => {
    const img = await createImage({ name: unique('patch'), foo: 'bar' });
    const ok = await patch(img.id, [{ op: 'replace', path: '/name', value: 'renamed' }, { op: 'add', path: '/x', value: 'y' }, { op: 'remove', path: '/foo' }]);
    expect(ok.status).toBe(200);
    expect(ok.json).toMatchObject({ name: 'renamed', x: 'y' });
    expect(ok.json.foo).toBeUndefined();
    expect((await patch(img.id, [{ op: 'replace', path: '/status', value: 'active' }])).status).toBe(403);
    expect((await patch(img.id, [{ op: 'remove', path: '/name' }])).status).toBe(403);
    expect((await patch(img.id, [{ op: 'remove', path: '/missing' }])).status).toBe(409);
    expect((await patch(img.id, [{ op: 'move', path: '/name', from: '/x' }])).status).toBe(400);
    expect((await patch(img.id, { op: 'replace' })).status).toBe(400);
    expect((await patch(img.id, [{ op: 'add', path: 'name', value: 'x' }])).status).toBe(400);
    expect((await patch(img.id, [{ op: 'replace', path: '/disk_format', value: 'floppy' }])).status).toBe(400);
    expect((await patch(img.id, [{ op: 'add', path: '/n', value: 5 }])).status).toBe(400);
    const wrongType = await api('PATCH', `/image/v2/images/${img.id}`, { token, body: [{ op: 'add', path: '/a', value: 'b' }] });
    expect(wrongType.status).toBe(415);
  });

  it('refuses a wrong disk format, a read-only attribute and a bad id on create', async () => {
    const bad = await api('POST', '/image/v2/images', { token, body: { name: unique('bad'), disk_format: 'floppy' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 400, title: 'Bad Request' });
    expect((await api('POST', '/image/v2/images', { token, body: { name: 'x', status: 'active' } })).status).toBe(403);
    expect((await api('POST', '/image/v2/images', { token, body: { id: 'not-a-uuid' } })).status).toBe(400);
    expect((await api('POST', '/image/v2/images', { token, raw: '{"name": ' })).status).toBe(400);
    const cli = await openstack(['image', 'create', '--disk-format', 'floppy', unique('cli')], { input: '' });
    expect(cli.code).not.toBe(0);
    expect((await api('GET', '/image/v2/images/not-an-id', { token })).status).toBe(404);
  });

  it('protects a protected image from deletion', async () => {
    const img = await createImage({ name: unique('prot'), protected: true });
    const del = await openstack(['image', 'delete', img.id]);
    expect(del.code).not.toBe(0);
    expect((await api('DELETE', `/image/v2/images/${img.id}`, { token })).status).toBe(403);
    expect((await patch(img.id, [{ op: 'replace', path: '/protected', value: false }])).status).toBe(200);
    await openstackOk(['image', 'delete', img.id]);
  });
});

describe('listing', () => {
  it('filters, sorts and pages with next links', async () => {
    const tag = unique('tag');
    const made: Image[] = [];
    for (let i = 0; i < 5; i++) made.push(await createImage({ name: `${tag}-${i}`, tags: [tag], min_disk: i }));
    const page1 = await api('GET', `/image/v2/images?tag=${tag}&sort=name:asc&limit=2`, { token });
    expect(page1.json.images.map((i: Image) => i.name)).toEqual([`${tag}-0`, `${tag}-1`]);
    expect(page1.json.next).toMatch(/^\/v2\/images\?.*marker=/);
    const page2 = await api('GET', `/image${page1.json.next}`, { token });
    expect(page2.json.images.map((i: Image) => i.name)).toEqual([`${tag}-2`, `${tag}-3`]);
    const byKey = await api('GET', `/image/v2/images?tag=${tag}&sort_key=min_disk&sort_dir=desc`, { token });
    expect(byKey.json.images[0].name).toBe(`${tag}-4`);
    const named = await api('GET', `/image/v2/images?name=${tag}-3`, { token });
    expect(named.json.images.map((i: Image) => i.id)).toEqual([made[3]!.id]);
    const since = await api('GET', `/image/v2/images?tag=${tag}&created_at=gte:${made[0]!.created_at}&status=queued&disk_format=raw`, { token });
    expect(since.json.images).toHaveLength(5);
    const future = await api('GET', `/image/v2/images?tag=${tag}&created_at=gt:2999-01-01T00:00:00Z`, { token });
    expect(future.json.images).toHaveLength(0);
    expect((await api('GET', `/image/v2/images?sort_key=nope`, { token })).status).toBe(400);
    expect((await api('GET', `/image/v2/images?created_at=gte:yesterday`, { token })).status).toBe(400);
    expect((await api('GET', `/image/v2/images?size_min=abc`, { token })).status).toBe(400);
    const cli = await openstackJson<Image[]>(['image', 'list', '--name', `${tag}-2`]);
    expect(cli.map((i) => i.Name)).toEqual([`${tag}-2`]);
  });
});
