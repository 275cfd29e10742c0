// Compute services, availability zones and hypervisors through the openstack CLI. The
// suite runs a host of its own (a fake driver behind a real connector) in a zone of its
// own, disabled at once so no other suite's servers land there, and changes only that
// host: disable with a reason, force down and up, enable once it is down, delete.
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';
import { startTestHost, stopTestHost, unique, type TestHost } from '../compute';

const v = (version: string) => ({ 'OpenStack-API-Version': `compute ${version}` });
type Service = { ID: string | number; Binary: string; Host: string; Zone: string; Status: string; State: string; 'Disabled Reason'?: string | null; 'Forced Down'?: boolean };

let admin: string;
let host: TestHost;
let zone: string;
let serviceId: string;
let stopped = false;

/** The suite host's row of `openstack compute service list`. */
async function serviceRow(extra: string[] = []): Promise<Service> {
  const rows = await openstackJson<Service[]>([...extra, 'compute', 'service', 'list', '--host', host.name, '--long']);
  expect(rows).toHaveLength(1);
  return rows[0]!;
}

async function until<T>(what: string, f: () => Promise<T>, ok: (t: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const t = await f();
    if (ok(t)) return t;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(t)}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  admin = await adminToken();
  zone = unique('az');
  host = await startTestHost(unique('svc'), { zone });
  const listed = await api('GET', `/compute/v2.1/os-services?host=${host.name}`, { token: admin, headers: v('2.53') });
  serviceId = listed.json.services[0].id;
  const off = await api('PUT', `/compute/v2.1/os-services/${serviceId}`, {
    token: admin, headers: v('2.53'), body: { status: 'disabled', disabled_reason: 'e2e: not for servers' },
  });
  expect(off.status).toBe(200);
});

afterAll(async () => {
  if (!stopped) await stopTestHost(host);
});

describe('compute services', () => {
  it('lists the host\'s nova-compute service, up and disabled', async () => {
    const row = await serviceRow();
    expect(row).toMatchObject({ ID: serviceId, Binary: 'nova-compute', Host: host.name, Zone: zone, Status: 'disabled', State: 'up', 'Disabled Reason': 'e2e: not for servers' });
    const all = await openstackJson<Service[]>(['compute', 'service', 'list', '--service', 'nova-compute']);
    expect(all.map((r) => r.Host)).toContain(host.name);
    // Before 2.53 ids are integers.
    const old = await api('GET', `/compute/v2.1/os-services?host=${host.name}`, { token: admin });
    expect(typeof old.json.services[0].id).toBe('number');
    expect(old.json.services[0]).not.toHaveProperty('forced_down');
  });

  it('disables with a reason and forces down and up, by UUID (2.53) and by host and binary (before)', async () => {
    await openstackOk(['compute', 'service', 'set', '--disable', '--disable-reason', 'maintenance', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'maintenance' });
    await openstackOk(['--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--disable', '--disable-reason', 'old-style', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ Status: 'disabled', 'Disabled Reason': 'old-style' });

    await openstackOk(['compute', 'service', 'set', '--down', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ State: 'down', 'Forced Down': true });
    await openstackOk(['--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--up', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ State: 'up', 'Forced Down': false });
  });

  it('shows the host as down once its connector is gone, and enables it then', async () => {
    await stopTestHost(host);
    stopped = true;
    await until('service state', () => serviceRow(), (r) => r.State === 'down');
    await openstackOk(['compute', 'service', 'set', '--enable', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ Status: 'enabled', State: 'down', 'Disabled Reason': null });
    await openstackOk(['--os-compute-api-version', '2.11', 'compute', 'service', 'set', '--disable', host.name, 'nova-compute']);
    expect(await serviceRow()).toMatchObject({ Status: 'disabled' });
  });

  it('refuses bad updates and non-admins as Nova does', async () => {
    const put = (id: string, body: unknown, version = '2.53') => api('PUT', `/compute/v2.1/os-services/${id}`, { token: admin, body, headers: v(version) });
    expect((await put('not-a-uuid', { status: 'enabled' })).json).toEqual({ badRequest: { code: 400, message: 'Invalid uuid not-a-uuid' } });
    expect((await put(serviceId, {})).json.badRequest.message).toBe("No updates were requested. Fields 'status' or 'forced_down' should be specified.");
    expect((await put(serviceId, { status: 'enabled', disabled_reason: 'x' })).status).toBe(400);
    expect((await put(serviceId, { status: 'paused' })).status).toBe(400);
    expect((await put('00000000-0000-4000-8000-000000000000', { status: 'enabled' })).status).toBe(404);
    expect((await put('explode', { host: host.name, binary: 'nova-compute' }, '2.1')).json).toEqual({ itemNotFound: { code: 404, message: 'Unknown action' } });
    expect((await put('disable', { host: 'no-such-host', binary: 'nova-compute' }, '2.1')).json.itemNotFound.message).toBe(
      'Could not find binary nova-compute on host no-such-host.',
    );
    const demo = await openstack(['compute', 'service', 'list'], { cloud: 'flarestack-demo' });
    expect(demo.code).not.toBe(0);
    expect(demo.stderr).toMatch(/403/);
  });
});

