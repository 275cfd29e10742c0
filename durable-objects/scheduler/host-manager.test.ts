import { describe, expect, it } from 'vitest';
import { inventory, requestSpec } from './fixtures';
import { HostManager } from './host-manager';
import { schedulerOptions } from './options';
import { PACK, SPREAD } from './weighers';

/** A small fleet of unlike hosts: sizes, ratios and reservations all differ. */
function fleet(m: HostManager): void {
  m.upsertHost('h1', inventory({ vcpus: 4, memoryMb: 8192, localGb: 100, cpuAllocationRatio: 2 }));
  m.upsertHost('h2', inventory({ vcpus: 8, memoryMb: 16_384, localGb: 200, ramAllocationRatio: 1.5, reservedHostCpus: 1 }));
  m.upsertHost('h3', inventory({ vcpus: 16, memoryMb: 32_768, localGb: 50, diskAllocationRatio: 2, reservedHostDiskMb: 2048 }));
  m.upsertHost('h4', inventory({ vcpus: 2, memoryMb: 4096, localGb: 40, reservedHostMemoryMb: 0 }));
}

/** Nothing on any host is claimed beyond what the filters allow, and the sums match the claims. */
function expectNoOvercommit(m: HostManager): void {
  for (const v of m.hypervisors()) {
    const h = m.hostState(v.host)!;
    const inv = h.inventory;
    expect(h.usedMemoryMb).toBeLessThanOrEqual(inv.memoryMb * inv.ramAllocationRatio - inv.reservedHostMemoryMb);
    expect(h.usedVcpus).toBeLessThanOrEqual(inv.vcpus * inv.cpuAllocationRatio - inv.reservedHostCpus);
    expect(h.usedDiskGb * 1024).toBeLessThanOrEqual(inv.localGb * 1024 * inv.diskAllocationRatio - inv.reservedHostDiskMb);
    let vcpus = 0;
    for (const uuid of h.instances) vcpus += m.claimOf(uuid)!.vcpus;
    expect(vcpus).toBe(h.usedVcpus);
  }
}

/** A deterministic stream of numbers in [0, 1). */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const FLAVORS = [
  { vcpus: 1, memoryMb: 512, rootGb: 1 },
  { vcpus: 1, memoryMb: 2048, rootGb: 20 },
  { vcpus: 2, memoryMb: 4096, rootGb: 40, swapMb: 512 },
  { vcpus: 4, memoryMb: 8192, rootGb: 80, ephemeralGb: 10 },
];

describe('claims', () => {
  for (const [name, multipliers] of [['spread', SPREAD], ['pack', PACK]] as const) {
    it(`never overcommit under many sequential selects (${name})`, () => {
      const m = new HostManager({ multipliers });
      fleet(m);
      const next = lcg(7);
      let placed = 0;
      for (let i = 0; i < 2000; i++) {
        const flavor = FLAVORS[Math.floor(next() * FLAVORS.length)]!;
        if (m.selectDestinations(requestSpec(`i${i}`, { flavor }))) placed++;
      }
      expect(placed).toBeGreaterThan(10);
      expect(m.claimCount).toBe(placed);
      expectNoOvercommit(m);
      // Full: even the smallest flavor fits nowhere now.
      expect(m.selectDestinations(requestSpec('last', { flavor: FLAVORS[0] }))).toBeNull();
    });
  }

  it('release restores the capacity, and releasing twice changes nothing', () => {
    const m = new HostManager();
    fleet(m);
    const before = m.hypervisors().map((v) => m.hostState(v.host));
    const uuids: string[] = [];
    for (let i = 0; m.selectDestinations(requestSpec(`i${i}`)); i++) uuids.push(`i${i}`);
    expect(uuids.length).toBeGreaterThan(0);
    for (const uuid of uuids) expect(m.releaseClaim(uuid)).toBe(true);
    expect(m.releaseClaim(uuids[0]!)).toBe(false);
    expect(m.claimCount).toBe(0);
    expect(m.hypervisors().map((v) => m.hostState(v.host))).toEqual(before);
    // And the same number fits again.
    let again = 0;
    while (m.selectDestinations(requestSpec(`j${again}`))) again++;
    expect(again).toBe(uuids.length);
  });

  it('a new claim for an instance replaces its old one', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 4096, reservedHostMemoryMb: 0 }));
    m.upsertHost('b', inventory({ memoryMb: 4096, reservedHostMemoryMb: 0 }));
    expect(m.selectDestinations(requestSpec('i1', { flavor: { memoryMb: 3000 } }))?.host).toBe('a');
    expect(m.selectDestinations(requestSpec('i1', { flavor: { memoryMb: 3000 }, ignoreHosts: ['a'] }))?.host).toBe('b');
    expect(m.claimCount).toBe(1);
    expect(m.hostState('a')!.usedMemoryMb).toBe(0);
  });

  it('an inventory update keeps the usage', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 8192 }));
    m.selectDestinations(requestSpec('i1'));
    m.upsertHost('a', inventory({ memoryMb: 16_384 }));
    expect(m.hostState('a')).toMatchObject({ usedMemoryMb: 2048, usableRamMb: 16_384 - 512 - 2048, instances: new Set(['i1']) });
  });
});

