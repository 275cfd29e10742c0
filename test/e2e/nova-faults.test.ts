// Builds and moves that meet trouble: a host whose spawns fail, a connector killed
// mid-build or mid-move, a host that stops answering and comes back, and server group
// anti-affinity with too few hosts. Each case has hosts of its own, in an availability
// zone of its own.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, openstackJson, openstackOk } from '../cli';
import {
  actionEvents, bootServer, bootstrapImageId, countSpawns, hypervisorUsage, reconnectTestHost, serviceState, suiteHosts, unique, waitForServer, waitForServiceState, watchTaskStates, type TestHost,
} from '../compute';

let admin: string;
let imageId: string;
const { start: host, keep } = suiteHosts('h');

beforeAll(async () => {
  admin = await adminToken();
  imageId = await bootstrapImageId(admin);
});

// Hosts that fail or stall their spawns are small: a boot of another suite that names no
// zone may go to any host, and the spreading weigher sends it to the roomiest ones.
describe('rescheduling', () => {
  it('moves a build to another host when the spawn fails', async () => {
    const zone = unique('az-fail');
    // The failing host has more memory, so the spreading weigher tries it first.
    const failing = await host(zone, { failureRate: 1, memoryMb: 4096 });
    const good = await host(zone, { memoryMb: 2048 });
    const tries = countSpawns(failing.driver);
    const id = await bootServer(admin, { name: unique('resched'), imageRef: imageId, availability_zone: zone });
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin);
    expect(server.status).toBe('ACTIVE');
    expect(server['OS-EXT-SRV-ATTR:host']).toBe(good.name);
    expect(tries.count).toBe(1);
    expect(await failing.driver.listInstances()).toEqual([]);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('puts the server in ERROR with "No valid host was found" when every host fails', async () => {
    const zone = unique('az-allfail');
    await host(zone, { failureRate: 1, memoryMb: 2048 });
    await host(zone, { failureRate: 1, memoryMb: 2048 });
    const id = await bootServer(admin, { name: unique('doomed'), imageRef: imageId, availability_zone: zone });
    const server = await waitForServer(id, ['ERROR', 'ACTIVE'], admin);
    expect(server.status).toBe('ERROR');
    expect(server.fault.message).toMatch(/^No valid host was found/);
    expect(server['OS-EXT-SRV-ATTR:host']).toBeNull();
    const usage = await openstackJson<{ vcpus_used: number }[]>(['hypervisor', 'list', '--long']);
    expect(usage).toBeTruthy();
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('reschedules a build whose host was killed mid-build', async () => {
    const zone = unique('az-kill');
    const slow = await host(zone, { spawnLatencyMs: 120_000, memoryMb: 4096 });
    const other = await host(zone, { memoryMb: 2048 });
    const tries = countSpawns(slow.driver);
    const id = await bootServer(admin, { name: unique('orphan'), imageRef: imageId, availability_zone: zone });
    const deadline = Date.now() + 20_000;
    while (tries.count === 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 100));
    expect(tries.count).toBe(1);
    slow.connector.kill();
    const server = await waitForServer(id, ['ACTIVE', 'ERROR'], admin, 60_000);
    expect(server.status).toBe('ACTIVE');
    expect(server['OS-EXT-SRV-ATTR:host']).toBe(other.name);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });
});

describe('compute services', () => {
  it('shows a stopped connector as down, and up again when it reconnects', async () => {
    const zone = unique('az-svc');
    const h = await host(zone);
    expect(await serviceState(h.name)).toBe('up');
    await h.connector.stop();
    expect(await waitForServiceState(h.name, 'down')).toBe('down');
    keep(await reconnectTestHost(h));
    expect(await serviceState(h.name)).toBe('up');
  });
});

describe('reconciliation when a host reconnects', () => {
  it('shuts off a server the host no longer runs', async () => {
    const zone = unique('az-recon');
    const h = await host(zone);
    const id = await bootServer(admin, { name: unique('lost'), imageRef: imageId, availability_zone: zone });
    await waitForServer(id, ['ACTIVE'], admin);
    await h.connector.stop();
    // The host lost the instance while it was away (a hypervisor restart, say).
    await h.driver.destroy(id);
    keep(await reconnectTestHost(h));
    const server = await waitForServer(id, ['SHUTOFF'], admin, 20_000);
    expect(server['OS-EXT-STS:power_state']).toBe(0);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('deletes a server whose host is down at once, and destroys it on the host when it returns', async () => {
    const zone = unique('az-localdel');
    const h = await host(zone);
    const id = await bootServer(admin, { name: unique('stranded'), imageRef: imageId, availability_zone: zone });
    await waitForServer(id, ['ACTIVE'], admin);
    await h.connector.stop();
    expect(await waitForServiceState(h.name, 'down')).toBe('down');
    // Nova's local delete: the API ends it without the host, and frees its claim.
    expect((await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin })).status).toBe(204);
    expect((await api('GET', `/compute/v2.1/servers/${id}`, { token: admin })).status).toBe(404);
    expect(await hypervisorUsage(admin, h.name)).toMatchObject({ vcpus_used: 0, running_vms: 0 });
    expect((await h.driver.listInstances()).map((i) => i.uuid)).toEqual([id]);
    keep(await reconnectTestHost(h));
    const gone = Date.now() + 20_000;
    while ((await h.driver.listInstances()).length > 0 && Date.now() < gone) await new Promise((ok) => setTimeout(ok, 200));
    expect(await h.driver.listInstances()).toEqual([]);
  });
});

describe('server groups', () => {
  it('places anti-affinity members on distinct hosts and the third of two hosts nowhere', async () => {
    const zone = unique('az-anti');
    await host(zone);
    await host(zone);
    const group = await openstackJson(['server', 'group', 'create', '--policy', 'anti-affinity', unique('anti')]);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      ids.push(await bootServer(admin, { name: unique('member'), imageRef: imageId, availability_zone: zone }, { group: group.id }));
    }
    const servers = await Promise.all(ids.map((id) => waitForServer(id, ['ACTIVE', 'ERROR'], admin)));
    const active = servers.filter((s) => s.status === 'ACTIVE');
    expect(active).toHaveLength(2);
    expect(new Set(active.map((s) => s['OS-EXT-SRV-ATTR:host'])).size).toBe(2);
    const failed = servers.find((s) => s.status === 'ERROR');
    expect(failed?.fault.message).toMatch(/^No valid host was found/);
    for (const id of ids) await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });
});

describe('moves whose host is killed mid-way', () => {
  const IDLE = { vcpus_used: 0, memory_mb_used: 512, local_gb_used: 0, running_vms: 0 };
  const TINY = { vcpus_used: 1, memory_mb_used: 512 + 512, local_gb_used: 1, running_vms: 1 };
  const V = { 'OpenStack-API-Version': 'compute 2.79' };

  /** Two hosts in a zone of their own; the roomier one, `source`, gets the server. */
  async function pair(slow: 'source' | 'dest'): Promise<{ source: TestHost; dest: TestHost; id: string }> {
    const zone = unique('az-movekill');
    // The slow host's move steps take two minutes: long enough to be killed in one. Small
    // hosts, so that other suites' boots without a zone go to roomier ones, not to these.
    const source = await host(zone, { memoryMb: 6144, ...(slow === 'source' ? { actionLatencyMs: 120_000 } : {}) });
    const dest = await host(zone, { memoryMb: 4096, ...(slow === 'dest' ? { actionLatencyMs: 120_000 } : {}) });
    const id = await bootServer(admin, { name: unique('moved'), imageRef: imageId, availability_zone: zone });
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(source.name);
    return { source, dest, id };
  }

  async function taskState(id: string, wanted: string): Promise<void> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const r = await api('GET', `/compute/v2.1/servers/${id}`, { token: admin, headers: V });
      if (r.json.server['OS-EXT-STS:task_state'] === wanted) return;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`server ${id} never reached task_state ${wanted}`);
  }

  const migrationOf = async (id: string) => (await api('GET', `/compute/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, headers: V })).json.migrations[0];

  it('a resize whose destination dies while finishing: ERROR on the source with its old flavor, the destination\'s claim released', async () => {
    const { source, dest, id } = await pair('dest');
    expect((await api('POST', `/compute/v2.1/servers/${id}/action`, { token: admin, body: { resize: { flavorRef: '2' } }, headers: V })).status).toBe(202);
    await taskState(id, 'resize_finish');
    dest.connector.kill();
    const server = await waitForServer(id, ['ERROR', 'VERIFY_RESIZE'], admin, 60_000);
    expect(server).toMatchObject({ status: 'ERROR', 'OS-EXT-SRV-ATTR:host': source.name, 'OS-EXT-STS:task_state': null });
    expect(server.flavor.original_name).toBe('m1.tiny');
    expect(server.fault.message).toBe(`Host ${dest.name} stopped answering.`);
    expect(await migrationOf(id)).toMatchObject({ status: 'error', migration_type: 'resize', dest_compute: dest.name });
    expect(await actionEvents(id, 'resize', admin)).toMatchObject({ compute_resize_instance: 'Success', compute_finish_resize: 'Error' });
    expect(await hypervisorUsage(admin, dest.name)).toEqual(IDLE);
    expect(await hypervisorUsage(admin, source.name)).toEqual(TINY);
    // Its disk is still on the source: a hard reboot brings it back there.
    await openstackOk(['server', 'reboot', '--hard', id]);
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(source.name);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('a cold migration whose source dies while handing the disk over: ERROR where it was', async () => {
    const { source, dest, id } = await pair('source');
    expect((await api('POST', `/compute/v2.1/servers/${id}/action`, { token: admin, body: { migrate: null }, headers: V })).status).toBe(202);
    await taskState(id, 'resize_migrating');
    source.connector.kill();
    const server = await waitForServer(id, ['ERROR', 'VERIFY_RESIZE'], admin, 60_000);
    expect(server).toMatchObject({ status: 'ERROR', 'OS-EXT-SRV-ATTR:host': source.name, 'OS-EXT-STS:task_state': null });
    expect(server.fault.message).toBe(`Host ${source.name} stopped answering.`);
    expect(await migrationOf(id)).toMatchObject({ status: 'error', migration_type: 'migration' });
    expect(await hypervisorUsage(admin, dest.name)).toEqual(IDLE);
    expect(await dest.driver.listInstances()).toEqual([]);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('a live migration whose destination dies while preparing: still ACTIVE on the source', async () => {
    const { source, dest, id } = await pair('dest');
    expect((await api('POST', `/compute/v2.1/servers/${id}/action`, { token: admin, body: { 'os-migrateLive': { host: null, block_migration: 'auto' } }, headers: V })).status).toBe(202);
    expect(await migrationOf(id)).toMatchObject({ status: 'preparing', dest_compute: dest.name });
    dest.connector.kill();
    const { server } = await watchTaskStates(id, admin, { timeoutMs: 60_000 });
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': source.name, 'OS-EXT-STS:power_state': 1 });
    expect(await migrationOf(id)).toMatchObject({ status: 'error', migration_type: 'live-migration' });
    const events = await actionEvents(id, 'live-migration', admin);
    expect(events.compute_pre_live_migration).toBe('Error');
    expect(await hypervisorUsage(admin, dest.name)).toEqual(IDLE);
    expect(await hypervisorUsage(admin, source.name)).toEqual(TINY);
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });
});
