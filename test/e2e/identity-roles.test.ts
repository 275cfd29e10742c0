// Roles and implied roles, through the openstack CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Role = { id: string; name: string; domain_id: string | null; description: string | null };

describe('roles', () => {
  it('creates, shows, lists, renames and deletes a role through the CLI', async () => {
    const name = `auditor-${suffix()}`;
    const created = await openstackJson<Role>(['role', 'create', '--description', 'reads audits', name]);
    expect(created).toMatchObject({ name, description: 'reads audits', domain_id: null });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);

    const shown = await openstackJson<Role>(['role', 'show', name]);
    expect(shown.id).toBe(created.id);
    const listed = await openstackJson<{ ID: string; Name: string }[]>(['role', 'list']);
    expect(listed.map((r) => r.Name)).toEqual(expect.arrayContaining(['admin', 'member', 'reader', name]));

    await openstackOk(['role', 'set', '--name', `${name}-2`, created.id]);
    expect((await openstackJson<Role>(['role', 'show', created.id])).name).toBe(`${name}-2`);

    // Duplicate names are a conflict.
    const dup = await openstack(['role', 'create', `${name}-2`]);
    expect(dup.code).not.toBe(0);
    expect(dup.stderr).toMatch(/409|Conflict|Duplicate/i);

    await openstackOk(['role', 'delete', created.id]);
    const gone = await openstack(['role', 'show', created.id]);
    expect(gone.code).not.toBe(0);
    expect(gone.stderr).toMatch(/No role with a name or ID/i);
  });

  it('filters the list by name, and keeps domain roles out of the global list', async () => {
    const token = await adminToken();
    const name = `scoped-${suffix()}`;
    const dom = await api('POST', '/identity/v3/roles', { token, body: { role: { name, domain_id: 'default' } } });
    expect(dom.status).toBe(201);
    expect(dom.json.role.domain_id).toBe('default');
    const global = await api('GET', `/identity/v3/roles?name=${name}`, { token });
    expect(global.json.roles).toEqual([]);
    const inDomain = await api('GET', `/identity/v3/roles?name=${name}&domain_id=default`, { token });
    expect(inDomain.json.roles.map((r: Role) => r.id)).toEqual([dom.json.role.id]);
    const reader = await api('GET', '/identity/v3/roles?name=reader', { token });
    expect(reader.json.roles).toHaveLength(1);
    expect(reader.json.roles[0]).toMatchObject({ name: 'reader', domain_id: null, options: {} });
    expect(reader.json.roles[0].links.self).toMatch(/\/identity\/v3\/roles\/[0-9a-f]{32}$/);
  });

  it('rejects malformed bodies with 400 and changes nothing', async () => {
    const token = await adminToken();
    const name = `bad-${suffix()}`;
    for (const body of [{ role: { name: '' } }, { role: { name, description: 5 } }, { role: {} }, { rolle: { name } }]) {
      const r = await api('POST', '/identity/v3/roles', { token, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    expect((await api('POST', '/identity/v3/roles', { token, raw: '{not json' })).status).toBe(400);
    expect((await api('GET', `/identity/v3/roles?name=${name}`, { token })).json.roles).toEqual([]);
    expect((await api('GET', '/identity/v3/roles/nope', { token })).status).toBe(404);
    expect((await api('PATCH', '/identity/v3/roles/nope', { token, body: { role: { name } } })).status).toBe(404);
  });

  it('forbids demo (a project member) to create, change or delete roles', async () => {
    const { token } = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
    const r = await api('POST', '/identity/v3/roles', { token, body: { role: { name: `x-${suffix()}` } } });
    expect(r.status).toBe(403);
    const cli = await openstack(['role', 'create', `y-${suffix()}`], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/403|not authorized/i);
    const reader = (await api('GET', '/identity/v3/roles?name=reader', { token: await adminToken() })).json.roles[0];
    expect((await api('DELETE', `/identity/v3/roles/${reader.id}`, { token })).status).toBe(403);
  });
});

describe('implied roles', () => {
  it('creates, lists, checks and deletes an inference rule', async () => {
    const prior = `prior-${suffix()}`;
    const priorId = (await openstackJson<Role>(['role', 'create', prior])).id;
    const memberId = (await openstackJson<Role>(['role', 'show', 'member'])).id;
    const rule = await openstackJson<Record<string, string>>(['implied', 'role', 'create', prior, '--implied-role', 'member']);
    expect(rule).toEqual({ prior_role: priorId, implies: memberId });

    const rows = await openstackJson<Record<string, string>[]>(['implied', 'role', 'list']);
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ 'Prior Role Name': prior, 'Implied Role Name': 'member' })]));
    expect(rows).toEqual(expect.arrayContaining([expect.objectContaining({ 'Prior Role Name': 'admin', 'Implied Role Name': 'member' })]));

    const token = await adminToken();
    const all = await api('GET', '/identity/v3/role_inferences', { token });
    expect(all.status).toBe(200);
    const mine = all.json.role_inferences.find((r: { prior_role: Role }) => r.prior_role.id === priorId);
    expect(mine.implies.map((r: Role) => r.name)).toEqual(['member']);

    const list = await api('GET', `/identity/v3/roles/${priorId}/implies`, { token });
    expect(list.json.role_inference.prior_role).toMatchObject({ id: priorId, name: prior });
    expect(list.json.role_inference.implies).toEqual([expect.objectContaining({ id: memberId, name: 'member' })]);
    const one = await api('GET', `/identity/v3/roles/${priorId}/implies/${memberId}`, { token });
    expect(one.json.role_inference.implies).toMatchObject({ id: memberId });
    expect((await api('HEAD', `/identity/v3/roles/${priorId}/implies/${memberId}`, { token })).status).toBe(204);

    // member implies reader: reader implying the prior role would close a cycle.
    const readerId = (await api('GET', '/identity/v3/roles?name=reader', { token })).json.roles[0].id;
    expect((await api('PUT', `/identity/v3/roles/${readerId}/implies/${priorId}`, { token })).status).toBe(400);
    expect((await api('PUT', `/identity/v3/roles/${priorId}/implies/nope`, { token })).status).toBe(404);

    await openstackOk(['implied', 'role', 'delete', prior, '--implied-role', 'member']);
    expect((await api('HEAD', `/identity/v3/roles/${priorId}/implies/${memberId}`, { token })).status).toBe(404);
  });

  it('deleting a role deletes its inference rules', async () => {
    const token = await adminToken();
    const prior = (await api('POST', '/identity/v3/roles', { token, body: { role: { name: `p-${suffix()}` } } })).json.role;
    const implied = (await api('POST', '/identity/v3/roles', { token, body: { role: { name: `i-${suffix()}` } } })).json.role;
    expect((await api('PUT', `/identity/v3/roles/${prior.id}/implies/${implied.id}`, { token })).status).toBe(201);
    expect((await api('DELETE', `/identity/v3/roles/${implied.id}`, { token })).status).toBe(204);
    const after = await api('GET', `/identity/v3/roles/${prior.id}/implies`, { token });
    expect(after.json.role_inference.implies).toEqual([]);
    const all = await api('GET', '/identity/v3/role_inferences', { token });
    expect(all.json.role_inferences.some((r: { prior_role: Role }) => r.prior_role.id === prior.id)).toBe(false);
  });
});
