// The local cloud as a whole: restarts keep state and tokens, passwords from the
// environment, token expiry, and two clouds side by side.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startLocalCloud, type LocalCloud } from '../local-cloud';

const running: LocalCloud[] = [];
afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
  for (const c of running) rmSync(c.stateDir, { recursive: true, force: true });
});

async function start(opts: Parameters<typeof startLocalCloud>[0] = {}) {
  const cloud = await startLocalCloud(opts);
  running.push(cloud);
  return cloud;
}

async function token(cloud: LocalCloud, user: string, password: string) {
  const res = await fetch(`${cloud.authUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: user === 'admin' ? 'admin' : 'demo', domain: { id: 'default' } } },
      },
    }),
  });
  return { status: res.status, token: res.headers.get('X-Subject-Token') ?? '' };
}

const get = (cloud: LocalCloud, path: string, tok: string) =>
  fetch(`${cloud.url}${path}`, { headers: { 'X-Auth-Token': tok, 'X-Subject-Token': tok } });

describe('the local cloud', () => {
  it('keeps projects and issued tokens across a restart', async () => {
    const stateDir = mkdtempSync(join(tmpdir(), 'flarestack-restart-'));
    const first = await start({ stateDir, env: { FLARESTACK_ADMIN_PASSWORD: 'restart-admin-pw' } });
    const { token: tok } = await token(first, 'admin', 'restart-admin-pw');
    const created = await fetch(`${first.url}/identity/v3/projects`, {
      method: 'POST',
      headers: { 'X-Auth-Token': tok, 'Content-Type': 'application/json' },
      body: JSON.stringify({ project: { name: 'survives-restart', domain_id: 'default' } }),
    });
    expect(created.status).toBe(201);
    const projectId = ((await created.json()) as { project: { id: string } }).project.id;
    await first.stop();

    // Same state folder, another port: the catalog follows the new address.
    const second = await start({ stateDir });
    expect(second.passwords.admin).toBe('restart-admin-pw');
    const validated = await get(second, '/identity/v3/auth/tokens', tok);
    expect(validated.status).toBe(200);
    const shown = await get(second, `/identity/v3/projects/${projectId}`, tok);
    expect(shown.status).toBe(200);
    expect(((await shown.json()) as { project: { name: string } }).project.name).toBe('survives-restart');
    const { token: fresh } = await token(second, 'admin', 'restart-admin-pw');
    const body = (await (await get(second, '/identity/v3/auth/tokens', fresh)).json()) as {
      token: { catalog: { type: string; endpoints: { url: string }[] }[] };
    };
    const identity = body.token.catalog.find((s) => s.type === 'identity')!;
    expect(identity.endpoints[0]!.url).toBe(`${second.url}/identity`);
  });

  it('rejects a token once it has expired, and runs beside another cloud', async () => {
    const short = await start({ env: { FLARESTACK_TOKEN_EXPIRATION: '5', FLARESTACK_DEMO_PASSWORD: 'short-demo-pw' } });
    const other = await start();
    expect(other.port).not.toBe(short.port);
    expect(readFileSync(other.cloudsYaml, 'utf8')).toContain(`${other.url}/identity/v3`);

    const { status, token: tok } = await token(short, 'demo', 'short-demo-pw');
    expect(status).toBe(201);
    expect((await get(short, '/identity/v3/auth/tokens', tok)).status).toBe(200);
    // A token of one cloud means nothing to the other: each has its own keys.
    expect((await get(other, '/identity/v3/auth/tokens', tok)).status).toBe(401);
    await new Promise((r) => setTimeout(r, 5500));
    const expired = await get(short, '/identity/v3/auth/tokens', tok);
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { code: number } }).error.code).toBe(401);
  });
});
