// JSON views of servers, as Nova's views/servers.py renders them for each microversion.
import { sha224 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ApiVersion } from '../../../lib/microversion';
import type { InstanceRow } from '../db';

/** Nova's _STATE_MAP: vm_state and task_state to the status clients see. */
export function serverStatus(vmState: string, taskState: string | null): string {
  switch (vmState) {
    case 'active':
      if (taskState === 'rebooting' || taskState === 'reboot_pending' || taskState === 'reboot_started') return 'REBOOT';
      if (taskState === 'rebooting_hard' || taskState === 'reboot_pending_hard' || taskState === 'reboot_started_hard') return 'HARD_REBOOT';
      if (taskState === 'rebuilding' || taskState === 'rebuild_block_device_mapping' || taskState === 'rebuild_spawning') return 'REBUILD';
      if (taskState === 'migrating') return 'MIGRATING';
      if (taskState?.startsWith('resize_')) return 'RESIZE';
      return 'ACTIVE';
    case 'building':
      return 'BUILD';
    case 'stopped':
      return taskState?.startsWith('resize_') ? 'RESIZE' : 'SHUTOFF';
    case 'resized':
      return taskState === 'resize_reverting' ? 'REVERT_RESIZE' : 'VERIFY_RESIZE';
    case 'paused':
      return 'PAUSED';
    case 'suspended':
      return 'SUSPENDED';
    case 'rescued':
      return 'RESCUE';
    case 'error':
      return 'ERROR';
    case 'deleted':
      return 'DELETED';
    case 'soft-delete':
      return 'SOFT_DELETED';
    case 'shelved':
      return 'SHELVED';
    case 'shelved_offloaded':
      return 'SHELVED_OFFLOADED';
    default:
      return 'UNKNOWN';
  }
}

/** The statuses a list may filter on, and the vm_states each stands for. */
export const STATUS_FILTER: Record<string, string[]> = {
  ACTIVE: ['active'], BUILD: ['building'], SHUTOFF: ['stopped'], PAUSED: ['paused'], SUSPENDED: ['suspended'],
  ERROR: ['error'], DELETED: ['deleted'], SOFT_DELETED: ['soft-delete'], RESCUE: ['rescued'], VERIFY_RESIZE: ['resized'],
  SHELVED: ['shelved'], SHELVED_OFFLOADED: ['shelved_offloaded'], REBOOT: ['active'], HARD_REBOOT: ['active'],
  REBUILD: ['active'], RESIZE: ['active', 'stopped'], MIGRATING: ['active'], REVERT_RESIZE: ['resized'],
};

/** hostId: a per-project opaque name of the host (sha224 of project and host, as Nova does). */
export function hostId(projectId: string, host: string | null): string {
  if (!host) return '';
  return bytesToHex(sha224(new TextEncoder().encode(projectId + host)));
}

export interface ViewContext {
  base: string;
  version: ApiVersion;
  isAdmin: boolean;
  fault?: { code: number; message: string; details: string; created: string } | null;
  groups?: string[];
  hostStatus?: string;
}

function links(base: string, kind: string, id: string) {
  return [
    { rel: 'self', href: `${base}/v2.1/${kind}/${id}` },
    { rel: 'bookmark', href: `${base}/${kind}/${id}` },
  ];
}

export function serverBrief(s: InstanceRow, base: string) {
  return { id: s.uuid, name: s.name, links: links(base, 'servers', s.uuid) };
}

export function serverView(s: InstanceRow, v: ViewContext): Record<string, unknown> {
  const { base, version } = v;
  const flavor = version.atLeast('2.47')
    ? {
        vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk, ephemeral: s.flavor.ephemeral, swap: s.flavor.swap,
        original_name: s.flavor.name, extra_specs: s.flavor.extraSpecs,
      }
    : { id: s.flavorId, links: [{ rel: 'bookmark', href: `${base}/flavors/${s.flavorId}` }] };
  const view: Record<string, unknown> = {
    id: s.uuid,
    name: s.name,
    status: serverStatus(s.vmState, s.taskState),
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    hostId: hostId(s.projectId, s.host),
    image: s.imageRef ? { id: s.imageRef, links: [{ rel: 'bookmark', href: `${base}/images/${s.imageRef}` }] } : '',
    flavor,
    created: s.createdAt,
    updated: s.updatedAt,
    addresses: s.addresses,
    accessIPv4: s.accessIpV4,
    accessIPv6: s.accessIpV6,
    links: links(base, 'servers', s.uuid),
    'OS-DCF:diskConfig': 'MANUAL',
    progress: s.vmState === 'building' || s.vmState === 'active' ? (s.vmState === 'active' ? 100 : 0) : 0,
    'OS-EXT-AZ:availability_zone': s.availabilityZone ?? '',
    config_drive: s.configDrive,
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': s.launchedAt ? s.launchedAt.replace('Z', '.000000') : null,
    'OS-SRV-USG:terminated_at': s.terminatedAt ? s.terminatedAt.replace('Z', '.000000') : null,
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': [],
    security_groups: s.securityGroups.map((name) => ({ name })),
  };
  if (v.fault && (s.vmState === 'error' || s.vmState === 'deleted')) {
    view.fault = { code: v.fault.code, created: v.fault.created, message: v.fault.message, ...(v.isAdmin ? { details: v.fault.details } : {}) };
  }
  if (v.isAdmin) {
    view['OS-EXT-SRV-ATTR:host'] = s.host;
    view['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.node;
    view['OS-EXT-SRV-ATTR:instance_name'] = instanceName(s.uuid);
    if (version.atLeast('2.3')) {
      Object.assign(view, {
        'OS-EXT-SRV-ATTR:reservation_id': s.reservationId,
        'OS-EXT-SRV-ATTR:launch_index': s.launchIndex,
        'OS-EXT-SRV-ATTR:hostname': s.hostname,
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': '/dev/vda',
        'OS-EXT-SRV-ATTR:user_data': s.userData,
      });
    }
  }
  if (version.atLeast('2.9')) view.locked = s.locked;
  if (version.atLeast('2.16') && v.hostStatus !== undefined) view.host_status = v.hostStatus;
  if (version.atLeast('2.19')) view.description = s.description;
  if (version.atLeast('2.26')) view.tags = s.tags;
  if (version.atLeast('2.71')) view.server_groups = v.groups ?? [];
  if (version.atLeast('2.73')) view.locked_reason = s.lockedReason;
  return view;
}

/** Nova's instance_name_template, instance-%08x of the row id: here of the uuid's first bits. */
function instanceName(uuid: string): string {
  return `instance-${uuid.slice(0, 8)}`;
}
