import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PowerState } from '../../lib/connector-protocol';
import { driverContract, expectDriverError, spawnRequest } from './driver-contract';
import { FakeDriver } from './fake';

driverContract('fake', async () => ({ driver: new FakeDriver({ inventory: { hypervisorHostname: 'fake-contract' } }) }));

const small = { name: 'm1.small', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0, swapMb: 0 };

describe('FakeDriver', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fake-driver-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('refuses a spawn that does not fit, with a clear error, and claims nothing', async () => {
    // (4096 - 512 reserved) MB of memory: one m1.small fits, the second does not.
    const driver = new FakeDriver({ inventory: { hypervisorHostname: 'fake-1', vcpus: 2, memoryMb: 4096, localGb: 100 } });
    const first = randomUUID();
    await driver.spawn(spawnRequest(first, { flavor: small }));
    const refused = driver.spawn(spawnRequest(randomUUID(), { flavor: small }));
    await expectDriverError(refused, 'ComputeResourcesUnavailable');
    await expect(refused).rejects.toThrow(/Insufficient compute resources: flavor m1.small needs 1 vCPUs, 2048 MB RAM, 20 GB disk; host fake-1 has 7 vCPUs, 1536 MB RAM, 80 GB disk free/);
    expect(await driver.listInstances()).toHaveLength(1);
    await driver.destroy(first);
    await driver.spawn(spawnRequest(randomUUID(), { flavor: small }));
  });

  it('counts vCPUs with the allocation ratio, disk with ephemeral and swap', async () => {
    const driver = new FakeDriver({ inventory: { vcpus: 1, cpuAllocationRatio: 2, memoryMb: 65536, localGb: 22 } });
    const flavor = { ...small, rootGb: 10, ephemeralGb: 0, swapMb: 1 };
    await driver.spawn(spawnRequest(randomUUID(), { flavor }));
    await expectDriverError(driver.spawn(spawnRequest(randomUUID(), { flavor: { ...flavor, ephemeralGb: 1 } })), 'ComputeResourcesUnavailable');
    await driver.spawn(spawnRequest(randomUUID(), { flavor }));
    await expectDriverError(driver.spawn(spawnRequest(randomUUID(), { flavor: { ...small, rootGb: 0 } })), 'ComputeResourcesUnavailable');
  });

  it('fails spawns at the failure rate and leaves nothing behind', async () => {
    const always = new FakeDriver({ failureRate: 1 });
    const failed = always.spawn(spawnRequest(randomUUID()));
    await expectDriverError(failed, 'InstanceDeployFailure');
    await expect(failed).rejects.toThrow(/failed this spawn on purpose \(failure rate 1\)/);
    expect(await always.listInstances()).toEqual([]);

    // One vCPU: the retry fits only if the failed build gave its claim back.
    const dice = [0.1, 0.9];
    const driver = new FakeDriver({ inventory: { vcpus: 1, cpuAllocationRatio: 1 }, failureRate: 0.5, random: () => dice.shift() ?? 0 });
    const uuid = randomUUID();
    await expectDriverError(driver.spawn(spawnRequest(uuid)), 'InstanceDeployFailure');
    await driver.spawn(spawnRequest(uuid));
    expect(await driver.listInstances()).toEqual([{ uuid, powerState: PowerState.RUNNING }]);
    await expectDriverError(driver.spawn(spawnRequest(randomUUID())), 'ComputeResourcesUnavailable');
  });

  it('takes the spawn latency, holds the claim meanwhile, and a second spawn shares the build', async () => {
    const driver = new FakeDriver({ inventory: { vcpus: 1, cpuAllocationRatio: 1 }, spawnLatencyMs: 80 });
    const uuid = randomUUID();
    const started = Date.now();
    const first = driver.spawn(spawnRequest(uuid));
    expect(await driver.listInstances()).toEqual([]);
    await expectDriverError(driver.spawn(spawnRequest(randomUUID())), 'ComputeResourcesUnavailable');
    await Promise.all([first, driver.spawn(spawnRequest(uuid))]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(75);
    expect(await driver.listInstances()).toEqual([{ uuid, powerState: PowerState.RUNNING }]);
  });

  it('keeps a console log: boot lines with the name and hostname, a line per power action', async () => {
    const driver = new FakeDriver();
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid, { name: 'web-1', hostname: 'web-1-host' }));
    const boot = await driver.getConsoleOutput(uuid);
    expect(boot).toContain(`instance web-1 (${uuid})`);
    expect(boot).toContain('Set hostname to <web-1-host>');
    expect(boot).toMatch(/web-1-host login: $/);
    await driver.powerOff(uuid);
    expect(await driver.getConsoleOutput(uuid, 1)).toMatch(/^\[\s*\d+\.\d{6}\] reboot: Power down$/);
    await driver.powerOn(uuid);
    await driver.pause(uuid);
    const log = await driver.getConsoleOutput(uuid);
    expect(log).toContain('fake-hypervisor: power on');
    expect(log).toContain('fake-hypervisor: paused');
    expect(log.match(/Set hostname to <web-1-host>/g)).toHaveLength(2);
  });

  it('keeps its instances in the state file across a restart', async () => {
    const stateFile = join(dir, 'fake-1.json');
    const before = new FakeDriver({ stateFile });
    const a = randomUUID();
    const b = randomUUID();
    await before.spawn(spawnRequest(a));
    await before.spawn(spawnRequest(b));
    await before.powerOff(b);
    await before.attachVolume(a, 'vol-1', '/dev/vdb');
    await before.close();
    JSON.parse(await readFile(stateFile, 'utf8'));

    const after = new FakeDriver({ stateFile });
    expect(await after.listInstances()).toEqual([
      { uuid: a, powerState: PowerState.RUNNING },
      { uuid: b, powerState: PowerState.SHUTDOWN },
    ]);
    expect(await after.getConsoleOutput(b)).toContain('reboot: Power down');
    await expectDriverError(after.attachVolume(a, 'vol-2', '/dev/vdb'), 'DeviceIsBusy');
    await after.destroy(a);
    expect((await new FakeDriver({ stateFile }).listInstances()).map((i) => i.uuid)).toEqual([b]);
  });

  it('refuses a state file it cannot read', async () => {
    const stateFile = join(dir, 'bad.json');
    await writeFile(stateFile, '{"instances": 3}');
    expect(() => new FakeDriver({ stateFile })).toThrow(/bad.json does not hold a valid state/);
  });

  it('tells listeners about power changes the guest made, not about those it was asked for', async () => {
    const driver = new FakeDriver();
    const seen: [string, number][] = [];
    const unsubscribe = driver.onPowerStateChange((uuid, state) => seen.push([uuid, state]));
    const uuid = randomUUID();
    await driver.spawn(spawnRequest(uuid));
    await driver.powerOff(uuid);
    await driver.powerOn(uuid);
    await driver.simulateGuestPowerChange(uuid, PowerState.CRASHED);
    expect(seen).toEqual([[uuid, PowerState.CRASHED]]);
    expect(await driver.getConsoleOutput(uuid, 1)).toContain('guest is now CRASHED');
    unsubscribe();
    await driver.simulateGuestPowerChange(uuid, PowerState.SHUTDOWN);
    expect(seen).toHaveLength(1);
  });

  it('checks its options when built', () => {
    expect(() => new FakeDriver({ failureRate: 1.5 })).toThrow(/failureRate must be between 0 and 1/);
    expect(() => new FakeDriver({ spawnLatencyMs: -1 })).toThrow(/spawnLatencyMs must be a number >= 0/);
    expect(() => new FakeDriver({ inventory: { vcpus: 0 } })).toThrow(/invalid inventory vcpus/);
  });
});
