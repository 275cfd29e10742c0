// Nova's CPUWeigher: "Higher weights win. We want spreading to be the default." It weighs
// the free vCPUs after the allocation ratio: vcpus_total * cpu_allocation_ratio - vcpus_used.
import type { HostState } from '../types';
import type { HostWeigher } from './weigher';

export const cpuWeigher: HostWeigher = {
  multiplier: 'cpu',
  minval: 0,
  applies: () => true,
  weigh: (host: HostState) => host.inventory.vcpus * host.inventory.cpuAllocationRatio - host.usedVcpus,
};
