// The ComputeDriver contract as tests: one suite that every driver must pass (the fake one
// now, the qemu one later), so the job runner can rely on the same behaviour from both.
// A driver's test file calls driverContract() with a way to build a fresh driver.
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PowerState, hostInventory, type SpawnInstance } from '../../lib/connector-protocol';
import { DriverError, type ComputeDriver, type DriverErrorCode } from './driver';
import { startTestGlance } from './test-glance';

export interface ContractSetup {
  driver: ComputeDriver;
  /** What to spawn: a real driver needs an image it can boot. */
  instance?: (uuid: string) => SpawnInstance;
  teardown?: () => Promise<void>;
}

export function spawnRequest(uuid: string, overrides: Partial<SpawnInstance> = {}): SpawnInstance {
  return {
    uuid,
    name: `server-${uuid.slice(0, 8)}`,
    hostname: `vm-${uuid.slice(0, 8)}`,
    projectId: 'project-a',
    flavor: { name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0, swapMb: 0 },
    image: { id: 'cirros', properties: {} },
    metadata: {},
    ...overrides,
  };
}

export async function expectDriverError(promise: Promise<unknown>, code: DriverErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(DriverError);
  expect((error as DriverError).code).toBe(code);
}

export function driverContract(name: string, setup: () => Promise<ContractSetup>): void {
  describe(`ComputeDriver contract: ${name}`, () => {
    let context: ContractSetup;
    let driver: ComputeDriver;
    const spawned = async () => {
      const uuid = randomUUID();
      await driver.spawn(context.instance?.(uuid) ?? spawnRequest(uuid));
      return uuid;
    };
    const stateOf = async (uuid: string) => (await driver.getInfo(uuid)).powerState;

    beforeEach(async () => {
      context = await setup();
      driver = context.driver;
    });
    afterEach(async () => {
      for (const { uuid } of await driver.listInstances()) await driver.destroy(uuid);
      await context.teardown?.();
    });

    it('reports a valid inventory and a name', () => {
      expect(driver.name).toMatch(/^[a-z0-9_-]{1,32}$/);
      expect(hostInventory.safeParse(driver.getInventory()).success).toBe(true);
    });

    it('spawns an instance that runs and is listed', async () => {
      const uuid = await spawned();
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      expect(await driver.listInstances()).toContainEqual({ uuid, powerState: PowerState.RUNNING });
    });

    it('spawn of an existing uuid is a no-op success', async () => {
      const uuid = await spawned();
      await driver.powerOff(uuid);
      await driver.spawn(context.instance?.(uuid) ?? spawnRequest(uuid));
      expect((await driver.listInstances()).filter((i) => i.uuid === uuid)).toHaveLength(1);
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
    });

    it('two spawns of one uuid at once build one instance', async () => {
      const uuid = randomUUID();
      const request = context.instance?.(uuid) ?? spawnRequest(uuid);
      await Promise.all([driver.spawn(request), driver.spawn(request)]);
      expect((await driver.listInstances()).filter((i) => i.uuid === uuid)).toHaveLength(1);
    });

    it('destroys an instance, and destroy of an unknown uuid succeeds', async () => {
      const uuid = await spawned();
      await driver.destroy(uuid);
      expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
      await expectDriverError(driver.getInfo(uuid), 'InstanceNotFound');
      await driver.destroy(uuid);
      await driver.destroy(randomUUID());
    });

    it('powers off and on, idempotently', async () => {
      const uuid = await spawned();
      await driver.powerOff(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
      await driver.powerOff(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
      await driver.powerOn(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.powerOn(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
    });

    it('pauses and unpauses; pause needs a running instance', async () => {
      const uuid = await spawned();
      await driver.pause(uuid);
      await driver.pause(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.PAUSED);
      await driver.unpause(uuid);
      await driver.unpause(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.powerOff(uuid);
      await expectDriverError(driver.pause(uuid), 'InstanceInvalidState');
      await expectDriverError(driver.unpause(uuid), 'InstanceInvalidState');
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
    });

    it('suspends and resumes; a paused instance can be suspended', async () => {
      const uuid = await spawned();
      await driver.suspend(uuid);
      await driver.suspend(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.SUSPENDED);
      await driver.resume(uuid);
      await driver.resume(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.pause(uuid);
      await driver.suspend(uuid);
      expect(await stateOf(uuid)).toBe(PowerState.SUSPENDED);
      await driver.powerOff(uuid);
      await expectDriverError(driver.resume(uuid), 'InstanceInvalidState');
      await expectDriverError(driver.suspend(uuid), 'InstanceInvalidState');
    });

    it('reboot ends RUNNING from any state, soft or hard', async () => {
      const uuid = await spawned();
      await driver.reboot(uuid, 'SOFT');
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.powerOff(uuid);
      await driver.reboot(uuid, 'SOFT');
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.pause(uuid);
      await driver.reboot(uuid, 'HARD');
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      await driver.suspend(uuid);
      await driver.reboot(uuid, 'HARD');
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
    });

    it('gives the console output, the last lines when asked', async () => {
      const uuid = await spawned();
      const all = await driver.getConsoleOutput(uuid);
      expect(typeof all).toBe('string');
      const last = await driver.getConsoleOutput(uuid, 2);
      expect(last.split('\n').length).toBeLessThanOrEqual(2);
      expect(all.endsWith(last)).toBe(true);
    });

    it('attaches and detaches volumes, idempotently; a device holds one volume', async () => {
      const uuid = await spawned();
      await driver.attachVolume(uuid, 'vol-1', '/dev/vdb');
      await driver.attachVolume(uuid, 'vol-1', '/dev/vdb');
      await expectDriverError(driver.attachVolume(uuid, 'vol-2', '/dev/vdb'), 'DeviceIsBusy');
      await driver.attachVolume(uuid, 'vol-2', '/dev/vdc');
      await driver.detachVolume(uuid, 'vol-1');
      await driver.detachVolume(uuid, 'vol-1');
      await driver.attachVolume(uuid, 'vol-3', '/dev/vdb');
      await driver.detachVolume(uuid, 'never-attached');
    });

    it('snapshots an instance into its image, says when it uploads, and leaves its power state', async () => {
      const uuid = await spawned();
      await driver.powerOff(uuid);
      const glance = await startTestGlance();
      try {
        const steps: string[] = [];
        await driver.snapshot(uuid, glance.upload('image-1'), (state) => steps.push(state));
        expect(steps).toEqual(['image_pending_upload', 'image_uploading']);
        const image = glance.images.get('image-1');
        expect(image?.patches).toHaveLength(1);
        expect(image?.data?.byteLength).toBeGreaterThan(0);
        const wrongToken = { ...glance.upload('image-2'), token: 'expired' };
        await expectDriverError(driver.snapshot(uuid, wrongToken), 'ImageNotAuthorized');
      } finally {
        await glance.close();
      }
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
    });

    it('resizes: the source powers off and keeps its copy, the destination makes the new one', async () => {
      const uuid = await spawned();
      const dest = await setup();
      try {
        await driver.migrateDiskAndPowerOff(uuid);
        await driver.migrateDiskAndPowerOff(uuid);
        expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
        const bigger = { ...(context.instance?.(uuid) ?? spawnRequest(uuid)), flavor: { name: 'm1.small', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0, swapMb: 0 } };
        await dest.driver.finishMigration(bigger, true);
        await dest.driver.finishMigration(bigger, true);
        expect((await dest.driver.getInfo(uuid)).powerState).toBe(PowerState.RUNNING);
        // Confirmed: the source's copy goes.
        await driver.confirmMigration(uuid);
        await driver.confirmMigration(uuid);
        expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
      } finally {
        for (const { uuid: u } of await dest.driver.listInstances()) await dest.driver.destroy(u);
        await dest.teardown?.();
      }
    });

    it('reverts a resize: the source takes its copy back, powered on only when asked', async () => {
      const uuid = await spawned();
      await driver.migrateDiskAndPowerOff(uuid);
      await driver.finishRevertMigration(uuid, false);
      expect(await stateOf(uuid)).toBe(PowerState.SHUTDOWN);
      await driver.finishRevertMigration(uuid, true);
      await driver.finishRevertMigration(uuid, true);
      expect(await stateOf(uuid)).toBe(PowerState.RUNNING);
      const stopped = await spawned();
      await driver.powerOff(stopped);
      const dest = await setup();
      try {
        const request = context.instance?.(stopped) ?? spawnRequest(stopped);
        await dest.driver.finishMigration(request, false);
        expect((await dest.driver.getInfo(stopped)).powerState).toBe(PowerState.SHUTDOWN);
      } finally {
        for (const { uuid: u } of await dest.driver.listInstances()) await dest.driver.destroy(u);
        await dest.teardown?.();
      }
    });

    it('live-migrates: the destination waits paused, the source lets go, the instance runs there', async () => {
      const uuid = await spawned();
      const dest = await setup();
      try {
        const request = context.instance?.(uuid) ?? spawnRequest(uuid);
        await dest.driver.preLiveMigration(request);
        await dest.driver.preLiveMigration(request);
        expect((await dest.driver.getInfo(uuid)).powerState).toBe(PowerState.PAUSED);
        await driver.liveMigration(uuid, 'dest');
        await driver.liveMigration(uuid, 'dest');
        expect((await driver.listInstances()).map((i) => i.uuid)).not.toContain(uuid);
        await dest.driver.postLiveMigrationAtDestination(uuid, PowerState.RUNNING);
        await dest.driver.postLiveMigrationAtDestination(uuid, PowerState.RUNNING);
        expect(await dest.driver.listInstances()).toContainEqual({ uuid, powerState: PowerState.RUNNING });
      } finally {
        for (const { uuid: u } of await dest.driver.listInstances()) await dest.driver.destroy(u);
        await dest.teardown?.();
      }
    });

    it('answers InstanceNotFound for an unknown uuid', async () => {
      const uuid = randomUUID();
      for (const call of [
        () => driver.getInfo(uuid),
        () => driver.reboot(uuid, 'HARD'),
        () => driver.powerOff(uuid),
        () => driver.powerOn(uuid),
        () => driver.pause(uuid),
        () => driver.unpause(uuid),
        () => driver.suspend(uuid),
        () => driver.resume(uuid),
        () => driver.getConsoleOutput(uuid),
        () => driver.attachVolume(uuid, 'vol-1', '/dev/vdb'),
        () => driver.detachVolume(uuid, 'vol-1'),
        () => driver.snapshot(uuid, { imageId: 'image-1', imageUrl: 'http://127.0.0.1:9/image-1', uploadUrl: 'http://127.0.0.1:9/image-1/file', token: 't' }),
        () => driver.migrateDiskAndPowerOff(uuid),
        () => driver.finishRevertMigration(uuid, true),
        () => driver.postLiveMigrationAtDestination(uuid, PowerState.RUNNING),
      ]) {
        await expectDriverError(call(), 'InstanceNotFound');
      }
    });
  });
}
