// The local cloud's fake host fleet: N hosts (fake-1 ... fake-N), each a real connector
// with the fake driver, dialling the cloud over its WebSocket from this process. Host
// credentials and the fake instances persist in the state folder, so a restart keeps them.
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startConnector, type ConnectorHandle } from '../connector/connector';
import { FakeDriver } from '../connector/drivers/fake';

export interface FleetOptions {
  url: string;
  stateDir: string;
  hosts: number;
  /** An admin token, to create host credentials through the API. */
  adminToken: () => Promise<string>;
  spawnLatencyMs?: number;
  failureRate?: number;
}

export interface Fleet {
  hosts: string[];
  connectors: ConnectorHandle[];
  stop(): Promise<void>;
}

type Credentials = Record<string, { id: string; credential: string }>;

async function activeCredentialIds(url: string, token: string): Promise<Set<string>> {
  const res = await fetch(`${url}/compute/v2.1/os-host-credentials`, { headers: { 'X-Auth-Token': token } });
  if (!res.ok) throw new Error(`listing host credentials: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { host_credentials: { id: string }[] };
  return new Set(body.host_credentials.map((c) => c.id));
}

async function createCredential(url: string, token: string, host: string): Promise<{ id: string; credential: string }> {
  const res = await fetch(`${url}/compute/v2.1/os-host-credentials`, {
    method: 'POST',
    headers: { 'X-Auth-Token': token, 'Content-Type': 'application/json' },
    body: JSON.stringify({ host_credential: { host, description: 'fake host of the local cloud' } }),
  });
  if (res.status !== 201) throw new Error(`creating a credential for ${host}: ${res.status} ${await res.text()}`);
  const { host_credential: c } = (await res.json()) as { host_credential: { id: string; credential: string } };
  return { id: c.id, credential: c.credential };
}

export async function startFleet(opts: FleetOptions): Promise<Fleet> {
  const names = Array.from({ length: opts.hosts }, (_, i) => `fake-${i + 1}`);
  if (names.length === 0) return { hosts: [], connectors: [], stop: async () => {} };
  const dir = join(opts.stateDir, 'fleet');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'credentials.json');
  const stored: Credentials = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Credentials) : {};
  const token = await opts.adminToken();
  const active = await activeCredentialIds(opts.url, token);
  for (const name of names) {
    if (!stored[name] || !active.has(stored[name].id)) stored[name] = await createCredential(opts.url, token, name);
  }
  await writeFile(file, JSON.stringify(stored, null, 2));
  await chmod(file, 0o600);

  const connectors = names.map((name) =>
    startConnector({
      url: opts.url,
      credential: stored[name]!.credential,
      driver: new FakeDriver({
        inventory: { hypervisorHostname: name },
        spawnLatencyMs: opts.spawnLatencyMs ?? 0,
        failureRate: opts.failureRate ?? 0,
        stateFile: join(dir, `${name}.json`),
      }),
      journalFile: join(dir, `${name}.journal.json`),
      backoff: { initialMs: 250, maxMs: 5000 },
    }),
  );
  await Promise.all(connectors.map((c) => c.connected()));
  return { hosts: names, connectors, stop: async () => void (await Promise.all(connectors.map((c) => c.stop()))) };
}
