// Services, endpoints and regions, through the openstack CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Row = Record<string, unknown>;

describe('service catalog', () => {
  it('creates a service and an endpoint that then appear in the catalog; deleting the service drops both', async () => {
    const type = `thing-${suffix()}`;
    const svc = await openstackJson<Row>(['service', 'create', '--name', `svc-${type}`, '--description', 'a test service', type]);
    expect(svc).toMatchObject({ type, name: `svc-${type}`, description: 'a test service', enabled: true });
    const ep = await openstackJson<Row>(['endpoint', 'create', '--region', 'RegionOne', type, 'public', 'http://thing.example:9999/v1/$(project_id)s']);
    expect(ep).toMatchObject({ service_id: svc.id, interface: 'public', region: 'RegionOne', url: 'http://thing.example:9999/v1/$(project_id)s', enabled: true });

    const token = await adminToken();
    const byService = await api('GET', `/identity/v3/endpoints?service_id=${svc.id}&interface=public`, { token });
    expect(byService.json.endpoints).toEqual([expect.objectContaining({ id: ep.id, region_id: 'RegionOne' })]);
    expect((await api('GET', `/identity/v3/endpoints?service_id=${svc.id}&interface=admin`, { token })).json.endpoints).toEqual([]);

    // A new token's catalog carries the endpoint, with the project id substituted.
    const issued = await api('POST', '/identity/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['token'], token: { id: token } }, scope: { project: { name: 'admin', domain: { id: 'default' } } } } },
    });
    const entry = issued.json.token.catalog.find((s: Row) => s.type === type);
    expect(entry.endpoints[0].url).toBe(`http://thing.example:9999/v1/${issued.json.token.project.id}`);

    await openstackOk(['service', 'set', '--disable', svc.id as string]);
    expect((await api('GET', `/identity/v3/services/${svc.id}`, { token })).json.service.enabled).toBe(false);

    await openstackOk(['service', 'delete', svc.id as string]);
    expect((await api('GET', `/identity/v3/services/${svc.id}`, { token })).status).toBe(404);
    expect((await api('GET', `/identity/v3/endpoints/${ep.id}`, { token })).status).toBe(404);
  });

  it('manages regions, with client-chosen ids and parents', async () => {
    const parent = `Region-${suffix()}`;
    const created = await openstackJson<Row>(['region', 'create', '--description', 'the parent', parent]);
    expect(created).toMatchObject({ region: parent, description: 'the parent' });
    const token = await adminToken();
    const child = `${parent}-a`;
    const put = await api('PUT', `/identity/v3/regions/${child}`, { token, body: { region: { parent_region_id: parent } } });
    expect(put.status).toBe(201);
    expect(put.json.region).toMatchObject({ id: child, parent_region_id: parent });
    expect((await api('PUT', `/identity/v3/regions/${child}`, { token, body: { region: {} } })).status).toBe(409);
    const kids = await api('GET', `/identity/v3/regions?parent_region_id=${parent}`, { token });
    expect(kids.json.regions.map((r: Row) => r.id)).toEqual([child]);
    // A parent may not become its child's child.
    const cycle = await api('PATCH', `/identity/v3/regions/${parent}`, { token, body: { region: { parent_region_id: child } } });
    expect(cycle.status).toBe(400);
    expect((await api('POST', '/identity/v3/regions', { token, body: { region: { parent_region_id: 'nowhere' } } })).status).toBe(404);

    await openstackOk(['region', 'delete', parent]);
    expect((await api('GET', `/identity/v3/regions/${child}`, { token })).status).toBe(404);
  });

  it('rejects bad input with 400 and changes nothing', async () => {
    const token = await adminToken();
    const before = (await api('GET', '/identity/v3/endpoints', { token })).json.endpoints.length;
    const svc = (await api('GET', '/identity/v3/services?type=identity', { token })).json.services[0];
    const bad = [
      { service_id: 'no-such-service', interface: 'public', url: 'http://x.example' },
      { service_id: svc.id, interface: 'sideways', url: 'http://x.example' },
      { service_id: svc.id, interface: 'public', url: 'not a url' },
      { service_id: svc.id, interface: 'public', url: 'http://x.example', region_id: 'no-such-region' },
      { service_id: svc.id, interface: 'public' },
    ];
    for (const endpoint of bad) {
      const r = await api('POST', '/identity/v3/endpoints', { token, body: { endpoint } });
      expect(r.status, JSON.stringify(endpoint)).toBe(400);
      expect(r.json.error.code).toBe(400);
    }
    expect((await api('POST', '/identity/v3/services', { token, body: { service: { name: 'no type' } } })).status).toBe(400);
    expect((await api('POST', '/identity/v3/services', { token, body: { service: { type: 't', enabled: 'yes' } } })).status).toBe(400);
    expect((await api('GET', '/identity/v3/endpoints', { token })).json.endpoints.length).toBe(before);
    const cli = await openstack(['endpoint', 'create', 'no-such-service', 'public', 'http://x.example']);
    expect(cli.code).not.toBe(0);
  });

  it('forbids demo to create services and endpoints', async () => {
    const { token } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    expect((await api('POST', '/identity/v3/services', { token, body: { service: { type: `t-${suffix()}` } } })).status).toBe(403);
    const svc = (await api('GET', '/identity/v3/services?type=identity', { token: await adminToken() })).json.services[0];
    const ep = await api('POST', '/identity/v3/endpoints', { token, body: { endpoint: { service_id: svc.id, interface: 'admin', url: 'http://evil.example' } } });
    expect(ep.status).toBe(403);
    const cli = await openstack(['service', 'create', '--name', 'nope', `nope-${suffix()}`], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/403|not authorized/i);
    // Regions are readable by anyone with a token.
    expect((await api('GET', '/identity/v3/regions/RegionOne', { token })).status).toBe(200);
  });
});
