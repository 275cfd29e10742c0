// Large objects through `swift upload --segment-size`: dynamic (the CLI's default) and
// static (--use-slo); downloads give back the same bytes; manifests over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { storageAccess, swiftOk, uniqueName } from '../swift-cli';

const dir = mkdtempSync(join(tmpdir(), 'flarestack-swift-lo-'));
const big = join(dir, 'big.bin');
const SIZE = 25 * 1024 * 1024 + 12345;
let bigMd5 = '';

function md5File(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const hash = createHash('md5');
    createReadStream(path).on('data', (d) => hash.update(d)).on('end', () => ok(hash.digest('hex'))).on('error', fail);
  });
}

beforeAll(async () => {
  // Written in 1 MiB pieces: the test keeps no 25 MiB buffer either.
  const out = createWriteStream(big);
  for (let at = 0; at < SIZE; at += 1 << 20) out.write(randomBytes(Math.min(1 << 20, SIZE - at)));
  await new Promise<void>((ok, fail) => out.end(() => ok()).on('error', fail));
  bigMd5 = await md5File(big);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([
  { kind: 'DLO', flags: [] as string[] },
  { kind: 'SLO', flags: ['--use-slo'] },
])('swift upload --segment-size 10M as $kind', ({ kind, flags }) => {
  it('uploads in segments and downloads the same bytes', async () => {
    const c = uniqueName(kind.toLowerCase());
    await swiftOk(['upload', c, 'big.bin', '--segment-size', '10M', ...flags], { cwd: dir });
    const segments = (await swiftOk(['list', `${c}_segments`])).split('\n').filter(Boolean);
    expect(segments).toHaveLength(3);
    const stat = await swiftOk(['stat', c, 'big.bin']);
    expect(stat).toMatch(new RegExp(`Content Length: ${SIZE}`));
    expect(stat).toMatch(kind === 'SLO' ? /X-Static-Large-Object: True/ : /Manifest: /);
    const out = join(dir, `${kind}.out`);
    await swiftOk(['download', c, 'big.bin', '-o', out]);
    expect(await md5File(out)).toBe(bigMd5);
    rmSync(out);

    const { token, storageUrl } = await storageAccess();
    const ranged = await fetchRetrying(`${storageUrl}/${c}/big.bin`, { headers: { 'X-Auth-Token': token, Range: 'bytes=10485700-10485899' } });
    expect(ranged.status).toBe(206);
    expect((await ranged.arrayBuffer()).byteLength).toBe(200);

    // Deleting the object with the CLI deletes its segments too.
    await swiftOk(['delete', c, 'big.bin']);
    expect((await swiftOk(['list', `${c}_segments`])).trim()).toBe('');
  });
});

describe('SLO manifests over HTTP', () => {
  it('checks segments, returns the manifest, and deletes with its segments', async () => {
    const { token, storageUrl } = await storageAccess();
    const c = uniqueName('manifest');
    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      fetchRetrying(`${storageUrl}/${c}${path}`, { method, headers: { 'X-Auth-Token': token, ...headers }, body });
    await call('PUT', '');
    const parts = ['first part ', 'second part'];
    const etags = parts.map((p) => createHash('md5').update(p).digest('hex'));
    for (const [i, p] of parts.entries()) expect((await call('PUT', `/seg/${i}`, {}, p)).status).toBe(201);
    const manifest = parts.map((p, i) => ({ path: `/${c}/seg/${i}`, etag: etags[i], size_bytes: p.length }));

    const wrong = await call('PUT', '/slo?multipart-manifest=put', {}, JSON.stringify([{ ...manifest[0], size_bytes: 3 }]));
    expect(wrong.status).toBe(400);
    expect((await call('PUT', '/slo?multipart-manifest=put', {}, 'not json')).status).toBe(400);
    expect((await call('PUT', '/slo?multipart-manifest=put', {}, JSON.stringify([{ path: `/${c}/nope` }]))).status).toBe(400);

    const put = await call('PUT', '/slo?multipart-manifest=put', {}, JSON.stringify(manifest));
    expect(put.status).toBe(201);
    const sloEtag = createHash('md5').update(etags.join('')).digest('hex');
    expect(put.headers.get('ETag')).toBe(`"${sloEtag}"`);
    const get = await call('GET', '/slo');
    expect(await get.text()).toBe(parts.join(''));
    expect(get.headers.get('ETag')).toBe(`"${sloEtag}"`);
    expect(get.headers.get('X-Static-Large-Object')).toBe('True');
    const raw = (await (await call('GET', '/slo?multipart-manifest=get')).json()) as { name: string; hash: string; bytes: number }[];
    expect(raw.map((s) => [s.name, s.hash, s.bytes])).toEqual(manifest.map((m) => [m.path, m.etag, m.size_bytes]));
    const listed = (await (await call('GET', '?format=json&prefix=slo')).json()) as { bytes: number; hash: string }[];
    expect(listed[0]).toMatchObject({ bytes: parts.join('').length, hash: sloEtag });

    const del = await call('DELETE', '/slo?multipart-manifest=delete', { Accept: 'application/json' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as Record<string, number>)['Number Deleted']).toBe(3);
    expect((await call('GET', '')).status).toBe(204);
  });

  it('reads a DLO as its segments in listing order', async () => {
    const { token, storageUrl } = await storageAccess();
    const c = uniqueName('dlo');
    const call = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
      fetchRetrying(`${storageUrl}/${c}${path}`, { method, headers: { 'X-Auth-Token': token, ...headers }, body });
    await call('PUT', '');
    for (const p of ['b', 'a', 'c']) await call('PUT', `/parts/${p}`, {}, p.repeat(3));
    expect((await call('PUT', '/whole', { 'X-Object-Manifest': `${c}/parts/` }, '')).status).toBe(201);
    const get = await call('GET', '/whole');
    expect(await get.text()).toBe('aaabbbccc');
    expect(get.headers.get('X-Object-Manifest')).toBe(`${c}/parts/`);
    expect((await call('PUT', '/bad', { 'X-Object-Manifest': 'no-prefix' }, '')).status).toBe(400);
  });
});
