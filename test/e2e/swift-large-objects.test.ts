// Large objects through `swift upload --segment-size`: dynamic (the CLI's default) and
// static (--use-slo); downloads give back the same bytes; manifests over HTTP.
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { sloContainer, storageAccess, swiftOk, uniqueName } from '../swift-cli';

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
    // Listed as Swift lists a manifest: the SLO's size and etag (slo_etag), the manifest's own MD5 as hash.
    const manifestEtag = get.headers.get('X-Manifest-Etag');
    const listed = (await (await call('GET', '?format=json&prefix=slo')).json()) as { bytes: number; hash: string }[];
    expect(listed[0]).toMatchObject({ bytes: parts.join('').length, hash: manifestEtag, slo_etag: `"${sloEtag}"` });

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

// --- static large objects over HTTP: ranges, "range" segments, nesting, bad manifests ---

const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');

const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('SLO range reads', () => {
  it('serves ranges across segment boundaries, suffixes, inside one segment, and 416 beyond the end', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-range');
    const segs = [randomBytes(5), randomBytes(7), randomBytes(11)].map((b) => new Uint8Array(b));
    for (const [i, s] of segs.entries()) await putSegment(`s/${i}`, s);
    expect((await putManifest('m', segs.map((s, i) => ({ path: `/${c}/s/${i}`, etag: md5(s), size_bytes: s.length })))).status).toBe(201);
    const whole = concat(...segs);
    const head = await call('HEAD', '/m');
    expect(head.headers.get('Content-Length')).toBe('23');
    expect(head.headers.get('X-Manifest-Etag')).toMatch(/^[0-9a-f]{32}$/);
    const cases: [string, number, number][] = [
      ['bytes=3-14', 3, 15], // spans all three segments
      ['bytes=6-9', 6, 10], // inside the second
      ['bytes=5-11', 5, 12], // exactly the second
      ['bytes=-9', 14, 23], // suffix
      ['bytes=-1000', 0, 23], // a suffix longer than the object
      ['bytes=20-', 20, 23],
      ['bytes=22-99', 22, 23],
    ];
    for (const [range, from, to] of cases) {
      const res = await call('GET', '/m', { Range: range });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('Content-Range'), range).toBe(`bytes ${from}-${to - 1}/23`);
      expect(Buffer.from(await bytes(res)).equals(Buffer.from(whole.subarray(from, to))), range).toBe(true);
    }
    const multi = await call('GET', '/m', { Range: 'bytes=0-1,4-6' });
    expect(multi.status).toBe(206);
    expect(multi.headers.get('Content-Type')).toMatch(/^multipart\/byteranges;boundary=/);
    const text = Buffer.from(await bytes(multi)).toString('latin1');
    expect(text).toContain('Content-Range: bytes 0-1/23');
    expect(text).toContain(`Content-Range: bytes 4-6/23\r\n\r\n${Buffer.from(whole.subarray(4, 7)).toString('latin1')}\r\n`);
    const beyond = await call('GET', '/m', { Range: 'bytes=23-30' });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get('Content-Range')).toBe('bytes */23');
    expect((await call('GET', '/m', { Range: 'bytes=-0' })).status).toBe(416);
  });

  it('takes "range" in segment entries, normalises it, and counts it in the etag', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-segrange');
    const a = new Uint8Array(randomBytes(10));
    const b = new Uint8Array(randomBytes(7));
    await putSegment('a', a);
    await putSegment('b', b);
    const manifest = [
      { path: `/${c}/a`, range: '2-4' },
      { path: `/${c}/b`, size_bytes: 7, range: '-3' },
      { path: `/${c}/a`, etag: md5(a), range: '0-' }, // all of it: stored without a range
      { path: `/${c}/b`, range: '5-100' },
    ];
    const put = await putManifest('m', manifest);
    expect(put.status).toBe(201);
    const etag = md5(`${md5(a)}:2-4;${md5(b)}:4-6;${md5(a)}${md5(b)}:5-6;`);
    expect(put.headers.get('ETag')).toBe(`"${etag}"`);
    const whole = concat(a.subarray(2, 5), b.subarray(4), a, b.subarray(5));
    const got = await call('GET', '/m');
    expect(got.headers.get('ETag')).toBe(`"${etag}"`);
    expect(got.headers.get('Content-Length')).toBe(String(whole.length));
    expect(Buffer.from(await bytes(got)).equals(Buffer.from(whole))).toBe(true);
    const ranged = await call('GET', '/m', { Range: 'bytes=2-14' });
    expect(Buffer.from(await bytes(ranged)).equals(Buffer.from(whole.subarray(2, 15)))).toBe(true);
    const stored = (await (await call('GET', '/m?multipart-manifest=get')).json()) as { range?: string; bytes: number }[];
    expect(stored.map((s) => s.range)).toEqual(['2-4', '4-6', undefined, '5-6']);
    expect(stored.map((s) => s.bytes)).toEqual([10, 7, 10, 7]);
    const raw = (await (await call('GET', '/m?multipart-manifest=get&format=raw')).json()) as Record<string, unknown>[];
    expect(raw[1]).toEqual({ path: `/${c}/b`, etag: md5(b), size_bytes: 7, range: '4-6' });

    const bad = async (entry: Record<string, unknown>, message: string) => {
      const res = await putManifest('bad', [entry]);
      expect(res.status, message).toBe(400);
      expect(await res.text()).toContain(message);
    };
    await bad({ path: `/${c}/a`, range: '5-2' }, 'Index 0: invalid range');
    await bad({ path: `/${c}/a`, range: 'bytes' }, 'Index 0: invalid range');
    await bad({ path: `/${c}/a`, range: '1-2,4-5' }, 'Index 0: multiple ranges (only one allowed)');
    await bad({ path: `/${c}/a`, size_bytes: 10, range: '10-12' }, 'Index 0: unsatisfiable range');
    await bad({ path: `/${c}/a`, range: '10-12' }, `/${c}/a, Unsatisfiable Range`);
  });
});

