// Images larger than swift_store_large_object_size go to Swift as glance_store's swift
// driver writes them: segments <id>-00001... and a dynamic large object <id>. Glance's
// store module runs here against the test cloud's Swift, as the glance service user,
// with the thresholds set small through its bindings (1 MB), not 5 GiB; and through the
// openstack CLI against a cloud started with those thresholds.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Env } from '../../workers/glance/env';
import { deleteImageData, getImageData, putImageData } from '../../workers/glance/store';
import { adminToken, fetchRetrying, openstackJson, openstackOk, passwordToken } from '../cli';
import { startLocalCloud, type LocalCloud } from '../local-cloud';

const MiB = 1024 * 1024;
let env: Env;
let glance: { token: string; store: string };

/** A service binding to the test cloud: the Worker's subrequest, sent over HTTP with its body whole. */
function binding(): Fetcher {
  const fetcher = async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(String(input));
    const body = init?.body ? new Uint8Array(await new Response(init.body).arrayBuffer()) : undefined;
    return fetchRetrying(`${inject('cloud').url}${url.pathname}${url.search}`, { ...init, body });
  };
  return { fetch: fetcher } as unknown as Fetcher;
}

beforeAll(async () => {
  // workerd's FixedLengthStream, as Node lacks it: the binding above sends the length.
  const g = globalThis as { FixedLengthStream?: unknown };
  g.FixedLengthStream ??= class extends TransformStream<Uint8Array, Uint8Array> {
    constructor(_length: number) {
      super();
    }
  };
  const { glancePassword } = JSON.parse(readFileSync(join(inject('cloud').stateDir, 'secrets.json'), 'utf8')) as { glancePassword: string };
  env = {
    SWIFT: binding(), KEYSTONE: binding(), GLANCE_SERVICE_PASSWORD: glancePassword,
    SWIFT_STORE_LARGE_OBJECT_SIZE: '1', SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE: '1',
  } as Env;
  const t = await passwordToken('glance', glancePassword, 'service');
  glance = { token: t.token, store: `${inject('cloud').url}/object-storage/v1/AUTH_${t.body.token.project.id as string}/glance` };
});

const streamOf = (data: Uint8Array, piece = 64 * 1024) =>
  new ReadableStream<Uint8Array>({
    start(ctrl) {
      for (let at = 0; at < data.byteLength; at += piece) ctrl.enqueue(data.subarray(at, at + piece));
      ctrl.close();
    },
  });

async function stored(id: string): Promise<string[]> {
  const res = await fetchRetrying(`${glance.store}?format=json&prefix=${id}`, { headers: { 'X-Auth-Token': glance.token } });
  return ((await res.json()) as { name: string }[]).map((o) => o.name);
}

/** The stored image reads back byte for byte, and deleting it leaves nothing in the store. */
async function readsWholeThenDeletes(id: string, data: Uint8Array) {
  const whole = await getImageData(env, id, undefined);
  expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
  await deleteImageData(env, id);
  expect(await stored(id)).toEqual([]);
}

