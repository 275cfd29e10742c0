// Static large objects beyond reading them whole, as Swift's slo middleware has them:
// ?part-number GETs and HEADs, ?heartbeat=on manifest PUTs, and how a manifest shows in
// container listings (the SLO's size and slo_etag, the manifest's own MD5 and bytes used).
import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { sloContainer, storageAccess, swiftOk } from '../swift-cli';

const md5 = (data: string | Uint8Array) => createHash('md5').update(data).digest('hex');
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));
const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));
const random = (n: number) => new Uint8Array(randomBytes(n));

describe('SLO ?part-number', () => {
  it('answers 206 with one segment (data and nested SLOs count as one), 416 past the last, 400 when invalid', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-part');
    const [a, x, y, b] = [random(5), random(3), random(4), random(11)];
    for (const [name, data] of [['a', a], ['x', x], ['y', y], ['b', b]] as const) await putSegment(name, data);
    expect((await putManifest('inner', [{ path: `/${c}/x` }, { path: `/${c}/y` }])).status).toBe(201);
    const data = new TextEncoder().encode('inline!');
    const put = await putManifest('m', [
      { path: `/${c}/a` }, { data: Buffer.from(data).toString('base64') }, { path: `/${c}/inner` }, { path: `/${c}/b`, range: '2-9' },
    ]);
    expect(put.status).toBe(201);
    const etag = put.headers.get('ETag')!;
    const parts = [a, data, concat(x, y), b.subarray(2, 10)];
    const whole = concat(...parts);
    const manifestEtag = (await call('HEAD', '/m')).headers.get('X-Manifest-Etag');

    let offset = 0;
    for (const [i, part] of parts.entries()) {
      const range = `bytes ${offset}-${offset + part.length - 1}/${whole.length}`;
      const got = await call('GET', `/m?part-number=${i + 1}`);
      expect(got.status, `part ${i + 1}`).toBe(206);
      expect(got.headers.get('Content-Range')).toBe(range);
      expect(got.headers.get('Content-Length')).toBe(String(part.length));
      expect(got.headers.get('X-Parts-Count')).toBe('4');
      expect(got.headers.get('ETag')).toBe(etag);
      expect(got.headers.get('X-Manifest-Etag')).toBe(manifestEtag);
      expect(got.headers.get('X-Static-Large-Object')).toBe('True');
      expect(got.headers.get('Accept-Ranges')).toBe('bytes');
      expect(same(await bytes(got), part), `part ${i + 1}`).toBe(true);
      const head = await call('HEAD', `/m?part-number=${i + 1}`);
      expect(head.status).toBe(206);
      expect(head.headers.get('Content-Range')).toBe(range);
      expect(head.headers.get('Content-Length')).toBe(String(part.length));
      expect(head.headers.get('X-Parts-Count')).toBe('4');
      expect(head.headers.get('ETag')).toBe(etag);
      expect((await bytes(head)).length).toBe(0);
      offset += part.length;
    }
    // int() forms Python takes; a repeated parameter counts by its last value, as in swob.
    for (const q of ['part-number=02', 'part-number=%2B2', 'part-number=%202%20', 'part-number=1&part-number=2']) {
      const got = await call('GET', `/m?${q}`);
      expect(got.status, q).toBe(206);
      expect(same(await bytes(got), data), q).toBe(true);
    }
    // A malformed Range is ignored (swob's req.range is None), so it does not clash.
    expect((await call('GET', '/m?part-number=1', { Range: 'bytes=5-3' })).status).toBe(206);

    const beyond = await call('GET', '/m?part-number=5');
    expect(beyond.status).toBe(416);
    expect(await beyond.text()).toBe('The requested part number is not satisfiable');
    expect(beyond.headers.get('Content-Range')).toBe(`bytes */${whole.length}`);
    expect(beyond.headers.get('X-Parts-Count')).toBe('4');
    expect(beyond.headers.get('ETag')).toBe(etag);
    const headBeyond = await call('HEAD', '/m?part-number=10001');
    expect(headBeyond.status).toBe(416);
    expect(headBeyond.headers.get('Content-Length')).toBe('0');
    expect(headBeyond.headers.get('X-Parts-Count')).toBe('4');

    for (const q of ['0', '-1', 'foo', '', '1.5', '1e1']) {
      const got = await call('GET', `/m?part-number=${q}`);
      expect(got.status, q).toBe(400);
      expect(await got.text(), q).toBe('Part number must be an integer greater than 0');
      expect(got.headers.get('ETag'), q).toBeNull();
      expect(got.headers.get('X-Parts-Count'), q).toBeNull();
      expect((await call('HEAD', `/m?part-number=${q}`)).status, q).toBe(400);
    }
    const ranged = await call('GET', '/m?part-number=1', { Range: 'bytes=0-3' });
    expect(ranged.status).toBe(400);
    expect(await ranged.text()).toBe('Range requests are not supported with part number queries');
    expect((await call('HEAD', '/m?part-number=1', { Range: 'bytes=0-3' })).status).toBe(400);

    // Preconditions still apply; part-number is ignored with ?multipart-manifest=get.
    expect((await call('GET', '/m?part-number=1', { 'If-None-Match': etag })).status).toBe(304);
    const manifest = await call('GET', '/m?multipart-manifest=get&part-number=foo');
    expect(manifest.status).toBe(200);
    expect(md5(await bytes(manifest))).toBe(manifestEtag);
  });

  it('is ignored for objects that are not SLOs: plain objects and DLOs read whole, or by their Range', async () => {
    const { c, call, putSegment, bytes } = await sloContainer('slo-part-plain');
    const plain = random(15);
    await putSegment('plain', plain);
    for (const q of ['1', '2', '0', 'foo']) {
      const got = await call('GET', `/plain?part-number=${q}`);
      expect(got.status, q).toBe(200);
      expect(got.headers.get('ETag')).toBe(md5(plain));
      expect(got.headers.get('Accept-Ranges')).toBe('bytes');
      expect(got.headers.get('X-Parts-Count')).toBeNull();
      expect(same(await bytes(got), plain)).toBe(true);
      const ranged = await call('GET', `/plain?part-number=${q}`, { Range: 'bytes=1-2' });
      expect(ranged.status, q).toBe(206);
      expect(ranged.headers.get('Content-Range')).toBe('bytes 1-2/15');
      expect(same(await bytes(ranged), plain.subarray(1, 3))).toBe(true);
      const head = await call('HEAD', `/plain?part-number=${q}`);
      expect(head.status).toBe(200);
      expect(head.headers.get('Content-Length')).toBe('15');
    }
    await putSegment('parts/1', new TextEncoder().encode('abc'));
    await putSegment('parts/2', new TextEncoder().encode('def'));
    expect((await call('PUT', '/dlo', { 'X-Object-Manifest': `${c}/parts/` }, '')).status).toBe(201);
    const dlo = await call('GET', '/dlo?part-number=2');
    expect(dlo.status).toBe(200);
    expect(await dlo.text()).toBe('abcdef');
  });

  it('counts the parts of a manifest kept in R2 (over 64 KiB)', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-part-big');
    const seg = random(3);
    await putSegment('s', seg);
    const put = await putManifest('m', Array.from({ length: 600 }, () => ({ path: `/${c}/s` })));
    expect(put.status).toBe(201);
    const manifest = await bytes(await call('GET', '/m?multipart-manifest=get'));
    expect(manifest.length).toBeGreaterThan(64 * 1024);
    const got = await call('GET', '/m?part-number=600');
    expect(got.status).toBe(206);
    expect(got.headers.get('X-Parts-Count')).toBe('600');
    expect(got.headers.get('Content-Range')).toBe('bytes 1797-1799/1800');
    expect(same(await bytes(got), seg)).toBe(true);
    expect((await call('HEAD', '/m?part-number=601')).status).toBe(416);

    const listed = (await (await call('GET', '?format=json')).json()) as Record<string, unknown>[];
    expect(listed.find((e) => e.name === 'm')).toMatchObject({
      bytes: 1800, hash: md5(manifest), slo_etag: put.headers.get('ETag'), content_type: 'application/octet-stream',
    });
    const head = await call('HEAD', '');
    expect(head.headers.get('X-Container-Bytes-Used')).toBe(String(3 + manifest.length));
  });
});

