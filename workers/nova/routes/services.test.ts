import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HypervisorView } from '../../../durable-objects/scheduler/types';
import { instances, services } from '../../../schema/nova';
import { database, type Db } from '../db';
import type { Env } from '../env';
import { DEMO, novaTestDb, testApp, type TestDb } from '../test-support';
import { hypervisorRoutes } from './hypervisors';
import { availabilityZoneRoutes, serviceRoutes } from './services';

const S1 = 'aaaaaaaa-0000-4000-8000-000000000001';
const S2 = 'aaaaaaaa-0000-4000-8000-000000000002';
const S3 = 'aaaaaaaa-0000-4000-8000-000000000003';
const H1 = 'bbbbbbbb-0000-4000-8000-000000000001';
const H2 = 'bbbbbbbb-0000-4000-8000-000000000002';
const SERVER = 'cccccccc-0000-4000-8000-000000000001';

const inventory = (name: string) => ({
  hypervisorHostname: name, hypervisorType: 'fake', hypervisorVersion: 1000, hostIp: '10.0.0.1', vcpus: 8, memoryMb: 16384, localGb: 100,
  cpuAllocationRatio: 4, ramAllocationRatio: 1, diskAllocationRatio: 1, reservedHostMemoryMb: 512, reservedHostCpus: 0, reservedHostDiskMb: 0,
  availabilityZone: 'nova', cpuInfo: { arch: 'x86_64', model: 'fake' },
});
const HYPERVISORS: HypervisorView[] = [
  { id: H1, host: 'compute1', state: 'up', status: 'enabled', inventory: inventory('compute1.example'), usedVcpus: 2, usedMemoryMb: 2048, usedDiskGb: 20, runningVms: 1 },
  { id: H2, host: 'compute2', state: 'down', status: 'disabled', inventory: inventory('compute2.example'), usedVcpus: 0, usedMemoryMb: 0, usedDiskGb: 0, runningVms: 0 },
];

const statusCalls: [string, unknown][] = [];
const fakeScheduler = {
  idFromName: () => 'scheduler',
  get: () => ({
    hypervisors: async () => HYPERVISORS,
    setHostStatus: async (host: string, status: unknown) => void statusCalls.push([host, status]),
  }),
} as unknown as Env['SCHEDULER'];

let db: TestDb;
let d: Db;
let api: ReturnType<typeof testApp>;
beforeAll(async () => {
  db = await novaTestDb();
  d = database(db.d1);
  await d.insert(services).values([
    { id: S1, host: 'compute1', availabilityZone: 'nova', up: true, lastSeenAt: '2026-01-01T00:00:00Z', createdAt: 'now' },
    { id: S2, host: 'compute2', availabilityZone: 'az2', disabled: true, disabledReason: 'maintenance', createdAt: 'now' },
    { id: S3, host: 'controller', binary: 'nova-scheduler', availabilityZone: 'internal', up: true, createdAt: 'now' },
  ]);
  await d.insert(instances).values({
    uuid: SERVER, name: 'web', hostname: 'web', projectId: DEMO.projectId, userId: DEMO.userId, imageRef: 'img', flavorId: '1',
    flavor: { id: '1', name: 'm1.tiny', vcpus: 2, ram: 2048, disk: 20, ephemeral: 0, swap: 0, extraSpecs: {} },
    vcpus: 2, memoryMb: 2048, vmState: 'active', reservationId: 'r', createdAt: 'now', updatedAt: 'now', host: 'compute1',
  });
  api = testApp([serviceRoutes, availabilityZoneRoutes, hypervisorRoutes], { DB: db.d1, SCHEDULER: fakeScheduler });
});
afterAll(() => db.dispose());

