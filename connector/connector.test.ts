import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PowerState, type HostMessage, type Job } from '../lib/connector-protocol';
import { backoffDelay, connectorUrl, startConnector, type ConnectorHandle, type ConnectorOptions } from './connector';
import { spawnRequest } from './drivers/driver-contract';
import { FakeDriver } from './drivers/fake';
import { TestConductor, type TestConductorOptions } from './test-conductor';

type Result = Extract<HostMessage, { type: 'result' }>;
const isHello = (m: HostMessage): m is Extract<HostMessage, { type: 'hello' }> => m.type === 'hello';
const resultOf = (jobId: string) => (m: HostMessage): m is Result => m.type === 'result' && m.jobId === jobId;
const ackOf = (jobId: string) => (m: HostMessage) => m.type === 'ack' && m.jobId === jobId;

let conductor: TestConductor;
const handles: ConnectorHandle[] = [];

async function conduct(options?: TestConductorOptions): Promise<TestConductor> {
  conductor = await TestConductor.start(options);
  return conductor;
}

function connect(options: Partial<ConnectorOptions> = {}): ConnectorHandle {
  const handle = startConnector({
    url: conductor.url,
    credential: 'cred-1.s3cret',
    driver: new FakeDriver({ inventory: { hypervisorHostname: 'fake-1' } }),
    backoff: { initialMs: 10, maxMs: 80 },
    random: () => 1,
    ...options,
  });
  handles.push(handle);
  return handle;
}

/** A fake driver that counts its spawns. */
function countingDriver(spawnLatencyMs = 0): { driver: FakeDriver; spawns: () => number } {
  const driver = new FakeDriver({ inventory: { hypervisorHostname: 'fake-1' }, spawnLatencyMs });
  let spawns = 0;
  const spawn = driver.spawn.bind(driver);
  driver.spawn = (instance) => {
    spawns++;
    return spawn(instance);
  };
  return { driver, spawns: () => spawns };
}

function spawnJob(uuid = randomUUID()): Job {
  return { id: `job-${randomUUID()}`, kind: 'spawn', instanceUuid: uuid, instance: spawnRequest(uuid) };
}

afterEach(async () => {
  for (const handle of handles.splice(0)) handle.kill();
  await conductor.close();
  expect(conductor.invalid).toEqual([]);
});

describe('connector: connecting', () => {
  it('dials the connector path with the credential and says hello with the inventory and the instances', async () => {
    await conduct();
    const driver = new FakeDriver({ inventory: { hypervisorHostname: 'fake-1', vcpus: 4 } });
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid));
    const handle = connect({ driver });
    const connection = await conductor.connection();
    expect(connection.authorization).toBe('Bearer cred-1.s3cret');
    const hello = await connection.waitFor(isHello);
    expect(hello).toMatchObject({ protocol: 1, driver: 'fake', inventory: { hypervisorHostname: 'fake-1', vcpus: 4, hypervisorType: 'fake' } });
    expect(hello.instances).toEqual([{ uuid, powerState: PowerState.RUNNING }]);
    expect(await handle.connected()).toEqual({ host: 'compute-1', heartbeatIntervalMs: 10_000 });
    expect(handle.state).toBe('connected');
    expect(handle.host).toBe('compute-1');
  });

  it('sends heartbeats at the interval the welcome gives', async () => {
    await conduct({ heartbeatIntervalMs: 40 });
    const handle = connect();
    await handle.connected();
    const welcomedAt = Date.now();
    const connection = await conductor.connection(1);
    let beats = 0;
    await connection.waitFor((m) => m.type === 'heartbeat' && ++beats === 4);
    // Timers fire late under load, never early: four beats take at least four intervals.
    expect(Date.now() - welcomedAt).toBeGreaterThanOrEqual(4 * 40 - 5);
  });

  it('reports a power state the guest changed on its own', async () => {
    await conduct();
    const driver = new FakeDriver();
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid));
    await connect({ driver }).connected();
    await driver.simulateGuestPowerChange(uuid, PowerState.SHUTDOWN);
    const connection = await conductor.connection(1);
    expect(await connection.waitFor((m) => m.type === 'power_state')).toEqual({ type: 'power_state', instanceUuid: uuid, powerState: PowerState.SHUTDOWN });
  });

  it('builds the endpoint from the base URL and checks the credential', () => {
    expect(connectorUrl('http://localhost:8787')).toBe('ws://localhost:8787/compute/connector');
    expect(connectorUrl('https://cloud.example/base/')).toBe('wss://cloud.example/base/compute/connector');
    expect(connectorUrl('wss://cloud.example/compute/connector')).toBe('wss://cloud.example/compute/connector');
    expect(() => connectorUrl('ftp://cloud.example')).toThrow(/must be http\(s\) or ws\(s\)/);
    expect(() => startConnector({ url: 'http://127.0.0.1:9', credential: 'no-secret', driver: new FakeDriver() })).toThrow(/<credential id>\.<secret>/);
  });
});