/** A heartbeat body: the leading spaces, then the outcome after "\r\n\r\n". */
async function heartbeat(res: Response): Promise<{ spaces: string; outcome: string }> {
  const text = await res.text();
  const at = text.indexOf('\r\n\r\n');
  expect(at, text).toBeGreaterThan(0);
  return { spaces: text.slice(0, at), outcome: text.slice(at + 4) };
}

describe('SLO ?heartbeat=on', () => {
  it('answers 202 at once and gives the outcome in the body: text, JSON, XML', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-beat');
    const seg = new TextEncoder().encode('0123456789');
    await putSegment('seg', seg);
    const sloEtag = md5(md5(seg));

    const ok = await putManifest('m', [{ path: `/${c}/seg` }], {}, '&heartbeat=on');
    expect(ok.status).toBe(202);
    expect(ok.headers.get('Content-Type')).toBe('text/plain');
    const { spaces, outcome } = await heartbeat(ok);
    expect(spaces).toMatch(/^ +$/);
    const lines = outcome.split('\n');
    expect(lines[0]).toBe(`Etag: "${sloEtag}"`);
    expect(lines[1]).toMatch(/^Last Modified: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
    expect(lines.slice(2)).toEqual(['Response Body: ', 'Response Status: 201 Created', 'Errors:', '']);
    const got = await call('GET', '/m');
    expect(got.headers.get('ETag')).toBe(`"${sloEtag}"`);
    expect(got.headers.get('Last-Modified')).toBe(lines[1]!.slice('Last Modified: '.length));
    expect(same(await bytes(got), seg)).toBe(true);

    const json = await putManifest('m2', [{ path: `/${c}/seg` }], { Accept: 'application/json' }, '&heartbeat=on');
    expect(json.status).toBe(202);
    expect(json.headers.get('Content-Type')).toBe('application/json');
    expect(JSON.parse((await heartbeat(json)).outcome)).toMatchObject({
      'Response Status': '201 Created', 'Response Body': '', Etag: `"${sloEtag}"`, Errors: [],
    });

    // Failed segment checks: the 400 and its failures, and nothing stored.
    const missing = await putManifest('bad', [{ path: `/${c}/nope` }, { path: `/${c}/seg`, size_bytes: 3 }], { Accept: 'application/json' }, '&heartbeat=on');
    expect(missing.status).toBe(202);
    expect(JSON.parse((await heartbeat(missing)).outcome)).toEqual({
      'Response Status': '400 Bad Request',
      'Response Body': 'Bad Request\nThe server could not comply with the request since it is either malformed or otherwise incorrect.',
      Errors: [[`/${c}/nope`, '404 Not Found'], [`/${c}/seg`, 'Size Mismatch']],
    });
    expect((await call('HEAD', '/bad')).status).toBe(404);

    const xml = await putManifest('bad', [{ path: `/${c}/seg` }], { Accept: 'application/xml', ETag: md5('wrong') }, '&heartbeat=on');
    expect(xml.status).toBe(202);
    expect((await heartbeat(xml)).outcome).toBe(
      '<upload>\n<response_body>Unprocessable Entity\nUnable to process the contained instructions</response_body>\n'
      + '<response_status>422 Unprocessable Entity</response_status>\n<errors>\n</errors>\n</upload>\n',
    );
    const text = await putManifest('bad', [{ path: `/${c}/nope` }], {}, '&heartbeat=on');
    expect((await heartbeat(text)).outcome).toBe(
      'Response Body: Bad Request\nThe server could not comply with the request since it is either malformed or otherwise incorrect.\n'
      + `Response Status: 400 Bad Request\nErrors:\n/${c}/nope, 404 Not Found\n`,
    );
    expect((await call('HEAD', '/bad')).status).toBe(404);
  });

  it('sends its first space before the segments are checked', async () => {
    const { c, call, putSegment } = await sloContainer('slo-beat-stream');
    const count = 400;
    await Promise.all(Array.from({ length: count }, (_, i) => putSegment(`s/${i}`, new TextEncoder().encode(`${i}`))));
    // No gzip: the local runtime compresses any status (Cloudflare's edge leaves a 202 alone), which holds the spaces back.
    const res = await call('PUT', '/m?multipart-manifest=put&heartbeat=on', { 'Accept-Encoding': 'identity', 'Content-Type': 'application/octet-stream' },
      JSON.stringify(Array.from({ length: count }, (_, i) => ({ path: `/${c}/s/${i}` }))));
    expect(res.status).toBe(202);
    const reader = res.body!.getReader();
    const chunks: string[] = [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) chunks.push(Buffer.from(r.value).toString());
    expect(chunks[0]).toBe(' ');
    expect(chunks.join('')).toMatch(/^ +\r\n\r\nEtag: "[0-9a-f]{32}"\n[^]*Response Status: 201 Created\nErrors:\n$/);
    expect((await call('HEAD', '/m')).headers.get('Content-Length')).toBe(String(Array.from({ length: count }, (_, i) => `${i}`).join('').length));
  });

  it('still refuses a body it cannot parse before answering, and is off unless asked', async () => {
    const { c, call, putManifest } = await sloContainer('slo-beat-bad');
    const notJson = await call('PUT', '/m?multipart-manifest=put&heartbeat=on', {}, 'not json');
    expect(notJson.status).toBe(400);
    expect(await notJson.text()).toBe('Manifest must be valid JSON.\n');
    const many = Array.from({ length: 1001 }, () => ({ path: `/${c}/seg` }));
    expect((await putManifest('m', many, {}, '&heartbeat=on')).status).toBe(413);
    expect((await putManifest('m', [{ path: `/${c}/seg` }], { 'X-Copy-From': `${c}/seg` }, '&heartbeat=on')).status).toBe(405);
    const off = await putManifest('m', [{ path: `/${c}/nope` }], {}, '&heartbeat=off');
    expect(off.status).toBe(400);
    expect(await off.text()).toBe(`Errors:\n/${c}/nope, 404 Not Found\n`);
  });
});

