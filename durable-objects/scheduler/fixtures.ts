// Hosts and request specs for the scheduler's tests and benchmark, with the defaults a
// connector's announcement and a plain boot request would have.
import { hostInventory, type HostInventory, type HostInventoryInput } from '../../lib/connector-protocol';
import type { RequestSpec } from './types';

/** A 16-core, 64 GiB, 1 TB QEMU host, with the protocol's defaults for the rest. */
export function inventory(overrides: Partial<HostInventoryInput> = {}): HostInventory {
  return hostInventory.parse({
    hypervisorHostname: 'node',
    hypervisorType: 'QEMU',
    hypervisorVersion: 7_002_000,
    hostIp: '10.0.0.1',
    vcpus: 16,
    memoryMb: 65_536,
    localGb: 1000,
    ...overrides,
  });
}

export type SpecOverrides = Partial<Omit<RequestSpec, 'flavor'>> & { flavor?: Partial<RequestSpec['flavor']> };

/** An m1.small-like boot request (1 vCPU, 2 GiB, 20 GB) with no hints, group or zone. */
export function requestSpec(instanceUuid: string, overrides: SpecOverrides = {}): RequestSpec {
  const { flavor, ...rest } = overrides;
  return {
    instanceUuid,
    projectId: 'project',
    image: { id: 'image', properties: {} },
    availabilityZone: null,
    forcedHost: null,
    group: null,
    sameHost: [],
    differentHost: [],
    ignoreHosts: [],
    ...rest,
    flavor: { vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0, swapMb: 0, extraSpecs: {}, ...flavor },
  };
}
