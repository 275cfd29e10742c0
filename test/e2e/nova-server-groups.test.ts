// Server groups through the openstack CLI: create (a policy and rules at 2.64, a list of
// policies before), list (the project's, or all projects' for admins), show, delete; and
// over HTTP Nova's errors.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, demoLogin, openstack, openstackJson, openstackOk } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
const asDemo = { cloud: 'flarestack-demo' };
const v = (version: string) => ({ 'OpenStack-API-Version': `compute ${version}` });
type Group = Record<string, any>;
type Row = { ID: string; Name: string };

let admin: string;
let demo: string;
let demoProject: string;
beforeAll(async () => {
  admin = await adminToken();
  ({ token: demo, projectId: demoProject } = await demoLogin());
});

describe('server groups through the CLI', () => {
  it('creates, lists, shows and deletes a group', async () => {
    const name = `sg-${suffix()}`;
    const created = await openstackJson<Group>(['server', 'group', 'create', '--policy', 'anti-affinity', name], asDemo);
    expect(created).toMatchObject({ name, policy: 'anti-affinity', project_id: demoProject });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);
    const shown = await openstackJson<Group>(['server', 'group', 'show', name], asDemo);
    expect(shown).toMatchObject({ id: created.id, name, policy: 'anti-affinity' });
    expect((await openstackJson<Row[]>(['server', 'group', 'list'], asDemo)).map((r) => r.ID)).toContain(created.id);
    // The admin's own list holds only the admin project's groups; --all-projects all of them.
    expect((await openstackJson<Row[]>(['server', 'group', 'list'])).map((r) => r.ID)).not.toContain(created.id);
    expect((await openstackJson<Row[]>(['server', 'group', 'list', '--all-projects'])).map((r) => r.ID)).toContain(created.id);
    await openstackOk(['server', 'group', 'delete', name], asDemo);
    expect((await openstack(['server', 'group', 'show', created.id], asDemo)).code).not.toBe(0);
  });

  it('takes rules at 2.64 and soft policies from 2.15', async () => {
    const name = `sg-${suffix()}`;
    const created = await openstackJson<Group>(
      ['--os-compute-api-version', '2.64', 'server', 'group', 'create', '--policy', 'anti-affinity', '--rule', 'max_server_per_host=2', name],
      asDemo,
    );
    expect(created.rules).toMatchObject({ max_server_per_host: 2 });
    const http = await api('GET', `/compute/v2.1/os-server-groups/${created.id}`, { token: demo, headers: v('2.64') });
    expect(http.json.server_group).toEqual({
      id: created.id, name, policy: 'anti-affinity', rules: { max_server_per_host: 2 }, members: [], project_id: demoProject,
      user_id: http.json.server_group.user_id,
    });
    const old = await api('GET', `/compute/v2.1/os-server-groups/${created.id}`, { token: demo });
    expect(old.json.server_group).toEqual({ id: created.id, name, policies: ['anti-affinity'], metadata: {}, members: [] });
    const soft = await openstackJson<Group>(['--os-compute-api-version', '2.15', 'server', 'group', 'create', '--policy', 'soft-affinity', `sg-${suffix()}`], asDemo);
    expect(soft.policy ?? soft.policies).toContain('soft-affinity');
    await openstackOk(['server', 'group', 'delete', created.id, soft.id], asDemo);
  });
});

describe('server group errors over HTTP', () => {
  const create = (server_group: unknown, version = '2.64', token = demo) =>
    api('POST', '/compute/v2.1/os-server-groups', { token, body: { server_group }, headers: v(version) });

  it('refuses bad bodies with 400, unknown groups with 404, other projects\' groups with 403', async () => {
    for (const [body, version] of [
      [{ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } }, '2.64'],
      [{ name: 'x', policy: 'sideways' }, '2.64'],
      [{ name: 'x', policies: ['affinity'] }, '2.64'],
      [{ name: 'x', policy: 'affinity' }, '2.63'],
      [{ name: 'x', policies: ['soft-affinity'] }, '2.14'],
      [{ name: 'x', policies: ['affinity', 'anti-affinity'] }, '2.1'],
      [{ policies: ['affinity'] }, '2.1'],
    ] as const) {
      const r = await create(body, version);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
    expect((await create({ name: 'x', policy: 'affinity', rules: { max_server_per_host: 2 } })).json.badRequest.message).toBe(
      'Only anti-affinity policy supports rules.',
    );
    const missing = '00000000-0000-4000-8000-000000000000';
    expect((await api('GET', `/compute/v2.1/os-server-groups/${missing}`, { token: demo })).json).toEqual({
      itemNotFound: { code: 404, message: `Instance group ${missing} could not be found.` },
    });
    expect((await api('DELETE', `/compute/v2.1/os-server-groups/${missing}`, { token: demo })).status).toBe(404);
    const admins = await create({ name: `adm-${suffix()}`, policy: 'affinity' }, '2.64', admin);
    const id = admins.json.server_group.id;
    expect((await api('GET', `/compute/v2.1/os-server-groups/${id}`, { token: demo })).status).toBe(403);
    expect((await api('DELETE', `/compute/v2.1/os-server-groups/${id}`, { token: demo })).status).toBe(403);
    expect((await api('DELETE', `/compute/v2.1/os-server-groups/${id}`, { token: admin })).status).toBe(204);
    expect((await api('GET', '/compute/v2.1/os-server-groups?bogus=1', { token: demo, headers: v('2.75') })).status).toBe(400);
  });
});
