// The serial console log a fake instance "prints": boot lines that name the instance and
// its hostname, and a line per power action, so `openstack console log show` has something
// true to show. Bounded, because a simulated instance may be rebooted thousands of times.

const MAX_LINES = 400;

/** A kernel-style timestamp: seconds since boot, as dmesg prints it. */
function stamp(bootedAt: number, now: number): string {
  return `[${((now - bootedAt) / 1000).toFixed(6).padStart(12)}]`;
}

export function bootLines(name: string, hostname: string, uuid: string, memoryMb: number, now: number): string[] {
  const at = (ms: number) => stamp(now, now + ms);
  return [
    `${at(0)} Linux version 6.1.0-fake-amd64 (Flarestack fake hypervisor)`,
    `${at(0)} Command line: console=ttyS0 root=LABEL=cloudimg-rootfs ro`,
    `${at(0)} DMI: OpenStack Foundation OpenStack Nova, BIOS 1.16.2-fake 04/01/2014`,
    `${at(120)} Memory: ${memoryMb} MiB available`,
    `${at(900)} systemd[1]: Set hostname to <${hostname}>.`,
    `${at(2100)} cloud-init[412]: Cloud-init v. 22.4.2 running 'init' at ${new Date(now + 2100).toUTCString()}.`,
    `${at(2200)} cloud-init[412]: ci-info: instance ${name} (${uuid})`,
    '',
    `Flarestack fake guest ${hostname} ttyS0`,
    '',
    `${hostname} login: `,
  ];
}

/** The line a power action leaves, as the guest or the hypervisor would say it. */
export function actionLine(action: string, bootedAt: number, now: number): string {
  const messages: Record<string, string> = {
    'reboot-SOFT': 'reboot: Restarting system',
    'reboot-HARD': 'fake-hypervisor: hard reset',
    'power-off': 'reboot: Power down',
    'power-on': 'fake-hypervisor: power on',
    pause: 'fake-hypervisor: paused',
    unpause: 'fake-hypervisor: unpaused',
    suspend: 'PM: suspend to disk',
    resume: 'PM: resumed from disk',
  };
  return `${stamp(bootedAt, now)} ${messages[action] ?? `fake-hypervisor: ${action}`}`;
}

/** Append lines, keeping only the newest MAX_LINES. */
export function appendConsole(log: string[], lines: string[]): void {
  log.push(...lines);
  if (log.length > MAX_LINES) log.splice(0, log.length - MAX_LINES);
}

/** The last `length` lines, or all of them. */
export function tail(log: string[], length?: number): string {
  return (length === undefined ? log : log.slice(-length)).join('\n');
}
