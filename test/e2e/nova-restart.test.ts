// A build survives a restart of the local cloud: the spawn job waits in its host's
// Conductor storage, the connector reconnects, and the server reaches ACTIVE.
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../local-cloud';
import { countSpawns, startTestHost, stopTestHost, unique, type TestHost } from '../compute';

// A host counts as down only after a minute here: the restart itself must not look like one.
const ENV = { FLARESTACK_SERVICE_DOWN_TIME: '60', FLARESTACK_HEARTBEAT_INTERVAL_MS: '1000' };

let cloud: LocalCloud | undefined;
let host: TestHost | undefined;

afterAll(async () => {
  if (host) await stopTestHost(host);
  await cloud?.stop();
});

async function token(c: LocalCloud): Promise<string> {
  const res = await fetch(`${c.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: c.passwords.admin } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    }),
  });
  await res.arrayBuffer();
  return res.headers.get('X-Subject-Token')!;
}

async function server(c: LocalCloud, t: string, id: string): Promise<Record<string, any>> {
  const res = await fetch(`${c.url}/compute/v2.1/servers/${id}`, { headers: { 'X-Auth-Token': t } });
  return ((await res.json()) as { server: Record<string, any> }).server;
}

describe('restart of the local cloud mid-build', () => {
  it('completes the build after the restart', async () => {
    cloud = await startLocalCloud({ env: ENV, args: ['--hosts', '0'] });
    let t = await token(cloud);
    host = await startTestHost(unique('restart'), { spawnLatencyMs: 3000 }, { url: cloud.url, token: t });
    const spawns = countSpawns(host.driver);
    const images = (await (await fetch(`${cloud.url}/image/v2/images`, { headers: { 'X-Auth-Token': t } })).json()) as { images: { id: string }[] };
    const res = await fetch(`${cloud.url}/compute/v2.1/servers`, {
      method: 'POST',
      headers: { 'X-Auth-Token': t, 'Content-Type': 'application/json' },
      body: JSON.stringify({ server: { name: 'survivor', flavorRef: '1', imageRef: images.images[0]!.id } }),
    });
    expect(res.status).toBe(202);
    const id = ((await res.json()) as { server: { id: string } }).server.id;
    const deadline = Date.now() + 20_000;
    while (spawns.count === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 50));
    expect(spawns.count).toBe(1);
    expect((await server(cloud, t, id)).status).toBe('BUILD');

    const { stateDir, port } = cloud;
    await cloud.stop();
    cloud = await startLocalCloud({ env: ENV, args: ['--hosts', '0'], stateDir, port });
    t = await token(cloud);
    let s = await server(cloud, t, id);
    const until = Date.now() + 30_000;
    while (s.status === 'BUILD' && Date.now() < until) {
      await new Promise((ok) => setTimeout(ok, 200));
      s = await server(cloud, t, id);
    }
    expect(s.status).toBe('ACTIVE');
    expect(s['OS-EXT-SRV-ATTR:host']).toBe(host.name);
    // The redelivered job ran once: the host answered it from its journal.
    expect(spawns.count).toBe(1);
  });
});
