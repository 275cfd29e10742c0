// Users: CRUD, password changes and the revocations they cause, through the openstack
// CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type User = {
  id: string; name: string; domain_id: string; enabled: boolean; default_project_id: string | null;
  description: string | null; email: string | null; password_expires_at: string | null; options: Record<string, unknown>;
};

/** The CLI logged in as a user of the test cloud, scoped to a project. */
function asUser(name: string, password: string, project: string) {
  return {
    cloud: '',
    env: {
      OS_AUTH_URL: inject('cloud').authUrl, OS_IDENTITY_API_VERSION: '3', OS_USERNAME: name, OS_PASSWORD: password,
      OS_USER_DOMAIN_ID: 'default', OS_PROJECT_NAME: project, OS_PROJECT_DOMAIN_ID: 'default',
    },
  };
}

/** A user with a role on a new project of its own, made over HTTP. */
async function userWithRole(token: string, role: string, password = 'pw-1') {
  const s = suffix();
  const project = (await api('POST', '/identity/v3/projects', { token, body: { project: { name: `up-${s}` } } })).json.project;
  const user = (await api('POST', '/identity/v3/users', { token, body: { user: { name: `u-${s}`, password, default_project_id: project.id } } })).json.user as User;
  await openstackOk(['role', 'add', '--user', user.id, '--project', project.id, role]);
  return { user, project: project as { id: string; name: string }, password };
}

