// Domains, through the openstack CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Domain = { id: string; name: string; description: string; enabled: boolean; tags: string[]; options: Record<string, unknown> };
type Row = { ID: string; Name: string; Enabled: boolean };

/** A password login of a user in any domain; returns the status and the token. */
async function login(user: string, domainId: string, password: string, project: string) {
  const r = await api('POST', '/identity/v3/auth/tokens', {
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: domainId }, password } } },
        scope: { project: { name: project, domain: { id: domainId } } },
      },
    },
  });
  return { status: r.status, token: r.headers.get('X-Subject-Token') ?? '' };
}

describe('domains', () => {
  it('creates, shows, lists, disables and deletes a domain through the CLI', async () => {
    const name = `dom-${suffix()}`;
    const created = await openstackJson<Domain>(['domain', 'create', '--description', 'first', name]);
    expect(created).toMatchObject({ name, description: 'first', enabled: true, tags: [], options: {} });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await openstackJson<Domain>(['domain', 'show', name])).id).toBe(created.id);
    expect((await openstackJson<Row[]>(['domain', 'list'])).find((d) => d.ID === created.id)).toMatchObject({ Name: name, Enabled: true });

    const enabledDelete = await openstack(['domain', 'delete', created.id]);
    expect(enabledDelete.code).not.toBe(0);
    expect(enabledDelete.stderr).toMatch(/disable it first.*HTTP 403/);

    await openstackOk(['domain', 'set', '--disable', '--name', `${name}-x`, '--description', 'second', created.id]);
    expect(await openstackJson<Domain>(['domain', 'show', created.id])).toMatchObject({ name: `${name}-x`, description: 'second', enabled: false });
    await openstackOk(['domain', 'delete', created.id]);
    expect((await openstackJson<Row[]>(['domain', 'list'])).map((d) => d.ID)).not.toContain(created.id);

    // The default domain can be neither deleted nor disabled.
    const delDefault = await openstack(['domain', 'delete', 'default']);
    expect(delDefault.stderr).toMatch(/HTTP 403/);
    expect((await openstack(['domain', 'set', '--disable', 'default'])).stderr).toMatch(/HTTP 403/);
    expect((await openstackJson<Domain>(['domain', 'show', 'default'])).enabled).toBe(true);
  });

  it('disabling a domain revokes the tokens of its users; deleting it removes all it holds', async () => {
    const s = suffix();
    const domain = await openstackJson<Domain>(['domain', 'create', `cas-${s}`]);
    const project = await openstackJson<{ id: string }>(['project', 'create', '--domain', domain.id, `cp-${s}`]);
    const user = await openstackJson<{ id: string; domain_id: string }>(['user', 'create', '--domain', domain.id, '--password', 'pw-1', `cu-${s}`]);
    expect(user.domain_id).toBe(domain.id);
    await openstackOk(['role', 'add', '--user', user.id, '--project', project.id, 'member']);
    const token = await adminToken();
    const group = await api('POST', '/identity/v3/groups', { token, body: { group: { name: `cg-${s}`, domain_id: domain.id } } });
    expect(group.status).toBe(201);

    const before = await login(`cu-${s}`, domain.id, 'pw-1', `cp-${s}`);
    expect(before.status).toBe(201);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: before.token })).status).toBe(200);

    await openstackOk(['domain', 'set', '--disable', domain.id]);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: before.token })).status).toBe(401);
    expect((await login(`cu-${s}`, domain.id, 'pw-1', `cp-${s}`)).status).toBe(401);

    await openstackOk(['domain', 'delete', domain.id]);
    expect((await api('GET', `/identity/v3/projects/${project.id}`, { token })).status).toBe(404);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token })).status).toBe(404);
    expect((await api('GET', `/identity/v3/groups/${group.json.group.id}`, { token })).status).toBe(404);
    expect((await api('GET', `/identity/v3/role_assignments?user.id=${user.id}`, { token })).json.role_assignments).toEqual([]);
  });

  it('rejects bad input, duplicates and unknown ids over HTTP, changing nothing, and keeps demo out', async () => {
    const token = await adminToken();
    const name = `bd-${suffix()}`;
    for (const body of [
      { domain: { name, enabled: 'yes' } },
      { domain: { name: 'n'.repeat(256) } },
      { domain: { name, explicit_domain_id: 'has spaces' } },
      { domain: { name, color: 'red' } },
      { domain: { name, tags: ['a/b'] } },
      { domain: {} },
    ]) {
      const r = await api('POST', '/identity/v3/domains', { token, body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    expect((await api('POST', '/identity/v3/domains', { token, raw: 'nope' })).status).toBe(400);
    expect((await api('GET', `/identity/v3/domains?name=${name}`, { token })).json.domains).toEqual([]);

    const explicitId = crypto.randomUUID().replace(/-/g, '');
    const created = await api('POST', '/identity/v3/domains', { token, body: { domain: { name, explicit_domain_id: explicitId, tags: ['t1'] } } });
    expect(created.status).toBe(201);
    expect(created.json.domain).toMatchObject({ id: explicitId, name, enabled: true, tags: ['t1'] });
    const dup = await api('POST', '/identity/v3/domains', { token, body: { domain: { name } } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toBe(`Conflict occurred attempting to store domain - Duplicate entry found with name ${name}.`);
    expect((await api('GET', `/identity/v3/domains?name=${name}&enabled=false`, { token })).json.domains).toEqual([]);
    expect((await api('PATCH', `/identity/v3/domains/${explicitId}`, { token, body: { domain: { enabled: false } } })).status).toBe(200);
    expect((await api('GET', `/identity/v3/domains?name=${name}&enabled=false`, { token })).json.domains.map((d: Domain) => d.id)).toEqual([explicitId]);

    const missing = await api('GET', '/identity/v3/domains/0123456789abcdef', { token });
    expect(missing.status).toBe(404);
    expect(missing.json.error.message).toBe('Could not find domain: 0123456789abcdef.');

    const demo = await openstack(['domain', 'create', `${name}-demo`], { cloud: 'flarestack-demo' });
    expect(demo.code).not.toBe(0);
    expect(demo.stderr).toMatch(/HTTP 403/);
    expect((await openstack(['domain', 'list'], { cloud: 'flarestack-demo' })).stderr).toMatch(/HTTP 403/);
    // demo reads the domain of its project, and no other.
    const demoToken = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
    expect((await api('GET', '/identity/v3/domains/default', { token: demoToken })).json.domain.name).toBe('Default');
    expect((await api('GET', `/identity/v3/domains/${explicitId}`, { token: demoToken })).status).toBe(403);
    expect((await api('GET', `/identity/v3/domains?name=${name}-demo`, { token })).json.domains).toEqual([]);
    expect((await api('DELETE', `/identity/v3/domains/${explicitId}`, { token })).status).toBe(204);
  });
});
