// Swift accounts, containers and objects over HTTP: listings, ranges, preconditions,
// ETag checks, copies, expiry, exact counts under concurrency, and access between projects.
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { storageAccess, uniqueName } from '../swift-cli';

let admin: { token: string; storageUrl: string; account: string };
let demo: { token: string; storageUrl: string; account: string };
const statuses: { status: number; what: string }[] = [];

interface Reply {
  status: number;
  headers: Headers;
  text: string;
}

/** One request to admin's account (or a given base), its status kept to check that none was a 500. */
async function sw(method: string, path: string, opts: { headers?: Record<string, string>; body?: string | Uint8Array; token?: string | null; base?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...opts.headers };
  const token = opts.token === undefined ? admin.token : opts.token;
  if (token) headers['X-Auth-Token'] = token;
  const res = await fetchRetrying(`${opts.base ?? admin.storageUrl}${path}`, { method, headers, body: opts.body });
  const text = await res.text();
  statuses.push({ status: res.status, what: `${method} ${path}` });
  return { status: res.status, headers: res.headers, text };
}

const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');

beforeAll(async () => {
  [admin, demo] = await Promise.all([storageAccess('admin'), storageAccess('demo')]);
});

afterAll(() => {
  expect(statuses.filter((s) => s.status >= 500)).toEqual([]);
});

describe('Swift discovery and accounts', () => {
  it('lists capabilities at /info without a token', async () => {
    const res = await fetchRetrying(`${inject('cloud').url}/object-storage/info`, {});
    expect(res.status).toBe(200);
    const body = (await res.json()) as { swift: Record<string, unknown>; slo: Record<string, unknown> };
    expect(body.swift).toMatchObject({ container_listing_limit: 10000, account_listing_limit: 10000, max_object_name_length: 1024 });
    expect(body.slo.max_manifest_segments).toBe(1000);
  });

  it('answers HEAD on an account that never had anything with zeros', async () => {
    const res = await sw('HEAD', '', { token: demo.token, base: demo.storageUrl });
    expect(res.status).toBe(204);
    expect(res.headers.get('X-Account-Container-Count')).toMatch(/^\d+$/);
    expect(res.headers.get('X-Timestamp')).toMatch(/^\d+\.\d{5}$/);
  });

  it('sets and removes account metadata, and needs a token', async () => {
    expect((await sw('POST', '', { headers: { 'X-Account-Meta-Owner': 'ops', 'X-Account-Meta-Gone': 'x' } })).status).toBe(204);
    expect((await sw('POST', '', { headers: { 'X-Remove-Account-Meta-Gone': 'x' } })).status).toBe(204);
    const head = await sw('HEAD', '');
    expect(head.headers.get('X-Account-Meta-Owner')).toBe('ops');
    expect(head.headers.get('X-Account-Meta-Gone')).toBeNull();
    const anonymous = await sw('GET', '', { token: null });
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('Content-Type')).toContain('text/html');
    expect((await sw('HEAD', '', { token: null, headers: { 'X-Storage-Token': admin.token } })).status).toBe(204);
  });
});

