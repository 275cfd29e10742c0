// Nova's AvailabilityZoneFilter: "Filters Hosts by availability zone." A host is in the
// zone its connector announces ("nova", Nova's default_availability_zone, unless set).
import type { HostState, ResolvedSpec } from '../types';

export function availabilityZoneFilter(host: HostState, spec: ResolvedSpec): boolean {
  return !spec.availabilityZone || host.inventory.availabilityZone === spec.availabilityZone;
}
