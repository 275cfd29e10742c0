// Nova's ServerGroupAffinityFilter: "Schedule the instance on to host from a set of group
// hosts." Only for the hard "affinity" policy; the first member may go anywhere.
import type { HostState, ResolvedSpec } from '../types';

export function serverGroupAffinityFilter(host: HostState, spec: ResolvedSpec): boolean {
  if (spec.group?.policy !== 'affinity') return true;
  return spec.groupHosts.size === 0 || spec.groupHosts.has(host.host);
}