describe('availability zones', () => {
  it('lists zones with their state, and the hosts in them for admins', async () => {
    const zones = await openstackJson<{ 'Zone Name': string; 'Zone Status': string }[]>(['availability', 'zone', 'list', '--compute'], { cloud: 'flarestack-demo' });
    expect(zones).toContainEqual({ 'Zone Name': 'nova', 'Zone Status': 'available' });
    // The suite's zone holds one disabled service: not available.
    expect(zones).toContainEqual({ 'Zone Name': zone, 'Zone Status': 'not available' });
    const long = await openstackJson<Record<string, string>[]>(['availability', 'zone', 'list', '--compute', '--long']);
    expect(long.filter((r) => r['Zone Name'] === 'nova' && r['Service Name'] === 'nova-compute').length).toBeGreaterThan(0);
    const detail = await api('GET', '/compute/v2.1/os-availability-zone/detail', { token: admin });
    const nova = detail.json.availabilityZoneInfo.find((z: any) => z.zoneName === 'nova');
    const [someHost] = Object.values(nova.hosts) as Record<string, { available: boolean; active: boolean; updated_at: string }>[];
    expect(someHost!['nova-compute']).toMatchObject({ active: true });
    expect((await api('GET', '/compute/v2.1/os-availability-zone/detail', { token: (await demoToken()) })).status).toBe(403);
  });
});

describe('hypervisors', () => {
  it('lists and shows hypervisors with their inventory and usage', async () => {
    const rows = await openstackJson<{ ID: string | number; 'Hypervisor Hostname': string; State: string }[]>(['hypervisor', 'list']);
    const mine = rows.find((r) => r['Hypervisor Hostname'] === host.name);
    expect(mine).toBeDefined();
    // (`openstack hypervisor show` also lists host aggregates, which this cloud does not have yet.)
    const shown = await api('GET', `/compute/v2.1/os-hypervisors/${mine!.ID}`, { token: admin });
    expect(shown.json.hypervisor).toMatchObject({ hypervisor_hostname: host.name, hypervisor_type: 'fake', vcpus: 8, memory_mb: 16384, local_gb: 200 });
    const uptime = await api('GET', `/compute/v2.1/os-hypervisors/${mine!.ID}/uptime`, { token: admin });
    expect(uptime.json).toEqual({ notImplemented: { code: 501, message: 'The requested functionality is not supported.' } });
    const list253 = await api('GET', '/compute/v2.1/os-hypervisors/detail?with_servers=true', { token: admin, headers: v('2.75') });
    const h = list253.json.hypervisors.find((x: any) => x.hypervisor_hostname === host.name);
    expect(h).toMatchObject({ status: 'disabled', service: { id: serviceId, host: host.name }, servers: [] });
    expect(h.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(typeof h.cpu_info).toBe('object');
    const byId = await api('GET', `/compute/v2.1/os-hypervisors/${h.id}`, { token: admin, headers: v('2.53') });
    expect(byId.json.hypervisor.hypervisor_hostname).toBe(host.name);
    const old = await api('GET', `/compute/v2.1/os-hypervisors/${mine!.ID}`, { token: admin, headers: v('2.27') });
    expect(typeof old.json.hypervisor.cpu_info).toBe('string');
    const stats = await openstackJson<Record<string, number>>(['hypervisor', 'stats', 'show']);
    expect(stats.count).toBeGreaterThan(0);
    const search = await api('GET', `/compute/v2.1/os-hypervisors/${host.name}/search`, { token: admin });
    expect(search.json.hypervisors.map((x: any) => x.hypervisor_hostname)).toEqual([host.name]);
    expect((await api('GET', '/compute/v2.1/os-hypervisors/no-such-host/search', { token: admin })).json.itemNotFound.message).toBe(
      "No hypervisor matching 'no-such-host' could be found.",
    );
    expect((await api('GET', '/compute/v2.1/os-hypervisors/99999', { token: admin })).json.itemNotFound.message).toBe(
      "Hypervisor with ID '99999' could not be found.",
    );
    expect((await api('GET', '/compute/v2.1/os-hypervisors/abc', { token: admin, headers: v('2.53') })).status).toBe(400);
    expect((await api('GET', '/compute/v2.1/os-hypervisors', { token: await demoToken() })).status).toBe(403);
  });
});

describe('deleting a compute service', () => {
  it('removes the service and its hypervisor from the lists', async () => {
    await openstackOk(['compute', 'service', 'delete', serviceId]);
    expect(await openstackJson<Service[]>(['compute', 'service', 'list', '--host', host.name])).toEqual([]);
    expect((await api('GET', '/compute/v2.1/os-hypervisors', { token: admin })).json.hypervisors.map((x: any) => x.hypervisor_hostname)).not.toContain(host.name);
    expect((await api('DELETE', `/compute/v2.1/os-services/${serviceId}`, { token: admin, headers: v('2.53') })).json).toEqual({
      itemNotFound: { code: 404, message: `Service ${serviceId} not found.` },
    });
  });
});

async function demoToken(): Promise<string> {
  return (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
}
