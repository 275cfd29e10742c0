// Nova's ComputeFilter: "Filter on active Compute nodes."
import type { HostState, ResolvedSpec } from '../types';

/** Passes a host that is enabled, not forced down and heard from lately. */
export function computeFilter(host: HostState, _spec: ResolvedSpec): boolean {
  return host.enabled && !host.forcedDown && host.up;
}
