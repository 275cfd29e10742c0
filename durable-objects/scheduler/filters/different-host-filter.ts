// Nova's DifferentHostFilter: "Schedule the instance on a different host from a set of
// instances" (the different_host scheduler hint).
import type { HostState, ResolvedSpec } from '../types';

export function differentHostFilter(host: HostState, spec: ResolvedSpec): boolean {
  return spec.differentHostHosts.size === 0 || !spec.differentHostHosts.has(host.host);
}
