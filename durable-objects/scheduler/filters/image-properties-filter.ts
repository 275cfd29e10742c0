// Nova's ImagePropertiesFilter: "Filter compute nodes that satisfy any architecture,
// hypervisor type, or virtual machine mode properties specified on the instance's image
// properties." A host supports what a libvirt or fake compute node reports as its
// supported_instances: its CPU architecture, its hypervisor type (a QEMU host offers both
// the "qemu" and "kvm" domain types, as libvirt lists them) and the "hvm" mode.
import type { HostState, ResolvedSpec } from '../types';

/** Nova's Architecture.canonicalize. */
export function canonicalArchitecture(name: string): string {
  const arch = name.toLowerCase();
  if (arch === 'i386' || arch === 'i486' || arch === 'i586') return 'i686';
  // "Xen mistake from Icehouse or earlier"
  if (arch === 'x86_32' || arch === 'x86_32p') return 'i686';
  if (arch === 'amd64') return 'x86_64';
  return arch;
}

/** Nova's HVType.canonicalize. */
export function canonicalHvType(name: string): string {
  const type = name.toLowerCase();
  return type === 'xapi' ? 'xen' : type;
}

/** Nova's VMMode.canonicalize. */
export function canonicalVmMode(name: string): string {
  const mode = name.toLowerCase();
  // "For compatibility with pre-Folsom deployments"
  if (mode === 'pv') return 'xen';
  if (mode === 'hv' || mode === 'baremetal') return 'hvm';
  return mode;
}

export function imagePropertiesFilter(host: HostState, spec: ResolvedSpec): boolean {
  // "Supported if no compute-related instance properties are specified"
  if (spec.hwArchitecture === null && spec.imgHvType === null && spec.hwVmMode === null) return true;
  if (spec.hwArchitecture !== null && canonicalArchitecture(host.inventory.cpuInfo.arch) !== spec.hwArchitecture) return false;
  if (spec.imgHvType !== null) {
    const hostType = canonicalHvType(host.inventory.hypervisorType);
    const libvirt = hostType === 'qemu' || hostType === 'kvm';
    if (libvirt ? spec.imgHvType !== 'qemu' && spec.imgHvType !== 'kvm' : spec.imgHvType !== hostType) return false;
  }
  return spec.hwVmMode === null || spec.hwVmMode === 'hvm';
}
