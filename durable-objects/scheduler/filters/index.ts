// The enabled filters, in the order they run: the cheapest and the most selective first
// (a host must pass all of them, so the order changes only the time taken).
//
// Each filter is called from its own line rather than from a loop over a list: a call
// that always reaches the same function can be inlined by the engine, one that reaches
// eleven cannot, and over 10,000 hosts that is most of the cost of a request.
import type { HostState, ResolvedSpec } from '../types';
import { availabilityZoneFilter } from './availability-zone-filter';
import { computeFilter } from './compute-filter';
import { coreFilter } from './core-filter';
import { differentHostFilter } from './different-host-filter';
import { diskFilter } from './disk-filter';
import { ignoreHostsFilter } from './ignore-hosts-filter';
import { imagePropertiesFilter } from './image-properties-filter';
import { ramFilter } from './ram-filter';
import { sameHostFilter } from './same-host-filter';
import { serverGroupAffinityFilter } from './server-group-affinity-filter';
import { serverGroupAntiAffinityFilter } from './server-group-anti-affinity-filter';

/** A host filter: pass or fail one host for one request. */
export type HostFilter = (host: HostState, spec: ResolvedSpec) => boolean;

/** True when the host passes every filter. */
export function hostPasses(host: HostState, spec: ResolvedSpec): boolean {
  return (
    ignoreHostsFilter(host, spec) &&
    computeFilter(host, spec) &&
    ramFilter(host, spec) &&
    coreFilter(host, spec) &&
    diskFilter(host, spec) &&
    availabilityZoneFilter(host, spec) &&
    imagePropertiesFilter(host, spec) &&
    serverGroupAffinityFilter(host, spec) &&
    serverGroupAntiAffinityFilter(host, spec) &&
    sameHostFilter(host, spec) &&
    differentHostFilter(host, spec)
  );
}

/**
 * True when a forced host may take the request. It skips the filters, as in Nova, but
 * Nova drops ignored hosts before it forces one, and since Queens Placement still has to
 * find room on it: the RAM, core and disk filters stand for Placement here.
 */
export function forcedHostPasses(host: HostState, spec: ResolvedSpec): boolean {
  return ignoreHostsFilter(host, spec) && ramFilter(host, spec) && coreFilter(host, spec) && diskFilter(host, spec);
}
