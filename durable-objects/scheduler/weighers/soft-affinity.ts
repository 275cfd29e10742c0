// Nova's ServerGroupSoftAffinityWeigher: for a "soft-affinity" group, the more members a
// host already holds, the better it weighs.
import type { HostState, ResolvedSpec } from '../types';
import type { HostWeigher } from './weigher';

export const softAffinityWeigher: HostWeigher = {
  multiplier: 'softAffinity',
  applies: (spec: ResolvedSpec) => spec.group?.policy === 'soft-affinity' && spec.groupHosts.size > 0,
  weigh: (host: HostState, spec: ResolvedSpec) => spec.groupHosts.get(host.host) ?? 0,
};
