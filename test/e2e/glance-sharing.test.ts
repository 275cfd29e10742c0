// Who sees which image: visibility public/private/shared/community, image members
// between the admin and demo projects, and the bootstrap image every cloud starts with.
import { randomBytes } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, demoLogin, openstack, openstackJson, openstackOk } from '../cli';

const unique = (what: string) => `gl-${what}-${randomBytes(4).toString('hex')}`;
type Image = Record<string, any>;
type Row = { ID: string; Name: string };

let admin: string;
let demo: string;
let demoProject: string;
beforeAll(async () => {
  admin = await adminToken();
  ({ token: demo, projectId: demoProject } = await demoLogin());
});

async function createImage(token: string, body: Record<string, unknown>): Promise<Image> {
  const res = await api('POST', '/image/v2/images', { token, body: { disk_format: 'raw', container_format: 'bare', ...body } });
  expect(res.status, res.text).toBe(201);
  return res.json;
}

const ids = (rows: Row[]) => rows.map((r) => r.ID);
const demoProjectId = () => demoProject;
const asDemo = { cloud: 'flarestack-demo' };

describe('the bootstrap image', () => {
  it('exists, is public and active, and demo can download it', async () => {
    const rows = await openstackJson<Row[]>(['image', 'list', '--public', '--long'], asDemo);
    const boot = rows.find((r) => r.Name === 'cirros-0.6-flarestack') as Record<string, unknown> | undefined;
    expect(boot).toMatchObject({ Status: 'active', Visibility: 'public', 'Disk Format': 'raw', 'Container Format': 'bare' });
    const data = await api('GET', `/image/v2/images/${boot!.ID}/file`, { token: demo });
    expect(data.status).toBe(200);
    expect(data.headers.get('Content-MD5')).toBe(boot!.Checksum);
  });
});

