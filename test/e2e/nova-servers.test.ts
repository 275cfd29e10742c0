// Servers through Debian's openstack CLI on the built-in fake fleet: boot, list, show,
// power actions, console log, delete; and what others and bad requests must not do.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';
import { bootServer, bootstrapImageId, startTestHost, stopTestHost, unique, waitForServer, type TestHost } from '../compute';
import { inject } from 'vitest';

let admin: string;
let demo: string;
let imageId: string;

beforeAll(async () => {
  admin = await adminToken();
  demo = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
  imageId = await bootstrapImageId(admin);
});

describe('server lifecycle through the CLI', () => {
  const name = unique('srv');
  let id: string;

  it('boots a server from the bootstrap image to ACTIVE', async () => {
    const server = await openstackJson(['server', 'create', '--flavor', 'm1.tiny', '--image', imageId, '--wait', name]);
    expect(server.status).toBe('ACTIVE');
    expect(server['OS-EXT-SRV-ATTR:host']).toMatch(/^fake-/);
    expect(String(server['OS-EXT-STS:power_state'])).toMatch(/^(Running|1)$/);
    id = server.id as string;
  });

  it('lists it, also with --long and --all-projects, and shows the host only to admins', async () => {
    const list = await openstackJson<{ ID: string; Status: string }[]>(['server', 'list', '--name', `^${name}$`]);
    expect(list.map((s) => s.ID)).toEqual([id]);
    const long = await openstackJson<{ ID: string; Host: string }[]>(['server', 'list', '--long', '--all-projects']);
    expect(long.find((s) => s.ID === id)?.Host).toMatch(/^fake-/);
    const mine = await api('GET', `/compute/v2.1/servers/${id}`, { token: admin });
    expect(mine.json.server['OS-EXT-SRV-ATTR:host']).toMatch(/^fake-/);
    expect(mine.headers.get('OpenStack-API-Version')).toBe('compute 2.1');
    const at216 = await api('GET', `/compute/v2.1/servers/${id}`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.16' } });
    expect(at216.json.server.host_status).toBe('UP');
  });

  it('stops, starts and reboots it', async () => {
    await openstackOk(['server', 'stop', id]);
    expect((await waitForServer(id, ['SHUTOFF'], admin))['OS-EXT-STS:power_state']).toBe(4);
    const again = await openstack(['server', 'stop', id]);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/Cannot 'stop' instance .* while it is in vm_state stopped/);
    await openstackOk(['server', 'start', id]);
    await waitForServer(id, ['ACTIVE'], admin);
    await openstackOk(['server', 'reboot', '--wait', id]);
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-STS:task_state']).toBeNull();
  });

  it('shows the console log', async () => {
    const log = await openstackOk(['console', 'log', 'show', id]);
    expect(log).toContain(name);
  });

  it('records instance actions', async () => {
    const actions = await openstackJson<{ Action: string }[]>(['server', 'event', 'list', id]);
    expect(actions.map((a) => a.Action)).toEqual(expect.arrayContaining(['create', 'stop', 'start', 'reboot']));
  });

  it('deletes it and waits until it is gone', async () => {
    await openstackOk(['server', 'delete', '--wait', id]);
    const r = await api('GET', `/compute/v2.1/servers/${id}`, { token: admin });
    expect(r.status).toBe(404);
  });
});

describe('hypervisor usage on a host of the suite', () => {
  let host: TestHost;
  const zone = unique('az');

  beforeAll(async () => {
    host = await startTestHost(unique('hv'), { zone, vcpus: 4, memoryMb: 8192, diskGb: 100 });
  });
  afterAll(async () => stopTestHost(host));

  it('counts a server on the host and goes back to zero after its delete', async () => {
    const before = await openstackJson(['hypervisor', 'show', host.name]);
    expect(before.vcpus_used).toBe(0);
    const id = await bootServer(admin, { name: unique('hv-srv'), imageRef: imageId, availability_zone: zone });
    const server = await waitForServer(id, ['ACTIVE'], admin);
    expect(server['OS-EXT-SRV-ATTR:host']).toBe(host.name);
    const during = await openstackJson(['hypervisor', 'show', host.name]);
    expect(during.vcpus_used).toBe(1);
    expect(during.running_vms).toBe(1);
    await openstackOk(['server', 'delete', '--wait', id]);
    const after = await openstackJson(['hypervisor', 'show', host.name]);
    expect(after.vcpus_used).toBe(0);
    expect(after.running_vms).toBe(0);
    expect(await host.driver.listInstances()).toEqual([]);
  });
});

describe('isolation between projects', () => {
  let id: string;
  beforeAll(async () => {
    id = await bootServer(admin, { name: unique('private'), imageRef: imageId });
    await waitForServer(id, ['ACTIVE'], admin);
  });
  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('hides admin servers from demo: show, act, delete and list give nothing', async () => {
    expect((await api('GET', `/compute/v2.1/servers/${id}`, { token: demo })).status).toBe(404);
    const act = await api('POST', `/compute/v2.1/servers/${id}/action`, { token: demo, body: { 'os-stop': null } });
    expect(act.status).toBe(404);
    expect(act.json.itemNotFound.message).toBe(`Instance ${id} could not be found.`);
    expect((await api('DELETE', `/compute/v2.1/servers/${id}`, { token: demo })).status).toBe(404);
    const list = await api('GET', '/compute/v2.1/servers?all_tenants=1', { token: demo });
    expect(list.status).toBe(403);
    const own = await api('GET', '/compute/v2.1/servers/detail', { token: demo });
    expect(own.json.servers.map((s: { id: string }) => s.id)).not.toContain(id);
    const mine = await bootServer(demo, { name: unique('demo-own'), imageRef: imageId });
    const shown = await waitForServer(mine, ['ACTIVE'], demo);
    expect(shown).not.toHaveProperty('OS-EXT-SRV-ATTR:host');
    expect(shown.hostId).toMatch(/^[0-9a-f]{56}$/);
    await api('DELETE', `/compute/v2.1/servers/${mine}`, { token: demo });
    const cli = await openstack(['server', 'show', id], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/No server with a name or ID of/);
  });
});

