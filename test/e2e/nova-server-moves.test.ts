// Servers that move, get a new disk or are copied into an image, through Debian's
// openstack CLI where it can and over HTTP where the CLI cannot: resize (confirm and
// revert), cold migration, live migration, rebuild and createImage. The hosts are the
// suite's own, each pair in a zone of its own, so where a server goes is known: the
// spreading weigher takes the host with the most free memory, and a move leaves its host.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';
import {
  actionEvents,
  bootServer,
  bootstrapImageId,
  hypervisorUsage,
  reconnectTestHost,
  suiteHosts,
  unique,
  waitForServer,
  watchTaskStates,
  type HypervisorUsage,
  type TestHost,
} from '../compute';

const V = { 'OpenStack-API-Version': 'compute 2.79' };
/** What an idle fake host shows as used: its reserved 512 MB of memory, nothing else. */
const IDLE: HypervisorUsage = { vcpus_used: 0, memory_mb_used: 512, local_gb_used: 0, running_vms: 0 };
const TINY = { vcpus_used: 1, memory_mb_used: 512 + 512, local_gb_used: 1, running_vms: 1 };
const SMALL = { vcpus_used: 1, memory_mb_used: 512 + 2048, local_gb_used: 20, running_vms: 1 };

let admin: string;
let demo: string;
let imageId: string;
const { start: host, keep } = suiteHosts('mv');

beforeAll(async () => {
  admin = await adminToken();
  demo = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
  imageId = await bootstrapImageId(admin);
});

const show = async (id: string) => (await api('GET', `/compute/v2.1/servers/${id}`, { token: admin, headers: V })).json.server as Record<string, any>;
const act = (id: string, body: unknown, token = admin, headers: Record<string, string> = V) => api('POST', `/compute/v2.1/servers/${id}/action`, { token, body, headers });
const usage = (h: TestHost) => hypervisorUsage(admin, h.name);
const instancesOn = async (h: TestHost) => (await h.driver.listInstances()).map((i) => i.uuid);

