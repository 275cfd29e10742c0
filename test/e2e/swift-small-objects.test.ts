// Small objects (up to 64 KiB with a Content-Length) are kept whole in the account's
// Durable Object, larger ones in R2: either side of the line, and across it when an
// object is replaced, every operation answers the same.
import { createHash, randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { storageAccess, uniqueName } from '../swift-cli';

const INLINE_MAX = 64 * 1024;
const md5 = (data: Uint8Array) => createHash('md5').update(data).digest('hex');
let base = '';
let token = '';

beforeAll(async () => {
  ({ token, storageUrl: base } = await storageAccess());
});

const call = (method: string, path: string, headers: Record<string, string> = {}, body?: Uint8Array | string) =>
  fetchRetrying(`${base}${path}`, { method, headers: { 'X-Auth-Token': token, ...headers }, body });
const bytesOf = async (res: Response) => new Uint8Array(await res.arrayBuffer());
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

async function container(): Promise<string> {
  const c = uniqueName('small');
  expect((await call('PUT', `/${c}`)).status).toBe(201);
  return c;
}

async function counts(c: string): Promise<[number, number]> {
  const head = await call('HEAD', `/${c}`);
  return [Number(head.headers.get('X-Container-Object-Count')), Number(head.headers.get('X-Container-Bytes-Used'))];
}

describe('objects either side of the inline limit', () => {
  it.each([0, 4096, INLINE_MAX, INLINE_MAX + 1])('%i bytes: GET, HEAD, Range, conditions, POST, COPY, DELETE', async (size) => {
    const c = await container();
    const data = new Uint8Array(randomBytes(size));
    const put = await call('PUT', `/${c}/o`, { 'Content-Type': 'application/x-test', 'X-Object-Meta-Colour': 'blue' }, data);
    expect(put.status).toBe(201);
    expect(put.headers.get('ETag')).toBe(md5(data));
    const head = await call('HEAD', `/${c}/o`);
    expect([head.headers.get('Content-Length'), head.headers.get('ETag'), head.headers.get('X-Object-Meta-Colour')]).toEqual([String(size), md5(data), 'blue']);
    const got = await call('GET', `/${c}/o`);
    expect(got.headers.get('Content-Type')).toBe('application/x-test');
    expect(same(await bytesOf(got), data)).toBe(true);
    if (size > 20) {
      const ranged = await call('GET', `/${c}/o`, { Range: 'bytes=10-20' });
      expect(ranged.status).toBe(206);
      expect(same(await bytesOf(ranged), data.subarray(10, 21))).toBe(true);
      const suffix = await call('GET', `/${c}/o`, { Range: 'bytes=-5' });
      expect(same(await bytesOf(suffix), data.subarray(size - 5))).toBe(true);
    }
    expect((await call('GET', `/${c}/o`, { 'If-None-Match': md5(data) })).status).toBe(304);
    expect((await call('GET', `/${c}/o`, { 'If-Match': 'other' })).status).toBe(412);
    expect((await call('POST', `/${c}/o`, { 'X-Object-Meta-Shape': 'round' })).status).toBe(202);
    const posted = await call('GET', `/${c}/o`);
    expect([posted.headers.get('X-Object-Meta-Shape'), posted.headers.get('X-Object-Meta-Colour')]).toEqual(['round', null]);
    expect(same(await bytesOf(posted), data)).toBe(true);
    expect((await call('COPY', `/${c}/o`, { Destination: `${c}/copy` })).status).toBe(201);
    expect((await call('PUT', `/${c}/copy2`, { 'X-Copy-From': `${c}/o` }, '')).status).toBe(201);
    for (const name of ['copy', 'copy2']) {
      const copied = await call('GET', `/${c}/${name}`);
      expect(copied.headers.get('ETag')).toBe(md5(data));
      expect(same(await bytesOf(copied), data)).toBe(true);
    }
    expect(await counts(c)).toEqual([3, 3 * size]);
    expect((await call('DELETE', `/${c}`)).status).toBe(409);
    for (const name of ['o', 'copy', 'copy2']) expect((await call('DELETE', `/${c}/${name}`)).status).toBe(204);
    expect((await call('GET', `/${c}/o`)).status).toBe(404);
    expect(await counts(c)).toEqual([0, 0]);
    expect((await call('DELETE', `/${c}`)).status).toBe(204);
  });

  it('replaces a small object with a large one and back, counting exactly', async () => {
    const c = await container();
    for (const size of [100, INLINE_MAX + 100, 200, INLINE_MAX + 200, 0]) {
      const data = new Uint8Array(randomBytes(size));
      expect((await call('PUT', `/${c}/o`, {}, data)).status).toBe(201);
      const got = await call('GET', `/${c}/o`);
      expect(got.headers.get('ETag'), String(size)).toBe(md5(data));
      expect(same(await bytesOf(got), data), String(size)).toBe(true);
      expect(await counts(c)).toEqual([1, size]);
      const listed = (await (await call('GET', `/${c}?format=json`)).json()) as { name: string; bytes: number; hash: string }[];
      expect(listed).toMatchObject([{ name: 'o', bytes: size, hash: md5(data) }]);
    }
  });

  it('refuses a small body whose MD5 is not the ETag given, and a missing container', async () => {
    const c = await container();
    expect((await call('PUT', `/${c}/o`, { ETag: md5(new Uint8Array([1])) }, 'abc')).status).toBe(422);
    expect((await call('GET', `/${c}/o`)).status).toBe(404);
    expect((await call('PUT', `/${c}-absent/o`, {}, 'abc')).status).toBe(404);
    expect(await counts(c)).toEqual([0, 0]);
  });

  it('expires small and large objects alike, and lets their container go', async () => {
    const c = await container();
    expect((await call('PUT', `/${c}/small`, { 'X-Delete-After': '3' }, 'tiny')).status).toBe(201);
    expect((await call('PUT', `/${c}/large`, { 'X-Delete-After': '3' }, new Uint8Array(INLINE_MAX + 1))).status).toBe(201);
    expect((await call('GET', `/${c}/small`)).status).toBe(200);
    await new Promise((ok) => setTimeout(ok, 4500));
    for (const name of ['small', 'large']) expect((await call('GET', `/${c}/${name}`)).status, name).toBe(404);
    expect((await call('GET', `/${c}?format=json`)).status).toBe(200);
    expect((await call('DELETE', `/${c}`)).status).toBe(204);
  });
});
