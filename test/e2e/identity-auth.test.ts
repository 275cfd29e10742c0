// POST/GET/HEAD/DELETE /v3/auth/tokens and the /v3/auth listings, over HTTP and the CLI.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, passwordToken } from '../cli';

const password = (user: string, pw: string) => ({ methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password: pw } } });

describe('Keystone version discovery', () => {
  it('lists v3 at /identity with 300 and describes it at /identity/v3', async () => {
    const root = await api('GET', '/identity');
    expect(root.status).toBe(300);
    expect(root.json.versions.values[0]).toMatchObject({ id: 'v3.14', status: 'stable' });
    const v3 = await api('GET', '/identity/v3');
    expect(v3.status).toBe(200);
    expect(v3.json.version.links[0].href).toBe(`${inject('cloud').url}/identity/v3/`);
  });
});

describe('token scopes', () => {
  const admin = () => inject('cloud').passwords.admin;

  it('scopes to a project by id, with the catalog and audit ids', async () => {
    const { body } = await passwordToken('admin', admin(), 'admin');
    const projectId = body.token.project.id;
    const res = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: password('admin', admin()), scope: { project: { id: projectId } } } },
    });
    expect(res.status).toBe(201);
    expect(res.json.token.project).toEqual({ id: projectId, name: 'admin', domain: { id: 'default', name: 'Default' } });
    expect(res.json.token.methods).toEqual(['password']);
    expect(res.json.token.audit_ids).toHaveLength(1);
    expect(Date.parse(res.json.token.expires_at) - Date.parse(res.json.token.issued_at)).toBe(3600_000);
    const objectStore = res.json.token.catalog.find((s: { type: string }) => s.type === 'object-store');
    expect(objectStore.endpoints[0].url).toBe(`${inject('cloud').url}/object-storage/v1/AUTH_${projectId}`);
  });

  it('leaves the catalog out with ?nocatalog', async () => {
    const res = await api('POST', '/identity/v3/auth/tokens?nocatalog', {
      body: { auth: { identity: password('admin', admin()), scope: { project: { name: 'admin', domain: { name: 'Default' } } } } },
    });
    expect(res.status).toBe(201);
    expect(res.json.token.catalog).toBeUndefined();
    expect(res.json.token.roles.length).toBe(3);
  });

  it('scopes to the system for admin, and refuses it to demo', async () => {
    const sys = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: password('admin', admin()), scope: { system: { all: true } } } },
    });
    expect(sys.status).toBe(201);
    expect(sys.json.token.system).toEqual({ all: true });
    const demo = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: password('demo', inject('cloud').passwords.demo), scope: { system: { all: true } } } },
    });
    expect(demo.status).toBe(401);
  });

  it('refuses demo a token on the admin project', async () => {
    const res = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: password('demo', inject('cloud').passwords.demo), scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    expect(res.status).toBe(401);
    expect(res.json.error.code).toBe(401);
  });

  it('issues an unscoped token without roles or catalog when asked', async () => {
    const res = await api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: password('admin', admin()), scope: 'unscoped' } } });
    expect(res.status).toBe(201);
    expect(res.json.token.project).toBeUndefined();
    expect(res.json.token.roles).toBeUndefined();
    expect(res.json.token.catalog).toBeUndefined();
  });

  it('rescopes a token with method token, keeping its expiry and audit chain', async () => {
    const unscoped = await api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: password('admin', admin()), scope: 'unscoped' } } });
    const parent = unscoped.headers.get('X-Subject-Token')!;
    const res = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: parent } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    expect(res.status).toBe(201);
    expect(res.json.token.methods).toEqual(['token', 'password']);
    expect(res.json.token.expires_at).toBe(unscoped.json.token.expires_at);
    expect(res.json.token.audit_ids[1]).toBe(unscoped.json.token.audit_ids[0]);
    expect(res.json.token.project.name).toBe('admin');
  });
});

