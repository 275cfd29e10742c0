// Application credentials: create through the CLI, authenticate with one, delete it.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Json = Record<string, any>;

/** A fresh user with the member role on a fresh project, and CLI options that log in as it. */
async function memberOnProject() {
  const name = `ac-${suffix()}`;
  const password = `pw-${suffix()}`;
  const project = `acp-${suffix()}`;
  const user = await openstackJson<{ id: string }>(['user', 'create', '--domain', 'default', '--password', password, name]);
  const proj = await openstackJson<{ id: string }>(['project', 'create', '--domain', 'default', project]);
  await openstackOk(['role', 'add', '--user', user.id, '--project', proj.id, 'member']);
  const login = [
    '--os-auth-url', inject('cloud').authUrl, '--os-identity-api-version', '3', '--os-username', name, '--os-password', password,
    '--os-user-domain-id', 'default', '--os-project-name', project, '--os-project-domain-id', 'default',
  ];
  return { id: user.id, name, password, project, projectId: proj.id, login };
}

const appCredLogin = (id: string, secret: string) => [
  '--os-auth-type', 'v3applicationcredential', '--os-auth-url', inject('cloud').authUrl, '--os-identity-api-version', '3',
  '--os-application-credential-id', id, '--os-application-credential-secret', secret,
];

const appCredToken = (id: string, secret: string) =>
  api('POST', '/identity/v3/auth/tokens', {
    body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } } } },
  });

describe('application credentials', () => {
  it('creates one through the CLI, authenticates with it, and deleting it rejects its token', async () => {
    const u = await memberOnProject();
    const name = `cred-${suffix()}`;
    const created = await openstackJson<Json>(
      ['application', 'credential', 'create', '--role', 'member', '--expiration', '2099-01-01T00:00:00', '--description', 'ci', name, ...u.login],
      { cloud: '' },
    );
    expect(created).toMatchObject({ name, project_id: u.projectId, roles: 'member', unrestricted: false, description: 'ci' });
    expect(created.expires_at).toMatch(/^2099-01-01T00:00:00/);
    expect(String(created.secret).length).toBeGreaterThanOrEqual(64);

    const issued = await openstackJson<{ id: string; project_id: string; user_id: string }>(['token', 'issue', ...appCredLogin(created.id, created.secret)], { cloud: '' });
    expect(issued).toMatchObject({ project_id: u.projectId, user_id: u.id });
    const shown = await openstackJson<{ id: string }>(['project', 'show', u.projectId, ...appCredLogin(created.id, created.secret)], { cloud: '' });
    expect(shown.id).toBe(u.projectId);

    const admin = await adminToken();
    const check = await api('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': issued.id } });
    expect(check.json.token.methods).toEqual(['application_credential']);
    expect(check.json.token.application_credential).toMatchObject({ id: created.id, name, restricted: true });
    expect(check.json.token.roles.map((r: Json) => r.name).sort()).toEqual(['member', 'reader']);

    // The secret is shown once: never in list or show.
    const rows = await openstackJson<Json[]>(['application', 'credential', 'list', ...u.login], { cloud: '' });
    expect(rows.map((r) => r.Name)).toEqual([name]);
    const { token } = await passwordToken(u.name, u.password, u.project);
    const one = await api('GET', `/identity/v3/users/${u.id}/application_credentials/${created.id}`, { token });
    expect(one.status).toBe(200);
    expect(one.json.application_credential).not.toHaveProperty('secret');
    expect(one.json.application_credential.roles).toEqual([expect.objectContaining({ name: 'member', domain_id: null })]);

    await openstackOk(['application', 'credential', 'delete', name, ...u.login], { cloud: '' });
    expect((await api('GET', `/identity/v3/projects/${u.projectId}`, { token: issued.id })).status).toBe(401);
    expect((await appCredToken(created.id, created.secret)).status).toBe(401);
    expect((await api('GET', `/identity/v3/users/${u.id}/application_credentials/${created.id}`, { token })).status).toBe(404);
  });

  it('delegates only the roles named, and a restricted credential cannot manage credentials', async () => {
    const u = await memberOnProject();
    const { token } = await passwordToken(u.name, u.password, u.project);
    const path = `/identity/v3/users/${u.id}/application_credentials`;
    const res = await api('POST', path, { token, body: { application_credential: { name: 'ro', roles: [{ name: 'reader' }] } } });
    expect(res.status).toBe(201);
    const cred = res.json.application_credential;
    expect(cred.roles.map((r: Json) => r.name)).toEqual(['reader']);

    const issued = await appCredToken(cred.id, cred.secret);
    expect(issued.status).toBe(201);
    expect(issued.json.token.roles.map((r: Json) => r.name)).toEqual(['reader']);
    const acToken = issued.headers.get('X-Subject-Token')!;

    const again = await api('POST', path, { token: acToken, body: { application_credential: { name: 'more' } } });
    expect(again.status).toBe(403);
    expect((await api('DELETE', `${path}/${cred.id}`, { token: acToken })).status).toBe(403);
    expect((await api('GET', path, { token })).json.application_credentials.map((c: Json) => c.name)).toEqual(['ro']);

    // A second secret given by the client works too; duplicate names conflict.
    const own = await api('POST', path, { token, body: { application_credential: { name: 'mine', secret: 'my-own-secret', unrestricted: true } } });
    expect(own.json.application_credential.secret).toBe('my-own-secret');
    expect((await appCredToken(own.json.application_credential.id, 'my-own-secret')).status).toBe(201);
    expect((await api('POST', path, { token, body: { application_credential: { name: 'mine' } } })).status).toBe(409);
  });

  it('rejects bad requests and changes nothing', async () => {
    const u = await memberOnProject();
    const { token } = await passwordToken(u.name, u.password, u.project);
    const path = `/identity/v3/users/${u.id}/application_credentials`;
    const bad: [Json, number][] = [
      [{ name: 'past', expires_at: '2001-01-01T00:00:00' }, 400],
      [{ name: 'garbage-date', expires_at: 'tomorrow' }, 400],
      [{ name: 'admin', roles: [{ name: 'admin' }] }, 400],
      [{ name: 'rules', access_rules: [{ path: '/v2.1/servers', method: 'GET', service: 'compute' }] }, 400],
      [{ name: 'extra', colour: 'blue' }, 400],
      [{ name: '' }, 400],
      [{ name: 'norole', roles: [{ name: 'no-such-role' }] }, 404],
    ];
    for (const [body, status] of bad) {
      const r = await api('POST', path, { token, body: { application_credential: body } });
      expect(r.status, JSON.stringify(body)).toBe(status);
    }
    // Not for another user, even as admin; not with an unscoped token.
    const admin = await adminToken();
    expect((await api('POST', path, { token: admin, body: { application_credential: { name: 'theirs' } } })).status).toBe(403);
    const unscoped = (await passwordToken(u.name, u.password)).token;
    expect((await api('POST', path, { token: unscoped, body: { application_credential: { name: 'unscoped' } } })).status).toBe(400);
    expect((await api('GET', path, { token })).json.application_credentials).toEqual([]);
    const demo = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
    expect((await api('GET', path, { token: demo })).status).toBe(403);
    const cli = await openstack(['application', 'credential', 'create', '--expiration', '2001-01-01T00:00:00', 'old', ...u.login], { cloud: '' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/400|past/i);
  });
});
