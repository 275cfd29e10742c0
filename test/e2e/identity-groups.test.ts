// Groups and group membership, through the openstack CLI and over HTTP.
import { describe, expect, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Group = { id: string; name: string; domain_id: string; description: string };
type Row = { ID: string; Name: string };

describe('groups', () => {
  it('creates, updates and deletes a group and manages its members through the CLI', async () => {
    const s = suffix();
    const name = `grp-${s}`;
    const user = await openstackJson<{ id: string }>(['user', 'create', '--password', 'pw', `member-${s}`]);
    const created = await openstackJson<Group>(['group', 'create', '--domain', 'default', '--description', 'first', name]);
    expect(created).toMatchObject({ name, domain_id: 'default', description: 'first' });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await openstackJson<Row[]>(['group', 'list', '--domain', 'default'])).map((g) => g.ID)).toContain(created.id);

    await openstackOk(['group', 'set', '--name', `${name}-x`, '--description', 'second', created.id]);
    expect(await openstackJson<Group>(['group', 'show', created.id])).toMatchObject({ name: `${name}-x`, description: 'second' });

    await openstackOk(['group', 'add', 'user', created.id, user.id]);
    expect(await openstackOk(['group', 'contains', 'user', created.id, user.id])).toMatch(/ in group /);
    expect((await openstackJson<Row[]>(['user', 'list', '--group', created.id])).map((u) => u.ID)).toEqual([user.id]);
    expect((await openstackJson<Row[]>(['group', 'list', '--user', user.id])).map((g) => g.ID)).toEqual([created.id]);

    await openstackOk(['group', 'remove', 'user', created.id, user.id]);
    const out = await openstack(['group', 'contains', 'user', created.id, user.id]);
    expect(out.stderr).toMatch(/not in group/);
    expect(await openstackJson<Row[]>(['user', 'list', '--group', created.id])).toEqual([]);

    await openstackOk(['group', 'delete', created.id]);
    expect((await openstack(['group', 'show', created.id])).stderr).toMatch(/No group with a name or ID/);
    await openstackOk(['user', 'delete', user.id]);
  });

  it('answers membership checks over HTTP and rejects bad input, duplicates and unknown ids', async () => {
    const token = await adminToken();
    const s = suffix();
    const name = `g-${s}`;
    for (const body of [
      { group: { name, description: 7 } },
      { group: { name: 'n'.repeat(256) } },
      { group: { name, domain_id: 'no-such-domain' } },
      { group: {} },
      { group: 'x' },
    ]) {
      const r = await api('POST', '/identity/v3/groups', { token, body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    expect((await api('POST', '/identity/v3/groups', { token, raw: '{{' })).status).toBe(400);
    expect((await api('GET', `/identity/v3/groups?name=${name}`, { token })).json.groups).toEqual([]);

    const created = await api('POST', '/identity/v3/groups', { token, body: { group: { name, purpose: 'ops' } } });
    expect(created.status).toBe(201);
    expect(created.json.group).toMatchObject({ name, domain_id: 'default', description: '', purpose: 'ops' });
    const g = created.json.group as Group;
    const dup = await api('POST', '/identity/v3/groups', { token, body: { group: { name } } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toBe(`Conflict occurred attempting to store group - Duplicate entry found with name ${name} at domain ID default.`);
    expect((await api('PATCH', `/identity/v3/groups/${g.id}`, { token, body: { group: { domain_id: 'other' } } })).status).toBe(400);

    const user = (await api('POST', '/identity/v3/users', { token, body: { user: { name: `gu-${s}` } } })).json.user as { id: string };
    const member = `/identity/v3/groups/${g.id}/users/${user.id}`;
    expect((await api('HEAD', member, { token })).status).toBe(404);
    expect((await api('DELETE', member, { token })).status).toBe(404);
    expect((await api('PUT', member, { token })).status).toBe(204);
    expect((await api('PUT', member, { token })).status).toBe(204);
    expect((await api('HEAD', member, { token })).status).toBe(204);
    const missingUser = await api('PUT', `/identity/v3/groups/${g.id}/users/0123456789abcdef`, { token });
    expect(missingUser.status).toBe(404);
    expect(missingUser.json.error.message).toBe('Could not find user: 0123456789abcdef.');
    const missingGroup = await api('GET', '/identity/v3/groups/0123456789abcdef/users', { token });
    expect(missingGroup.status).toBe(404);
    expect(missingGroup.json.error.message).toBe('Could not find group: 0123456789abcdef.');

    // Deleting the group ends the membership.
    expect((await api('DELETE', `/identity/v3/groups/${g.id}`, { token })).status).toBe(204);
    expect((await api('GET', `/identity/v3/users/${user.id}/groups`, { token })).json.groups).toEqual([]);
    expect((await api('DELETE', `/identity/v3/users/${user.id}`, { token })).status).toBe(204);
  });

  it('removing a user from a group revokes the tokens that carried its roles', async () => {
    const token = await adminToken();
    const s = suffix();
    const project = (await api('POST', '/identity/v3/projects', { token, body: { project: { name: `gp-${s}` } } })).json.project;
    const user = (await api('POST', '/identity/v3/users', { token, body: { user: { name: `gm-${s}`, password: 'pw-1' } } })).json.user;
    const group = (await api('POST', '/identity/v3/groups', { token, body: { group: { name: `gr-${s}` } } })).json.group;
    await openstackOk(['role', 'add', '--group', group.id, '--project', project.id, 'member']);
    await openstackOk(['group', 'add', 'user', group.id, user.id]);

    const scoped = await passwordToken(`gm-${s}`, 'pw-1', `gp-${s}`);
    expect(scoped.body.token.roles.map((r: { name: string }) => r.name).sort()).toEqual(['member', 'reader']);
    const own = await api('GET', `/identity/v3/users/${user.id}/groups`, { token: scoped.token });
    expect(own.json.groups.map((g: Group) => g.id)).toEqual([group.id]);
    // A member may not manage groups.
    expect((await api('POST', '/identity/v3/groups', { token: scoped.token, body: { group: { name: `x-${s}` } } })).status).toBe(403);
    expect((await api('DELETE', `/identity/v3/groups/${group.id}/users/${user.id}`, { token: scoped.token })).status).toBe(403);

    await openstackOk(['group', 'remove', 'user', group.id, user.id]);
    expect((await api('GET', `/identity/v3/users/${user.id}`, { token: scoped.token })).status).toBe(401);
    await expect(passwordToken(`gm-${s}`, 'pw-1', `gp-${s}`)).rejects.toThrow(/401/);

    const demo = await openstack(['group', 'create', `demo-${s}`], { cloud: 'flarestack-demo' });
    expect(demo.code).not.toBe(0);
    expect(demo.stderr).toMatch(/HTTP 403/);
    expect((await api('GET', `/identity/v3/groups?name=demo-${s}`, { token })).json.groups).toEqual([]);
    for (const path of [`groups/${group.id}`, `users/${user.id}`, `projects/${project.id}`]) {
      expect((await api('DELETE', `/identity/v3/${path}`, { token })).status).toBe(204);
    }
  });
});