describe('segmented image data', () => {
  it('stores an image above the threshold as segments and a manifest, reads it whole and in ranges, deletes it all', async () => {
    const id = randomUUID();
    const data = new Uint8Array(randomBytes(3.5 * MiB));
    await putImageData(env, id, streamOf(data), data.byteLength);
    expect(await stored(id)).toEqual([id, `${id}-00001`, `${id}-00002`, `${id}-00003`, `${id}-00004`]);
    const head = await fetchRetrying(`${glance.store}/${id}`, { method: 'HEAD', headers: { 'X-Auth-Token': glance.token } });
    expect(head.headers.get('X-Object-Manifest')).toBe(`glance/${id}-`);
    expect(head.headers.get('Content-Length')).toBe(String(data.byteLength));

    const whole = await getImageData(env, id, undefined);
    expect(Buffer.from(await whole.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    const ranged = await getImageData(env, id, `bytes=${MiB - 10}-${2 * MiB + 9}`);
    expect(ranged.status).toBe(206);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(Buffer.from(data.subarray(MiB - 10, 2 * MiB + 10)))).toBe(true);

    await deleteImageData(env, id);
    expect(await stored(id)).toEqual([]);
  });

  it('segments an image of unknown size, without an empty last segment', async () => {
    const id = randomUUID();
    const data = new Uint8Array(randomBytes(2 * MiB));
    await putImageData(env, id, streamOf(data, 100_000), null);
    expect(await stored(id)).toEqual([id, `${id}-00001`, `${id}-00002`]);
    await readsWholeThenDeletes(id, data);
  });

  it('keeps an image below the threshold as one object', async () => {
    const id = randomUUID();
    const data = new Uint8Array(randomBytes(MiB - 1));
    await putImageData(env, id, streamOf(data), data.byteLength);
    expect(await stored(id)).toEqual([id]);
    await readsWholeThenDeletes(id, data);
  });

  it('leaves no segments behind when the upload fails part way', async () => {
    const id = randomUUID();
    let sent = 0;
    const failing = new ReadableStream<Uint8Array>({
      pull(ctrl) {
        if (sent >= 1.5 * MiB) return ctrl.error(new Error('client went away'));
        sent += 256 * 1024;
        ctrl.enqueue(new Uint8Array(256 * 1024));
      },
    });
    await expect(putImageData(env, id, failing, 3 * MiB)).rejects.toThrow();
    expect(await stored(id)).toEqual([]);
  });
});

describe('an image upload of unknown size through the API', () => {
  it('is stored as a segmented object, as glance_store does, and reads and deletes as one', async () => {
    const token = await adminToken();
    const images = `${inject('cloud').url}/image/v2/images`;
    const created = await fetchRetrying(images, {
      method: 'POST', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'chunked-upload', disk_format: 'raw', container_format: 'bare' }),
    });
    const { id } = (await created.json()) as { id: string };
    const data = new Uint8Array(randomBytes(3 * MiB + 5));
    // A stream body goes out chunked: no Content-Length.
    const up = await fetchRetrying(`${images}/${id}/file`, {
      method: 'PUT', headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
      body: streamOf(data), duplex: 'half',
    } as RequestInit);
    expect(up.status).toBe(204);
    expect(await stored(id)).toEqual([id, `${id}-00001`]);
    const image = (await (await fetchRetrying(`${images}/${id}`, { headers: { 'X-Auth-Token': token } })).json()) as { size: number; checksum: string };
    expect(image.size).toBe(data.byteLength);
    const down = await fetchRetrying(`${images}/${id}/file`, { headers: { 'X-Auth-Token': token } });
    expect(down.headers.get('Content-MD5')).toBe(image.checksum);
    expect(Buffer.from(await down.arrayBuffer()).equals(Buffer.from(data))).toBe(true);
    expect((await fetchRetrying(`${images}/${id}`, { method: 'DELETE', headers: { 'X-Auth-Token': token } })).status).toBe(204);
    expect(await stored(id)).toEqual([]);
  });
});

describe('a cloud started with FLARESTACK_SWIFT_STORE_LARGE_OBJECT_SIZE=1', () => {
  let cloud: LocalCloud;
  let work: string;
  beforeAll(async () => {
    cloud = await startLocalCloud({
      env: { FLARESTACK_SWIFT_STORE_LARGE_OBJECT_SIZE: '1', FLARESTACK_SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE: '1' },
      args: ['--hosts', '0'],
    });
    work = mkdtempSync(join(tmpdir(), 'flarestack-image-'));
  });
  afterAll(async () => {
    await cloud?.stop();
    if (cloud) rmSync(cloud.stateDir, { recursive: true, force: true });
    rmSync(work, { recursive: true, force: true });
  });

  it('stores an image made with openstack image create in 1 MB segments, saves it byte for byte, deletes every segment', async () => {
    const env = { OS_CLIENT_CONFIG_FILE: cloud.cloudsYaml };
    const data = randomBytes(2.5 * MiB);
    writeFileSync(join(work, 'in.raw'), data);
    const { id } = await openstackJson<{ id: string }>(
      ['image', 'create', '--file', join(work, 'in.raw'), '--disk-format', 'raw', '--container-format', 'bare', 'segmented'], { env },
    );
    const image = await openstackJson<{ id: string; size: number; checksum: string; status: string }>(['image', 'show', id], { env });
    expect(image.status).toBe('active');
    expect(image.size).toBe(data.byteLength);
    expect(image.checksum).toBe(createHash('md5').update(data).digest('hex'));

    const { glancePassword } = JSON.parse(readFileSync(join(cloud.stateDir, 'secrets.json'), 'utf8')) as { glancePassword: string };
    const auth = await fetch(`${cloud.authUrl}/auth/tokens`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ auth: {
        identity: { methods: ['password'], password: { user: { name: 'glance', domain: { id: 'default' }, password: glancePassword } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      } }),
    });
    const token = auth.headers.get('X-Subject-Token')!;
    const projectId = ((await auth.json()) as { token: { project: { id: string } } }).token.project.id;
    const listing = async () => {
      const res = await fetch(`${cloud.url}/object-storage/v1/AUTH_${projectId}/glance?format=json&prefix=${image.id}`, { headers: { 'X-Auth-Token': token } });
      return ((await res.json()) as { name: string; bytes: number }[]).map((o) => `${o.name} ${o.bytes}`);
    };
    expect(await listing()).toEqual([`${image.id} 0`, `${image.id}-00001 ${MiB}`, `${image.id}-00002 ${MiB}`, `${image.id}-00003 ${MiB / 2}`]);

    await openstackOk(['image', 'save', '--file', join(work, 'out.raw'), image.id], { env });
    expect(readFileSync(join(work, 'out.raw')).equals(data)).toBe(true);
    await openstackOk(['image', 'delete', image.id], { env });
    expect(await listing()).toEqual([]);
  });
});