describe('resize, cold and live migration between two hosts', () => {
  const zone = unique('az-move');
  let a: TestHost;
  let b: TestHost;
  let id: string;

  beforeAll(async () => {
    // "a" has more memory: the first boot goes there.
    a = await host(zone, { memoryMb: 16_384 });
    b = await host(zone, { memoryMb: 12_288 });
  });

  it('boots on the roomier host', async () => {
    const server = await openstackJson(['server', 'create', '--flavor', 'm1.tiny', '--image', imageId, '--availability-zone', zone, '--wait', unique('mover')]);
    id = server.id as string;
    expect(server['OS-EXT-SRV-ATTR:host']).toBe(a.name);
    expect(await usage(a)).toEqual(TINY);
    expect(await usage(b)).toEqual(IDLE);
  });

  it('resizes to m1.small on the other host, holding both hosts until confirmed', async () => {
    expect(await openstackOk(['server', 'resize', '--flavor', 'm1.small', '--wait', id])).toContain('Complete');
    const server = await show(id);
    expect(server).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-STS:vm_state': 'resized', 'OS-EXT-STS:task_state': null, 'OS-EXT-SRV-ATTR:host': b.name });
    expect(server.flavor.original_name).toBe('m1.small');
    // The source keeps the old flavor's room (held by the migration), the destination the new one's.
    expect(await usage(a)).toEqual(TINY);
    expect(await usage(b)).toEqual(SMALL);
    expect(await a.driver.listInstances()).toEqual([{ uuid: id, powerState: 4 }]);
    expect(await b.driver.listInstances()).toEqual([{ uuid: id, powerState: 1 }]);
    const again = await act(id, { resize: { flavorRef: '3' } });
    expect(again.status).toBe(409);
    expect(again.json.conflictingRequest.message).toBe(`Cannot 'resize' instance ${id} while it is in vm_state resized`);
  });

  it('confirms: the old host lets go of the server and its room', async () => {
    await openstackOk(['server', 'resize', 'confirm', id]);
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': b.name, 'OS-EXT-STS:power_state': 1 });
    expect(server.flavor.original_name).toBe('m1.small');
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(SMALL);
    expect(await instancesOn(a)).toEqual([]);
    const actions = await openstackJson<{ Action: string }[]>(['server', 'event', 'list', id]);
    expect(actions.map((x) => x.Action)).toEqual(expect.arrayContaining(['create', 'resize', 'confirmResize']));
    expect(await actionEvents(id, 'resize', admin)).toEqual({
      conductor_migrate_server: 'Success', compute_prep_resize: 'Success', compute_resize_instance: 'Success', compute_finish_resize: 'Success',
    });
    expect(await actionEvents(id, 'confirmResize', admin)).toEqual({ compute_confirm_resize: 'Success' });
    const confirmAgain = await act(id, { confirmResize: null });
    expect(confirmAgain.status).toBe(409);
    expect(confirmAgain.json.conflictingRequest.message).toBe(`Cannot 'confirmResize' instance ${id} while it is in vm_state active`);
  });

  it('reverts a resize: back on its host with its old flavor, the new host empty', async () => {
    await openstackOk(['server', 'resize', '--flavor', 'm1.medium', '--wait', id]);
    const resized = await show(id);
    expect(resized).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': a.name });
    expect(await usage(a)).toEqual({ vcpus_used: 2, memory_mb_used: 512 + 4096, local_gb_used: 40, running_vms: 1 });
    await openstackOk(['server', 'resize', 'revert', id]);
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': b.name, 'OS-EXT-STS:power_state': 1 });
    expect(server.flavor.original_name).toBe('m1.small');
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(SMALL);
    expect(await instancesOn(a)).toEqual([]);
    expect(await b.driver.listInstances()).toEqual([{ uuid: id, powerState: 1 }]);
    expect(await actionEvents(id, 'revertResize', admin)).toEqual({ compute_revert_resize: 'Success', compute_finish_revert_resize: 'Success' });
  });

  it('cold-migrates with the same flavor, then confirms', async () => {
    expect(await openstackOk(['server', 'migrate', '--wait', id])).toContain('Complete');
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': a.name });
    expect(await usage(a)).toEqual(SMALL);
    expect(await usage(b)).toEqual(SMALL);
    await openstackOk(['server', 'resize', 'confirm', id]);
    expect(await waitForServer(id, ['ACTIVE', 'ERROR'], admin)).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': a.name });
    expect(await usage(b)).toEqual(IDLE);
    expect(await usage(a)).toEqual(SMALL);
    expect(Object.keys(await actionEvents(id, 'migrate', admin))).toContain('compute_finish_resize');
  });

  it('cold-migrates to a named host (2.56), and refuses its own host and an unknown one', async () => {
    const own = await act(id, { migrate: { host: a.name } });
    expect(own.status).toBe(400);
    expect(own.json.badRequest.message).toBe('Cannot migrate to the host where the server exists.');
    const nowhere = await act(id, { migrate: { host: 'no-such-host' } });
    expect(nowhere.status).toBe(400);
    expect(nowhere.json.badRequest.message).toBe('Compute host no-such-host could not be found.');
    await openstackOk(['--os-compute-api-version', '2.56', 'server', 'migrate', '--host', b.name, '--wait', id]);
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': b.name });
    await openstackOk(['server', 'migration', 'revert', id]);
    expect(await waitForServer(id, ['ACTIVE', 'ERROR'], admin)).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': a.name });
    expect(await usage(b)).toEqual(IDLE);
  });

  it('live-migrates a running server where the scheduler picks', async () => {
    await openstackOk(['server', 'migrate', '--live-migration', '--wait', id]);
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': b.name, 'OS-EXT-STS:task_state': null, 'OS-EXT-STS:power_state': 1 });
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(SMALL);
    expect(await instancesOn(a)).toEqual([]);
    expect(await b.driver.listInstances()).toEqual([{ uuid: id, powerState: 1 }]);
    expect(await actionEvents(id, 'live-migration', admin)).toEqual({
      conductor_migrate_server: 'Success', compute_check_can_live_migrate_destination: 'Success', compute_check_can_live_migrate_source: 'Success',
      compute_pre_live_migration: 'Success', compute_live_migration: 'Success', compute_post_live_migration_at_destination: 'Success',
    });
  });

  it('live-migrates a paused server to a named host, and it stays paused', async () => {
    await openstackOk(['server', 'pause', id]);
    await waitForServer(id, ['PAUSED'], admin);
    const r = await act(id, { 'os-migrateLive': { host: a.name, block_migration: 'auto' } });
    expect(r.status).toBe(202);
    const { server } = await watchTaskStates(id, admin);
    expect(server).toMatchObject({ status: 'PAUSED', 'OS-EXT-SRV-ATTR:host': a.name, 'OS-EXT-STS:power_state': 3 });
    expect(await a.driver.listInstances()).toEqual([{ uuid: id, powerState: 3 }]);
    expect(await usage(b)).toEqual(IDLE);
    expect(Object.keys(await actionEvents(id, 'live-migration', admin))).toContain('conductor_live_migrate_instance');
    await openstackOk(['server', 'unpause', id]);
    await waitForServer(id, ['ACTIVE'], admin);
  });

  it('finds no host for a flavor no host can take: the server stays as it was', async () => {
    const name = unique('huge');
    const flavor = await openstackJson(['flavor', 'create', '--ram', '20000', '--vcpus', '1', '--disk', '1', name]);
    try {
      const r = await act(id, { resize: { flavorRef: flavor.id } });
      expect(r.status).toBe(202);
      const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
      expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': a.name, 'OS-EXT-STS:task_state': null });
      expect(server.flavor.original_name).toBe('m1.small');
      expect(await actionEvents(id, 'resize', admin)).toEqual({ conductor_migrate_server: 'Error' });
      expect(await usage(a)).toEqual(SMALL);
      expect(await usage(b)).toEqual(IDLE);
    } finally {
      await openstackOk(['flavor', 'delete', name]);
    }
  });

  it('refuses what does not fit the state or the request, with Nova\'s messages', async () => {
    const same = await act(id, { resize: { flavorRef: '2' } });
    expect([same.status, same.json.badRequest.message]).toEqual([400, 'When resizing, instances must change flavor!']);
    const unknown = await act(id, { resize: { flavorRef: 'no-such-flavor' } });
    expect([unknown.status, unknown.json.badRequest.message]).toEqual([400, 'Flavor no-such-flavor could not be found.']);
    expect((await act(id, { resize: {} })).status).toBe(400);
    expect((await act(id, { resize: { flavorRef: '3', extra: 1 } })).status).toBe(400);
    const revert = await act(id, { revertResize: null });
    expect([revert.status, revert.json.conflictingRequest.message]).toEqual([409, `Cannot 'revertResize' instance ${id} while it is in vm_state active`]);
    // Before 2.25 a live migration names disk_over_commit too.
    const old = await act(id, { 'os-migrateLive': { host: null, block_migration: false } }, admin, { 'OpenStack-API-Version': 'compute 2.1' });
    expect(old.status).toBe(400);
    const forced = await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto', force: true } }, admin, { 'OpenStack-API-Version': 'compute 2.30' });
    expect([forced.status, forced.json.badRequest.message]).toEqual([400, "Can't force to a non-provided destination"]);
    // Before 2.34 the checks answer the request: the server is already on the named host.
    const self = await act(id, { 'os-migrateLive': { host: a.name, block_migration: false, disk_over_commit: false } }, admin, { 'OpenStack-API-Version': 'compute 2.1' });
    expect([self.status, self.json.badRequest.message]).toEqual([400, `Unable to migrate instance (${id}) to current host (${a.name}).`]);
    expect((await show(id))['OS-EXT-STS:task_state']).toBeNull();
    await openstackOk(['server', 'stop', id]);
    await waitForServer(id, ['SHUTOFF'], admin);
    const live = await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } });
    expect([live.status, live.json.conflictingRequest.message]).toEqual([409, `Cannot 'os-migrateLive' instance ${id} while it is in vm_state stopped`]);
    const cli = await openstack(['server', 'migrate', '--live-migration', id]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain(`while it is in vm_state stopped`);
  });

  it('resizes a stopped server, which stays stopped', async () => {
    await openstackOk(['server', 'resize', '--flavor', 'm1.tiny', '--wait', id]);
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': b.name, 'OS-EXT-STS:power_state': 4 });
    expect(await b.driver.listInstances()).toEqual([{ uuid: id, powerState: 4 }]);
    await openstackOk(['server', 'resize', 'confirm', id]);
    expect(await waitForServer(id, ['SHUTOFF', 'ERROR'], admin)).toMatchObject({ status: 'SHUTOFF', 'OS-EXT-SRV-ATTR:host': b.name });
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(TINY);
  });

  it('keeps the source\'s copy when the source reconnects while the resize waits, and confirms only while it is up', async () => {
    await openstackOk(['server', 'start', id]);
    await waitForServer(id, ['ACTIVE'], admin);
    await openstackOk(['server', 'resize', '--flavor', 'm1.small', '--wait', id]);
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': a.name });
    // The source (b) goes away: a confirm needs it, and says so.
    await b.connector.stop();
    const state = async () => (await api('GET', `/compute/v2.1/os-services?host=${b.name}`, { token: admin })).json.services[0]?.state as string;
    const deadline = Date.now() + 30_000;
    while ((await state()) !== 'down' && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 500));
    const confirm = await act(id, { confirmResize: null });
    expect([confirm.status, confirm.json.conflictingRequest.message]).toEqual([409, 'Service is unavailable at this time.']);
    // Back again, it reports the copy Nova placed elsewhere; the move keeps it from being reaped.
    b = keep(await reconnectTestHost(b));
    expect(await b.driver.listInstances()).toEqual([{ uuid: id, powerState: 4 }]);
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': a.name });
    await openstackOk(['server', 'resize', 'revert', id]);
    expect(await waitForServer(id, ['ACTIVE', 'ERROR'], admin)).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': b.name });
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(TINY);
  });

  it('deletes a server waiting for its resize to be confirmed: both hosts let go', async () => {
    await openstackOk(['server', 'resize', '--flavor', 'm1.small', '--wait', id]);
    expect(await show(id)).toMatchObject({ status: 'VERIFY_RESIZE', 'OS-EXT-SRV-ATTR:host': a.name });
    await openstackOk(['server', 'delete', '--wait', id]);
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && ((await instancesOn(a)).length > 0 || (await instancesOn(b)).length > 0)) await new Promise((ok) => setTimeout(ok, 150));
    expect(await instancesOn(a)).toEqual([]);
    expect(await instancesOn(b)).toEqual([]);
    expect(await usage(a)).toEqual(IDLE);
    expect(await usage(b)).toEqual(IDLE);
  });
});

