// Projects and project tags, through the openstack CLI and over HTTP.
import { describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Project = {
  id: string; name: string; domain_id: string; parent_id: string; description: string; enabled: boolean;
  is_domain: boolean; tags: string[]; options: Record<string, unknown>;
};
type Row = { ID: string; Name: string };

describe('projects', () => {
  it('creates, shows, lists, updates and deletes projects and a child through the CLI', async () => {
    const name = `proj-${suffix()}`;
    const created = await openstackJson<Project & { color: string }>([
      'project', 'create', '--domain', 'default', '--description', 'first', '--tag', 'a', '--tag', 'b', '--property', 'color=blue', name,
    ]);
    expect(created).toMatchObject({
      name, domain_id: 'default', parent_id: 'default', description: 'first', enabled: true, is_domain: false,
      tags: ['a', 'b'], options: {}, color: 'blue',
    });
    expect(created.id).toMatch(/^[0-9a-f]{32}$/);
    expect((await openstackJson<Project>(['project', 'show', name])).id).toBe(created.id);

    const long = await openstackJson<(Row & { Enabled: boolean; Description: string })[]>(['project', 'list', '--long', '--domain', 'default']);
    expect(long.find((r) => r.ID === created.id)).toMatchObject({ Name: name, Enabled: true, Description: 'first' });

    await openstackOk(['project', 'set', '--name', `${name}-x`, '--description', 'second', '--tag', 'c', created.id]);
    const updated = await openstackJson<Project & { color: string }>(['project', 'show', created.id]);
    expect(updated).toMatchObject({ name: `${name}-x`, description: 'second', tags: ['a', 'b', 'c'], color: 'blue' });

    const child = await openstackJson<Project>(['project', 'create', '--parent', created.id, `${name}-child`]);
    expect(child).toMatchObject({ parent_id: created.id, domain_id: 'default' });
    const children = await openstackJson<Row[]>(['project', 'list', '--parent', created.id]);
    expect(children.map((r) => r.ID)).toEqual([child.id]);
    const tree = await openstackJson<{ subtree: Record<string, null> }>(['project', 'show', '--children', created.id]);
    expect(tree.subtree).toEqual({ [child.id]: null });

    // A parent with an enabled child can be neither disabled nor deleted.
    const disable = await openstack(['project', 'set', '--disable', created.id]);
    expect(disable.code).not.toBe(0);
    expect(disable.stderr).toMatch(/subtree contains enabled projects.*HTTP 403/);
    const del = await openstack(['project', 'delete', created.id]);
    expect(del.code).not.toBe(0);
    expect(del.stderr).toMatch(/not a leaf in the hierarchy.*HTTP 403/);

    await openstackOk(['project', 'set', '--disable', child.id]);
    await openstackOk(['project', 'set', '--disable', created.id]);
    expect((await openstackJson<Project>(['project', 'show', created.id])).enabled).toBe(false);
    await openstackOk(['project', 'delete', child.id, created.id]);
    const after = await openstackJson<Row[]>(['project', 'list']);
    expect(after.map((r) => r.ID)).not.toEqual(expect.arrayContaining([created.id]));
    expect(after.map((r) => r.ID)).not.toContain(child.id);
    expect((await openstack(['project', 'show', created.id])).stderr).toMatch(/No project with a name or ID/);
  });

  it('manages tags and filters the list by them', async () => {
    const token = await adminToken();
    const s = suffix();
    const make = async (name: string, tags: string[]) =>
      (await api('POST', '/identity/v3/projects', { token, body: { project: { name: `${name}-${s}`, tags } } })).json.project as Project;
    const p1 = await make('t1', [`x${s}`, `y${s}`]);
    const p2 = await make('t2', [`y${s}`]);
    const base = `/identity/v3/projects/${p1.id}/tags`;
    // limit/marker pages through the list, with a "next" link while more follow.
    const page = await api('GET', `/identity/v3/projects?tags-any=y${s}&limit=1`, { token });
    expect(page.json.projects).toHaveLength(1);
    expect(page.json.links.next).toContain(`marker=${page.json.projects[0].id}`);
    const rest = await api('GET', new URL(page.json.links.next).pathname + new URL(page.json.links.next).search, { token });
    expect(rest.json.projects).toHaveLength(1);
    expect(rest.json.projects[0].id).not.toBe(page.json.projects[0].id);
    expect(rest.json.links.next).toBeNull();

    expect((await api('GET', base, { token })).json).toEqual({ tags: [`x${s}`, `y${s}`] });
    expect((await api('GET', `${base}/x${s}`, { token })).status).toBe(204);
    expect((await api('GET', `${base}/nope`, { token })).status).toBe(404);
    const put = await api('PUT', `${base}/z${s}`, { token });
    expect(put.status).toBe(201);
    expect(put.headers.get('Location')).toContain(`/v3/projects/${p1.id}/tags/z${s}`);
    expect((await api('DELETE', `${base}/x${s}`, { token })).status).toBe(204);
    expect((await api('DELETE', `${base}/x${s}`, { token })).status).toBe(404);
    expect((await api('GET', base, { token })).json.tags).toEqual([`y${s}`, `z${s}`]);
    expect((await api('PUT', `${base}/a,b`, { token })).status).toBe(400);
    expect((await api('PUT', base, { token, body: { tags: ['same', 'same'] } })).status).toBe(400);

    const ids = async (query: string) =>
      (await api('GET', `/identity/v3/projects?${query}`, { token })).json.projects.map((p: Project) => p.id).sort();
    expect(await ids(`tags=y${s},z${s}`)).toEqual([p1.id]);
    expect(await ids(`tags-any=y${s},z${s}`)).toEqual([p1.id, p2.id].sort());
    expect(await ids(`tags-any=y${s}&not-tags=y${s},z${s}`)).toEqual([p2.id]);
    expect(await ids(`tags-any=y${s}&not-tags-any=z${s}`)).toEqual([p2.id]);

    const replaced = await api('PUT', base, { token, body: { tags: [`q${s}`] } });
    expect(replaced.json).toEqual({ tags: [`q${s}`] });
    expect((await api('DELETE', base, { token })).status).toBe(204);
    expect((await api('GET', base, { token })).json.tags).toEqual([]);
    for (const p of [p1, p2]) expect((await api('DELETE', `/identity/v3/projects/${p.id}`, { token })).status).toBe(204);
  });

  it('rejects bad input with 400, duplicates with 409, unknown ids with 404, and changes nothing', async () => {
    const token = await adminToken();
    const name = `bad-${suffix()}`;
    const bodies: unknown[] = [
      { project: { name, enabled: 'yes' } },
      { project: { name, description: 5 } },
      { project: { name: 'n'.repeat(256) } },
      { project: { name: 'n'.repeat(65) } },
      { project: { name: '   ' } },
      { project: { name, tags: 'a' } },
      { project: { name, domain_id: 'no-such-domain' } },
      { project: { name, parent_id: 'no-such-parent' } },
      { project: { description: 'no name' } },
      { projects: { name } },
      [],
    ];
    for (const body of bodies) {
      const r = await api('POST', '/identity/v3/projects', { token, body });
      expect(r.status, JSON.stringify(body).slice(0, 80)).toBe(400);
      expect(r.json.error).toMatchObject({ code: 400, title: 'Bad Request' });
    }
    const malformed = await api('POST', '/identity/v3/projects', { token, raw: '{"project": {"name": ' });
    expect(malformed.status).toBe(400);
    expect(malformed.json.error.message).toMatch(/JSON/);
    const huge = await api('POST', '/identity/v3/projects', { token, body: { project: { name, blob: 'x'.repeat(200_000) } } });
    expect(huge.status).toBe(413);
    expect(huge.json.error.code).toBe(413);
    expect((await api('GET', `/identity/v3/projects?name=${name}`, { token })).json.projects).toEqual([]);

    const ok = await api('POST', '/identity/v3/projects', { token, body: { project: { name, domain_id: 'default', team: { a: 1 } } } });
    expect(ok.status).toBe(201);
    expect(ok.json.project.team).toEqual({ a: 1 });
    const id = ok.json.project.id as string;
    const dup = await api('POST', '/identity/v3/projects', { token, body: { project: { name } } });
    expect(dup.status).toBe(409);
    expect(dup.json.error.message).toBe(
      `Conflict occurred attempting to store project - Duplicate entry found with name ${name} at domain ID default.`,
    );
    for (const [body, status] of [
      [{ project: { enabled: 'no' } }, 400],
      [{ project: {} }, 400],
      [{ project: { domain_id: 'other' } }, 400],
      [{ project: { parent_id: 'other' } }, 403],
    ] as const) {
      expect((await api('PATCH', `/identity/v3/projects/${id}`, { token, body })).status, JSON.stringify(body)).toBe(status);
    }
    expect((await api('GET', `/identity/v3/projects/${id}`, { token })).json.project).toMatchObject({ name, enabled: true, team: { a: 1 } });

    const missing = await api('GET', '/identity/v3/projects/0123456789abcdef', { token });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toEqual({ code: 404, title: 'Not Found', message: 'Could not find project: 0123456789abcdef.' });
    expect((await api('PATCH', '/identity/v3/projects/0123456789abcdef', { token, body: { project: { name: 'x' } } })).status).toBe(404);
    expect((await api('DELETE', '/identity/v3/projects/0123456789abcdef', { token })).status).toBe(404);
    expect((await api('DELETE', `/identity/v3/projects/${id}`, { token })).status).toBe(204);
  });

  it('lets demo read only its own project, and lets no member write', async () => {
    const cloud = inject('cloud');
    const demo = await passwordToken('demo', cloud.passwords.demo, 'demo');
    const demoProject = demo.body.token.project.id as string;
    const admin = await passwordToken('admin', cloud.passwords.admin, 'admin');
    const adminProject = admin.body.token.project.id as string;

    expect((await api('GET', `/identity/v3/projects/${demoProject}`, { token: demo.token })).json.project.name).toBe('demo');
    const other = await api('GET', `/identity/v3/projects/${adminProject}`, { token: demo.token });
    expect(other.status).toBe(403);
    expect(other.json.error).toMatchObject({ code: 403, title: 'Forbidden' });
    expect((await api('GET', '/identity/v3/projects', { token: demo.token })).status).toBe(403);
    expect((await api('GET', `/identity/v3/projects/${demoProject}/tags`, { token: demo.token })).status).toBe(200);
    const name = `demo-made-${suffix()}`;
    expect((await api('POST', '/identity/v3/projects', { token: demo.token, body: { project: { name } } })).status).toBe(403);
    expect((await api('PATCH', `/identity/v3/projects/${demoProject}`, { token: demo.token, body: { project: { description: 'x' } } })).status).toBe(403);
    expect((await api('PUT', `/identity/v3/projects/${demoProject}/tags/mine`, { token: demo.token })).status).toBe(403);
    const cli = await openstack(['project', 'create', name], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/HTTP 403/);
    expect((await api('GET', `/identity/v3/projects?name=${name}`, { token: admin.token })).json.projects).toEqual([]);

    // A system-scoped admin lists everything.
    const all = await openstackJson<Row[]>(['project', 'list'], { cloud: 'flarestack-system-admin' });
    expect(all.map((r) => r.Name)).toEqual(expect.arrayContaining(['admin', 'demo']));
  });

  it('revokes tokens on a disabled or deleted project and deletes its assignments and application credentials', async () => {
    const token = await adminToken();
    const s = suffix();
    const project = (await api('POST', '/identity/v3/projects', { token, body: { project: { name: `rev-${s}` } } })).json.project as Project;
    const user = (await api('POST', '/identity/v3/users', { token, body: { user: { name: `rev-${s}`, password: 'pw-1' } } })).json.user;
    await openstackOk(['role', 'add', '--user', user.id, '--project', project.id, 'member']);
    const scoped = await passwordToken(`rev-${s}`, 'pw-1', `rev-${s}`);
    const check = (t: string) => api('GET', `/identity/v3/projects/${project.id}`, { token: t });
    expect((await check(scoped.token)).status).toBe(200);

    await openstackOk(['project', 'set', '--disable', project.id]);
    expect((await check(scoped.token)).status).toBe(401);
    await expect(passwordToken(`rev-${s}`, 'pw-1', `rev-${s}`)).rejects.toThrow(/401/);
    await openstackOk(['project', 'set', '--enable', project.id]);
    const again = await passwordToken(`rev-${s}`, 'pw-1', `rev-${s}`);
    expect((await check(again.token)).status).toBe(200);

    const credentials = `/identity/v3/users/${user.id}/application_credentials`;
    const ac = await api('POST', credentials, { token: again.token, body: { application_credential: { name: `ac-${s}` } } });
    expect(ac.status).toBe(201);

    await openstackOk(['project', 'delete', project.id]);
    expect((await check(again.token)).status).toBe(401);
    expect((await api('GET', credentials, { token })).json.application_credentials).toEqual([]);
    const left = await api('GET', `/identity/v3/role_assignments?user.id=${user.id}`, { token });
    expect(left.status).toBe(200);
    expect(left.json.role_assignments).toEqual([]);
    expect((await api('DELETE', `/identity/v3/users/${user.id}`, { token })).status).toBe(204);
  });
});
