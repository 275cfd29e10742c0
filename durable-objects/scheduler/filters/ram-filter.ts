// Nova's RamFilter: "Only return hosts with sufficient available RAM."
import type { HostState, ResolvedSpec } from '../types';

export function ramFilter(host: HostState, spec: ResolvedSpec): boolean {
  // "Do not allow an instance to overcommit against itself, only against other instances."
  if (host.inventory.memoryMb < spec.memoryMb) return false;
  return host.usableRamMb >= spec.memoryMb;
}