describe('visibility', () => {
  it('hides an admin private image from demo (404) and lists by visibility', async () => {
    const priv = await createImage(admin, { name: unique('priv'), visibility: 'private' });
    const pub = await createImage(admin, { name: unique('pub'), visibility: 'public' });
    const mine = await createImage(demo, { name: unique('mine'), visibility: 'private' });
    expect((await api('GET', `/image/v2/images/${priv.id}`, { token: demo })).status).toBe(404);
    expect((await api('PATCH', `/image/v2/images/${priv.id}`, { token: demo, raw: '[]', headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' } })).status).toBe(404);
    expect((await api('DELETE', `/image/v2/images/${priv.id}`, { token: demo })).status).toBe(404);
    const show = await openstack(['image', 'show', priv.id], asDemo);
    expect(show.code).not.toBe(0);

    const all = ids(await openstackJson<Row[]>(['image', 'list'], asDemo));
    expect(all).toContain(pub.id);
    expect(all).toContain(mine.id);
    expect(all).not.toContain(priv.id);
    const pubList = ids(await openstackJson<Row[]>(['image', 'list', '--public'], asDemo));
    expect(pubList).toContain(pub.id);
    expect(pubList).not.toContain(mine.id);
    const privRows = await openstackJson<Record<string, string>[]>(['image', 'list', '--private', '--long'], asDemo);
    expect(privRows.map((r) => r.ID)).toContain(mine.id);
    expect(privRows.every((r) => r.Visibility === 'private' && r.Project === demoProjectId())).toBe(true);
    // Admins see every image.
    expect(ids(await openstackJson<Row[]>(['image', 'list', '--private']))).toEqual(expect.arrayContaining([priv.id, mine.id]));
  });

  it('lets only admins publish, refuses demo changes to admin images with 403', async () => {
    const mine = await createImage(demo, { name: unique('pubtry') });
    const set = await openstack(['image', 'set', '--public', mine.id], asDemo);
    expect(set.code).not.toBe(0);
    expect((await api('POST', '/image/v2/images', { token: demo, body: { name: unique('p'), visibility: 'public' } })).status).toBe(403);
    await openstackOk(['image', 'set', '--community', mine.id], asDemo);
    expect((await api('GET', `/image/v2/images/${mine.id}`, { token: admin })).json.visibility).toBe('community');
    // A community image is visible to all, but listed only when asked for.
    const pub = await createImage(admin, { name: unique('pub2'), visibility: 'public' });
    const patch = await api('PATCH', `/image/v2/images/${pub.id}`, {
      token: demo, raw: JSON.stringify([{ op: 'replace', path: '/name', value: 'stolen' }]),
      headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
    });
    expect(patch.status).toBe(403);
    expect((await api('DELETE', `/image/v2/images/${pub.id}`, { token: demo })).status).toBe(403);
    const community = await api('GET', '/image/v2/images?visibility=community', { token: admin });
    expect(community.json.images.map((i: Image) => i.id)).toContain(mine.id);
    await openstackOk(['image', 'delete', mine.id], asDemo);
  });
});

describe('image members', () => {
  it('shares an admin image with demo, who accepts it and then sees it listed', async () => {
    const img = await createImage(admin, { name: unique('shared'), visibility: 'shared' });
    const member = await openstackJson<Image>(['image', 'add', 'project', img.id, 'demo']);
    expect(member).toMatchObject({ image_id: img.id, member_id: demoProject, status: 'pending' });
    // A pending member may look at the image but does not get it in its list.
    expect((await api('GET', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(200);
    expect(ids(await openstackJson<Row[]>(['image', 'list'], asDemo))).not.toContain(img.id);
    const pending = await api('GET', '/image/v2/images?visibility=shared&member_status=pending', { token: demo });
    expect(pending.json.images.map((i: Image) => i.id)).toContain(img.id);

    await openstackOk(['image', 'set', '--accept', img.id], asDemo);
    expect(ids(await openstackJson<Row[]>(['image', 'list', '--shared'], asDemo))).toContain(img.id);
    expect(ids(await openstackJson<Row[]>(['image', 'list'], asDemo))).toContain(img.id);
    const members = await openstackJson<Record<string, string>[]>(['image', 'member', 'list', img.id]);
    expect(members).toEqual([expect.objectContaining({ 'Member ID': demoProject, Status: 'accepted' })]);
    const demoView = await api('GET', `/image/v2/images/${img.id}/members`, { token: demo });
    expect(demoView.json.members.map((m: Image) => m.member_id)).toEqual([demoProject]);

    // Demo may not share an image it does not own, nor change it.
    expect((await api('POST', `/image/v2/images/${img.id}/members`, { token: demo, body: { member: 'someone' } })).status).toBe(403);

    await openstackOk(['image', 'set', '--reject', img.id], asDemo);
    expect(ids(await openstackJson<Row[]>(['image', 'list'], asDemo))).not.toContain(img.id);
    await openstackOk(['image', 'remove', 'project', img.id, 'demo']);
    expect((await api('GET', `/image/v2/images/${img.id}`, { token: demo })).status).toBe(404);
  });

  it('refuses members on images that are not shared, duplicates and bad bodies', async () => {
    const priv = await createImage(admin, { name: unique('nomembers'), visibility: 'private' });
    expect((await api('POST', `/image/v2/images/${priv.id}/members`, { token: admin, body: { member: demoProject } })).status).toBe(403);
    const shared = await createImage(admin, { name: unique('dup') });
    expect((await api('POST', `/image/v2/images/${shared.id}/members`, { token: admin, body: { member: demoProject } })).status).toBe(200);
    expect((await api('POST', `/image/v2/images/${shared.id}/members`, { token: admin, body: { member: demoProject } })).status).toBe(409);
    expect((await api('POST', `/image/v2/images/${shared.id}/members`, { token: admin, body: { members: 'x' } })).status).toBe(400);
    expect((await api('PUT', `/image/v2/images/${shared.id}/members/${demoProject}`, { token: demo, body: { status: 'maybe' } })).status).toBe(400);
    expect((await api('GET', `/image/v2/images/${shared.id}/members/nobody`, { token: admin })).status).toBe(404);
  });
});
