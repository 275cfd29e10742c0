// Nova's ServerGroupAntiAffinityFilter: "Schedule the instance on a different host from a
// set of group hosts", for the hard "anti-affinity" policy. With the max_server_per_host
// rule a host may hold up to that many members (default 1).
import type { HostState, ResolvedSpec } from '../types';

export function serverGroupAntiAffinityFilter(host: HostState, spec: ResolvedSpec): boolean {
  if (spec.group?.policy !== 'anti-affinity') return true;
  const maxServerPerHost = spec.group.maxServerPerHost ?? 1;
  if ((spec.groupHosts.get(host.host) ?? 0) < maxServerPerHost) return true;
  // "Move operations like resize can check the same source compute node where the
  // instance is": its own host never counts against it.
  return host.instances.has(spec.instanceUuid);
}
