// The job runner's jobs with steps: a rebuild (destroy, then spawn from the new image), a
// snapshot (its task_states, its upload), and a move's jobs on the two hosts of a resize
// and of a live migration, with what each reports back.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { PowerState, hostMessage, type HostMessage, type Job } from '../lib/connector-protocol';
import { spawnRequest } from './drivers/driver-contract';
import { FakeDriver } from './drivers/fake';
import { startTestGlance } from './drivers/test-glance';
import { JobRunner } from './job-runner';
import { JobJournal } from './journal';

function host(name = 'h') {
  const driver = new FakeDriver({ inventory: { hypervisorHostname: name } });
  const sent: HostMessage[] = [];
  const runner = new JobRunner(driver, new JobJournal(), (message) => {
    expect(hostMessage.safeParse(message).success).toBe(true);
    sent.push(message);
  });
  /** Runs one job and returns what the host said about it after the ack. */
  const run = async (job: Job) => {
    const from = sent.length;
    runner.deliver(job);
    await runner.idle();
    return sent.slice(from).filter((m) => m.type !== 'ack');
  };
  return { driver, sent, runner, run };
}

const result = (messages: HostMessage[]) => messages.find((m) => m.type === 'result');

describe('JobRunner steps', () => {
  it('rebuilds: destroys, says it spawns, spawns from the new image, and stops a stopped one again', async () => {
    const { driver, run } = host();
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid));
    const instance = spawnRequest(uuid, { image: { id: 'new-image', properties: {} } });
    const said = await run({ id: 'rebuild-1', kind: 'rebuild', instanceUuid: uuid, instance, powerOff: false });
    expect(said.map((m) => (m.type === 'task_state' ? m.taskState : m.type))).toEqual(['rebuild_block_device_mapping', 'rebuild_spawning', 'result']);
    expect(result(said)).toMatchObject({ ok: true, result: { powerState: PowerState.RUNNING } });
    const stopped = await run({ id: 'rebuild-2', kind: 'rebuild', instanceUuid: uuid, instance, powerOff: true });
    expect(result(stopped)).toMatchObject({ ok: true, result: { powerState: PowerState.SHUTDOWN } });
    expect(await driver.listInstances()).toEqual([{ uuid, powerState: PowerState.SHUTDOWN }]);
  });

  it('snapshots with the token it was given, saying each task_state, and fails when Glance refuses', async () => {
    const { driver, run } = host();
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid));
    const glance = await startTestGlance('caller-token');
    try {
      const upload = glance.upload('img-1');
      const said = await run({ id: 'snap-1', kind: 'snapshot', instanceUuid: uuid, imageId: 'img-1', imageUrl: upload.imageUrl, uploadUrl: upload.uploadUrl, token: 'caller-token' });
      expect(said.map((m) => (m.type === 'task_state' ? m.taskState : m.type))).toEqual(['image_snapshot', 'image_pending_upload', 'image_uploading', 'result']);
      expect(result(said)).toMatchObject({ ok: true });
      expect(glance.images.get('img-1')?.data?.subarray(0, 20).toString()).toBe('FLARESTACK FAKE DISK');
      const refused = await run({ id: 'snap-2', kind: 'snapshot', instanceUuid: uuid, imageId: 'img-2', imageUrl: upload.imageUrl, uploadUrl: upload.uploadUrl, token: 'stale' });
      expect(result(refused)).toMatchObject({ ok: false, error: { code: 'ImageNotAuthorized' } });
    } finally {
      await glance.close();
    }
  });

  it('resizes across two hosts and confirms, then reverts another', async () => {
    const source = host('src');
    const dest = host('dst');
    const uuid = randomUUID();
    await source.driver.spawn(spawnRequest(uuid));
    const bigger = spawnRequest(uuid, { flavor: { name: 'm1.small', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0, swapMb: 0 } });
    const base = { instanceUuid: uuid, migrationId: 'mig-1' };
    expect(result(await source.run({ ...base, id: 'r1', kind: 'resize_instance' }))).toMatchObject({ ok: true, result: { powerState: PowerState.SHUTDOWN } });
    expect(result(await dest.run({ ...base, id: 'r2', kind: 'finish_resize', instance: bigger, powerOn: true }))).toMatchObject({ ok: true, result: { powerState: PowerState.RUNNING } });
    expect(result(await source.run({ ...base, id: 'r3', kind: 'confirm_resize' }))).toEqual({ type: 'result', jobId: 'r3', ok: true, result: {} });
    expect(await source.driver.listInstances()).toEqual([]);

    const again = { instanceUuid: uuid, migrationId: 'mig-2' };
    await dest.run({ ...again, id: 'v1', kind: 'resize_instance' });
    await source.run({ ...again, id: 'v2', kind: 'finish_resize', instance: spawnRequest(uuid), powerOn: true });
    await source.run({ ...again, id: 'v3', kind: 'revert_resize' });
    expect(result(await dest.run({ ...again, id: 'v4', kind: 'finish_revert_resize', powerOn: true }))).toMatchObject({ ok: true, result: { powerState: PowerState.RUNNING } });
    expect(await source.driver.listInstances()).toEqual([]);
    expect(await dest.driver.listInstances()).toEqual([{ uuid, powerState: PowerState.RUNNING }]);
  });

  it('live-migrates a paused instance across two hosts, and rolls back a failed one', async () => {
    const source = host('src');
    const dest = host('dst');
    const uuid = randomUUID();
    await source.driver.spawn(spawnRequest(uuid));
    await source.driver.pause(uuid);
    const base = { instanceUuid: uuid, migrationId: 'mig-1' };
    expect(result(await dest.run({ ...base, id: 'l1', kind: 'pre_live_migration', instance: spawnRequest(uuid) }))).toMatchObject({ ok: true, result: { powerState: PowerState.PAUSED } });
    expect(result(await source.run({ ...base, id: 'l2', kind: 'live_migration', destHost: 'dst' }))).toMatchObject({ ok: true, result: {} });
    expect(result(await dest.run({ ...base, id: 'l3', kind: 'post_live_migration_at_destination', powerState: PowerState.PAUSED }))).toMatchObject({ ok: true, result: { powerState: PowerState.PAUSED } });
    expect(await source.driver.listInstances()).toEqual([]);

    // A destination that cannot take it: nothing is left there.
    const full = new FakeDriver({ inventory: { hypervisorHostname: 'full', memoryMb: 1024 } });
    const big = spawnRequest(uuid, { flavor: { name: 'm1.large', vcpus: 4, memoryMb: 8192, rootGb: 80, ephemeralGb: 0, swapMb: 0 } });
    await expect(full.preLiveMigration(big)).rejects.toThrow(/Insufficient compute resources/);
    expect(await full.listInstances()).toEqual([]);
    await dest.run({ ...base, id: 'l4', kind: 'rollback_live_migration_at_destination' });
    expect(await dest.driver.listInstances()).toEqual([]);
  });
});