describe('SLO manifests in container listings', () => {
  it('list the SLO size and slo_etag with the manifest MD5 as hash; bytes used count the manifest', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-listing');
    const segs = [random(1000), random(2345)];
    for (const [i, s] of segs.entries()) await putSegment(`seg/${i}`, s);
    const put = await putManifest('m', segs.map((_, i) => ({ path: `/${c}/seg/${i}` })), { 'Content-Type': 'application/x-thing' });
    expect(put.status).toBe(201);
    const sloEtag = put.headers.get('ETag')!;
    const stored = await bytes(await call('GET', '/m?multipart-manifest=get'));
    const manifestEtag = md5(stored);
    expect((await call('HEAD', '/m')).headers.get('X-Manifest-Etag')).toBe(manifestEtag);

    const listing = async () => ((await (await call('GET', '?format=json&prefix=m')).json()) as Record<string, unknown>[])[0];
    expect(await listing()).toMatchObject({ name: 'm', bytes: 3345, hash: manifestEtag, slo_etag: sloEtag, content_type: 'application/x-thing' });
    const xml = await (await call('GET', '?format=xml&prefix=m')).text();
    expect(xml).toContain(`<object><name>m</name><hash>${manifestEtag}</hash><bytes>3345</bytes><content_type>application/x-thing</content_type>`);
    expect(xml).not.toContain('slo_etag');
    // A plain object lists no slo_etag.
    const plain = ((await (await call('GET', '?format=json&prefix=seg/0')).json()) as Record<string, unknown>[])[0];
    expect(plain).toEqual(expect.objectContaining({ bytes: 1000, hash: md5(segs[0]!) }));
    expect(plain).not.toHaveProperty('slo_etag');

    const used = () => call('HEAD', '').then((r) => [r.headers.get('X-Container-Object-Count'), r.headers.get('X-Container-Bytes-Used')]);
    expect(await used()).toEqual(['3', String(3345 + stored.length)]);
    // The object's own headers never show the swift_bytes its record carries.
    const head = await call('HEAD', '/m');
    expect(head.headers.get('Content-Type')).toBe('application/x-thing');
    expect(head.headers.get('Content-Length')).toBe('3345');

    // New metadata and a copy of the manifest keep all of it.
    expect((await call('POST', '/m', { 'X-Object-Meta-Color': 'blue', 'Content-Type': 'application/x-other' })).status).toBe(202);
    expect(await listing()).toMatchObject({ bytes: 3345, hash: manifestEtag, slo_etag: sloEtag, content_type: 'application/x-other' });
    expect(await used()).toEqual(['3', String(3345 + stored.length)]);
    const copy = await call('COPY', '/m?multipart-manifest=get', { Destination: `${c}/m-copy` });
    expect(copy.status).toBe(201);
    expect(copy.headers.get('ETag')).toBe(sloEtag);
    const copied = ((await (await call('GET', '?format=json&prefix=m-copy')).json()) as Record<string, unknown>[])[0];
    expect(copied).toMatchObject({ bytes: 3345, hash: manifestEtag, slo_etag: sloEtag });
    expect(await used()).toEqual(['4', String(3345 + 2 * stored.length)]);

    // The swift CLI reads the same: the SLO's size in `list --long`, bytes used in `stat`.
    const long = await swiftOk(['list', c, '--long', '--prefix', 'm']);
    expect(long).toMatch(/^\s*3345 \S+ \S+ +application\/x-other m$/m);
    expect(await swiftOk(['stat', c])).toMatch(new RegExp(`Bytes: ${3345 + 2 * stored.length}\\n`));

    // Deleting the manifest gives its own bytes back.
    expect((await call('DELETE', '/m-copy')).status).toBe(204);
    expect(await used()).toEqual(['3', String(3345 + stored.length)]);
  });
});

