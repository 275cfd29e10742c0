// Role grants and GET /v3/role_assignments, through the openstack CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Assignment = { Role: string; User: string; Group: string; Project: string; Domain: string; System: string; Inherited: boolean };
type Json = Record<string, any>;

async function newUser(prefix: string) {
  const name = `${prefix}-${suffix()}`;
  const password = `pw-${suffix()}`;
  const user = await openstackJson<{ id: string }>(['user', 'create', '--domain', 'default', '--password', password, name]);
  return { id: user.id, name, password };
}
const newProject = async (prefix: string, parent?: string) => {
  const name = `${prefix}-${suffix()}`;
  const p = await openstackJson<{ id: string }>(['project', 'create', '--domain', 'default', ...(parent ? ['--parent', parent] : []), name]);
  return { id: p.id, name };
};
const tokenIsValid = async (admin: string, token: string) =>
  (await api('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } })).status === 200;
const roleNames = (body: Json) => body.token.roles.map((r: { name: string }) => r.name).sort();

describe('role grants and assignments', () => {
  it('adds a role on a project, lists it (direct, effective, with names), and removing it revokes the token', async () => {
    const user = await newUser('alice');
    const project = await newProject('proj');
    await openstackOk(['role', 'add', '--user', user.name, '--project', project.name, 'member']);

    const direct = await openstackJson<Assignment[]>(['role', 'assignment', 'list', '--user', user.id, '--project', project.id]);
    expect(direct).toHaveLength(1);
    expect(direct[0]).toMatchObject({ User: user.id, Project: project.id, Inherited: false });

    const effective = await openstackJson<Assignment[]>(['role', 'assignment', 'list', '--user', user.name, '--project', project.name, '--names', '--effective']);
    expect(effective.map((a) => a.Role).sort()).toEqual(['member', 'reader']);
    for (const a of effective) expect(a).toMatchObject({ User: `${user.name}@Default`, Project: `${project.name}@Default` });

    const { token, body } = await passwordToken(user.name, user.password, project.name);
    expect(roleNames(body)).toEqual(['member', 'reader']);
    const admin = await adminToken();
    const http = await api('GET', `/identity/v3/role_assignments?user.id=${user.id}&effective&include_names`, { token: admin });
    const implied = http.json.role_assignments.find((a: Json) => a.role.name === 'reader');
    expect(implied.links.assignment).toMatch(new RegExp(`/v3/projects/${project.id}/users/${user.id}/roles/[0-9a-f]{32}$`));
    expect(implied.links.prior_role).toContain('/implies/');
    expect(implied.user.domain).toEqual({ id: 'default', name: 'Default' });

    await openstackOk(['role', 'remove', '--user', user.name, '--project', project.name, 'member']);
    expect(await tokenIsValid(admin, token)).toBe(false);
    expect((await api('GET', `/identity/v3/role_assignments?user.id=${user.id}`, { token: admin })).json.role_assignments).toEqual([]);
    const memberId = http.json.role_assignments.find((a: Json) => a.role.name === 'member').role.id;
    const again = await api('DELETE', `/identity/v3/projects/${project.id}/users/${user.id}/roles/${memberId}`, { token: admin });
    expect(again.status).toBe(404);
  });

  it('expands an inherited domain grant to a group onto its members and projects', async () => {
    const user = await newUser('bob');
    const group = `readers-${suffix()}`;
    await openstackOk(['group', 'create', '--domain', 'default', group]);
    await openstackOk(['group', 'add', 'user', group, user.name]);
    await openstackOk(['role', 'add', '--group', group, '--domain', 'default', '--inherited', 'reader']);
    const project = await newProject('inh');

    const stored = await openstackJson<Assignment[]>(['role', 'assignment', 'list', '--group', group, '--names']);
    expect(stored).toEqual([expect.objectContaining({ Role: 'reader', Group: `${group}@Default`, Domain: 'Default', Inherited: true })]);

    const admin = await adminToken();
    const eff = await api('GET', `/identity/v3/role_assignments?user.id=${user.id}&scope.project.id=${project.id}&effective`, { token: admin });
    expect(eff.json.role_assignments).toHaveLength(1);
    const a = eff.json.role_assignments[0];
    expect(a.user.id).toBe(user.id);
    expect(a.scope).toEqual({ project: { id: project.id }, 'OS-INHERIT:inherited_to': 'projects' });
    expect(a.links.membership).toMatch(/\/v3\/groups\/[0-9a-f]{32}\/users\/[0-9a-f]{32}$/);
    expect(a.links.assignment).toMatch(/\/v3\/OS-INHERIT\/domains\/default\/groups\/[0-9a-f]{32}\/roles\/[0-9a-f]{32}\/inherited_to_projects$/);

    const { token, body } = await passwordToken(user.name, user.password, project.name);
    expect(roleNames(body)).toEqual(['reader']);
    await openstackOk(['role', 'remove', '--group', group, '--domain', 'default', '--inherited', 'reader']);
    expect(await tokenIsValid(admin, token)).toBe(false);
  });

  it('grants a system role and lists system grants', async () => {
    const user = await newUser('sys');
    await openstackOk(['role', 'add', '--user', user.name, '--system', 'all', 'reader']);
    const rows = await openstackJson<Assignment[]>(['role', 'assignment', 'list', '--user', user.id, '--system', 'all', '--names']);
    expect(rows).toEqual([expect.objectContaining({ Role: 'reader', System: 'all', Project: '', Domain: '' })]);
    const admin = await adminToken();
    const list = await api('GET', `/identity/v3/system/users/${user.id}/roles`, { token: admin });
    expect(list.json.roles.map((r: Json) => r.name)).toEqual(['reader']);
    await openstackOk(['role', 'remove', '--user', user.name, '--system', 'all', 'reader']);
    expect((await api('GET', `/identity/v3/system/users/${user.id}/roles`, { token: admin })).json.roles).toEqual([]);
  });

  it('lists assignments on a subtree, and deleting a role deletes its assignments and revokes tokens', async () => {
    const admin = await adminToken();
    const user = await newUser('tree');
    const parent = await newProject('parent');
    const child = await newProject('child', parent.id);
    const role = (await api('POST', '/identity/v3/roles', { token: admin, body: { role: { name: `temp-${suffix()}` } } })).json.role;
    expect((await api('PUT', `/identity/v3/projects/${child.id}/users/${user.id}/roles/${role.id}`, { token: admin })).status).toBe(204);
    expect((await api('HEAD', `/identity/v3/projects/${child.id}/users/${user.id}/roles/${role.id}`, { token: admin })).status).toBe(204);
    const flat = await api('GET', `/identity/v3/role_assignments?scope.project.id=${parent.id}`, { token: admin });
    expect(flat.json.role_assignments).toEqual([]);
    const tree = await api('GET', `/identity/v3/role_assignments?scope.project.id=${parent.id}&include_subtree=true`, { token: admin });
    expect(tree.json.role_assignments.map((a: Json) => a.scope.project.id)).toEqual([child.id]);

    const { token } = await passwordToken(user.name, user.password, child.name);
    expect((await api('DELETE', `/identity/v3/roles/${role.id}`, { token: admin })).status).toBe(204);
    expect(await tokenIsValid(admin, token)).toBe(false);
    expect((await api('GET', `/identity/v3/role_assignments?user.id=${user.id}`, { token: admin })).json.role_assignments).toEqual([]);
  });

  it('answers 404 for unknown actors, targets and roles, and 400 for contradictory filters', async () => {
    const admin = await adminToken();
    const user = await newUser('nf');
    const roleId = (await api('GET', '/identity/v3/roles?name=reader', { token: admin })).json.roles[0].id;
    const demoProject = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).body.token.project.id;
    for (const path of [
      `/projects/${demoProject}/users/nobody/roles/${roleId}`,
      `/projects/nowhere/users/${user.id}/roles/${roleId}`,
      `/projects/${demoProject}/users/${user.id}/roles/norole`,
      `/domains/nodomain/users/${user.id}/roles/${roleId}`,
      `/projects/${demoProject}/groups/nogroup/roles/${roleId}`,
      `/OS-INHERIT/domains/default/users/nobody/roles/${roleId}/inherited_to_projects`,
      `/system/users/nobody/roles/${roleId}`,
    ]) {
      expect((await api('PUT', `/identity/v3${path}`, { token: admin })).status, path).toBe(404);
    }
    expect((await api('GET', `/identity/v3/role_assignments?user.id=${user.id}`, { token: admin })).json.role_assignments).toEqual([]);
    for (const query of ['user.id=a&group.id=b', 'scope.project.id=a&scope.domain.id=b', 'effective&group.id=b', 'include_subtree=true', 'scope.system=all&scope.project.id=a']) {
      expect((await api('GET', `/identity/v3/role_assignments?${query}`, { token: admin })).status, query).toBe(400);
    }
    const cli = await openstack(['role', 'add', '--user', user.name, '--project', 'admin', 'no-such-role']);
    expect(cli.code).not.toBe(0);
  });

  it('lets a project reader list the assignments on its own project only', async () => {
    const { token, body } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const demoProject = body.token.project.id;
    const own = await api('GET', `/identity/v3/role_assignments?scope.project.id=${demoProject}`, { token });
    expect(own.status).toBe(200);
    expect(own.json.role_assignments.map((a: Json) => a.user?.id)).toContain(body.token.user.id);
    expect((await api('GET', '/identity/v3/role_assignments', { token })).status).toBe(403);
    const adminProject = (await passwordToken('admin', inject('cloud').passwords.admin, 'admin')).body.token.project.id;
    expect((await api('GET', `/identity/v3/role_assignments?scope.project.id=${adminProject}`, { token })).status).toBe(403);
    expect((await api('PUT', `/identity/v3/projects/${demoProject}/users/${body.token.user.id}/roles/${body.token.roles[0].id}`, { token })).status).toBe(403);
  });
});
