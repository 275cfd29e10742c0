// A snapshot job carries the caller's token to the host, which uploads the image to
// Glance with it. Until the host answers, the job waits in the host's Conductor: there the
// token is sealed, never kept in clear (the job itself is found in the same files).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminToken, api } from '../cli';
import { bootServer, bootstrapImageId, startTestHost, stopTestHost, unique, waitForServer, type TestHost } from '../compute';

const zone = unique('az-snap-secret');
let h: TestHost;
let token: string;
let imageId: string;

beforeAll(async () => {
  token = await adminToken();
  imageId = await bootstrapImageId(token);
  h = await startTestHost(unique('snap-secret'), { zone, actionLatencyMs: 2000 });
});
afterAll(async () => {
  await stopTestHost(h).catch(() => undefined);
});

/** Every file of the local cloud's Durable Objects (SQLite databases, their WAL). */
function durableObjectFiles(dir = join(inject('cloud').stateDir, 'v3', 'do')): Buffer[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? durableObjectFiles(join(dir, e.name)) : [readFileSync(join(dir, e.name))],
  );
}

describe('a queued snapshot job', () => {
  it('keeps the caller token sealed in the Conductor, and the host still uploads with it', async () => {
    const id = await bootServer(token, { name: unique('snap-secret'), imageRef: imageId, availability_zone: zone });
    await waitForServer(id, ['ACTIVE'], token);
    const res = await api('POST', `/compute/v2.1/servers/${id}/action`, {
      token, body: { createImage: { name: unique('snap-secret-image') } }, headers: { 'OpenStack-API-Version': 'compute 2.45' },
    });
    expect(res.status).toBe(202);
    const image = res.json.image_id as string;
    // The host takes 2 s over each step: the job waits in the Conductor meanwhile.
    const files = durableObjectFiles();
    expect(files.some((f) => f.includes(`${image}/file`))).toBe(true); // the job is there
    expect(files.some((f) => f.includes(token))).toBe(false); // its token is not

    await waitForServer(id, ['ACTIVE'], token);
    const deadline = Date.now() + 30_000;
    let status = '';
    while (Date.now() < deadline && status !== 'active') {
      status = (await api('GET', `/image/v2/images/${image}`, { token })).json.status as string;
      if (status !== 'active') await new Promise((ok) => setTimeout(ok, 200));
    }
    expect(status).toBe('active');
  });
});
