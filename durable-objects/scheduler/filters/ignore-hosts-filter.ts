// The hosts a build already failed on (Nova's ignore_hosts, once its RetryFilter):
// "Skip nodes that have already been attempted."
import type { HostState, ResolvedSpec } from '../types';

export function ignoreHostsFilter(host: HostState, spec: ResolvedSpec): boolean {
  return spec.ignoredHosts.size === 0 || !spec.ignoredHosts.has(host.host.toLowerCase());
}
