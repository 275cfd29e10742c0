import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PowerState, hostMessage, type HostMessage, type Job } from '../lib/connector-protocol';
import { spawnRequest } from './drivers/driver-contract';
import { FakeDriver } from './drivers/fake';
import { JobRunner } from './job-runner';
import { JobJournal } from './journal';

/** A fake driver that counts its calls, and a runner whose messages land in `sent`. */
function harness(options: { spawnLatencyMs?: number; actionLatencyMs?: number; journal?: JobJournal } = {}) {
  const driver = new FakeDriver({ spawnLatencyMs: options.spawnLatencyMs, actionLatencyMs: options.actionLatencyMs });
  const calls: string[] = [];
  for (const method of ['spawn', 'destroy', 'powerOff', 'powerOn', 'reboot'] as const) {
    const original = driver[method].bind(driver) as (...args: unknown[]) => Promise<void>;
    (driver as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      calls.push(method);
      return original(...args);
    };
  }
  const sent: HostMessage[] = [];
  const journal = options.journal ?? new JobJournal();
  const runner = new JobRunner(driver, journal, (message) => {
    // Whatever the runner sends must pass the schema the conductor checks it with.
    expect(hostMessage.safeParse(message).success).toBe(true);
    sent.push(message);
  });
  return { driver, calls, sent, runner, journal };
}

function spawnJob(uuid = randomUUID(), id = `job-${randomUUID()}`): Job {
  return { id, kind: 'spawn', instanceUuid: uuid, instance: spawnRequest(uuid) };
}

describe('JobRunner', () => {
  it('runs a job once, acks it at once and sends its result', async () => {
    const { runner, sent } = harness();
    const job = spawnJob();
    runner.deliver(job);
    expect(sent).toEqual([{ type: 'ack', jobId: job.id }]);
    await runner.idle();
    expect(sent[1]).toEqual({ type: 'result', jobId: job.id, ok: true, result: { powerState: PowerState.RUNNING } });
  });

  it('a finished job delivered again is not run again: the same result is sent again', async () => {
    const { runner, sent, calls } = harness();
    const job = spawnJob();
    runner.deliver(job);
    await runner.idle();
    runner.deliver(job);
    await runner.idle();
    expect(calls).toEqual(['spawn']);
    const results = sent.filter((m) => m.type === 'result');
    expect(results).toHaveLength(2);
    expect(results[1]).toEqual(results[0]);
    expect(sent.filter((m) => m.type === 'ack')).toHaveLength(2);
  });

  it('a running job delivered again is only acked: the run under way answers once', async () => {
    const { runner, sent, calls } = harness({ spawnLatencyMs: 50 });
    const job = spawnJob();
    runner.deliver(job);
    runner.deliver(job);
    expect(runner.size).toBe(1);
    await runner.idle();
    expect(calls).toEqual(['spawn']);
    expect(sent.map((m) => m.type)).toEqual(['ack', 'ack', 'result']);
  });

  it('answers a driver error with its Nova code', async () => {
    const { runner, sent } = harness();
    runner.deliver({ id: 'off-1', kind: 'power_off', instanceUuid: randomUUID() });
    await runner.idle();
    expect(sent[1]).toMatchObject({ type: 'result', jobId: 'off-1', ok: false, error: { code: 'InstanceNotFound', message: expect.stringMatching(/could not be found/) } });
  });

  it('answers an unexpected error without a code, and a job it cannot read with NotSupported', async () => {
    const { runner, sent, driver } = harness();
    driver.reboot = () => Promise.reject(new TypeError('boom'));
    runner.deliver({ id: 'r-1', kind: 'reboot', rebootType: 'SOFT', instanceUuid: randomUUID() });
    runner.reject('weird-1', 'kind: Invalid input');
    await runner.idle();
    expect(sent).toContainEqual({ type: 'result', jobId: 'r-1', ok: false, error: { message: 'boom' } });
    expect(sent).toContainEqual({ type: 'result', jobId: 'weird-1', ok: false, error: { message: 'This connector cannot run job weird-1: kind: Invalid input', code: 'NotSupported' } });
  });

  it('reports NOSTATE after destroy and the console log for get_console_output', async () => {
    const { runner, sent } = harness();
    const uuid = randomUUID();
    runner.deliver(spawnJob(uuid));
    runner.deliver({ id: 'log-1', kind: 'get_console_output', instanceUuid: uuid, length: 1 });
    runner.deliver({ id: 'del-1', kind: 'destroy', instanceUuid: uuid });
    await runner.idle();
    expect(sent).toContainEqual({ type: 'result', jobId: 'log-1', ok: true, result: { powerState: PowerState.RUNNING, output: expect.stringMatching(/login: $/) } });
    expect(sent).toContainEqual({ type: 'result', jobId: 'del-1', ok: true, result: { powerState: PowerState.NOSTATE } });
  });

  it('runs the jobs of one instance in order, and other instances alongside', async () => {
    const { runner, sent } = harness({ spawnLatencyMs: 150 });
    const a = randomUUID();
    const b = randomUUID();
    runner.deliver(spawnJob(a, 'spawn-a'));
    runner.deliver({ id: 'off-a', kind: 'power_off', instanceUuid: a });
    runner.deliver(spawnJob(b, 'spawn-b'));
    const started = Date.now();
    await runner.idle();
    // Both spawns took 150 ms at once; power_off waited for spawn-a instead of failing with InstanceNotFound.
    expect(Date.now() - started).toBeLessThan(290);
    expect(sent).toContainEqual({ type: 'result', jobId: 'off-a', ok: true, result: { powerState: PowerState.SHUTDOWN } });
    const order = sent.filter((m) => m.type === 'result').map((m) => m.jobId);
    expect(order.indexOf('off-a')).toBeGreaterThan(order.indexOf('spawn-a'));
  });
});

describe('JobJournal', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'journal-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps only the newest results', async () => {
    const journal = new JobJournal({ size: 2 });
    for (const jobId of ['a', 'b', 'c']) await journal.record({ type: 'result', jobId, ok: true, result: {} });
    expect(journal.get('a')).toBeUndefined();
    expect(journal.get('b')).toBeDefined();
    expect(journal.get('c')).toBeDefined();
  });

  it('persists results, so a restarted connector answers a redelivered job without running it', async () => {
    const file = join(dir, 'journal.json');
    const first = harness({ journal: new JobJournal({ file }) });
    const job = spawnJob();
    first.runner.deliver(job);
    await first.runner.idle();

    const second = harness({ journal: new JobJournal({ file }) });
    second.runner.deliver(job);
    await second.runner.idle();
    expect(second.calls).toEqual([]);
    expect(second.sent).toEqual([{ type: 'ack', jobId: job.id }, first.sent[1]]);
  });
});
