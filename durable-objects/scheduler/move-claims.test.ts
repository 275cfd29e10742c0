// The claims of a moving server: two at once (the source's under the migration's id, the
// destination's under the instance's), one after a confirm, the source's alone after a
// revert or a failure, and the usage of every host back where it should be.
import { describe, expect, it } from 'vitest';
import { inventory, requestSpec } from './fixtures';
import { HostManager } from './host-manager';

const tiny = { vcpus: 1, memoryMb: 512, rootGb: 1 };
const small = { vcpus: 1, memoryMb: 2048, rootGb: 20 };

/** Two equal hosts; the instance booted with m1.tiny on "a". */
function booted(): HostManager {
  const m = new HostManager();
  m.upsertHost('a', inventory({ memoryMb: 65_536 }));
  m.upsertHost('b', inventory({ memoryMb: 32_768 }));
  expect(m.selectDestinations(requestSpec('vm', { flavor: tiny }))?.host).toBe('a');
  return m;
}

const usage = (m: HostManager, host: string) => {
  const h = m.hostState(host)!;
  return { vcpus: h.usedVcpus, memoryMb: h.usedMemoryMb, diskGb: h.usedDiskGb, instances: [...h.instances].sort() };
};

describe('moveClaim', () => {
  it('hands a claim to another consumer on the same host, unchanged', () => {
    const m = booted();
    const before = usage(m, 'a');
    expect(m.moveClaim('vm', 'mig')).toBe(true);
    expect(m.claimOf('vm')).toBeUndefined();
    expect(m.claimOf('mig')).toEqual({ host: 'a', vcpus: 1, memoryMb: 512, diskGb: 1 });
    expect(usage(m, 'a')).toEqual({ ...before, instances: ['mig'] });
    expect(m.claimCount).toBe(1);
  });

  it('releases what the receiving consumer held before, and changes nothing when the giver has no claim', () => {
    const m = booted();
    m.selectDestinations(requestSpec('other', { flavor: small, ignoreHosts: ['a'] }));
    expect(usage(m, 'b').memoryMb).toBe(2048);
    expect(m.moveClaim('vm', 'other')).toBe(true);
    expect(usage(m, 'b')).toEqual({ vcpus: 0, memoryMb: 0, diskGb: 0, instances: [] });
    expect(usage(m, 'a')).toMatchObject({ memoryMb: 512, instances: ['other'] });
    expect(m.moveClaim('nobody', 'other')).toBe(false);
    expect(m.claimOf('other')?.host).toBe('a');
    expect(m.moveClaim('other', 'other')).toBe(true);
    expect(m.claimCount).toBe(1);
  });
});

