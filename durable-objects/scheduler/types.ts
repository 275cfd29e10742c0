// What the Scheduler works on: hosts with their inventory and usage, and request specs.
// Shared by the Scheduler object, its filters and weighers, and its callers in Nova.
import type { HostInventory } from '../../lib/connector-protocol';

/** An os-services change, or a Conductor's word on the heartbeat; unset fields are kept. */
export interface HostStatusUpdate {
  enabled?: boolean;
  disabledReason?: string | null;
  forcedDown?: boolean;
  up?: boolean;
}

/** A host as the scheduler sees it: what the connector announced, and its state. */
export interface HostState {
  host: string;
  inventory: HostInventory;
  /** os-services: an admin may disable a host (no new servers) or force it down. */
  enabled: boolean;
  disabledReason: string | null;
  forcedDown: boolean;
  /** Connected and heartbeating, as its Conductor last reported. */
  up: boolean;
  /** Sums of the claims on this host. */
  usedVcpus: number;
  usedMemoryMb: number;
  usedDiskGb: number;
  /** Instances with a claim here. */
  instances: Set<string>;
  /**
   * What the RAM, disk and core filters may still claim: total × allocation ratio −
   * reserved − used. Kept current on every claim and inventory change, so the filters
   * only compare.
   */
  usableRamMb: number;
  usableDiskMb: number;
  usableVcpus: number;
}

/** What a server needs, as Nova's RequestSpec carries it. */
export interface RequestSpec {
  instanceUuid: string;
  projectId: string;
  flavor: { vcpus: number; memoryMb: number; rootGb: number; ephemeralGb: number; swapMb: number; extraSpecs: Record<string, string> };
  image: { id: string; properties: Record<string, string> };
  /** Null: any zone. */
  availabilityZone: string | null;
  /** An admin's "zone:host" boot request: only this host, filters bypassed as in Nova. */
  forcedHost: string | null;
  /** The server group the instance joins, with its other members. */
  group: { uuid: string; policy: 'affinity' | 'anti-affinity' | 'soft-affinity' | 'soft-anti-affinity'; maxServerPerHost?: number; members: string[] } | null;
  /** Scheduler hints: instance uuids to land beside or away from. */
  sameHost: string[];
  differentHost: string[];
  /** Hosts not to try (those that already failed this build). */
  ignoreHosts: string[];
}

/**
 * A RequestSpec with what the filters and weighers need worked out once per request, as
 * Nova's RequestSpec carries vcpus and memory_mb and its instance_group carries hosts.
 */
export interface ResolvedSpec extends RequestSpec {
  /** What one claim takes. Disk as Placement counts DISK_GB: root + ephemeral + swap rounded up. */
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** Image properties in Nova's canonical form (legacy names folded in); null when unset. */
  hwArchitecture: string | null;
  imgHvType: string | null;
  hwVmMode: string | null;
  /** Hosts of the group's other members, with how many members each holds (from the claims). */
  groupHosts: ReadonlyMap<string, number>;
  /** Hosts of the instances named in the same_host and different_host hints. */
  sameHostHosts: ReadonlySet<string>;
  differentHostHosts: ReadonlySet<string>;
  /** ignoreHosts, lower-cased: Nova compares host names without case. */
  ignoredHosts: ReadonlySet<string>;
}

/** The chosen host (claimed) and alternates to try if the build fails there. */
export interface Selection {
  host: string;
  /** The chosen host's hypervisor_hostname and zone, for the instance record. */
  node?: string;
  zone?: string;
  alternates: string[];
}

/** One row of os-hypervisors. */
export interface HypervisorView {
  id: string;
  host: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  inventory: HostInventory;
  usedVcpus: number;
  usedMemoryMb: number;
  usedDiskGb: number;
  runningVms: number;
}
