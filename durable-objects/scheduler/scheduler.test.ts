// The Scheduler object itself, in a local workerd: its RPC methods, and that it loads
// from its SQLite storage what it wrote there before a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HypervisorView, Selection } from './types';
import { inventory, requestSpec } from './fixtures';
import { startSchedulerWorker } from './miniflare';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const hosts = [
  { host: 'compute-1', inventory: inventory({ memoryMb: 16_384 }) },
  { host: 'compute-2', inventory: inventory({ memoryMb: 32_768, hypervisorHostname: 'compute-2.example' }) },
  { host: 'compute-3', inventory: inventory({ memoryMb: 65_536, availabilityZone: 'az2' }), status: { enabled: false, disabledReason: 'maintenance' } },
];
const group = { uuid: 'g1', policy: 'anti-affinity' as const, members: ['a1', 'a2', 'a3'] };

describe('Scheduler (Durable Object)', { timeout: 60_000 }, () => {
  it('keeps hosts, statuses and claims across a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'scheduler-test-'));
    dirs.push(dir);

    const first = await startSchedulerWorker({ persistDir: dir });
    let before: HypervisorView[];
    try {
      await first.call('upsertHosts', hosts);
      expect(await first.call('setHostStatus', 'compute-2', { up: true })).toBe(true);
      expect(await first.call('setHostStatus', 'nowhere', { up: true })).toBe(false);
      const a1 = (await first.call('selectDestinations', requestSpec('a1', { group }), 2)) as Selection;
      expect(a1).toEqual({ host: 'compute-2', node: 'compute-2.example', zone: 'nova', alternates: ['compute-1'] });
      expect(await first.call('selectDestinations', requestSpec('a2', { group }))).toMatchObject({ host: 'compute-1', alternates: [] });
      // Two members on the two enabled hosts: the third fits nowhere.
      expect(await first.call('selectDestinations', requestSpec('a3', { group }))).toBeNull();
      await first.call('selectDestinations', requestSpec('gone', { flavor: { memoryMb: 4096 } }));
      await first.call('releaseClaim', 'gone');
      await first.call('releaseClaim', 'gone');
      before = (await first.call('hypervisors')) as HypervisorView[];
      expect(before.map((h) => [h.host, h.status, h.state, h.runningVms, h.usedMemoryMb])).toEqual([
        ['compute-1', 'enabled', 'up', 1, 2048],
        ['compute-2', 'enabled', 'up', 1, 2048],
        ['compute-3', 'disabled', 'up', 0, 0],
      ]);
    } finally {
      await first.dispose();
    }

    const second = await startSchedulerWorker({ persistDir: dir });
    try {
      expect(await second.call('hypervisors')).toEqual(before);
      expect(await second.call('hostState', 'compute-3')).toMatchObject({ enabled: false, disabledReason: 'maintenance', instances: [] });
      expect(await second.call('hostState', 'compute-2')).toMatchObject({ usedVcpus: 1, usedMemoryMb: 2048, usedDiskGb: 20, instances: ['a1'] });
      // The group's members still hold their hosts.
      expect(await second.call('selectDestinations', requestSpec('a3', { group }))).toBeNull();
      await second.call('releaseClaim', 'a1');
      expect(await second.call('selectDestinations', requestSpec('a3', { group }))).toMatchObject({ host: 'compute-2', alternates: [] });
      // A retry elsewhere, through the alternates.
      await second.call('releaseClaim', 'a3');
      expect(await second.call('claimAlternate', requestSpec('a3', { group, ignoreHosts: ['compute-1'] }), ['compute-1', 'compute-2'])).toBe('compute-2');
    } finally {
      await second.dispose();
    }

    const third = await startSchedulerWorker({ persistDir: dir });
    try {
      expect(await third.call('hostState', 'compute-2')).toMatchObject({ instances: ['a3'] });
      expect(await third.call('hostState', 'compute-1')).toMatchObject({ instances: ['a2'] });
    } finally {
      await third.dispose();
    }
  });

  it('packs when SCHEDULER_WEIGHER is "pack", and refuses a weigher it does not know', async () => {
    const packed = await startSchedulerWorker({ bindings: { SCHEDULER_WEIGHER: 'pack' } });
    try {
      await packed.call('upsertHosts', hosts.slice(0, 2));
      expect(await packed.call('selectDestinations', requestSpec('i1'))).toMatchObject({ host: 'compute-1', alternates: ['compute-2'] });
    } finally {
      await packed.dispose();
    }
    const wrong = await startSchedulerWorker({ bindings: { SCHEDULER_WEIGHER: 'stack' } });
    try {
      await expect(wrong.call('hypervisors')).rejects.toThrow(/HTTP 500/);
    } finally {
      await wrong.dispose();
    }
  });
});
