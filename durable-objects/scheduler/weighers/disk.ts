// Nova's DiskWeigher: "Higher weights win. We want spreading to be the default." It weighs
// free_disk_mb: the local disk less reserved and used, before the allocation ratio.
import type { HostState } from '../types';
import type { HostWeigher } from './weigher';

export const diskWeigher: HostWeigher = {
  multiplier: 'disk',
  minval: 0,
  applies: () => true,
  weigh: (host: HostState) => host.inventory.localGb * 1024 - host.inventory.reservedHostDiskMb - host.usedDiskGb * 1024,
};
