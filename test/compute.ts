// Compute test helpers: hosts of the suite's own (a fake driver behind a real connector
// dialling the test cloud), and waiting for servers to reach a status.
import { inject } from 'vitest';
import { startConnector, type ConnectorHandle } from '../connector/connector';
import { FakeDriver, type FakeDriverOptions } from '../connector/drivers/fake';
import { adminToken, api } from './cli';

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