describe('snapshots and rebuilds', () => {
  const zone = unique('az-image');
  let h: TestHost;
  let id: string;
  let snapshotId: string;

  beforeAll(async () => {
    // Slow enough that the task_states on the way can be seen.
    h = await host(zone, { actionLatencyMs: 600, spawnLatencyMs: 600 });
    id = await bootServer(admin, { name: unique('imaged'), imageRef: imageId, availability_zone: zone });
    await waitForServer(id, ['ACTIVE'], admin);
  });

  it('creates an image of the server with the CLI, through each task_state, and the image goes active', async () => {
    const name = unique('snap');
    const [image, watched] = await Promise.all([
      openstackJson(['server', 'image', 'create', '--wait', '--name', name, id]),
      watchTaskStates(id, admin, { awaitStart: true }),
    ]);
    snapshotId = image.id as string;
    expect(image).toMatchObject({ name, status: 'active', disk_format: 'raw', container_format: 'bare', visibility: 'private' });
    expect(watched.seen).toEqual(expect.arrayContaining(['image_pending_upload', 'image_uploading']));
    expect(watched.server.status).toBe('ACTIVE');
    const glance = await api('GET', `/image/v2/images/${snapshotId}`, { token: admin });
    expect(glance.json).toMatchObject({ instance_uuid: id, image_type: 'snapshot', base_image_ref: imageId, min_disk: 1 });
    expect(glance.json.size).toBeGreaterThan(0);
    expect(await actionEvents(id, 'createImage', admin)).toEqual({ compute_snapshot_instance: 'Success' });
  });

  it('answers with the image id from 2.45 and with a Location header before, and refuses a second one meanwhile', async () => {
    const r = await act(id, { createImage: { name: unique('snap-245'), metadata: { purpose: 'test' } } });
    expect(r.status).toBe(202);
    const image = r.json.image_id as string;
    expect(r.headers.get('Location')).toBeNull();
    const busy = await act(id, { createImage: { name: unique('snap-busy') } });
    expect(busy.status).toBe(409);
    expect(busy.json.conflictingRequest.message).toMatch(new RegExp(`^Cannot 'createImage' instance ${id} while it is in task_state image_`));
    await watchTaskStates(id, admin);
    const shown = await api('GET', `/image/v2/images/${image}`, { token: admin });
    expect(shown.json).toMatchObject({ status: 'active', purpose: 'test' });
    const old = await act(id, { createImage: { name: unique('snap-21') } }, admin, { 'OpenStack-API-Version': 'compute 2.1' });
    expect(old.status).toBe(202);
    expect(old.text).toBe('');
    expect(old.headers.get('Location')).toMatch(/\/image\/images\/[0-9a-f-]{36}$/);
    await watchTaskStates(id, admin);
    for (const i of [image, old.headers.get('Location')!.split('/').pop()!]) await api('DELETE', `/image/v2/images/${i}`, { token: admin });
  });

  it('rebuilds from the snapshot with the CLI: a new image, the same host', async () => {
    await openstackOk(['server', 'rebuild', '--image', snapshotId, '--wait', id]);
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': h.name, image: { id: snapshotId } });
    expect(await h.driver.listInstances()).toEqual([{ uuid: id, powerState: 1 }]);
    expect(await actionEvents(id, 'rebuild', admin)).toEqual({ compute_rebuild_instance: 'Success' });
  });

  it('rebuilds over HTTP with a name, description, key and user data, through rebuilding and rebuild_spawning', async () => {
    const userData = Buffer.from('#!/bin/sh\necho rebuilt\n').toString('base64');
    const r = await act(id, { rebuild: { imageRef: imageId, name: 'rebuilt', description: 'new disk', key_name: null, user_data: userData, metadata: { role: 'web' }, adminPass: 'secret-pass' } });
    expect(r.status).toBe(202);
    expect(r.json.server).toMatchObject({ id, name: 'rebuilt', description: 'new disk', status: 'REBUILD', key_name: null, user_data: userData, adminPass: 'secret-pass', metadata: { role: 'web' } });
    // 2.75: answered as show answers, extended attributes and all.
    expect(r.json.server['OS-EXT-STS:task_state']).toBe('rebuilding');
    const { seen, server } = await watchTaskStates(id, admin);
    expect(seen).toContain('rebuild_spawning');
    expect(server).toMatchObject({ status: 'ACTIVE', name: 'rebuilt', image: { id: imageId } });
    const older = await act(id, { rebuild: { imageRef: imageId } }, admin, { 'OpenStack-API-Version': 'compute 2.74' });
    expect(older.status).toBe(202);
    expect(older.json.server['OS-EXT-STS:task_state']).toBeUndefined();
    expect(older.json.server.user_data).toBeDefined();
    await watchTaskStates(id, admin);
    const tooNew = await act(id, { rebuild: { imageRef: imageId, description: 'x' } }, admin, { 'OpenStack-API-Version': 'compute 2.18' });
    expect(tooNew.status).toBe(400);
  });

  it('rebuilds a stopped server, which stays stopped, and refuses an unknown image or a paused server', async () => {
    await openstackOk(['server', 'stop', id]);
    await waitForServer(id, ['SHUTOFF'], admin);
    expect((await act(id, { rebuild: { imageRef: snapshotId } })).status).toBe(202);
    const { server } = await watchTaskStates(id, admin);
    expect(server).toMatchObject({ status: 'SHUTOFF', image: { id: snapshotId }, 'OS-EXT-STS:power_state': 4 });
    const missing = await act(id, { rebuild: { imageRef: crypto.randomUUID() } });
    expect([missing.status, missing.json.badRequest.message]).toEqual([400, 'Cannot find image for rebuild']);
    expect((await act(id, { rebuild: { imageRef: 'not-a-uuid' } })).status).toBe(400);
    await openstackOk(['server', 'start', id]);
    await waitForServer(id, ['ACTIVE'], admin);
    await openstackOk(['server', 'pause', id]);
    await waitForServer(id, ['PAUSED'], admin);
    const paused = await act(id, { rebuild: { imageRef: imageId } });
    expect([paused.status, paused.json.conflictingRequest.message]).toEqual([409, `Cannot 'rebuild' instance ${id} while it is in vm_state paused`]);
    await openstackOk(['server', 'unpause', id]);
    await waitForServer(id, ['ACTIVE'], admin);
  });

  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
    if (snapshotId) await api('DELETE', `/image/v2/images/${snapshotId}`, { token: admin });
  });
});

