// A RequestSpec made ready for the filters and weighers, once per request: the amounts
// to claim, the image properties in Nova's canonical form, and where the instances the
// request names have their claims (Nova's instance_group.hosts and its hint lookups).
import { canonicalArchitecture, canonicalHvType, canonicalVmMode } from './filters/image-properties-filter';
import type { RequestSpec, ResolvedSpec } from './types';

// Shared empties, so a request without a group or hints allocates nothing for them.
const NO_HOSTS: ReadonlySet<string> = new Set();
const NO_GROUP_HOSTS: ReadonlyMap<string, number> = new Map();

/**
 * What the filters and weighers read, worked out once for the request: `hostOf` says
 * where an instance has its claim.
 */
export function resolveSpec(spec: RequestSpec, hostOf: (instanceUuid: string) => string | undefined): ResolvedSpec {
  const props = spec.image.properties;
  // The legacy Glance names ("architecture", "hypervisor_type", "vm_mode") still count.
  const arch = props.hw_architecture ?? props.architecture;
  const hvType = props.img_hv_type ?? props.hypervisor_type;
  const vmMode = props.hw_vm_mode ?? props.vm_mode;
  let groupHosts = NO_GROUP_HOSTS;
  if (spec.group && spec.group.members.length > 0) {
    const counts = new Map<string, number>();
    for (const member of spec.group.members) {
      if (member === spec.instanceUuid) continue;
      const host = hostOf(member);
      if (host !== undefined) counts.set(host, (counts.get(host) ?? 0) + 1);
    }
    groupHosts = counts;
  }
  const flavor = spec.flavor;
  // Every field named, in one order: objects of one shape keep the per-host reads fast,
  // whatever order the caller's (or the RPC layer's) object had.
  return {
    instanceUuid: spec.instanceUuid,
    projectId: spec.projectId,
    flavor,
    image: spec.image,
    availabilityZone: spec.availabilityZone,
    forcedHost: spec.forcedHost,
    group: spec.group,
    sameHost: spec.sameHost,
    differentHost: spec.differentHost,
    ignoreHosts: spec.ignoreHosts,
    vcpus: flavor.vcpus,
    memoryMb: flavor.memoryMb,
    diskGb: flavor.rootGb + flavor.ephemeralGb + Math.ceil(flavor.swapMb / 1024),
    hwArchitecture: arch ? canonicalArchitecture(arch) : null,
    imgHvType: hvType ? canonicalHvType(hvType) : null,
    hwVmMode: vmMode ? canonicalVmMode(vmMode) : null,
    groupHosts,
    sameHostHosts: hostsOf(spec.sameHost, hostOf),
    differentHostHosts: hostsOf(spec.differentHost, hostOf),
    ignoredHosts: spec.ignoreHosts.length > 0 ? new Set(spec.ignoreHosts.map((h) => h.toLowerCase())) : NO_HOSTS,
  };
}

function hostsOf(instanceUuids: readonly string[], hostOf: (instanceUuid: string) => string | undefined): ReadonlySet<string> {
  if (instanceUuids.length === 0) return NO_HOSTS;
  const hosts = new Set<string>();
  for (const uuid of instanceUuids) {
    const host = hostOf(uuid);
    if (host !== undefined) hosts.add(host);
  }
  return hosts;
}
