// Nova's CoreFilter: "Return True if host has sufficient CPU cores."
import type { HostState, ResolvedSpec } from '../types';

export function coreFilter(host: HostState, spec: ResolvedSpec): boolean {
  // "Do not allow an instance to overcommit against itself, only against other instances."
  if (host.inventory.vcpus < spec.vcpus) return false;
  return host.usableVcpus >= spec.vcpus;
}
