// Nova's SameHostFilter: "Schedule the instance on the same host as another instance in
// a set of instances" (the same_host scheduler hint).
import type { HostState, ResolvedSpec } from '../types';

export function sameHostFilter(host: HostState, spec: ResolvedSpec): boolean {
  // With no same_host hint every host passes; with one, only hosts of those instances
  // (none, when none of them has a claim anywhere).
  return spec.sameHost.length === 0 || spec.sameHostHosts.has(host.host);
}
