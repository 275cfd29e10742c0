import { describe, expect, it } from 'vitest';
import { inventory, requestSpec, type SpecOverrides } from '../fixtures';
import { HostManager } from '../host-manager';
import { resolveSpec } from '../resolve-spec';
import type { HostInventoryInput } from '../../../lib/connector-protocol';
import type { HostStatusUpdate, ResolvedSpec } from '../types';
import { availabilityZoneFilter } from './availability-zone-filter';
import { computeFilter } from './compute-filter';
import { coreFilter } from './core-filter';
import { differentHostFilter } from './different-host-filter';
import { diskFilter } from './disk-filter';
import { ignoreHostsFilter } from './ignore-hosts-filter';
import { imagePropertiesFilter } from './image-properties-filter';
import { ramFilter } from './ram-filter';
import { sameHostFilter } from './same-host-filter';
import { serverGroupAffinityFilter } from './server-group-affinity-filter';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity-filter';

const manager = () => new HostManager();
const host = (m: HostManager, name: string, inv: Partial<HostInventoryInput> = {}, status: HostStatusUpdate = {}) =>
  m.upsertHost(name, inventory(inv), status);
const spec = (m: HostManager, overrides: SpecOverrides = {}, uuid = 'new'): ResolvedSpec =>
  resolveSpec(requestSpec(uuid, overrides), (u) => m.claimOf(u)?.host);
/** Puts an instance on a host with a claim of the given size. */
const place = (m: HostManager, uuid: string, hostName: string, size = { vcpus: 1, memoryMb: 2048, diskGb: 20 }) =>
  expect(m.restoreClaim(uuid, { host: hostName, ...size })).toBe(true);

describe('ComputeFilter', () => {
  it('passes an enabled host that is up', () => {
    const m = manager();
    expect(computeFilter(host(m, 'a'), spec(m))).toBe(true);
  });
  it('fails a disabled, forced-down or silent host', () => {
    const m = manager();
    expect(computeFilter(host(m, 'a', {}, { enabled: false, disabledReason: 'maintenance' }), spec(m))).toBe(false);
    expect(computeFilter(host(m, 'b', {}, { forcedDown: true }), spec(m))).toBe(false);
    expect(computeFilter(host(m, 'c', {}, { up: false }), spec(m))).toBe(false);
  });
});

describe('AvailabilityZoneFilter', () => {
  it('passes every host when no zone is asked for', () => {
    const m = manager();
    expect(availabilityZoneFilter(host(m, 'a', { availabilityZone: 'az1' }), spec(m))).toBe(true);
  });
  it('passes only hosts of the zone asked for; hosts default to "nova"', () => {
    const m = manager();
    expect(availabilityZoneFilter(host(m, 'a', { availabilityZone: 'az1' }), spec(m, { availabilityZone: 'az1' }))).toBe(true);
    expect(availabilityZoneFilter(host(m, 'b', { availabilityZone: 'az2' }), spec(m, { availabilityZone: 'az1' }))).toBe(false);
    expect(availabilityZoneFilter(host(m, 'c'), spec(m, { availabilityZone: 'nova' }))).toBe(true);
  });
});

describe('RamFilter', () => {
  it('free = total × ratio − reserved − used', () => {
    const m = manager();
    // 8192 × 1.5 − 512 reserved − 8192 used = 3584 MB left.
    const h = host(m, 'a', { memoryMb: 8192, ramAllocationRatio: 1.5, reservedHostMemoryMb: 512 });
    place(m, 'i1', 'a', { vcpus: 1, memoryMb: 8192, diskGb: 1 });
    expect(h.usableRamMb).toBe(3584);
    expect(ramFilter(h, spec(m, { flavor: { memoryMb: 3584 } }))).toBe(true);
    expect(ramFilter(h, spec(m, { flavor: { memoryMb: 3585 } }))).toBe(false);
  });
  it('does not let an instance overcommit against itself', () => {
    const m = manager();
    const h = host(m, 'a', { memoryMb: 4096, ramAllocationRatio: 4, reservedHostMemoryMb: 0 });
    expect(ramFilter(h, spec(m, { flavor: { memoryMb: 4096 } }))).toBe(true);
    expect(ramFilter(h, spec(m, { flavor: { memoryMb: 4097 } }))).toBe(false);
  });
});

