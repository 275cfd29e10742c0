// The connector daemon's command line: one hypervisor host, dialling its control plane.
//   npx tsx connector/main.ts --url https://cloud.example --driver fake
// Exit status: 0 stopped by a signal, 2 bad arguments, 3 the control plane refused the
// credential (retrying cannot help, so a supervisor should not restart it), 1 anything else.
import { parseArgs } from 'node:util';
import { startConnector } from './connector';
import type { ComputeDriver } from './drivers/driver';
import { FakeDriver } from './drivers/fake';

const EXIT_USAGE = 2;
const EXIT_REFUSED = 3;

const usage = `Usage: flarestack-connector --url URL [options]

Runs on a hypervisor host: dials the control plane at URL (its /compute/connector
WebSocket), announces this host and runs the jobs its conductor sends.

  --url URL                      the control plane's base URL (http(s)://... or ws(s)://...)
  --credential ID.SECRET         the host credential (default: $FLARESTACK_HOST_CREDENTIAL)
  --driver fake|qemu             the hypervisor driver (default fake)
  --hostname NAME                hypervisor_hostname (default: this machine's name); the host
                                 name itself comes from the credential
  --host-ip IP                   the host's IP as reported to the control plane
  --zone NAME                    availability zone (default nova)
  --vcpus N                      vCPUs (default 8)
  --memory-mb N                  memory in MB (default 16384)
  --disk-gb N                    local disk in GB (default 200)
  --cpu-allocation-ratio R       (default 4)
  --ram-allocation-ratio R       (default 1)
  --disk-allocation-ratio R      (default 1)
  --reserved-host-memory-mb N    (default 512)
  --reserved-host-cpus N         (default 0)
  --reserved-host-disk-mb N      (default 0)
  --spawn-latency-ms MS          fake driver: how long a spawn takes (default 0)
  --action-latency-ms MS         fake driver: how long other actions take (default 0)
  --failure-rate R               fake driver: share of spawns that fail, 0..1 (default 0)
  --state-file FILE              keep the fake instances in FILE and the journal of
                                 finished jobs beside it (FILE.journal.json)
  --quiet                        print only errors
  --help                         show this

Exit status: 0 stopped by SIGINT/SIGTERM, 2 bad arguments, 3 credential refused, 1 other.`;

class UsageError extends Error {}

function number(values: Record<string, unknown>, name: string, check: (n: number) => boolean = (n) => n >= 0): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const value = Number(raw);
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(value) || !check(value)) throw new UsageError(`--${name}: not a valid value: ${String(raw)}`);
  return value;
}

const integer = (n: number) => Number.isInteger(n) && n >= 0;
const ratio = (n: number) => n > 0;

/** Options the driver or the connector reject (a bad URL, an unreadable state file) are usage errors. */
function asUsage<T>(build: () => T): T {
  try {
    return build();
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function journalPath(stateFile: string): string {
  return stateFile.endsWith('.json') ? stateFile.replace(/\.json$/, '.journal.json') : `${stateFile}.journal.json`;
}

function log(message: string): void {
  console.log(`${new Date().toISOString()} ${message}`);
}

async function main(): Promise<number> {
  const str = { type: 'string' } as const;
  const { values } = parseArgs({
    options: {
      url: str, credential: str, driver: str, hostname: str, 'host-ip': str, zone: str,
      vcpus: str, 'memory-mb': str, 'disk-gb': str,
      'cpu-allocation-ratio': str, 'ram-allocation-ratio': str, 'disk-allocation-ratio': str,
      'reserved-host-memory-mb': str, 'reserved-host-cpus': str, 'reserved-host-disk-mb': str,
      'spawn-latency-ms': str, 'action-latency-ms': str, 'failure-rate': str, 'state-file': str,
      quiet: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) {
    console.log(usage);
    return 0;
  }
  if (!values.url) throw new UsageError('--url is required');
  const credential = values.credential ?? process.env.FLARESTACK_HOST_CREDENTIAL;
  if (!credential) throw new UsageError('a host credential is required: --credential ID.SECRET or FLARESTACK_HOST_CREDENTIAL');
  const driverName = values.driver ?? 'fake';
  if (driverName === 'qemu') throw new UsageError('the qemu driver is not built yet');
  if (driverName !== 'fake') throw new UsageError(`--driver: unknown driver ${driverName} (fake or qemu)`);

  const inventory = {
    ...(values.hostname !== undefined && { hypervisorHostname: values.hostname }),
    ...(values['host-ip'] !== undefined && { hostIp: values['host-ip'] }),
    ...(values.zone !== undefined && { availabilityZone: values.zone }),
    vcpus: number(values, 'vcpus', (n) => integer(n) && n > 0),
    memoryMb: number(values, 'memory-mb', (n) => integer(n) && n > 0),
    localGb: number(values, 'disk-gb', integer),
    cpuAllocationRatio: number(values, 'cpu-allocation-ratio', ratio),
    ramAllocationRatio: number(values, 'ram-allocation-ratio', ratio),
    diskAllocationRatio: number(values, 'disk-allocation-ratio', ratio),
    reservedHostMemoryMb: number(values, 'reserved-host-memory-mb', integer),
    reservedHostCpus: number(values, 'reserved-host-cpus', integer),
    reservedHostDiskMb: number(values, 'reserved-host-disk-mb', integer),
  };
  // Unset options fall back to the driver's defaults rather than overriding them with undefined.
  const given = Object.fromEntries(Object.entries(inventory).filter(([, v]) => v !== undefined));
  const stateFile = values['state-file'];
  const driver: ComputeDriver = asUsage(
    () =>
      new FakeDriver({
      inventory: given,
      spawnLatencyMs: number(values, 'spawn-latency-ms'),
      actionLatencyMs: number(values, 'action-latency-ms'),
      failureRate: number(values, 'failure-rate', (n) => n >= 0 && n <= 1),
      stateFile,
    }),
  );
  const url = values.url;
  const say = values.quiet ? () => undefined : log;
  const connector = asUsage(() =>
    startConnector({
      url,
      credential,
      driver,
      journalFile: stateFile ? journalPath(stateFile) : undefined,
      log: say,
    }),
  );
  let signals = 0;
  const shutdown = (signal: string) => {
    // A second signal means "now": drop everything, as a crash would.
    if (++signals > 1) return connector.kill();
    say(`${signal}: finishing the running jobs and closing`);
    void connector.stop();
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));

  const end = await connector.done;
  await driver.close?.();
  if (end.reason === 'refused') {
    console.error(
      `flarestack-connector: ${end.message}\n` +
        'The credential is wrong, revoked, or for another cloud: check --credential (or FLARESTACK_HOST_CREDENTIAL) ' +
        'and --url; an admin can issue a new host credential. Not retrying.',
    );
    return EXIT_REFUSED;
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError || (error instanceof Error && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))) {
      console.error(`flarestack-connector: ${error.message}\nRun with --help for the options.`);
      process.exit(EXIT_USAGE);
    }
    console.error('flarestack-connector:', error);
    process.exit(1);
  },
);