describe('selectDestinations', () => {
  it('anti-affinity with two hosts puts the third member nowhere', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory());
    m.upsertHost('b', inventory());
    const members = ['m1', 'm2', 'm3'];
    const group = { uuid: 'g', policy: 'anti-affinity' as const, members };
    const first = m.selectDestinations(requestSpec('m1', { group }));
    const second = m.selectDestinations(requestSpec('m2', { group }));
    expect(new Set([first?.host, second?.host])).toEqual(new Set(['a', 'b']));
    expect(m.selectDestinations(requestSpec('m3', { group }))).toBeNull();
    expect(m.claimOf('m3')).toBeUndefined();
  });

  it('affinity keeps the members together', () => {
    const m = new HostManager();
    for (const h of ['a', 'b', 'c']) m.upsertHost(h, inventory());
    const group = { uuid: 'g', policy: 'affinity' as const, members: ['m1', 'm2', 'm3'] };
    const hosts = ['m1', 'm2', 'm3'].map((u) => m.selectDestinations(requestSpec(u, { group }))?.host);
    expect(new Set(hosts).size).toBe(1);
  });

  it('alternates exclude the chosen host, are next best in order, and only hosts that passed', () => {
    const m = new HostManager();
    m.upsertHost('big', inventory({ memoryMb: 131_072 }));
    m.upsertHost('mid', inventory({ memoryMb: 65_536 }));
    m.upsertHost('small', inventory({ memoryMb: 32_768 }));
    m.upsertHost('off', inventory({ memoryMb: 262_144 }), { enabled: false });
    m.upsertHost('other-zone', inventory({ memoryMb: 262_144, availabilityZone: 'az2' }));
    const nova = { availabilityZone: 'nova' };
    const s = m.selectDestinations(requestSpec('i1', nova), 5)!;
    expect(s).toMatchObject({ host: 'big', alternates: ['mid', 'small'] });
    expect(m.selectDestinations(requestSpec('i2', nova), 1)!.alternates).toEqual(['mid']);
    expect(m.selectDestinations(requestSpec('i3', nova), 0)!.alternates).toEqual([]);
    // One host passing: no alternates.
    // With its node and zone, for the instance record.
    expect(m.selectDestinations(requestSpec('i4', { availabilityZone: 'az2' }))).toEqual({ host: 'other-zone', node: 'node', zone: 'az2', alternates: [] });
  });

  it('skips disabled, forced-down and down hosts, and ignored ones', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 131_072 }));
    m.upsertHost('b', inventory());
    expect(m.setHostStatus('a', { enabled: false, disabledReason: 'maintenance' })).toBe(true);
    expect(m.selectDestinations(requestSpec('i1'))?.host).toBe('b');
    m.setHostStatus('a', { enabled: true, forcedDown: true });
    expect(m.selectDestinations(requestSpec('i2'))?.host).toBe('b');
    m.setHostStatus('a', { forcedDown: false, up: false });
    expect(m.selectDestinations(requestSpec('i3'))?.host).toBe('b');
    m.setHostStatus('a', { up: true });
    expect(m.selectDestinations(requestSpec('i4'))?.host).toBe('a');
    expect(m.selectDestinations(requestSpec('i5', { ignoreHosts: ['A'] }))?.host).toBe('b');
    expect(m.setHostStatus('nope', { up: true })).toBe(false);
  });

  it('a forced host skips the filters but must exist and have room', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 4096, reservedHostMemoryMb: 0 }), { enabled: false });
    m.upsertHost('b', inventory({ memoryMb: 65_536 }));
    const forced = (uuid: string, memoryMb = 2048) => requestSpec(uuid, { forcedHost: 'a', availabilityZone: 'elsewhere', flavor: { memoryMb } });
    expect(m.selectDestinations(forced('i1'))).toMatchObject({ host: 'a', alternates: [] });
    expect(m.selectDestinations(forced('i2', 4096))).toBeNull();
    expect(m.selectDestinations(requestSpec('i3', { forcedHost: 'missing' }))).toBeNull();
    expect(m.selectDestinations({ ...forced('i4'), ignoreHosts: ['a'] })).toBeNull();
  });

  it('returns null when nothing fits, and claims nothing', () => {
    const m = new HostManager();
    expect(m.selectDestinations(requestSpec('i1'))).toBeNull();
    m.upsertHost('a', inventory());
    expect(m.selectDestinations(requestSpec('i1', { flavor: { vcpus: 17 } }))).toBeNull();
    expect(m.claimCount).toBe(0);
  });
});