describe('DiskFilter', () => {
  it('counts root, ephemeral and swap (rounded up to GB) against total × ratio − reserved − used', () => {
    const m = manager();
    // 100 GB × 1024 − 1024 MB reserved − 50 GB used = 50176 MB = 49 GB left.
    const h = host(m, 'a', { localGb: 100, reservedHostDiskMb: 1024 });
    place(m, 'i1', 'a', { vcpus: 1, memoryMb: 1, diskGb: 50 });
    expect(diskFilter(h, spec(m, { flavor: { rootGb: 40, ephemeralGb: 8, swapMb: 1 } }))).toBe(true); // 49 GB
    expect(diskFilter(h, spec(m, { flavor: { rootGb: 40, ephemeralGb: 8, swapMb: 1025 } }))).toBe(false); // 50 GB
  });
  it('applies the disk allocation ratio, but never beyond the physical disk for one instance', () => {
    const m = manager();
    const h = host(m, 'a', { localGb: 100, diskAllocationRatio: 2 });
    place(m, 'i1', 'a', { vcpus: 1, memoryMb: 1, diskGb: 100 });
    expect(diskFilter(h, spec(m, { flavor: { rootGb: 100 } }))).toBe(true);
    expect(diskFilter(h, spec(m, { flavor: { rootGb: 101 } }))).toBe(false);
  });
});

describe('CoreFilter', () => {
  it('free = vcpus × ratio − reserved − used', () => {
    const m = manager();
    // 4 × 2 − 1 reserved − 5 used = 2 left.
    const h = host(m, 'a', { vcpus: 4, cpuAllocationRatio: 2, reservedHostCpus: 1 });
    place(m, 'i1', 'a', { vcpus: 5, memoryMb: 1, diskGb: 1 });
    expect(coreFilter(h, spec(m, { flavor: { vcpus: 2 } }))).toBe(true);
    expect(coreFilter(h, spec(m, { flavor: { vcpus: 3 } }))).toBe(false);
  });
  it('does not let an instance have more vCPUs than the host has cores', () => {
    const m = manager();
    const h = host(m, 'a', { vcpus: 4, cpuAllocationRatio: 16 });
    expect(coreFilter(h, spec(m, { flavor: { vcpus: 5 } }))).toBe(false);
  });
});

describe('ImagePropertiesFilter', () => {
  const image = (properties: Record<string, string>) => ({ image: { id: 'img', properties } });
  it('passes any host when the image asks for nothing', () => {
    const m = manager();
    expect(imagePropertiesFilter(host(m, 'a', { cpuInfo: { arch: 'aarch64' } }), spec(m))).toBe(true);
  });
  it('matches hw_architecture, or the legacy "architecture", canonicalised, to the host CPU', () => {
    const m = manager();
    const x86 = host(m, 'a');
    const arm = host(m, 'b', { cpuInfo: { arch: 'aarch64' } });
    expect(imagePropertiesFilter(x86, spec(m, image({ hw_architecture: 'x86_64' })))).toBe(true);
    expect(imagePropertiesFilter(x86, spec(m, image({ architecture: 'amd64' })))).toBe(true);
    expect(imagePropertiesFilter(arm, spec(m, image({ hw_architecture: 'x86_64' })))).toBe(false);
    expect(imagePropertiesFilter(arm, spec(m, image({ hw_architecture: 'AArch64' })))).toBe(true);
  });
  it('matches img_hv_type, or the legacy "hypervisor_type"; a QEMU host offers kvm and qemu', () => {
    const m = manager();
    const qemu = host(m, 'a');
    const fake = host(m, 'b', { hypervisorType: 'fake' });
    expect(imagePropertiesFilter(qemu, spec(m, image({ img_hv_type: 'kvm' })))).toBe(true);
    expect(imagePropertiesFilter(qemu, spec(m, image({ hypervisor_type: 'qemu' })))).toBe(true);
    expect(imagePropertiesFilter(qemu, spec(m, image({ img_hv_type: 'xen' })))).toBe(false);
    expect(imagePropertiesFilter(fake, spec(m, image({ img_hv_type: 'kvm' })))).toBe(false);
    expect(imagePropertiesFilter(fake, spec(m, image({ img_hv_type: 'fake' })))).toBe(true);
  });
  it('supports the hvm machine mode only', () => {
    const m = manager();
    const h = host(m, 'a');
    expect(imagePropertiesFilter(h, spec(m, image({ hw_vm_mode: 'hvm' })))).toBe(true);
    expect(imagePropertiesFilter(h, spec(m, image({ vm_mode: 'hv' })))).toBe(true);
    expect(imagePropertiesFilter(h, spec(m, image({ hw_vm_mode: 'exe' })))).toBe(false);
  });
});