describe('a move', () => {
  it('holds both claims while it lasts, and only the destination after a confirm', () => {
    const m = booted();
    const dest = m.selectMoveDestination(requestSpec('vm', { flavor: small, ignoreHosts: ['a'] }), 'mig');
    expect(dest).toBe('b');
    expect(usage(m, 'a')).toEqual({ vcpus: 1, memoryMb: 512, diskGb: 1, instances: ['mig'] });
    expect(usage(m, 'b')).toEqual({ vcpus: 1, memoryMb: 2048, diskGb: 20, instances: ['vm'] });
    // Confirmed: the migration's claim goes.
    expect(m.releaseClaim('mig')).toBe(true);
    expect(usage(m, 'a')).toEqual({ vcpus: 0, memoryMb: 0, diskGb: 0, instances: [] });
    expect(usage(m, 'b').memoryMb).toBe(2048);
    expect(m.claimCount).toBe(1);
  });

  it('gives the source back to the instance on a revert, and a second revert changes nothing', () => {
    const m = booted();
    const before = { a: usage(m, 'a'), b: usage(m, 'b') };
    expect(m.selectMoveDestination(requestSpec('vm', { flavor: small, ignoreHosts: ['a'] }), 'mig')).toBe('b');
    expect(m.revertMove('vm', 'mig')).toBe(true);
    expect({ a: usage(m, 'a'), b: usage(m, 'b') }).toEqual(before);
    expect(m.claimOf('vm')).toEqual({ host: 'a', vcpus: 1, memoryMb: 512, diskGb: 1 });
    expect(m.revertMove('vm', 'mig')).toBe(false);
    expect({ a: usage(m, 'a'), b: usage(m, 'b') }).toEqual(before);
  });

  it('leaves the claims as they were when no host fits', () => {
    const m = booted();
    const before = { a: usage(m, 'a'), b: usage(m, 'b') };
    const huge = { vcpus: 1, memoryMb: 1_000_000, rootGb: 1 };
    expect(m.selectMoveDestination(requestSpec('vm', { flavor: huge, ignoreHosts: ['a'] }), 'mig')).toBeNull();
    expect({ a: usage(m, 'a'), b: usage(m, 'b') }).toEqual(before);
    expect(m.claimOf('mig')).toBeUndefined();
    // The source is ignored, so a cold migration with one host has nowhere to go.
    const alone = new HostManager();
    alone.upsertHost('a', inventory());
    alone.selectDestinations(requestSpec('vm'));
    expect(alone.selectMoveDestination(requestSpec('vm', { ignoreHosts: ['a'] }), 'mig')).toBeNull();
    expect(alone.claimOf('vm')?.host).toBe('a');
  });

  it('tries only the requested host, through the filters, and a forced host without them', () => {
    const m = booted();
    m.upsertHost('c', inventory({ memoryMb: 16_384 }));
    m.setHostStatus('c', { enabled: false });
    const spec = requestSpec('vm', { flavor: small, ignoreHosts: ['a'] });
    // "c" is disabled: the compute filter fails it, and "b" is not tried in its place.
    expect(m.selectMoveDestination(spec, 'mig', 'c')).toBeNull();
    expect(m.claimOf('vm')?.host).toBe('a');
    // Forced (a live migration with force): only room is checked.
    expect(m.selectMoveDestination({ ...spec, forcedHost: 'c' }, 'mig')).toBe('c');
    expect(usage(m, 'c').instances).toEqual(['vm']);
    m.revertMove('vm', 'mig');
    expect(m.selectMoveDestination(spec, 'mig', 'b')).toBe('b');
  });

  it('counts both claims against the hosts: the source keeps the room until the move ends', () => {
    const m = new HostManager();
    m.upsertHost('a', inventory({ memoryMb: 4096, reservedHostMemoryMb: 0 }));
    m.upsertHost('b', inventory({ memoryMb: 4096, reservedHostMemoryMb: 0 }));
    m.selectDestinations(requestSpec('vm', { flavor: { memoryMb: 3000 } }));
    const source = m.claimOf('vm')!.host;
    const other = source === 'a' ? 'b' : 'a';
    expect(m.selectMoveDestination(requestSpec('vm', { flavor: { memoryMb: 3000 }, ignoreHosts: [source] }), 'mig')).toBe(other);
    // Neither host has 3000 MB left while the move lasts.
    expect(m.selectDestinations(requestSpec('late', { flavor: { memoryMb: 3000 } }))).toBeNull();
    m.releaseClaim('mig');
    expect(m.selectDestinations(requestSpec('late', { flavor: { memoryMb: 3000 } }))?.host).toBe(source);
  });

  it('keeps a group member\'s new host for the filters of the next member', () => {
    const m = new HostManager();
    for (const h of ['a', 'b', 'c']) m.upsertHost(h, inventory());
    const group = { uuid: 'g', policy: 'anti-affinity' as const, members: ['m1', 'm2'] };
    const first = m.selectDestinations(requestSpec('m1', { group }))!.host;
    const moved = m.selectMoveDestination(requestSpec('m1', { group, ignoreHosts: [first] }), 'mig')!;
    expect(moved).not.toBe(first);
    m.releaseClaim('mig');
    // m2 may take m1's old host, not its new one.
    const second = m.selectDestinations(requestSpec('m2', { group, ignoreHosts: [] }))!.host;
    expect(second).not.toBe(moved);
  });
});
