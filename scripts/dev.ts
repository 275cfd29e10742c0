// `npm run dev`: starts the local cloud and keeps it running until interrupted.
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startCloud } from './cloud';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '8787' },
    host: { type: 'string', default: '127.0.0.1' },
    state: { type: 'string', default: join(ROOT, '.flarestack') },
    hosts: { type: 'string', default: '2' },
    'clouds-yaml': { type: 'string', default: join(ROOT, 'clouds.yaml') },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (values.help) {
  console.log(`Usage: npm run dev -- [--port N] [--host ADDR] [--state DIR] [--hosts N] [--clouds-yaml PATH]

  --port N           port of the public endpoint (default 8787)
  --host ADDR        address to listen on (default 127.0.0.1, loopback only)
  --state DIR        folder holding databases, objects and secrets (default .flarestack)
  --hosts N          number of simulated hypervisor hosts (default 2)
  --clouds-yaml PATH where to write clouds.yaml (default ./clouds.yaml)

Environment: FLARESTACK_ADMIN_PASSWORD, FLARESTACK_DEMO_PASSWORD set the bootstrap
passwords; FLARESTACK_TOKEN_EXPIRATION sets the token lifetime in seconds;
FLARESTACK_SERVICE_DOWN_TIME (s) and FLARESTACK_HEARTBEAT_INTERVAL_MS set when a silent
host counts as down; FLARESTACK_FAKE_SPAWN_LATENCY_MS and FLARESTACK_FAKE_FAILURE_RATE
shape the fake hosts; FLARESTACK_SWIFT_STORE_LARGE_OBJECT_SIZE and _CHUNK_SIZE (MB,
default 5120 and 200) set which images Glance stores in Swift as segments, and their size;
FLARESTACK_INSPECTOR_PORT opens the Workers' V8 inspector (Chrome DevTools) on that port.`);
  process.exit(0);
}

const port = Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port: "${values.port}" is not a port number`);
  process.exit(2);
}
const hosts = Number(values.hosts);
if (!Number.isInteger(hosts) || hosts < 0 || hosts > 10_000) {
  console.error(`--hosts: "${values.hosts}" is not a number of hosts (0 to 10000)`);
  process.exit(2);
}
const envNumber = (name: string): number | undefined => (process.env[name] ? Number(process.env[name]) : undefined);
const tokenExpiration = envNumber('FLARESTACK_TOKEN_EXPIRATION');

const cloud = await startCloud({
  port,
  host: values.host,
  stateDir: values.state,
  cloudsYaml: values['clouds-yaml'],
  adminPassword: process.env.FLARESTACK_ADMIN_PASSWORD || undefined,
  demoPassword: process.env.FLARESTACK_DEMO_PASSWORD || undefined,
  tokenExpiration,
  serviceDownTime: envNumber('FLARESTACK_SERVICE_DOWN_TIME'),
  heartbeatIntervalMs: envNumber('FLARESTACK_HEARTBEAT_INTERVAL_MS'),
  largeObjectSize: envNumber('FLARESTACK_SWIFT_STORE_LARGE_OBJECT_SIZE'),
  largeObjectChunkSize: envNumber('FLARESTACK_SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE'),
  inspectorPort: envNumber('FLARESTACK_INSPECTOR_PORT'),
});
// The fleet's code (connectors, ws, zod) is evaluated only now: the cloud, and so the
// first token, does not wait for it.
const { startFleet } = await import('./fleet');
const fleet = await startFleet({
  url: cloud.url,
  stateDir: cloud.stateDir,
  hosts,
  adminToken: cloud.adminToken,
  spawnLatencyMs: envNumber('FLARESTACK_FAKE_SPAWN_LATENCY_MS'),
  failureRate: envNumber('FLARESTACK_FAKE_FAILURE_RATE'),
});

console.log(`Flarestack is ready at ${cloud.url} (${(cloud.readyMs / 1000).toFixed(2)} s)

  Identity:     ${cloud.authUrl}
  Compute:      ${fleet.hosts.length} fake host(s)${fleet.hosts.length ? `: ${fleet.hosts.slice(0, 4).join(', ')}${fleet.hosts.length > 4 ? ', ...' : ''}` : ''}
  State:        ${cloud.stateDir}
  clouds.yaml:  ${cloud.cloudsYaml}  (clouds flarestack-admin, flarestack-demo, flarestack-system-admin)

  openstack --os-cloud flarestack-admin token issue
  (run it in this folder, or set OS_CLIENT_CONFIG_FILE=${cloud.cloudsYaml})

  For the swift CLI:  source ${cloud.stateDir}/admin-openrc.sh && swift stat

Passwords are in clouds.yaml. Stop with Ctrl-C.`);

// Start-up garbage (bundles, migrations, the bootstrap) need not stay resident.
(globalThis as { gc?: () => void }).gc?.();

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    fleet
      .stop()
      .catch(() => undefined)
      .then(() => cloud.dispose())
      .finally(() => process.exit(0));
  });
}