describe('ServerGroupAffinityFilter', () => {
  const group = (members: string[]) => ({ group: { uuid: 'g', policy: 'affinity' as const, members } });
  it('lets the first member go anywhere, and the next ones only beside it', () => {
    const m = manager();
    const a = host(m, 'a');
    const b = host(m, 'b');
    expect(serverGroupAffinityFilter(b, spec(m, group(['m1', 'new'])))).toBe(true);
    place(m, 'm1', 'a');
    expect(serverGroupAffinityFilter(a, spec(m, group(['m1', 'new'])))).toBe(true);
    expect(serverGroupAffinityFilter(b, spec(m, group(['m1', 'new'])))).toBe(false);
  });
  it('ignores other policies', () => {
    const m = manager();
    host(m, 'a');
    place(m, 'm1', 'a');
    expect(serverGroupAffinityFilter(host(m, 'b'), spec(m, { group: { uuid: 'g', policy: 'soft-affinity', members: ['m1'] } }))).toBe(true);
  });
});

describe('ServerGroupAntiAffinityFilter', () => {
  const group = (members: string[], maxServerPerHost?: number) => ({
    group: { uuid: 'g', policy: 'anti-affinity' as const, members, ...(maxServerPerHost ? { maxServerPerHost } : {}) },
  });
  it('fails a host that holds a member', () => {
    const m = manager();
    const a = host(m, 'a');
    const b = host(m, 'b');
    place(m, 'm1', 'a');
    expect(serverGroupAntiAffinityFilter(a, spec(m, group(['m1', 'new'])))).toBe(false);
    expect(serverGroupAntiAffinityFilter(b, spec(m, group(['m1', 'new'])))).toBe(true);
    // Instances outside the group do not count.
    place(m, 'other', 'b');
    expect(serverGroupAntiAffinityFilter(b, spec(m, group(['m1', 'new'])))).toBe(true);
  });
  it('honours the max_server_per_host rule', () => {
    const m = manager();
    const a = host(m, 'a');
    place(m, 'm1', 'a');
    expect(serverGroupAntiAffinityFilter(a, spec(m, group(['m1', 'new'], 2)))).toBe(true);
    place(m, 'm2', 'a');
    expect(serverGroupAntiAffinityFilter(a, spec(m, group(['m1', 'm2', 'new'], 2)))).toBe(false);
  });
  it("never holds the instance's own host against it", () => {
    const m = manager();
    const a = host(m, 'a');
    place(m, 'm1', 'a');
    place(m, 'self', 'a');
    expect(serverGroupAntiAffinityFilter(a, spec(m, group(['m1', 'self']), 'self'))).toBe(true);
  });
});

describe('SameHostFilter and DifferentHostFilter', () => {
  it('same_host: only hosts of the named instances; none when they have no claim', () => {
    const m = manager();
    const a = host(m, 'a');
    const b = host(m, 'b');
    place(m, 'i1', 'a');
    expect(sameHostFilter(a, spec(m, { sameHost: ['i1'] }))).toBe(true);
    expect(sameHostFilter(b, spec(m, { sameHost: ['i1'] }))).toBe(false);
    expect(sameHostFilter(a, spec(m, { sameHost: ['gone'] }))).toBe(false);
    expect(sameHostFilter(b, spec(m))).toBe(true);
  });
  it('different_host: no host of the named instances', () => {
    const m = manager();
    const a = host(m, 'a');
    const b = host(m, 'b');
    place(m, 'i1', 'a');
    expect(differentHostFilter(a, spec(m, { differentHost: ['i1', 'gone'] }))).toBe(false);
    expect(differentHostFilter(b, spec(m, { differentHost: ['i1', 'gone'] }))).toBe(true);
  });
});

describe('ignore_hosts', () => {
  it('fails the hosts a build already failed on, whatever their case', () => {
    const m = manager();
    expect(ignoreHostsFilter(host(m, 'Compute-1'), spec(m, { ignoreHosts: ['compute-1'] }))).toBe(false);
    expect(ignoreHostsFilter(host(m, 'compute-2'), spec(m, { ignoreHosts: ['compute-1'] }))).toBe(true);
  });
});