describe('users', () => {
  it('creates, shows, lists, updates and deletes a user through the CLI, never showing the password', async () => {
    const s = suffix();
    const project = await openstackJson<{ id: string }>(['project', 'create', `home-${s}`]);
    const name = `user-${s}`;
    const created = await openstackJson<User>([
      'user', 'create', '--password', 'secret-1', '--project', `home-${s}`, '--email', 'u@example.org',
      '--description', 'first', name,
    ]);
    expect(created).toMatchObject({
      name, domain_id: 'default', enabled: true, default_project_id: project.id, email: 'u@example.org',
      description: 'first', password_expires_at: null, options: {},
    });
    expect(Object.keys(created)).not.toContain('password');
    expect((await openstackJson<User>(['user', 'show', name])).id).toBe(created.id);

    const long = await openstackJson<{ ID: string; Name: string; Email: string; Enabled: boolean }[]>(['user', 'list', '--long', '--domain', 'default']);
    expect(long.find((u) => u.ID === created.id)).toMatchObject({ Name: name, Email: 'u@example.org', Enabled: true });

    await openstackOk(['user', 'set', '--email', 'v@example.org', '--description', 'second', '--name', `${name}-x`, created.id]);
    expect(await openstackJson<User>(['user', 'show', created.id])).toMatchObject({ name: `${name}-x`, email: 'v@example.org', description: 'second' });

    const token = await adminToken();
    const raw = await api('GET', `/identity/v3/users/${created.id}`, { token });
    expect(raw.text).not.toMatch(/password"|password_hash|pbkdf2|secret-1/);
    expect(raw.json.user.links.self).toMatch(new RegExp(`/identity/v3/users/${created.id}$`));
    const listed = await api('GET', `/identity/v3/users?name=${name}-x&enabled=true`, { token });
    expect(listed.json.users.map((u: User) => u.id)).toEqual([created.id]);
    expect(listed.text).not.toMatch(/password_hash|pbkdf2/);
    expect((await api('GET', `/identity/v3/users?name=${name}-x&enabled=false`, { token })).json.users).toEqual([]);

    await openstackOk(['user', 'delete', created.id]);
    const gone = await openstack(['user', 'show', created.id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/No user with a name or ID/);
    expect((await openstackJson<{ ID: string }[]>(['user', 'list'])).map((u) => u.ID)).not.toContain(created.id);
  });

  it('rejects bad input with 400, duplicates with 409, unknown ids with 404, and changes nothing', async () => {
    const token = await adminToken();
    const name = `bad-${suffix()}`;
    const bodies: unknown[] = [
      { user: { name, enabled: 'true' } },
      { user: { name, password: 12345 } },
      { user: { name: 'n'.repeat(256) } },
      { user: { name, domain_id: 'no-such-domain' } },
      { user: { name, default_project_id: 'no-such-project' } },
      { user: { name, options: { no_such_option: true } } },
      { user: { email: 'no-name@example.org' } },
      { user: { name }, extra: 1 },
    ];
    for (const body of bodies) {
      const r = await api('POST', '/identity/v3/users', { token, body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    expect((await api('POST', '/identity/v3/users', { token, raw: 'user=x' })).status).toBe(400);
    expect((await api('GET', `/identity/v3/users?name=${name}`, { token })).json.users).toEqual([]);

    const ok = await api('POST', '/identity/v3/users', { token, body: { user: { name, password: 'pw', shoe_size: 44 } } });
    expect(ok.status).toBe(201);
    expect(ok.json.user).toMatchObject({ name, shoe_size: 44, default_project_id: null, email: null });
    const id = ok.json.user.id as string;
    const dup = await api('POST', '/identity/v3/users', { token, body: { user: { name, domain_id: 'default' } } });
    expect(dup.status).toBe(409);
    expect(dup.json.error).toEqual({
      code: 409, title: 'Conflict',
      message: `Conflict occurred attempting to store user - Duplicate entry found with name ${name} at domain ID default.`,
    });
    for (const body of [{ user: { enabled: 0 } }, { user: {} }, { user: { domain_id: 'other' } }, { user: { name: '' } }]) {
      expect((await api('PATCH', `/identity/v3/users/${id}`, { token, body })).status, JSON.stringify(body)).toBe(400);
    }
    expect((await api('GET', `/identity/v3/users/${id}`, { token })).json.user).toMatchObject({ name, enabled: true, shoe_size: 44 });

    const missing = await api('GET', '/identity/v3/users/0123456789abcdef', { token });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe('Could not find user: 0123456789abcdef.');
    expect((await api('DELETE', '/identity/v3/users/0123456789abcdef', { token })).status).toBe(404);
    expect((await api('DELETE', `/identity/v3/users/${id}`, { token })).status).toBe(204);
  });

  it('lets a member read itself only, and a reader or member create nothing', async () => {
    const cloud = inject('cloud');
    const token = await adminToken();
    const demo = await passwordToken('demo', cloud.passwords.demo, 'demo');
    const adminId = (await passwordToken('admin', cloud.passwords.admin, 'admin')).body.token.user.id as string;
    expect((await api('GET', `/identity/v3/users/${demo.body.token.user.id}`, { token: demo.token })).json.user.name).toBe('demo');
    expect((await api('GET', `/identity/v3/users/${adminId}`, { token: demo.token })).status).toBe(403);
    expect((await api('GET', '/identity/v3/users', { token: demo.token })).status).toBe(403);
    const name = `nope-${suffix()}`;
    const cli = await openstack(['user', 'create', '--password', 'x', name], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/HTTP 403/);

    const { user, project, password } = await userWithRole(token, 'reader');
    const reader = await passwordToken(user.name, password, project.name);
    expect(reader.body.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    const attempts: [string, unknown][] = [
      ['/identity/v3/users', { user: { name } }],
      ['/identity/v3/projects', { project: { name } }],
      ['/identity/v3/groups', { group: { name } }],
      ['/identity/v3/domains', { domain: { name } }],
    ];
    for (const [path, body] of attempts) {
      const r = await api('POST', path, { token: reader.token, body });
      expect(r.status, path).toBe(403);
      expect(r.json.error).toMatchObject({ code: 403, title: 'Forbidden' });
    }
    expect((await api('PATCH', `/identity/v3/users/${user.id}`, { token: reader.token, body: { user: { enabled: false } } })).status).toBe(403);
    expect((await api('GET', `/identity/v3/users/${user.id}/projects`, { token: reader.token })).json.projects.map((p: { id: string }) => p.id)).toEqual([project.id]);
    expect((await api('GET', `/identity/v3/users/${adminId}/projects`, { token: reader.token })).status).toBe(403);
    expect((await api('GET', `/identity/v3/users?name=${name}`, { token })).json.users).toEqual([]);
    expect((await api('GET', `/identity/v3/projects?name=${name}`, { token })).json.projects).toEqual([]);
  });

  it('disabling a user rejects its tokens and its logins until it is enabled again', async () => {
    const token = await adminToken();
    const { user, project, password } = await userWithRole(token, 'member');
    const before = await passwordToken(user.name, password, project.name);
    const self = (t: string) => api('GET', `/identity/v3/users/${user.id}`, { token: t });
    expect((await self(before.token)).status).toBe(200);

    await openstackOk(['user', 'set', '--disable', user.id]);
    expect((await openstackJson<User>(['user', 'show', user.id])).enabled).toBe(false);
    const rejected = await self(before.token);
    expect(rejected.status).toBe(401);
    expect(rejected.json.error.code).toBe(401);
    await expect(passwordToken(user.name, password, project.name)).rejects.toThrow(/401/);

    await openstackOk(['user', 'set', '--enable', user.id]);
    expect((await self((await passwordToken(user.name, password, project.name)).token)).status).toBe(200);
    expect((await self(before.token)).status).toBe(401);

    // Deleting the user revokes the tokens issued since.
    const last = await passwordToken(user.name, password, project.name);
    await openstackOk(['user', 'delete', user.id]);
    expect((await api('GET', `/identity/v3/auth/tokens`, { token, headers: { 'X-Subject-Token': last.token } })).status).toBe(404);
  });

  it('a user changes its own password through the CLI, which revokes its old tokens', async () => {
    const token = await adminToken();
    const { user, project, password } = await userWithRole(token, 'member', 'old-pass-1');
    const old = await passwordToken(user.name, password, project.name);
    const url = `/identity/v3/users/${user.id}/password`;

    const wrong = await api('POST', url, { token: old.token, body: { user: { original_password: 'nope', password: 'x' } } });
    expect(wrong.status).toBe(401);
    expect((await api('POST', url, { token: old.token, body: { user: { password: 'x' } } })).status).toBe(400);
    const demo = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const foreign = await api('POST', url, { token: demo.token, body: { user: { original_password: password, password: 'x' } } });
    expect(foreign.status).toBe(403);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: old.token })).status).toBe(200);

    await openstackOk(['user', 'password', 'set', '--password', 'new-pass-2', '--original-password', password], asUser(user.name, password, project.name));
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: old.token })).status).toBe(401);
    await expect(passwordToken(user.name, password, project.name)).rejects.toThrow(/401/);
    const fresh = await passwordToken(user.name, 'new-pass-2', project.name);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: fresh.token })).status).toBe(200);

    // An admin resetting the password through PATCH revokes as well.
    await openstackOk(['user', 'set', '--password', 'reset-3', user.id]);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: fresh.token })).status).toBe(401);
    expect((await passwordToken(user.name, 'reset-3', project.name)).token).toBeTruthy();
    expect((await api('DELETE', `/identity/v3/users/${user.id}`, { token })).status).toBe(204);
  });
});
