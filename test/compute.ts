// Compute test helpers: hosts of the suite's own (a fake driver behind a real connector
// dialling the test cloud), and waiting for servers to reach a status.
import { afterAll, inject } from 'vitest';
import { startConnector, type ConnectorHandle } from '../connector/connector';
import { FakeDriver, type FakeDriverOptions } from '../connector/drivers/fake';
import { adminToken, api, openstackJson } from './cli';

/** Counts the spawns a fake driver is asked for. */
export function countSpawns(driver: FakeDriver): { count: number } {
  const counter = { count: 0 };
  const spawn = driver.spawn.bind(driver);
  driver.spawn = (instance) => {
    counter.count++;
    return spawn(instance);
  };
  return counter;
}

export interface TestHost {
  name: string;
  driver: FakeDriver;
  connector: ConnectorHandle;
  credentialId: string;
  credential: string;
}

let seq = 0;
export const unique = (prefix: string) => `${prefix}-${process.pid}-${Date.now().toString(36)}-${++seq}`;

/** Registers a host credential and starts a connector with a fake driver for it. */
export async function startTestHost(
  name: string,
  opts: FakeDriverOptions & { zone?: string; vcpus?: number; memoryMb?: number; diskGb?: number } = {},
  cloud: { url: string; token: string } | null = null,
): Promise<TestHost> {
  const url = cloud?.url ?? inject('cloud').url;
  const t = cloud?.token ?? (await adminToken());
  const res = await fetch(`${url}/compute/v2.1/os-host-credentials`, {
    method: 'POST',
    headers: { 'X-Auth-Token': t, 'Content-Type': 'application/json' },
    body: JSON.stringify({ host_credential: { host: name } }),
  });
  const created = { status: res.status, text: await res.text(), json: undefined as any };
  created.json = created.status === 201 ? JSON.parse(created.text) : undefined;
  if (created.status !== 201) throw new Error(`host credential for ${name}: ${created.status} ${created.text}`);
  const { id, credential } = created.json.host_credential as { id: string; credential: string };
  const { zone, vcpus, memoryMb, diskGb, ...rest } = opts;
  const fake = new FakeDriver({
    ...rest,
    inventory: { hypervisorHostname: name, availabilityZone: zone ?? 'nova', vcpus: vcpus ?? 8, memoryMb: memoryMb ?? 16384, localGb: diskGb ?? 200, ...rest.inventory },
  });
  const connector = startConnector({ url, credential, driver: fake, backoff: { initialMs: 200, maxMs: 1000 } });
  await connector.connected();
  return { name, driver: fake, connector, credentialId: id, credential };
}

export async function stopTestHost(h: TestHost): Promise<void> {
  await h.connector.stop();
}

/**
 * The hosts of a suite (or of the describe block it is called in), all stopped when it
 * ends: `start` starts one named after `prefix` in a zone, `keep` adds one made otherwise
 * (a reconnected host).
 */
export function suiteHosts(prefix: string) {
  const hosts: TestHost[] = [];
  afterAll(async () => {
    await Promise.all(hosts.map((h) => stopTestHost(h).catch(() => undefined)));
  });
  const keep = (h: TestHost): TestHost => {
    hosts.push(h);
    return h;
  };
  const start = async (zone: string, opts: Parameters<typeof startTestHost>[1] = {}) => keep(await startTestHost(unique(prefix), { zone, ...opts }));
  return { start, keep };
}

/** The state (up or down) `openstack compute service list` shows for a host's compute service. */
export async function serviceState(host: string): Promise<string | undefined> {
  return (await openstackJson<{ State: string }[]>(['compute', 'service', 'list', '--host', host]))[0]?.State;
}

/** Polls a host's compute service until it shows `state` or the time is up; returns the state seen last. */
export async function waitForServiceState(host: string, state: 'up' | 'down', timeoutMs = 30_000): Promise<string | undefined> {
  const deadline = Date.now() + timeoutMs;
  let seen = await serviceState(host);
  while (seen !== state && Date.now() < deadline) {
    await new Promise((ok) => setTimeout(ok, 1000));
    seen = await serviceState(host);
  }
  return seen;
}

/** A new connector for a host whose connector stopped: same credential, same driver (and so the same instances). */
export async function reconnectTestHost(h: TestHost): Promise<TestHost> {
  const connector = startConnector({ url: inject('cloud').url, credential: h.credential, driver: h.driver, backoff: { initialMs: 200, maxMs: 1000 } });
  await connector.connected();
  return { ...h, connector };
}

