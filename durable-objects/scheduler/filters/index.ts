// The enabled filters, in the order they run: the cheapest and the most selective first
// (a host must pass all of them, so the order changes only the time taken).
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

/** What stands for Placement's allocation candidates: room for the flavor. */
export const RESOURCE_FILTERS: readonly HostFilter[] = [ramFilter, coreFilter, diskFilter];

/**
 * A forced host skips the filters, as in Nova, but Nova drops ignored hosts before it
 * forces one, and since Queens Placement still has to find room on it.
 */
export const FORCED_HOST_FILTERS: readonly HostFilter[] = [ignoreHostsFilter, ...RESOURCE_FILTERS];

/**
 * Each filter, with when it can fail a host: the others pass every host for a request
 * that asks for nothing they check, so a request runs only the filters it needs.
 */
const ENABLED: readonly (readonly [HostFilter, ((spec: ResolvedSpec) => boolean) | null])[] = [
  [ignoreHostsFilter, (spec) => spec.ignoredHosts.size > 0],
  [computeFilter, null],
  [ramFilter, null],
  [coreFilter, null],
  [diskFilter, null],
  [availabilityZoneFilter, (spec) => !!spec.availabilityZone],
  [imagePropertiesFilter, (spec) => spec.hwArchitecture !== null || spec.imgHvType !== null || spec.hwVmMode !== null],
  [serverGroupAffinityFilter, (spec) => spec.group?.policy === 'affinity'],
  [serverGroupAntiAffinityFilter, (spec) => spec.group?.policy === 'anti-affinity'],
  [sameHostFilter, (spec) => spec.sameHost.length > 0],
  [differentHostFilter, (spec) => spec.differentHostHosts.size > 0],
];

export const FILTERS: readonly HostFilter[] = ENABLED.map(([filter]) => filter);

/** The filters that can fail a host for this request, in order. */
export function filtersFor(spec: ResolvedSpec): HostFilter[] {
  const out: HostFilter[] = [];
  for (const [filter, applies] of ENABLED) if (!applies || applies(spec)) out.push(filter);
  return out;
}
