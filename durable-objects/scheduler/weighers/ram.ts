// Nova's RAMWeigher: "Higher weights win. We want spreading to be the default." A negative
// multiplier packs instead. It weighs free_ram_mb: physical RAM less reserved and used,
// before the allocation ratio.
import type { HostState } from '../types';
import type { HostWeigher } from './weigher';

export const ramWeigher: HostWeigher = {
  multiplier: 'ram',
  minval: 0,
  applies: () => true,
  weigh: (host: HostState) => host.inventory.memoryMb - host.inventory.reservedHostMemoryMb - host.usedMemoryMb,
};