describe('token validation and revocation', () => {
  it('validates, checks and revokes; a revoked token is rejected everywhere', async () => {
    const admin = await adminToken();
    const { token } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const head = await api('HEAD', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } });
    expect(head.status).toBe(200);
    const get = await api('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } });
    expect(get.json.token.user.name).toBe('demo');
    const del = await api('DELETE', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } });
    expect(del.status).toBe(204);
    const after = await api('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } });
    expect(after.status).toBe(404);
    const use = await api('GET', '/identity/v3/auth/projects', { token });
    expect(use.status).toBe(401);
  });

  it('revokes through `openstack token revoke`', async () => {
    const { token } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    expect((await api('GET', '/identity/v3/auth/catalog', { token })).status).toBe(200);
    const r = await openstack(['token', 'revoke', token]);
    expect(r.code).toBe(0);
    expect((await api('GET', '/identity/v3/auth/catalog', { token })).status).toBe(401);
  });

  it('lets demo validate its own token but not another user’s', async () => {
    const demo = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const own = await api('GET', '/identity/v3/auth/tokens', { token: demo.token, headers: { 'X-Subject-Token': demo.token } });
    expect(own.status).toBe(200);
    const other = await api('GET', '/identity/v3/auth/tokens', { token: demo.token, headers: { 'X-Subject-Token': await adminToken() } });
    expect(other.status).toBe(403);
  });

  it('rejects a tampered token and a token that is not one', async () => {
    const token = await adminToken();
    const i = Math.floor(token.length / 2);
    const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
    for (const bad of [tampered, 'not-a-token', token.slice(0, 40)]) {
      const res = await api('GET', '/identity/v3/auth/projects', { token: bad });
      expect(res.status).toBe(401);
      expect(res.json.error.title).toBe('Unauthorized');
      expect(res.headers.get('WWW-Authenticate')).toBe(`Keystone uri="${inject('cloud').url}/identity"`);
    }
    expect((await api('GET', '/identity/v3/auth/projects')).status).toBe(401);
  });
});

describe('what a token may be rescoped to', () => {
  it('lists demo’s projects, domains and system access', async () => {
    const { token } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const projects = await api('GET', '/identity/v3/auth/projects', { token });
    expect(projects.json.projects.map((p: { name: string }) => p.name)).toEqual(['demo']);
    const domains = await api('GET', '/identity/v3/auth/domains', { token });
    expect(domains.json.domains).toEqual([]);
    const system = await api('GET', '/identity/v3/auth/system', { token });
    expect(system.json.system).toEqual([]);
    const adminSystem = await api('GET', '/identity/v3/auth/system', { token: await adminToken() });
    expect(adminSystem.json.system).toEqual([{ all: true }]);
  });

  it('lists the admin’s projects through the CLI', async () => {
    const rows = await openstackJson<{ Name: string }[]>(['project', 'list', '--my-projects']);
    expect(rows.map((r) => r.Name)).toContain('admin');
  });
});

describe('bad auth requests', () => {
  const cases: [string, string][] = [
    ['malformed JSON', '{"auth": {'],
    ['empty body', ''],
    ['wrong type', JSON.stringify({ auth: { identity: { methods: 'password' } } })],
    ['unknown method', JSON.stringify({ auth: { identity: { methods: ['kerberos'] } } })],
    ['unknown field', JSON.stringify({ auth: { identity: { methods: ['password'] }, extra: 1 } })],
    ['missing password block', JSON.stringify({ auth: { identity: { methods: ['password'] } } })],
  ];
  for (const [what, raw] of cases) {
    it(`answers 400 for ${what}`, async () => {
      const res = await api('POST', '/identity/v3/auth/tokens', { raw, headers: { 'Content-Type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
      expect(typeof res.json.error.message).toBe('string');
    });
  }

  it('answers 401, not 404, for an unknown user', async () => {
    const res = await api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: password('nobody-at-all', 'x') } } });
    expect(res.status).toBe(401);
  });
});

describe('application credential login', () => {
  it('finds the credential by id, or by name and user', async () => {
    const { token, body } = await passwordToken('admin', inject('cloud').passwords.admin, 'admin');
    const userId = body.token.user.id;
    const name = `auth-by-name-${Math.random().toString(36).slice(2, 8)}`;
    const created = await api('POST', `/identity/v3/users/${userId}/application_credentials`, {
      token,
      body: { application_credential: { name, roles: [{ name: 'reader' }] } },
    });
    expect(created.status).toBe(201);
    const { id, secret } = created.json.application_credential;
    const login = (identity: Record<string, unknown>) =>
      api('POST', '/identity/v3/auth/tokens', { body: { auth: { identity: { methods: ['application_credential'], application_credential: identity } } } });

    const byId = await login({ id, secret });
    expect(byId.status).toBe(201);
    expect(byId.json.token.application_credential).toEqual({ id, name, restricted: true });
    expect(byId.json.token.roles.map((r: { name: string }) => r.name)).toEqual(['reader']);
    expect(byId.json.token.project.name).toBe('admin');

    const byName = await login({ name, user: { name: 'admin', domain: { id: 'default' } }, secret });
    expect(byName.status).toBe(201);
    expect(byName.json.token.application_credential.id).toBe(id);

    expect((await login({ id, secret: 'wrong' })).status).toBe(401);
    expect((await login({ name, user: { id: 'no-such-user' }, secret })).status).toBe(401);
    // A credential's scope is fixed: asking for another is refused.
    const scoped = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['application_credential'], application_credential: { id, secret } }, scope: { project: { name: 'demo', domain: { id: 'default' } } } } },
    });
    expect(scoped.status).toBe(401);
    expect((await api('DELETE', `/identity/v3/users/${userId}/application_credentials/${id}`, { token })).status).toBe(204);
    expect((await login({ id, secret })).status).toBe(401);
  });
});