describe('connector: jobs', () => {
  it('acks a job at once and answers its result', async () => {
    await conduct();
    await connect().connected();
    const connection = await conductor.connection(1);
    const job = spawnJob();
    connection.send({ type: 'job', job });
    const result = await connection.waitFor(resultOf(job.id));
    expect(result).toEqual({ type: 'result', jobId: job.id, ok: true, result: { powerState: PowerState.RUNNING } });
    expect(connection.messages.findIndex(ackOf(job.id))).toBeLessThan(connection.messages.indexOf(result));
  });

  it('the same job twice runs the driver once and sends the same result twice', async () => {
    await conduct();
    const { driver, spawns } = countingDriver();
    await connect({ driver }).connected();
    const connection = await conductor.connection(1);
    const job = spawnJob();
    connection.send({ type: 'job', job });
    const first = await connection.waitFor(resultOf(job.id));
    connection.send({ type: 'job', job });
    await connection.waitFor((m) => m.type === 'result' && m.jobId === job.id && m !== first);
    expect(spawns()).toBe(1);
    const results = connection.messages.filter(resultOf(job.id));
    expect(results).toEqual([first, first]);
    expect(connection.messages.filter(ackOf(job.id))).toHaveLength(2);
  });

  it('answers a job it cannot read with an error, so it is not redelivered forever', async () => {
    await conduct();
    await connect().connected();
    const connection = await conductor.connection(1);
    connection.ws.send(JSON.stringify({ type: 'job', job: { id: 'odd-1', kind: 'live_migrate', instanceUuid: randomUUID() } }));
    const result = await connection.waitFor(resultOf('odd-1'));
    expect(result).toMatchObject({ ok: false, error: { code: 'NotSupported', message: expect.stringMatching(/cannot run job odd-1/) } });
  });
});

describe('connector: refusal', () => {
  it.each([401, 403])('ends with a clear reason and does not retry when the upgrade answers %i', async (status) => {
    await conduct({ refuseWith: () => status });
    const handle = connect();
    const refused: unknown[] = [];
    handle.on('refused', (refusal) => refused.push(refusal));
    const waiting = handle.connected();
    const end = await handle.done;
    expect(end).toMatchObject({ reason: 'refused', status, message: expect.stringContaining(`the control plane refused the host credential (HTTP ${status})`) });
    expect(refused).toHaveLength(1);
    await expect(waiting).rejects.toThrow(/ended/);
    await sleep(150);
    expect(conductor.attempts).toBe(1);
    expect(handle.state).toBe('ended');
  });

  it('ends when the conductor says error after hello (a revoked credential)', async () => {
    await conduct({ welcome: false });
    const handle = connect();
    const connection = await conductor.connection();
    await connection.waitFor(isHello);
    connection.send({ type: 'error', message: 'host credential revoked' });
    expect(await handle.done).toEqual({ reason: 'refused', message: 'the control plane refused this host: host credential revoked' });
    await sleep(100);
    expect(conductor.attempts).toBe(1);
  });

  it('retries other failures (HTTP 503) with doubling delays, then connects', async () => {
    let refuse = true;
    await conduct({ refuseWith: () => (refuse ? 503 : undefined) });
    const handle = connect({ backoff: { initialMs: 10, maxMs: 40 } });
    const retries: { delayMs: number; error: string }[] = [];
    handle.on('retrying', ({ delayMs, error }) => {
      retries.push({ delayMs, error });
      if (retries.length === 4) refuse = false;
    });
    await handle.connected();
    expect(retries.map((r) => r.delayMs)).toEqual([10, 20, 40, 40]);
    expect(retries[0]?.error).toMatch(/HTTP 503 on the WebSocket upgrade/);
    expect(conductor.attempts).toBe(5);
  });

  it('jitters each delay into the upper half of its ceiling', () => {
    expect(backoffDelay(0, 500, 30_000, () => 0)).toBe(250);
    expect(backoffDelay(0, 500, 30_000, () => 1)).toBe(500);
    expect(backoffDelay(3, 500, 30_000, () => 0.5)).toBe(3000);
    expect(backoffDelay(10, 500, 30_000, () => 1)).toBe(30_000);
    expect(backoffDelay(10_000, 500, 30_000, () => 0)).toBe(15_000);
  });
});