describe('SLO ?part-number on a copy', () => {
  it('copies that part alone (COPY and PUT with X-Copy-From), 416 past the last, 400 when invalid', async () => {
    const { c, call, putSegment, putManifest, bytes } = await sloContainer('slo-part-copy');
    const [a, b] = [random(7), random(70 * 1024)];
    await putSegment('a', a);
    await putSegment('b', b);
    expect((await putManifest('m', [{ path: `/${c}/a` }, { path: `/${c}/b` }])).status).toBe(201);

    expect((await call('COPY', '/m?part-number=2', { Destination: `${c}/second` })).status).toBe(201);
    expect(same(await bytes(await call('GET', '/second')), b)).toBe(true);
    expect((await call('HEAD', '/second')).headers.get('X-Static-Large-Object')).toBeNull();
    expect((await call('PUT', '/first?part-number=1', { 'X-Copy-From': `${c}/m` })).status).toBe(201);
    expect(same(await bytes(await call('GET', '/first')), a)).toBe(true);
    expect((await call('COPY', '/m', { Destination: `${c}/whole` })).status).toBe(201);
    expect(same(await bytes(await call('GET', '/whole')), concat(a, b))).toBe(true);

    const past = await call('COPY', '/m?part-number=3', { Destination: `${c}/none` });
    expect(past.status).toBe(416);
    expect((await call('COPY', '/m?part-number=x', { Destination: `${c}/none` })).status).toBe(400);
    expect((await call('HEAD', '/none')).status).toBe(404);
  });
});

