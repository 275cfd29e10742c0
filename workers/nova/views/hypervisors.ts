// JSON views of hypervisors, as Nova's HypervisorsController._view_hypervisor renders a
// compute node: here the Scheduler's view of a host (its inventory and claims) joined
// with the host's nova-compute service.
import type { ApiVersion } from '../../../lib/microversion';
import type { HypervisorView } from '../../../durable-objects/scheduler/types';
import type { ServiceRecord } from './services';

export interface Hypervisor {
  view: HypervisorView;
  service: ServiceRecord;
  /** Instances on the host with a task under way (Nova's current_workload). */
  workload: number;
}

/** The id clients see: the compute node's UUID from 2.53, an integer before (the service's). */
export function hypervisorId(v: ApiVersion, h: Hypervisor): string | number {
  return v.atLeast('2.53') ? h.view.id : h.service.seq;
}

/** The usage figures of a compute node, reserved host resources counted as used, as Nova's resource tracker does. */
export function hypervisorUsage(h: Hypervisor) {
  const inv = h.view.inventory;
  const memoryMbUsed = h.view.usedMemoryMb + inv.reservedHostMemoryMb;
  const localGbUsed = h.view.usedDiskGb + Math.floor(inv.reservedHostDiskMb / 1024);
  return {
    vcpus: inv.vcpus,
    memory_mb: inv.memoryMb,
    local_gb: inv.localGb,
    vcpus_used: h.view.usedVcpus,
    memory_mb_used: memoryMbUsed,
    local_gb_used: localGbUsed,
    free_ram_mb: inv.memoryMb - memoryMbUsed,
    free_disk_gb: inv.localGb - localGbUsed,
    current_workload: h.workload,
    running_vms: h.view.runningVms,
    disk_available_least: inv.localGb - localGbUsed,
  };
}

export function hypervisorView(
  v: ApiVersion,
  h: Hypervisor,
  opts: { detail: boolean; servers?: { name: string; uuid: string }[]; withServers?: boolean },
): Record<string, unknown> {
  const inv = h.view.inventory;
  const out: Record<string, unknown> = {
    id: hypervisorId(v, h),
    hypervisor_hostname: inv.hypervisorHostname,
    state: h.view.state,
    status: h.view.status,
  };
  if (opts.detail) {
    Object.assign(out, {
      hypervisor_type: inv.hypervisorType,
      hypervisor_version: inv.hypervisorVersion,
      host_ip: inv.hostIp,
      service: { id: v.atLeast('2.53') ? h.service.id : h.service.seq, host: h.view.host, disabled_reason: h.service.disabledReason },
      ...hypervisorUsage(h),
      // 2.28: cpu_info is an object; before, the same JSON as a string.
      cpu_info: v.atLeast('2.28') ? inv.cpuInfo : JSON.stringify(inv.cpuInfo),
    });
  }
  if (opts.servers && opts.servers.length > 0) out.servers = opts.servers.map((s) => ({ name: s.name, uuid: s.uuid }));
  // 2.75: asked-for servers are always there, if only as an empty list.
  else if (opts.withServers && v.atLeast('2.75')) out.servers = [];
  return out;
}