describe('os-services', () => {
  it('lists services with state and status, filtered by host and binary', async () => {
    const r = await api.request('GET', '/os-services', { version: '2.11' });
    expect(r.json.services[0]).toEqual({
      binary: 'nova-compute', host: 'compute1', id: 1, zone: 'nova', status: 'enabled', state: 'up', updated_at: '2026-01-01T00:00:00Z',
      disabled_reason: null, forced_down: false,
    });
    expect(r.json.services[1]).toMatchObject({ host: 'compute2', status: 'disabled', state: 'down', disabled_reason: 'maintenance' });
    expect((await api.request('GET', '/os-services?binary=nova-compute&host=compute2')).json.services).toHaveLength(1);
    expect((await api.request('GET', '/os-services', { version: '2.53' })).json.services[0].id).toBe(S1);
    expect((await api.request('GET', '/os-services')).json.services[0]).not.toHaveProperty('forced_down');
    expect((await api.request('GET', '/os-services', { as: DEMO })).status).toBe(403);
  });

  it('updates by UUID from 2.53 and tells the Scheduler', async () => {
    statusCalls.length = 0;
    const r = await api.request('PUT', `/os-services/${S1}`, { version: '2.53', body: { status: 'disabled', disabled_reason: 'patching' } });
    expect(r.json.service).toMatchObject({ id: S1, status: 'disabled', disabled_reason: 'patching', forced_down: false });
    expect(statusCalls).toEqual([['compute1', { enabled: false, disabledReason: 'patching', forcedDown: false }]]);
    const down = await api.request('PUT', `/os-services/${S1}`, { version: '2.53', body: { status: 'enabled', forced_down: true } });
    expect(down.json.service).toMatchObject({ status: 'enabled', state: 'down', forced_down: true, disabled_reason: null });
    await api.request('PUT', `/os-services/${S1}`, { version: '2.53', body: { forced_down: false } });
  });

  it('refuses bad updates as Nova does', async () => {
    const put = (id: string, body: unknown, version = '2.53') => api.request('PUT', `/os-services/${id}`, { version, body });
    expect((await put('not-a-uuid', { status: 'enabled' })).json.badRequest.message).toBe('Invalid uuid not-a-uuid');
    expect((await put(S1, {})).json.badRequest.message).toBe("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    expect((await put(S1, { status: 'enabled', disabled_reason: 'x' })).json.badRequest.message).toBe("Specifying 'disabled_reason' with status 'enabled' is invalid.");
    expect((await put(S1, { status: 'off' })).status).toBe(400);
    expect((await put(S3, { status: 'disabled' })).json.badRequest.message).toBe('Updating a nova-scheduler service is not supported. Only nova-compute services can be updated.');
    expect((await put('aaaaaaaa-0000-4000-8000-00000000000f', { status: 'disabled' })).status).toBe(404);
  });

  it('takes the action URLs before 2.53', async () => {
    statusCalls.length = 0;
    const act = (action: string, body: unknown, version = '2.11') => api.request('PUT', `/os-services/${action}`, { version, body });
    expect((await act('disable-log-reason', { host: 'compute1', binary: 'nova-compute', disabled_reason: 'why' })).json).toEqual({
      service: { host: 'compute1', binary: 'nova-compute', status: 'disabled', disabled_reason: 'why' },
    });
    expect((await act('enable', { host: 'compute1', binary: 'nova-compute' })).json).toEqual({ service: { host: 'compute1', binary: 'nova-compute', status: 'enabled' } });
    expect((await act('force-down', { host: 'compute1', binary: 'nova-compute', forced_down: false })).json).toEqual({
      service: { host: 'compute1', binary: 'nova-compute', forced_down: false },
    });
    expect(statusCalls).toHaveLength(3);
    expect((await act('force-down', { host: 'compute1', binary: 'nova-compute', forced_down: true }, '2.10')).status).toBe(400); // no forced_down field at 2.10
    expect((await act('force-down', { host: 'compute1', binary: 'nova-compute' }, '2.10')).json.itemNotFound.message).toBe('Unknown action');
    expect((await act('disable-log-reason', { host: 'compute1', binary: 'nova-compute' })).json.badRequest.message).toBe('Missing disabled reason field');
    expect((await act('disable', { host: 'nowhere', binary: 'nova-compute' })).json.itemNotFound.message).toBe('Could not find binary nova-compute on host nowhere.');
    expect((await act(S1, { status: 'disabled' })).status).toBe(400);
  });

  it('deletes a service only when it hosts no servers', async () => {
    expect((await api.request('DELETE', `/os-services/${S1}`, { version: '2.53' })).status).toBe(409);
    expect((await api.request('DELETE', '/os-services/abc', { version: '2.52' })).status).toBe(400);
    expect((await api.request('DELETE', '/os-services/99', { version: '2.52' })).json.itemNotFound.message).toBe('Service 99 not found.');
    const extra = 'aaaaaaaa-0000-4000-8000-000000000009';
    await d.insert(services).values({ id: extra, host: 'spare', createdAt: 'now' });
    expect((await api.request('DELETE', `/os-services/${extra}`, { version: '2.53' })).status).toBe(204);
    expect((await api.request('DELETE', `/os-services/${extra}`, { version: '2.53' })).status).toBe(404);
  });
});

describe('os-availability-zone', () => {
  it('lists zones: available where a service is enabled', async () => {
    const r = await api.request('GET', '/os-availability-zone', { as: DEMO });
    // The internal zone (of non-compute services) is left out, as in Nova.
    expect(r.json.availabilityZoneInfo).toEqual([
      { zoneName: 'nova', zoneState: { available: true }, hosts: null },
      { zoneName: 'az2', zoneState: { available: false }, hosts: null },
    ]);
  });

  it('details the hosts of available zones for admins', async () => {
    const r = await api.request('GET', '/os-availability-zone/detail');
    const nova = r.json.availabilityZoneInfo.find((z: any) => z.zoneName === 'nova');
    expect(nova.hosts).toEqual({ compute1: { 'nova-compute': { available: true, active: true, updated_at: '2026-01-01T00:00:00Z' } } });
    expect((await api.request('GET', '/os-availability-zone/detail', { as: DEMO })).status).toBe(403);
  });
});

describe('os-hypervisors', () => {
  it('lists with integer ids before 2.53, UUIDs after, and pages', async () => {
    expect((await api.request('GET', '/os-hypervisors')).json).toEqual({
      hypervisors: [
        { id: 1, hypervisor_hostname: 'compute1.example', state: 'up', status: 'enabled' },
        { id: 2, hypervisor_hostname: 'compute2.example', state: 'down', status: 'disabled' },
      ],
    });
    const page = await api.request('GET', '/os-hypervisors?limit=1', { version: '2.53' });
    expect(page.json.hypervisors.map((h: any) => h.id)).toEqual([H1]);
    expect(page.json.hypervisors_links).toEqual([{ rel: 'next', href: `http://cloud.test/compute/v2.1/os-hypervisors?limit=1&marker=${H1}` }]);
    expect((await api.request('GET', `/os-hypervisors?marker=${H1}`, { version: '2.53' })).json.hypervisors.map((h: any) => h.id)).toEqual([H2]);
    expect((await api.request('GET', '/os-hypervisors?marker=1', { version: '2.33' })).json.hypervisors.map((h: any) => h.id)).toEqual([2]);
    expect((await api.request('GET', '/os-hypervisors?marker=9', { version: '2.33' })).status).toBe(400);
    expect((await api.request('GET', '/os-hypervisors', { as: DEMO })).status).toBe(403);
  });

  it('details usage, cpu_info per microversion, and servers on request', async () => {
    const old = (await api.request('GET', '/os-hypervisors/detail', { version: '2.27' })).json.hypervisors[0];
    expect(old).toMatchObject({
      vcpus: 8, vcpus_used: 2, memory_mb: 16384, memory_mb_used: 2560, free_ram_mb: 13824, local_gb: 100, local_gb_used: 20,
      free_disk_gb: 80, running_vms: 1, hypervisor_type: 'fake', service: { id: 1, host: 'compute1', disabled_reason: null },
    });
    expect(typeof old.cpu_info).toBe('string');
    const v = (await api.request('GET', '/os-hypervisors/detail?with_servers=true', { version: '2.75' })).json.hypervisors;
    expect(v[0].cpu_info).toEqual({ arch: 'x86_64', model: 'fake' });
    expect(v[0].servers).toEqual([{ name: 'web', uuid: SERVER }]);
    expect(v[1].servers).toEqual([]);
    const found = await api.request('GET', '/os-hypervisors?hypervisor_hostname_pattern=compute2', { version: '2.53' });
    expect(found.json.hypervisors.map((h: any) => h.id)).toEqual([H2]);
    expect((await api.request('GET', '/os-hypervisors?hypervisor_hostname_pattern=nope', { version: '2.53' })).status).toBe(404);
    expect((await api.request('GET', '/os-hypervisors?hypervisor_hostname_pattern=c&limit=1', { version: '2.53' })).status).toBe(400);
    expect((await api.request('GET', '/os-hypervisors?bogus=1', { version: '2.53' })).status).toBe(400);
  });

  it('shows one hypervisor, and answers unknown ids as Nova does', async () => {
    expect((await api.request('GET', '/os-hypervisors/2')).json.hypervisor).toMatchObject({ id: 2, hypervisor_hostname: 'compute2.example' });
    expect((await api.request('GET', `/os-hypervisors/${H1}?with_servers=1`, { version: '2.53' })).json.hypervisor.servers).toHaveLength(1);
    expect((await api.request('GET', '/os-hypervisors/abc')).status).toBe(404);
    expect((await api.request('GET', '/os-hypervisors/abc', { version: '2.53' })).json.badRequest.message).toBe('Invalid uuid abc');
    expect((await api.request('GET', '/os-hypervisors/bbbbbbbb-0000-4000-8000-00000000000f', { version: '2.53' })).status).toBe(404);
    expect((await api.request('GET', '/os-hypervisors/1/uptime')).json).toEqual({ notImplemented: { code: 501, message: 'The requested functionality is not supported.' } });
    expect((await api.request('GET', '/os-hypervisors/7/uptime')).status).toBe(404);
  });

  it('searches and lists servers by pattern before 2.53, and sums statistics of enabled hosts', async () => {
    expect((await api.request('GET', '/os-hypervisors/compute1/search')).json.hypervisors.map((h: any) => h.id)).toEqual([1]);
    expect((await api.request('GET', '/os-hypervisors/compute_/servers')).json.hypervisors[0].servers).toEqual([{ name: 'web', uuid: SERVER }]);
    expect((await api.request('GET', '/os-hypervisors/compute1/search', { version: '2.53' })).status).toBe(404);
    const stats = (await api.request('GET', '/os-hypervisors/statistics')).json.hypervisor_statistics;
    expect(stats).toMatchObject({ count: 1, vcpus: 8, vcpus_used: 2, running_vms: 1, memory_mb_used: 2560 });
  });
});