describe('bad requests', () => {
  const body = (server: Record<string, unknown>) => ({ server: { name: unique('bad'), flavorRef: '1', imageRef: imageId, networks: 'none', ...server } });
  const create = (b: unknown, headers: Record<string, string> = { 'OpenStack-API-Version': 'compute 2.79' }) =>
    api('POST', '/compute/v2.1/servers', { token: admin, body: b, headers });

  it('refuses unknown flavors and images, long names, bad bodies and versions with Nova errors', async () => {
    const flavor = await create(body({ flavorRef: 'no-such-flavor' }));
    expect(flavor.status).toBe(400);
    expect(flavor.json.badRequest.message).toBe('Invalid flavorRef provided.');
    const image = await create(body({ imageRef: crypto.randomUUID() }));
    expect(image.status).toBe(400);
    expect(image.json.badRequest.message).toMatch(/Image .* could not be found/);
    expect((await create(body({ name: 'x'.repeat(256) }))).status).toBe(400);
    expect((await create(body({ networks: undefined }))).json.badRequest.message).toMatch(/'networks' is a required property/);
    expect((await create({ server: 'nope' })).status).toBe(400);
    const malformed = await api('POST', '/compute/v2.1/servers', { token: admin, raw: '{"server": ', headers: { 'Content-Type': 'application/json' } });
    expect(malformed.status).toBe(400);
    const version = await create(body({}), { 'OpenStack-API-Version': 'compute 9.9' });
    expect(version.status).toBe(406);
    expect(version.json.computeFault ?? version.json).toBeTruthy();
    const garbled = await create(body({}), { 'OpenStack-API-Version': 'compute two' });
    expect(garbled.status).toBe(400);
    // Nothing was created: no server carries one of the names tried.
    const created = await api('GET', `/compute/v2.1/servers?name=^bad-${process.pid}-&all_tenants=1`, { token: admin });
    expect(created.json.servers).toEqual([]);
  });

  it('refuses a flavor deleted a moment after a boot used it, and creates nothing', async () => {
    const flavor = await api('POST', '/compute/v2.1/flavors', { token: admin, body: { flavor: { name: unique('brief'), ram: 64, vcpus: 1, disk: 1 } } });
    expect(flavor.status).toBe(200);
    const flavorRef = flavor.json.flavor.id as string;
    const first = await create(body({ flavorRef, name: unique('brief-srv') }));
    expect(first.status).toBe(202);
    expect((await api('DELETE', `/compute/v2.1/flavors/${flavorRef}`, { token: admin })).status).toBe(202);
    const name = unique('brief-srv');
    const second = await create(body({ flavorRef, name }));
    expect(second.status).toBe(400);
    expect(second.json.badRequest.message).toBe('Invalid flavorRef provided.');
    expect((await api('GET', `/compute/v2.1/servers?name=^${name}$&all_tenants=1`, { token: admin })).json.servers).toEqual([]);
    expect((await api('DELETE', `/compute/v2.1/servers/${first.json.server.id}`, { token: admin })).status).toBe(204);
  });

  it('refuses an image that is not active', async () => {
    const img = await api('POST', '/image/v2/images', { token: admin, body: { name: unique('queued'), disk_format: 'raw', container_format: 'bare' } });
    const r = await create(body({ imageRef: img.json.id }));
    expect(r.status).toBe(400);
    expect(r.json.badRequest.message).toBe(`Image ${img.json.id} is not active.`);
    await api('DELETE', `/image/v2/images/${img.json.id}`, { token: admin });
  });

  it('lets a reader look but not create', async () => {
    const reader = unique('reader');
    const user = await api('POST', '/identity/v3/users', { token: admin, body: { user: { name: reader, password: 'reader-pass-1', domain_id: 'default' } } });
    const project = await api('GET', '/identity/v3/projects?name=demo', { token: admin });
    const role = await api('GET', '/identity/v3/roles?name=reader', { token: admin });
    await api('PUT', `/identity/v3/projects/${project.json.projects[0].id}/users/${user.json.user.id}/roles/${role.json.roles[0].id}`, { token: admin });
    const token = (await passwordToken(reader, 'reader-pass-1', 'demo')).token;
    expect((await api('GET', '/compute/v2.1/servers', { token })).status).toBe(200);
    const r = await api('POST', '/compute/v2.1/servers', { token, body: body({}), headers: { 'OpenStack-API-Version': 'compute 2.79' } });
    expect(r.status).toBe(403);
    expect(r.json.forbidden.message).toMatch(/os_compute_api:servers:create/);
  });
});
