// Nova's ServerGroupSoftAntiAffinityWeigher: for a "soft-anti-affinity" group, the more
// members a host already holds, the worse it weighs.
import type { HostState, ResolvedSpec } from '../types';
import type { HostWeigher } from './weigher';

export const softAntiAffinityWeigher: HostWeigher = {
  multiplier: 'softAntiAffinity',
  applies: (spec: ResolvedSpec) => spec.group?.policy === 'soft-anti-affinity' && spec.groupHosts.size > 0,
  weigh: (host: HostState, spec: ResolvedSpec) => -(spec.groupHosts.get(host.host) ?? 0),
};