describe('SLO ?multipart-manifest=delete&async=yes', () => {
  it('deletes the manifest at once and hands its segments to expiry; /info says it can', async () => {
    const { storageUrl } = await storageAccess();
    const info = (await (await fetchRetrying(`${storageUrl.split('/v1/')[0]}/info`, {})).json()) as { slo: { allow_async_delete: boolean } };
    expect(info.slo.allow_async_delete).toBe(true);

    const { c, call, putSegment, putManifest } = await sloContainer('slo-async');
    // One segment above 64 KiB, so it lives in R2; the others in the account's object.
    const segs = [random(1000), random(70 * 1024), random(10)];
    for (const [i, s] of segs.entries()) await putSegment(`seg/${i}`, s);
    expect((await putManifest('m', [...segs.keys()].map((i) => ({ path: `/${c}/seg/${i}` })))).status).toBe(201);
    expect((await call('DELETE', '/m?multipart-manifest=delete&async=yes')).status).toBe(204);
    expect((await call('GET', '/m')).status).toBe(404);
    for (const i of segs.keys()) expect((await call('GET', `/seg/${i}`)).status).toBe(404);
    // The reaping runs after the answer: the listing and the counts follow within moments.
    const deadline = Date.now() + 15_000;
    let listed = ['?'];
    while (Date.now() < deadline && listed.length > 0) {
      listed = ((await (await call('GET', '?format=json')).json()) as { name: string }[]).map((o) => o.name);
      if (listed.length > 0) await new Promise((ok) => setTimeout(ok, 250));
    }
    expect(listed).toEqual([]);
    const head = await call('HEAD', '');
    expect([head.headers.get('X-Container-Object-Count'), head.headers.get('X-Container-Bytes-Used')]).toEqual(['0', '0']);
  });

  it('refuses segments in two containers, nested SLOs, and objects that are not SLOs, and changes nothing', async () => {
    const one = await sloContainer('slo-async-a');
    const two = await sloContainer('slo-async-b');
    await one.putSegment('s', random(10));
    await two.putSegment('s', random(10));
    expect((await one.putManifest('split', [{ path: `/${one.c}/s` }, { path: `/${two.c}/s` }])).status).toBe(201);
    const split = await one.call('DELETE', '/split?multipart-manifest=delete&async=yes');
    expect(split.status).toBe(400);
    expect(await split.text()).toContain(`All segments must be in one container. Found segments in `);

    expect((await one.putManifest('nested', [{ path: `/${one.c}/split` }])).status).toBe(201);
    const nested = await one.call('DELETE', '/nested?multipart-manifest=delete&async=yes');
    expect(nested.status).toBe(400);
    expect(await nested.text()).toContain('No segments may be large objects.');

    const plain = await one.call('DELETE', '/s?multipart-manifest=delete&async=yes');
    expect(plain.status).toBe(400);
    expect(await plain.text()).toContain('Not an SLO manifest');
    expect((await one.call('DELETE', '/missing?multipart-manifest=delete&async=yes')).status).toBe(404);

    for (const path of ['/split', '/nested', '/s']) expect((await one.call('HEAD', path)).status).toBe(200);
    expect((await two.call('HEAD', '/s')).status).toBe(200);
  });
});