describe('nested SLOs', () => {
  it('reads an SLO whose segments are SLOs, with their etag and size, and deletes them all', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-nest');
    const parts = [randomBytes(6), randomBytes(9), randomBytes(4)].map((b) => new Uint8Array(b));
    for (const [i, p] of parts.entries()) await putSegment(`p/${i}`, p);
    const inner = await putManifest('inner', [{ path: `/${c}/p/0` }, { path: `/${c}/p/1` }]);
    const innerEtag = md5(md5(parts[0]!) + md5(parts[1]!));
    expect(inner.headers.get('ETag')).toBe(`"${innerEtag}"`);
    const manifestEtag = (await call('HEAD', '/inner')).headers.get('X-Manifest-Etag')!;
    // A sub-SLO is given by its SLO etag and total size, as a HEAD of it answers.
    const wrong = await putManifest('outer', [{ path: `/${c}/inner`, etag: manifestEtag, size_bytes: 15 }]);
    expect(wrong.status).toBe(400);
    expect(await wrong.text()).toContain(`/${c}/inner, Etag Mismatch`);
    const data = new TextEncoder().encode('inline!');
    const outer = await putManifest('outer', [
      { path: `/${c}/inner`, etag: innerEtag, size_bytes: 15 },
      { data: Buffer.from(data).toString('base64') },
      { path: `/${c}/p/2` },
      { path: `/${c}/inner`, range: '4-10' },
    ]);
    expect(outer.status).toBe(201);
    const outerEtag = md5(innerEtag + md5(data) + md5(parts[2]!) + `${innerEtag}:4-10;`);
    expect(outer.headers.get('ETag')).toBe(`"${outerEtag}"`);
    const innerBytes = concat(parts[0]!, parts[1]!);
    const whole = concat(innerBytes, data, parts[2]!, innerBytes.subarray(4, 11));
    const got = await call('GET', '/outer');
    expect(got.headers.get('Content-Length')).toBe(String(whole.length));
    expect(Buffer.from(await bytes(got)).equals(Buffer.from(whole))).toBe(true);
    for (const [from, to] of [[3, 30], [14, 17], [25, 33], [20, whole.length]] as const) {
      const r = await call('GET', '/outer', { Range: `bytes=${from}-${to - 1}` });
      expect(Buffer.from(await bytes(r)).equals(Buffer.from(whole.subarray(from, to))), `${from}-${to}`).toBe(true);
    }
    const stored = (await (await call('GET', '/outer?multipart-manifest=get')).json()) as Record<string, unknown>[];
    expect(stored[0]).toMatchObject({ name: `/${c}/inner`, hash: innerEtag, bytes: 15, sub_slo: true });
    const listed = (await (await call('GET', '?format=json&prefix=outer')).json()) as { bytes: number; hash: string }[];
    expect(listed[0]).toMatchObject({ bytes: whole.length, hash: got.headers.get('X-Manifest-Etag'), slo_etag: `"${outerEtag}"` });

    // Deleting the outer manifest deletes the inner one's segments, the inner manifest and p/2.
    const del = await call('DELETE', '/outer?multipart-manifest=delete', { Accept: 'application/json' });
    const result = (await del.json()) as Record<string, unknown>;
    // The inner manifest is listed twice: its segments and itself are found gone the second time.
    expect(result).toMatchObject({ 'Response Status': '200 OK', 'Number Deleted': 5, 'Number Not Found': 3, Errors: [] });
    expect((await (await call('GET', '?format=json')).json())).toEqual([]);
  });

  it('reads 10 manifests deep and answers 409 at 11, as Swift does', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-deep');
    const leaf = new TextEncoder().encode('leaf');
    await putSegment('leaf', leaf);
    let below = `/${c}/leaf`;
    for (let depth = 1; depth <= 11; depth++) {
      expect((await putManifest(`m${depth}`, [{ path: below }])).status).toBe(201);
      below = `/${c}/m${depth}`;
    }
    const ten = await call('GET', '/m10');
    expect(ten.status).toBe(200);
    expect(new TextDecoder().decode(await bytes(ten))).toBe('leaf');
    const eleven = await call('GET', '/m11');
    expect(eleven.status).toBe(409);
    expect(eleven.headers.get('ETag')).toBeNull();
    expect(await eleven.text()).toContain('max recursion depth was exceeded');
    // A HEAD needs no segments: it answers from the manifest's own metadata.
    expect((await call('HEAD', '/m11')).headers.get('Content-Length')).toBe('4');
  });
});