describe('Swift containers', () => {
  it('creates (201, then 202), shows, updates and deletes a container', async () => {
    const c = uniqueName('cont');
    expect((await sw('PUT', `/${c}`, { headers: { 'X-Container-Meta-Color': 'red', 'X-Container-Read': '.r:*' } })).status).toBe(201);
    expect((await sw('PUT', `/${c}`, { headers: { 'X-Container-Meta-Size': 'L' } })).status).toBe(202);
    expect((await sw('POST', `/${c}`, { headers: { 'X-Remove-Container-Meta-Size': 'x' } })).status).toBe(204);
    const head = await sw('HEAD', `/${c}`);
    expect(head.status).toBe(204);
    expect(head.headers.get('X-Container-Meta-Color')).toBe('red');
    expect(head.headers.get('X-Container-Meta-Size')).toBeNull();
    expect(head.headers.get('X-Container-Read')).toBe('.r:*');
    expect(head.headers.get('X-Container-Object-Count')).toBe('0');
    expect((await sw('GET', `/${c}`)).status).toBe(204);
    expect((await sw('GET', `/${c}?format=json`)).text).toBe('[]');
    const listed = await sw('GET', `?format=json&prefix=${c}`);
    expect(JSON.parse(listed.text)).toEqual([expect.objectContaining({ name: c, count: 0, bytes: 0 })]);
    expect((await sw('DELETE', `/${c}`)).status).toBe(204);
    expect((await sw('DELETE', `/${c}`)).status).toBe(404);
    expect((await sw('HEAD', `/${c}`)).status).toBe(404);
  });

  it('refuses to delete a container that still has objects (409)', async () => {
    const c = uniqueName('full');
    await sw('PUT', `/${c}`);
    expect((await sw('PUT', `/${c}/o`, { body: 'x' })).status).toBe(201);
    const res = await sw('DELETE', `/${c}`);
    expect(res.status).toBe(409);
    expect(res.text).toContain('<h1>Conflict</h1>');
  });

  it('rejects bad names and malformed listing parameters without a 500', async () => {
    expect((await sw('PUT', `/${'a'.repeat(257)}`)).status).toBe(400);
    const c = uniqueName('params');
    await sw('PUT', `/${c}`);
    expect((await sw('PUT', `/${c}/${'o'.repeat(1025)}`, { body: 'x' })).status).toBe(400);
    expect((await sw('PUT', `/${c}/a%00b`, { body: 'x' })).status).toBe(400);
    expect((await sw('PUT', `/${c}/a%FFb`, { body: 'x' })).status).toBe(400);
    expect((await sw('GET', `/${c}?limit=abc`)).status).toBe(400);
    expect((await sw('GET', `/${c}?limit=-3`)).status).toBe(400);
    expect((await sw('GET', `?limit=1.5`)).status).toBe(400);
    const over = await sw('GET', `/${c}?limit=10001`);
    expect(over.status).toBe(412); // Swift's answer for a limit over container_listing_limit
    expect(over.text).toContain('Maximum limit is 10000');
    expect((await sw('GET', `/${c}?format=json`, { headers: { Accept: 'image/png' } })).status).toBe(200);
    expect((await sw('GET', `/${c}`, { headers: { Accept: 'image/png' } })).status).toBe(406);
    expect((await sw('PUT', `/${c}`, { headers: { [`X-Container-Meta-${'k'.repeat(129)}`]: 'v' } })).status).toBe(400);
  });

  it('lists with prefix, delimiter, marker, end_marker, limit and reverse in json, xml and plain', async () => {
    const c = uniqueName('list');
    await sw('PUT', `/${c}`);
    const names = ['a/1', 'a/2', 'b', 'c/x/1', 'c/y', 'd'];
    for (const n of names) await sw('PUT', `/${c}/${n}`, { body: n, headers: { 'Content-Type': 'text/plain' } });
    const plain = await sw('GET', `/${c}`);
    expect(plain.text).toBe(names.map((n) => `${n}\n`).join(''));
    const json = JSON.parse((await sw('GET', `/${c}?format=json&limit=2`)).text);
    expect(json).toEqual([
      { name: 'a/1', hash: md5('a/1'), bytes: 3, content_type: 'text/plain', last_modified: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}$/) },
      expect.objectContaining({ name: 'a/2' }),
    ]);
    expect(JSON.parse((await sw('GET', `/${c}?format=json&delimiter=/`)).text)).toEqual([
      { subdir: 'a/' }, expect.objectContaining({ name: 'b' }), { subdir: 'c/' }, expect.objectContaining({ name: 'd' }),
    ]);
    expect((await sw('GET', `/${c}?prefix=c/&delimiter=/`)).text).toBe('c/x/\nc/y\n');
    expect((await sw('GET', `/${c}?marker=a/2&end_marker=d`)).text).toBe('b\nc/x/1\nc/y\n');
    expect((await sw('GET', `/${c}?reverse=true&limit=2`)).text).toBe('d\nc/y\n');
    expect((await sw('GET', `/${c}?reverse=true&delimiter=/`)).text).toBe('d\nc/\nb\na/\n');
    const xml = await sw('GET', `/${c}?prefix=b`, { headers: { Accept: 'application/xml' } });
    expect(xml.headers.get('Content-Type')).toContain('application/xml');
    expect(xml.text).toContain(`<container name="${c}"><object><name>b</name><hash>${md5('b')}</hash>`);
    expect((await sw('GET', `/${c}?prefix=zzz`)).status).toBe(204);
  });

  it('keeps counts exact under 50 concurrent PUTs', async () => {
    const c = uniqueName('busy');
    await sw('PUT', `/${c}`);
    const bodies = Array.from({ length: 50 }, (_, i) => 'x'.repeat(i + 1));
    const results = await Promise.all(bodies.map((b, i) => sw('PUT', `/${c}/obj-${i}`, { body: b })));
    expect(results.map((r) => r.status)).toEqual(bodies.map(() => 201));
    // Overwrites in parallel too: the count stays, the bytes follow the last write.
    await Promise.all(bodies.slice(0, 10).map((_, i) => sw('PUT', `/${c}/obj-${i}`, { body: 'yy' })));
    const head = await sw('HEAD', `/${c}`);
    const expected = bodies.reduce((n, b) => n + b.length, 0) - bodies.slice(0, 10).reduce((n, b) => n + b.length, 0) + 20;
    expect(head.headers.get('X-Container-Object-Count')).toBe('50');
    expect(head.headers.get('X-Container-Bytes-Used')).toBe(String(expected));
    expect(JSON.parse((await sw('GET', `/${c}?format=json`)).text)).toHaveLength(50);
  });
});