describe('what members may do, and locks', () => {
  const zone = unique('az-member');
  let id: string;

  beforeAll(async () => {
    await host(zone);
    await host(zone, { memoryMb: 8192 });
    id = await bootServer(demo, { name: unique('owned'), imageRef: imageId, availability_zone: zone });
    await waitForServer(id, ['ACTIVE'], demo);
  });
  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('leaves migrations to admins', async () => {
    const migrate = await act(id, { migrate: null }, demo);
    expect(migrate.status).toBe(403);
    expect(migrate.json.forbidden.message).toContain('os_compute_api:os-migrate-server:migrate');
    const live = await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } }, demo);
    expect(live.status).toBe(403);
  });

  it('refuses resize and rebuild of a locked server to its owner, not a snapshot', async () => {
    expect((await act(id, { lock: null }, demo)).status).toBe(202);
    for (const body of [{ resize: { flavorRef: '2' } }, { rebuild: { imageRef: imageId } }]) {
      const r = await act(id, body, demo);
      expect([r.status, r.json.conflictingRequest.message]).toEqual([409, `Instance ${id} is locked`]);
    }
    const snap = await act(id, { createImage: { name: unique('locked-snap') } }, demo);
    expect(snap.status).toBe(202);
    await watchTaskStates(id, demo);
    const image = await api('GET', `/image/v2/images/${snap.json.image_id}`, { token: demo });
    expect(image.json).toMatchObject({ status: 'active', visibility: 'private' });
    await api('DELETE', `/image/v2/images/${snap.json.image_id}`, { token: demo });
    expect((await act(id, { unlock: null }, demo)).status).toBe(202);
  });

  it('lets the owner resize and confirm', async () => {
    expect((await act(id, { resize: { flavorRef: '2' } }, demo)).status).toBe(202);
    expect((await waitForServer(id, ['VERIFY_RESIZE', 'ACTIVE', 'ERROR'], demo)).status).toBe('VERIFY_RESIZE');
    expect((await act(id, { confirmResize: null }, demo)).status).toBe(204);
    expect((await waitForServer(id, ['ACTIVE', 'ERROR'], demo)).status).toBe('ACTIVE');
  });
});

