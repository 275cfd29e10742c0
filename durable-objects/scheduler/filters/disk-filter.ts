// Nova's DiskFilter: "Filter based on disk usage." Compared in MB as Nova does, because
// reserved_host_disk_mb is in MB while claims are whole GB.
import type { HostState, ResolvedSpec } from '../types';

export function diskFilter(host: HostState, spec: ResolvedSpec): boolean {
  const requestedMb = spec.diskGb * 1024;
  // "If there isn't room for even just this one instance in total_usable_disk space,
  // consider the host full."
  if (host.inventory.localGb * 1024 < requestedMb) return false;
  return host.usableDiskMb >= requestedMb;
}