describe('claimAlternate', () => {
  it('claims on the first candidate that still passes', () => {
    const m = new HostManager();
    for (const h of ['a', 'b', 'c', 'd']) m.upsertHost(h, inventory({ memoryMb: 8192, reservedHostMemoryMb: 0 }));
    const spec = requestSpec('i1', { flavor: { memoryMb: 6000 } });
    const first = m.selectDestinations(spec, 3)!;
    expect(first).toMatchObject({ host: 'a', alternates: ['b', 'c', 'd'] });
    // The build failed on a; meanwhile b went down and c filled up.
    m.releaseClaim('i1');
    m.setHostStatus('b', { up: false });
    m.selectDestinations(requestSpec('filler', { forcedHost: 'c', flavor: { memoryMb: 4000 } }));
    expect(m.claimAlternate({ ...spec, ignoreHosts: ['a'] }, first.alternates)).toBe('d');
    expect(m.claimOf('i1')?.host).toBe('d');
    expect(m.claimAlternate({ ...spec, ignoreHosts: ['a', 'd'] }, ['a', 'b', 'c', 'd', 'unknown'])).toBeNull();
    // The failed try released the claim it replaced.
    expect(m.claimOf('i1')).toBeUndefined();
  });
});

describe('hypervisors', () => {
  it('shows each host with its state, status, usage and a stable id', () => {
    const m = new HostManager();
    m.upsertHost('b', inventory(), { up: false });
    m.upsertHost('a', inventory(), { enabled: false });
    m.selectDestinations(requestSpec('i1', { forcedHost: 'a' }));
    const views = m.hypervisors();
    expect(views.map((v) => [v.host, v.state, v.status, v.runningVms, v.usedVcpus])).toEqual([
      ['a', 'up', 'disabled', 1, 1],
      ['b', 'down', 'enabled', 0, 0],
    ]);
    const id = views[0]!.id;
    m.upsertHost('a', inventory({ vcpus: 32 }));
    expect(m.hypervisors()[0]!.id).toBe(id);
    expect(m.hostState('nope')).toBeNull();
  });
});

describe('schedulerOptions', () => {
  it('reads SCHEDULER_WEIGHER and SCHEDULER_HOST_SUBSET_SIZE, and refuses what it does not know', () => {
    expect(schedulerOptions({})).toEqual({ multipliers: SPREAD, hostSubsetSize: 1 });
    expect(schedulerOptions({ SCHEDULER_WEIGHER: 'pack', SCHEDULER_HOST_SUBSET_SIZE: '3' })).toEqual({ multipliers: PACK, hostSubsetSize: 3 });
    expect(() => schedulerOptions({ SCHEDULER_WEIGHER: 'stack' })).toThrow(/spread/);
    expect(() => schedulerOptions({ SCHEDULER_HOST_SUBSET_SIZE: '0' })).toThrow(/whole number/);
  });
});