/** Polls a server until its status is one of `statuses` (or it is gone, for DELETED). */
export async function waitForServer(id: string, statuses: string[], token: string, timeoutMs = 60_000): Promise<Record<string, any>> {
  const deadline = Date.now() + timeoutMs;
  let last: Record<string, any> = {};
  while (Date.now() < deadline) {
    const r = await api('GET', `/compute/v2.1/servers/${id}`, { token, headers: { 'OpenStack-API-Version': 'compute 2.79' } });
    if (r.status === 404 && statuses.includes('DELETED')) return { status: 'DELETED' };
    if (r.status === 200) {
      last = r.json.server;
      if (statuses.includes(last.status)) return last;
    }
    await new Promise((ok) => setTimeout(ok, 150));
  }
  throw new Error(`server ${id} did not reach ${statuses.join('/')}: last ${JSON.stringify(last).slice(0, 600)}`);
}

/** Boots a server over HTTP and returns its id. */
export async function bootServer(token: string, server: Record<string, unknown>, hints?: Record<string, unknown>): Promise<string> {
  const r = await api('POST', '/compute/v2.1/servers', {
    token,
    body: { server: { flavorRef: '1', networks: 'none', ...server }, ...(hints ? { 'os:scheduler_hints': hints } : {}) },
    headers: { 'OpenStack-API-Version': 'compute 2.79' },
  });
  if (r.status !== 202) throw new Error(`boot: ${r.status} ${r.text}`);
  return r.json.server.id as string;
}

/** The id of the public image every fresh cloud has. */
export async function bootstrapImageId(token: string): Promise<string> {
  const r = await api('GET', '/image/v2/images?visibility=public', { token });
  const image = (r.json.images as { id: string; name: string; status: string }[]).find((i) => i.status === 'active');
  if (!image) throw new Error('no public image');
  return image.id;
}

/** A hypervisor's usage, as GET /os-hypervisors/detail shows it (memory and disk count the host's reserve as used). */
export interface HypervisorUsage {
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
}

/** The usage of the hypervisor named `hostname`, over HTTP. */
export async function hypervisorUsage(token: string, hostname: string): Promise<HypervisorUsage> {
  const r = await api('GET', '/compute/v2.1/os-hypervisors/detail', { token });
  if (r.status !== 200) throw new Error(`os-hypervisors/detail: ${r.status} ${r.text}`);
  const h = (r.json.hypervisors as (HypervisorUsage & { hypervisor_hostname: string })[]).find((x) => x.hypervisor_hostname === hostname);
  if (!h) throw new Error(`no hypervisor ${hostname}`);
  return { vcpus_used: h.vcpus_used, memory_mb_used: h.memory_mb_used, local_gb_used: h.local_gb_used, running_vms: h.running_vms };
}

/** The events of a server's latest instance action named `action`, as event name → result (admin). */
export async function actionEvents(id: string, action: string, token: string): Promise<Record<string, string | null>> {
  const list = await api('GET', `/compute/v2.1/servers/${id}/os-instance-actions`, { token });
  const found = (list.json.instanceActions as { action: string; request_id: string }[]).find((a) => a.action === action);
  if (!found) throw new Error(`server ${id} has no action ${action}: ${list.text}`);
  const shown = await api('GET', `/compute/v2.1/servers/${id}/os-instance-actions/${found.request_id}`, { token });
  const events = shown.json.instanceAction.events as { event: string; result: string | null }[];
  return Object.fromEntries(events.map((e) => [e.event, e.result]));
}

/**
 * Polls a server until its task_state is null, collecting every task_state seen on the way.
 * With `awaitStart`, a null task_state before any other counts as "not started yet".
 */
export async function watchTaskStates(id: string, token: string, opts: { awaitStart?: boolean; timeoutMs?: number } = {}): Promise<{ seen: string[]; server: Record<string, any> }> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const seen: string[] = [];
  while (Date.now() < deadline) {
    const r = await api('GET', `/compute/v2.1/servers/${id}`, { token, headers: { 'OpenStack-API-Version': 'compute 2.79' } });
    const server = r.json.server as Record<string, any>;
    const task = server['OS-EXT-STS:task_state'] as string | null;
    if (task === null && (seen.length > 0 || !opts.awaitStart)) return { seen, server };
    if (task !== null && seen[seen.length - 1] !== task) seen.push(task);
    await new Promise((ok) => setTimeout(ok, 60));
  }
  throw new Error(`server ${id} kept a task_state: ${seen.join(', ')}`);
}
