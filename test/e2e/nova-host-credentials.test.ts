// Host credentials: created by an admin (API and `npm run host:add`), refused when wrong
// or revoked, and a refused connector registers nothing.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, inject, it } from 'vitest';
import { ROOT } from '../local-cloud';
import { adminToken, api, openstackJson, passwordToken } from '../cli';
import { startTestHost, unique } from '../compute';

const run = promisify(execFile);

/** Runs the connector CLI as a host would, until it exits. */
async function connectorCli(args: string[], env: Record<string, string> = {}) {
  try {
    const r = await run('npx', ['tsx', 'connector/main.ts', '--url', inject('cloud').url, ...args], { cwd: ROOT, env: { ...process.env, ...env }, timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

async function serviceHosts(): Promise<string[]> {
  return (await openstackJson<{ Host: string }[]>(['compute', 'service', 'list'])).map((s) => s.Host);
}

describe('host credentials', () => {
  it('are created by admins only, and their secret is never shown again', async () => {
    const admin = await adminToken();
    const demo = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
    const host = unique('cred');
    const denied = await api('POST', '/compute/v2.1/os-host-credentials', { token: demo, body: { host_credential: { host } } });
    expect(denied.status).toBe(403);
    const bad = await api('POST', '/compute/v2.1/os-host-credentials', { token: admin, body: { host_credential: { host: 'no spaces allowed' } } });
    expect(bad.status).toBe(400);
    const created = await api('POST', '/compute/v2.1/os-host-credentials', { token: admin, body: { host_credential: { host } } });
    expect(created.status).toBe(201);
    const { id, credential } = created.json.host_credential;
    expect(credential).toMatch(new RegExp(`^${id}\\.[A-Za-z0-9_-]{43}$`));
    const shown = await api('GET', `/compute/v2.1/os-host-credentials/${id}`, { token: admin });
    expect(shown.json.host_credential.host).toBe(host);
    expect(shown.text).not.toContain(credential.split('.')[1]);
    expect((await api('DELETE', `/compute/v2.1/os-host-credentials/${id}`, { token: admin })).status).toBe(204);
    expect((await api('DELETE', `/compute/v2.1/os-host-credentials/${id}`, { token: admin })).status).toBe(404);
  });

  it('npm run host:add makes a credential the connector CLI can use', async () => {
    const host = unique('script');
    const { stdout } = await run('npm', ['run', '-s', 'host:add', '--', host, '--clouds-yaml', inject('cloud').cloudsYaml], { cwd: ROOT, timeout: 60_000 });
    const credential = /^([0-9a-f-]{36}\.[A-Za-z0-9_-]{43})$/m.exec(stdout)?.[1];
    expect(credential).toBeDefined();
    const list = await run('npm', ['run', '-s', 'host:list', '--', '--clouds-yaml', inject('cloud').cloudsYaml], { cwd: ROOT, timeout: 60_000 });
    expect(list.stdout).toContain(host);
  });

  it('refuses a wrong credential: the connector exits 3 and no service appears', async () => {
    const wrong = `${crypto.randomUUID()}.${'A'.repeat(43)}`;
    const r = await connectorCli(['--credential', wrong, '--hostname', 'intruder']);
    expect(r.code).toBe(3);
    expect(r.out).toMatch(/refused|not valid/i);
    const garbled = await connectorCli([], { FLARESTACK_HOST_CREDENTIAL: 'not-a-credential' });
    expect(garbled.code).not.toBe(0);
    expect(await serviceHosts()).not.toContain('intruder');
  });

  it('disconnects a host whose credential is revoked, and refuses it after', async () => {
    const admin = await adminToken();
    const host = await startTestHost(unique('revoked'));
    expect(await serviceHosts()).toContain(host.name);
    expect((await api('DELETE', `/compute/v2.1/os-host-credentials/${host.credentialId}`, { token: admin })).status).toBe(204);
    const end = await host.connector.done;
    expect(end.reason).toBe('refused');
    const again = await connectorCli(['--credential', host.credential]);
    expect(again.code).toBe(3);
  });
});