describe('Swift objects', () => {
  let c: string;
  beforeAll(async () => {
    c = uniqueName('obj');
    await sw('PUT', `/${c}`);
  });

  it('stores an object with its MD5 ETag, type, metadata, and deletes it', async () => {
    const put = await sw('PUT', `/${c}/hello.txt`, { body: new TextEncoder().encode('hello world'), headers: { 'X-Object-Meta-Color': 'blue' } });
    expect(put.status).toBe(201);
    expect(put.headers.get('ETag')).toBe(md5('hello world'));
    const get = await sw('GET', `/${c}/hello.txt`);
    expect(get.text).toBe('hello world');
    expect(get.headers.get('Content-Type')).toBe('text/plain');
    expect(get.headers.get('X-Object-Meta-Color')).toBe('blue');
    const head = await sw('HEAD', `/${c}/hello.txt`);
    expect(head.headers.get('Content-Length')).toBe('11');
    expect((await sw('PUT', `/${c}/blob`, { body: new Uint8Array([120]) })).status).toBe(201);
    expect((await sw('HEAD', `/${c}/blob`)).headers.get('Content-Type')).toBe('application/octet-stream');
    expect((await sw('POST', `/${c}/hello.txt`, { headers: { 'X-Object-Meta-Shape': 'round' } })).status).toBe(202);
    const after = await sw('HEAD', `/${c}/hello.txt`);
    expect(after.headers.get('X-Object-Meta-Shape')).toBe('round');
    expect(after.headers.get('X-Object-Meta-Color')).toBeNull(); // POST replaces all user metadata
    expect(after.headers.get('ETag')).toBe(md5('hello world'));
    expect((await sw('DELETE', `/${c}/hello.txt`)).status).toBe(204);
    expect((await sw('DELETE', `/${c}/hello.txt`)).status).toBe(404);
    const missing = await sw('GET', `/${c}/hello.txt`);
    expect(missing.status).toBe(404);
    expect(missing.text).toBe('<html><h1>Not Found</h1><p>The resource could not be found.</p></html>');
  });

  it('refuses a body whose MD5 is not the ETag given (422) and stores nothing', async () => {
    const res = await sw('PUT', `/${c}/checked`, { body: 'payload', headers: { ETag: md5('other') } });
    expect(res.status).toBe(422);
    expect((await sw('HEAD', `/${c}/checked`)).status).toBe(404);
    expect((await sw('PUT', `/${c}/checked`, { body: 'payload', headers: { ETag: md5('payload') } })).status).toBe(201);
    // A mismatch on an existing object leaves the old version in place.
    expect((await sw('PUT', `/${c}/checked`, { body: 'new', headers: { ETag: md5('nope') } })).status).toBe(422);
    expect((await sw('GET', `/${c}/checked`)).text).toBe('payload');
  });

  it('takes a chunked body without Content-Length, larger than one R2 part', async () => {
    const size = 9 * 1024 * 1024 + 7;
    const data = new Uint8Array(size).map((_, i) => i % 251);
    const chunked = () =>
      fetch(`${admin.storageUrl}/${c}/chunked`, {
        method: 'PUT',
        headers: { 'X-Auth-Token': admin.token },
        body: new ReadableStream<Uint8Array>({
          start(ctl) {
            for (let at = 0; at < size; at += 1 << 20) ctl.enqueue(data.subarray(at, Math.min(size, at + (1 << 20))));
            ctl.close();
          },
        }),
        duplex: 'half',
      } as RequestInit);
    // A kept-alive connection the server closed while idle resets before any byte is
    // answered: that is the client's race, so the upload is made once more, whole.
    const res = await chunked().catch((err: { cause?: { code?: string } }) => {
      if (err.cause?.code !== 'ECONNRESET') throw err;
      return chunked();
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('ETag')).toBe(md5(data));
    const got = await fetch(`${admin.storageUrl}/${c}/chunked`, { headers: { 'X-Auth-Token': admin.token } });
    expect(got.headers.get('ETag')).toBe(md5(data));
    expect(md5(new Uint8Array(await got.arrayBuffer()))).toBe(md5(data));
  });

  it('answers byte ranges: one (206), several (multipart), unsatisfiable (416)', async () => {
    await sw('PUT', `/${c}/digits`, { body: '0123456789' });
    const one = await sw('GET', `/${c}/digits`, { headers: { Range: 'bytes=2-5' } });
    expect(one.status).toBe(206);
    expect(one.text).toBe('2345');
    expect(one.headers.get('Content-Range')).toBe('bytes 2-5/10');
    expect((await sw('GET', `/${c}/digits`, { headers: { Range: 'bytes=-3' } })).text).toBe('789');
    expect((await sw('GET', `/${c}/digits`, { headers: { Range: 'bytes=7-' } })).text).toBe('789');
    const many = await sw('GET', `/${c}/digits`, { headers: { Range: 'bytes=0-0,8-9' } });
    expect(many.status).toBe(206);
    expect(many.headers.get('Content-Type')).toMatch(/^multipart\/byteranges;boundary=/);
    expect(many.text).toContain('Content-Range: bytes 8-9/10\r\n\r\n89\r\n');
    const bad = await sw('GET', `/${c}/digits`, { headers: { Range: 'bytes=20-30' } });
    expect(bad.status).toBe(416);
    expect(bad.headers.get('Content-Range')).toBe('bytes */10');
  });

  it('honours If-Match, If-None-Match, If-Modified-Since and If-Unmodified-Since', async () => {
    const put = await sw('PUT', `/${c}/cond`, { body: 'conditional' });
    const etag = put.headers.get('ETag')!;
    const lastModified = (await sw('HEAD', `/${c}/cond`)).headers.get('Last-Modified')!;
    const get = (headers: Record<string, string>) => sw('GET', `/${c}/cond`, { headers }).then((r) => r.status);
    expect(await get({ 'If-None-Match': etag })).toBe(304);
    expect(await get({ 'If-None-Match': `"${etag}"` })).toBe(304);
    expect(await get({ 'If-None-Match': md5('x') })).toBe(200);
    expect(await get({ 'If-Match': etag })).toBe(200);
    expect(await get({ 'If-Match': md5('x') })).toBe(412);
    expect(await get({ 'If-Modified-Since': lastModified })).toBe(304);
    expect(await get({ 'If-Modified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).toBe(200);
    expect(await get({ 'If-Unmodified-Since': 'Mon, 01 Jan 2001 00:00:00 GMT' })).toBe(412);
    expect(await get({ 'If-Unmodified-Since': lastModified })).toBe(200);
  });

  it('copies server-side with COPY and with PUT X-Copy-From, merging metadata', async () => {
    await sw('PUT', `/${c}/source`, { body: 'copy me', headers: { 'X-Object-Meta-A': '1', 'Content-Type': 'text/x-src' } });
    const copied = await sw('COPY', `/${c}/source`, { headers: { Destination: `${c}/dest1`, 'X-Object-Meta-B': '2' } });
    expect(copied.status).toBe(201);
    expect(copied.headers.get('X-Copied-From')).toBe(`${c}/source`);
    const d1 = await sw('GET', `/${c}/dest1`);
    expect(d1.text).toBe('copy me');
    expect(d1.headers.get('X-Object-Meta-A')).toBe('1');
    expect(d1.headers.get('X-Object-Meta-B')).toBe('2');
    expect(d1.headers.get('Content-Type')).toBe('text/x-src');
    const put = await sw('PUT', `/${c}/dest2`, { headers: { 'X-Copy-From': `/${c}/source`, 'X-Fresh-Metadata': 'true', 'X-Object-Meta-C': '3' }, body: '' });
    expect(put.status).toBe(201);
    expect(put.headers.get('ETag')).toBe(md5('copy me'));
    const d2 = await sw('HEAD', `/${c}/dest2`);
    expect(d2.headers.get('X-Object-Meta-A')).toBeNull();
    expect(d2.headers.get('X-Object-Meta-C')).toBe('3');
    expect((await sw('PUT', `/${c}/dest3`, { headers: { 'X-Copy-From': `${c}/absent` }, body: '' })).status).toBe(404);
    expect((await sw('PUT', `/${c}/dest3`, { headers: { 'X-Copy-From': 'no-slash' }, body: '' })).status).toBe(412);
  });

  it('expires objects after X-Delete-After: 404 and gone from the listing', async () => {
    // Seconds enough that a loaded machine still sees the object before it expires.
    const put = await sw('PUT', `/${c}/ephemeral`, { body: 'soon gone', headers: { 'X-Delete-After': '5' } });
    expect(put.status).toBe(201);
    const head = await sw('HEAD', `/${c}/ephemeral`);
    expect(Number(head.headers.get('X-Delete-At'))).toBeGreaterThan(Date.now() / 1000);
    await new Promise((ok) => setTimeout(ok, 6000));
    expect((await sw('GET', `/${c}/ephemeral`)).status).toBe(404);
    expect((await sw('GET', `/${c}?prefix=ephemeral`)).status).toBe(204);
    expect((await sw('PUT', `/${c}/past`, { body: 'x', headers: { 'X-Delete-At': '1000' } })).status).toBe(400);
    expect((await sw('PUT', `/${c}/past`, { body: 'x', headers: { 'X-Delete-After': 'soon' } })).status).toBe(400);
  });

  it('keeps one project out of another project\'s containers (403)', async () => {
    await sw('PUT', `/${c}/private`, { body: 'secret' });
    const base = admin.storageUrl;
    expect((await sw('GET', `/${c}/private`, { token: demo.token, base })).status).toBe(403);
    expect((await sw('GET', `/${c}`, { token: demo.token, base })).status).toBe(403);
    expect((await sw('PUT', `/${c}/intruder`, { token: demo.token, base, body: 'x' })).status).toBe(403);
    expect((await sw('DELETE', `/${c}/private`, { token: demo.token, base })).status).toBe(403);
  });
});
