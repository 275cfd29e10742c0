import { describe, expect, it } from 'vitest';
import { inventory, requestSpec, type SpecOverrides } from '../fixtures';
import { HostManager } from '../host-manager';
import { resolveSpec } from '../resolve-spec';
import type { ResolvedSpec } from '../types';
import { cpuWeigher } from './cpu';
import { diskWeigher } from './disk';
import { PACK } from './index';
import { ramWeigher } from './ram';
import { softAffinityWeigher } from './soft-affinity';
import { softAntiAffinityWeigher } from './soft-anti-affinity';

const spec = (m: HostManager, overrides: SpecOverrides = {}): ResolvedSpec =>
  resolveSpec(requestSpec('new', overrides), (u) => m.claimOf(u)?.host);

describe('raw weights', () => {
  it('RAMWeigher: free_ram_mb, physical RAM less reserved and used (no ratio)', () => {
    const m = new HostManager();
    const h = m.upsertHost('a', inventory({ memoryMb: 8192, ramAllocationRatio: 1.5, reservedHostMemoryMb: 512 }));
    m.restoreClaim('i1', { host: 'a', vcpus: 1, memoryMb: 1024, diskGb: 1 });
    expect(ramWeigher.weigh(h, spec(m))).toBe(8192 - 512 - 1024);
  });
  it('CPUWeigher: vcpus × cpu_allocation_ratio − used', () => {
    const m = new HostManager();
    const h = m.upsertHost('a', inventory({ vcpus: 8, cpuAllocationRatio: 4 }));
    m.restoreClaim('i1', { host: 'a', vcpus: 3, memoryMb: 1, diskGb: 1 });
    expect(cpuWeigher.weigh(h, spec(m))).toBe(29);
  });
  it('DiskWeigher: free_disk_mb, local disk less reserved and used (no ratio)', () => {
    const m = new HostManager();
    const h = m.upsertHost('a', inventory({ localGb: 100, diskAllocationRatio: 2, reservedHostDiskMb: 100 }));
    m.restoreClaim('i1', { host: 'a', vcpus: 1, memoryMb: 1, diskGb: 10 });
    expect(diskWeigher.weigh(h, spec(m))).toBe(90 * 1024 - 100);
  });
  it('soft (anti-)affinity: members on the host, counted for the matching policy only', () => {
    const m = new HostManager();
    const a = m.upsertHost('a', inventory());
    const b = m.upsertHost('b', inventory());
    m.restoreClaim('m1', { host: 'a', vcpus: 1, memoryMb: 1, diskGb: 1 });
    m.restoreClaim('m2', { host: 'a', vcpus: 1, memoryMb: 1, diskGb: 1 });
    const soft = spec(m, { group: { uuid: 'g', policy: 'soft-affinity', members: ['m1', 'm2', 'new'] } });
    const anti = spec(m, { group: { uuid: 'g', policy: 'soft-anti-affinity', members: ['m1', 'm2', 'new'] } });
    expect([softAffinityWeigher.weigh(a, soft), softAffinityWeigher.weigh(b, soft)]).toEqual([2, 0]);
    expect([softAntiAffinityWeigher.weigh(a, anti), softAntiAffinityWeigher.weigh(b, anti)]).toEqual([-2, -0]);
    expect(softAffinityWeigher.applies(anti)).toBe(false);
    expect(softAntiAffinityWeigher.applies(soft)).toBe(false);
  });
});

describe('weighing (normalised, multiplied, summed)', () => {
  /** Three hosts with 16, 32 and 64 GiB, otherwise alike. */
  const fleet = (m: HostManager) => {
    m.upsertHost('small', inventory({ memoryMb: 16_384 }));
    m.upsertHost('medium', inventory({ memoryMb: 32_768 }));
    m.upsertHost('large', inventory({ memoryMb: 65_536 }));
  };
  it('spreads by default: the most free RAM wins', () => {
    const m = new HostManager();
    fleet(m);
    expect(m.selectDestinations(requestSpec('i1'))).toMatchObject({ host: 'large', alternates: ['medium', 'small'] });
  });
  it('packs with negative multipliers: the fullest host that fits wins', () => {
    const m = new HostManager({ multipliers: PACK });
    fleet(m);
    expect(m.selectDestinations(requestSpec('i1'))?.host).toBe('small');
    // A flavor that does not fit the small host goes to the next fullest.
    expect(m.selectDestinations(requestSpec('i2', { flavor: { memoryMb: 20_000 } }))?.host).toBe('medium');
  });
  it('weighs CPU and disk too: with equal RAM, the host with more free vCPUs wins', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ vcpus: 8 }));
    m.upsertHost('b', inventory({ vcpus: 32 }));
    expect(m.selectDestinations(requestSpec('i1'))?.host).toBe('b');
  });
  it('soft-affinity outweighs the spread of one resource; soft-anti-affinity avoids members', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 16_384 }));
    m.upsertHost('b', inventory({ memoryMb: 65_536 }));
    m.restoreClaim('m1', { host: 'a', vcpus: 1, memoryMb: 1, diskGb: 1 });
    // RAM favours b by about 0.76 (16 against 64 GiB), the group favours a by 1, CPU and disk almost tie.
    const soft = requestSpec('i1', { group: { uuid: 'g', policy: 'soft-affinity', members: ['m1', 'i1'] } });
    expect(m.selectDestinations(soft)?.host).toBe('a');
    const m2 = new HostManager();
    m2.upsertHost('a', inventory());
    m2.upsertHost('b', inventory());
    m2.restoreClaim('m1', { host: 'a', vcpus: 1, memoryMb: 1, diskGb: 1 });
    m2.restoreClaim('x', { host: 'b', vcpus: 1, memoryMb: 1, diskGb: 1 });
    const anti = requestSpec('i1', { group: { uuid: 'g', policy: 'soft-anti-affinity', members: ['m1', 'i1'] } });
    expect(m2.selectDestinations(anti)?.host).toBe('b');
  });
  it('breaks ties by host name, the same way every time', () => {
    const m = new HostManager();
    for (const name of ['c', 'a', 'b']) m.upsertHost(name, inventory());
    expect(m.selectDestinations(requestSpec('i1'))).toMatchObject({ host: 'a', alternates: ['b', 'c'] });
  });
  it('with host_subset_size, draws the chosen host among that many best', () => {
    const picks = new Set<string>();
    for (const r of [0, 0.4, 0.8]) {
      const m = new HostManager({ hostSubsetSize: 3, random: () => r });
      for (const name of ['a', 'b', 'c', 'd']) m.upsertHost(name, inventory());
      const s = m.selectDestinations(requestSpec('i1'), 2)!;
      picks.add(s.host);
      expect(s.alternates).not.toContain(s.host);
      expect(s.alternates).toHaveLength(2);
    }
    expect([...picks].sort()).toEqual(['a', 'b', 'c']);
  });
});