describe('moves that fail on the destination', () => {
  const zone = unique('az-fail');
  let good: TestHost;
  let failing: TestHost;
  let id: string;

  beforeAll(async () => {
    // The failing host has less memory: the boot goes to the good one.
    good = await host(zone, { memoryMb: 16_384 });
    failing = await host(zone, { memoryMb: 8192, failureRate: 1 });
    id = await bootServer(admin, { name: unique('stuck'), imageRef: imageId, availability_zone: zone });
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(good.name);
  });
  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('a live migration the destination cannot take rolls back: the server keeps running where it was', async () => {
    expect((await act(id, { 'os-migrateLive': { host: null, block_migration: 'auto' } })).status).toBe(202);
    const { server } = await watchTaskStates(id, admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': good.name, 'OS-EXT-STS:power_state': 1 });
    expect(await actionEvents(id, 'live-migration', admin)).toMatchObject({ compute_pre_live_migration: 'Error' });
    expect(await usage(failing)).toEqual(IDLE);
    expect(await usage(good)).toEqual(TINY);
    expect(await instancesOn(failing)).toEqual([]);
  });

  it('a resize the destination cannot finish leaves the server in ERROR on its old host, with its old flavor and room', async () => {
    expect((await act(id, { resize: { flavorRef: '2' } })).status).toBe(202);
    const server = await waitForServer(id, ['ERROR', 'VERIFY_RESIZE'], admin);
    expect(server).toMatchObject({ status: 'ERROR', 'OS-EXT-SRV-ATTR:host': good.name, 'OS-EXT-STS:task_state': null });
    expect(server.flavor.original_name).toBe('m1.tiny');
    expect(server.fault.message).toMatch(/fake driver failed it on purpose/);
    expect(await usage(failing)).toEqual(IDLE);
    expect(await usage(good)).toEqual(TINY);
    // A hard reboot brings it back where its disk is.
    await openstackOk(['server', 'reboot', '--hard', id]);
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(good.name);
  });
});