describe('SLO manifests Swift refuses', () => {
  it('answers 400 with Swift\'s messages, 413, 405 and 422', async () => {
    const { c, call, putSegment, putManifest } = await sloContainer('slo-bad');
    const seg = new TextEncoder().encode('0123456789');
    await putSegment('seg', seg);
    await putSegment('empty', new Uint8Array(0));
    const expect400 = async (body: string, message: string, headers: Record<string, string> = {}) => {
      const res = await call('PUT', '/m?multipart-manifest=put', headers, body);
      expect(res.status, message).toBe(400);
      expect(await res.text(), message).toContain(message);
    };
    await expect400('not json', 'Manifest must be valid JSON.');
    await expect400('{}', 'Manifest must be a list.');
    await expect400('["x"]', 'Index 0: not a JSON object');
    await expect400(JSON.stringify([{ path: `/${c}/seg`, etag: 'e', foo: 1, bar: 2 }]), 'Index 0: extraneous keys "bar", "foo"');
    await expect400(JSON.stringify([{ etag: 'e' }]), "Index 0: expected keys to include one of 'data' or 'path'");
    await expect400(JSON.stringify([{ path: `/${c}` }, { path: 5 }]), 'Index 0: path does not refer to an object. Path must be of the form /container/object.\nIndex 1: "path" must be a string');
    await expect400(JSON.stringify([{ path: `/${c}/seg`, size_bytes: 'ten' }]), 'Index 0: invalid size_bytes');
    await expect400(JSON.stringify([{ path: `/${c}/m` }]), 'Index 0: manifest must not include itself as a segment');
    await expect400(JSON.stringify([{ data: 'not base64!' }, { path: `/${c}/seg` }]), 'Index 0: data must be valid base64');
    await expect400(JSON.stringify([{ data: 'aGk=' }]), 'Inline data segments require at least one object-backed segment.');
    await expect400(JSON.stringify([{ path: `/${c}/nope` }]), `Errors:\n/${c}/nope, 404 Not Found`);
    await expect400(JSON.stringify([{ path: `/${c}/seg`, size_bytes: 3 }]), `/${c}/seg, Size Mismatch`);
    await expect400(JSON.stringify([{ path: `/${c}/seg`, etag: md5('other') }]), `/${c}/seg, Etag Mismatch`);
    await expect400(JSON.stringify([{ path: `/${c}/empty` }, { path: `/${c}/seg` }]), `/${c}/empty, Too small; each segment must be at least 1 byte.`);
    const json = await call('PUT', '/m?multipart-manifest=put', { Accept: 'application/json' }, JSON.stringify([{ path: `/${c}/nope` }]));
    expect(json.status).toBe(400);
    expect(await json.json()).toEqual({ Errors: [[`/${c}/nope`, '404 Not Found']] });
    // The last segment may be empty.
    expect((await putManifest('ok', [{ path: `/${c}/seg` }, { path: `/${c}/empty` }])).status).toBe(201);

    const many = Array.from({ length: 1001 }, () => ({ path: `/${c}/seg` }));
    expect((await putManifest('m', many)).status).toBe(413);
    expect((await putManifest('m', [{ path: `/${c}/seg` }], { 'X-Copy-From': `${c}/seg` })).status).toBe(405);
    expect((await putManifest('m', [{ path: `/${c}/seg` }], { ETag: md5('wrong') })).status).toBe(422);
    expect((await putManifest('m', [{ path: `/${c}/seg` }], { ETag: md5(md5(seg)) })).status).toBe(201);
    expect((await call('PUT', '/plain', { 'X-Static-Large-Object': 'True' }, 'x')).status).toBe(400);
  });

  it('answers 409 when a segment changed after the manifest was written', async () => {
    const { c, call, putSegment, putManifest } = await sloContainer('slo-changed');
    await putSegment('a', new TextEncoder().encode('first'));
    expect((await putManifest('m', [{ path: `/${c}/a` }])).status).toBe(201);
    await putSegment('a', new TextEncoder().encode('other'));
    expect((await call('GET', '/m')).status).toBe(409);
    await call('DELETE', '/a');
    expect((await call('GET', '/m')).status).toBe(409);
  });
});
