import { describe, expect, inject, it } from 'vitest';
import { api, openstack, openstackJson, passwordToken } from '../cli';

describe('token issue through the openstack CLI', () => {
  it('issues a project-scoped token for admin', async () => {
    const t = await openstackJson<{ id: string; project_id: string; user_id: string }>(['token', 'issue']);
    expect(t.id.length).toBeGreaterThan(100);
    const check = await api('GET', '/identity/v3/auth/tokens', { token: t.id, headers: { 'X-Subject-Token': t.id } });
    expect(check.status).toBe(200);
    expect(check.json.token.project.id).toBe(t.project_id);
    expect(check.json.token.user.name).toBe('admin');
    expect(check.json.token.roles.map((r: { name: string }) => r.name).sort()).toEqual(['admin', 'member', 'reader']);
  });

  it('rejects a wrong password with 401', async () => {
    const r = await openstack(['--os-password', 'wrong', 'token', 'issue']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/401|authentication/i);
    const res = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: 'wrong' } } } } },
    });
    expect(res.status).toBe(401);
    expect(res.json.error).toMatchObject({ code: 401, title: 'Unauthorized' });
    expect(res.headers.get('WWW-Authenticate')).toContain('Keystone uri=');
  });

  it('lists the catalog with every service that runs, and none that does not', async () => {
    const rows = await openstackJson<{ Name: string; Type: string }[]>(['catalog', 'list']);
    // Other suites add services meanwhile: the bootstrap's must all be there.
    const types = rows.map((r) => r.Type);
    expect(types).toEqual(expect.arrayContaining(['compute', 'identity', 'image', 'object-store']));
    expect(types).not.toContain('network');
    expect(types).not.toContain('volumev3');
  });

  it('gives demo a token scoped to demo with the member role', async () => {
    const { body } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    expect(body.token.project.name).toBe('demo');
    expect(body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual(['member', 'reader']);
  });
});