describe('connector: reconnecting', () => {
  it('a job redelivered while it still runs after a reconnect runs once and answers on the new connection', async () => {
    await conduct();
    const { driver, spawns } = countingDriver(150);
    const handle = connect({ driver });
    await handle.connected();
    const first = await conductor.connection(1);
    const job = spawnJob();
    first.send({ type: 'job', job });
    await first.waitFor(ackOf(job.id));
    first.ws.terminate();

    const second = await conductor.connection(2);
    await second.waitFor(isHello);
    second.send({ type: 'job', job });
    const result = await second.waitFor(resultOf(job.id));
    expect(result.ok).toBe(true);
    await sleep(50);
    expect(spawns()).toBe(1);
    expect(second.messages.filter(resultOf(job.id))).toHaveLength(1);
    expect(first.messages.filter(resultOf(job.id))).toHaveLength(0);
  });

  it('after a reconnect it says hello again with the current instances; an unacked job redelivered runs once', async () => {
    await conduct();
    const { driver, spawns } = countingDriver();
    const handle = connect({ driver });
    const reconnected: unknown[] = [];
    handle.on('disconnected', (event) => reconnected.push(event));
    await handle.connected();
    const first = await conductor.connection(1);
    const job = spawnJob();
    // The conductor loses the connection as the ack arrives: for it the job is unacknowledged.
    first.on('message', (m) => m.type === 'ack' && first.ws.terminate());
    first.send({ type: 'job', job });

    const second = await conductor.connection(2);
    const hello = await second.waitFor(isHello);
    expect(hello.instances).toEqual([{ uuid: job.instanceUuid, powerState: PowerState.RUNNING }]);
    second.send({ type: 'job', job });
    expect(await second.waitFor(resultOf(job.id))).toEqual({ type: 'result', jobId: job.id, ok: true, result: { powerState: PowerState.RUNNING } });
    expect(second.messages.filter(ackOf(job.id))).toHaveLength(1);
    expect(spawns()).toBe(1);
    expect(reconnected).toHaveLength(1);
  });

  it('drops a connection whose pings go unanswered and dials again', async () => {
    await conduct({ heartbeatIntervalMs: 30, autoPong: false });
    const handle = connect();
    const errors: string[] = [];
    handle.on('retrying', ({ error }) => errors.push(error));
    await handle.connected();
    await conductor.connection(2);
    expect(errors[0]).toMatch(/no answer from the control plane for \d+ ms/);
  });

  it('dials again when no welcome comes', async () => {
    await conduct({ welcome: false });
    const handle = connect({ welcomeTimeoutMs: 100 });
    const errors: string[] = [];
    handle.on('retrying', ({ error }) => errors.push(error));
    await conductor.connection(2);
    expect(errors[0]).toBe('no welcome within 100 ms');
  });
});

describe('connector: stopping', () => {
  it('stop() lets the running job report, closes cleanly and does not dial again', async () => {
    await conduct();
    const handle = connect({ driver: new FakeDriver({ spawnLatencyMs: 80 }) });
    await handle.connected();
    const connection = await conductor.connection(1);
    const job = spawnJob();
    connection.send({ type: 'job', job });
    await connection.waitFor(ackOf(job.id));
    await handle.stop();
    expect(connection.messages.filter(resultOf(job.id))).toHaveLength(1);
    expect(await connection.closed).toEqual({ code: 1000 });
    expect(await handle.done).toEqual({ reason: 'stopped' });
    await sleep(100);
    expect(conductor.attempts).toBe(1);
  });

  it('kill() drops the socket without a close handshake and does not dial again', async () => {
    await conduct();
    const handle = connect();
    await handle.connected();
    const connection = await conductor.connection(1);
    handle.kill();
    expect(await connection.closed).toEqual({ code: 1006 });
    expect(await handle.done).toEqual({ reason: 'killed' });
    await sleep(100);
    expect(conductor.attempts).toBe(1);
  });
});
