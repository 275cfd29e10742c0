// `npm run bench:scheduler`: the Nova scheduler over a fleet of 10,000 unlike hosts.
// First the pure core (HostManager) in Node, bundled by esbuild as a Worker bundles it:
// select_destinations with its claim, then the release, for plain, packed, narrow,
// server-group and hinted requests. Then the Scheduler Durable Object in a local workerd
// (Miniflare): loading the fleet, select-and-release cycles over RPC from a Worker, single
// selects over HTTP from Node, and the first call after a restart, which reads it all
// back from SQLite.
//
//   npm run bench:scheduler -- [--hosts N] [--requests N] [--fill N] [--no-do]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import type { HostAnnouncement } from '../durable-objects/scheduler';
import type { BenchRequest, BenchResult } from '../durable-objects/scheduler/harness';
import { startSchedulerWorker, type SchedulerWorker } from '../durable-objects/scheduler/miniflare';
import type { RequestSpec } from '../durable-objects/scheduler/types';
import { ROOT } from '../test/local-cloud';
import { fmt, processTree, table, verdict, type Cell } from './lib';

/** What the bench takes from the core's bundle. */
type Core = typeof import('../durable-objects/scheduler/host-manager') &
  typeof import('../durable-objects/scheduler/fixtures') &
  typeof import('../durable-objects/scheduler/weighers');

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10000' },
    requests: { type: 'string', default: '5000' },
    fill: { type: 'string', default: '20000' },
    'no-do': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`Usage: npm run bench:scheduler -- [--hosts N] [--requests N] [--fill N] [--no-do]

  --hosts N      hosts in the fleet (default 10000)
  --requests N   select-and-release cycles per row (default 5000)
  --fill N       instances placed (and kept) before the cycles, so hosts are unevenly used (default 20000)
  --no-do        measure the core only, not the Durable Object`);
  process.exit(0);
}
const HOSTS = Number(values.hosts);
const REQUESTS = Number(values.requests);
const FILL = Number(values.fill);
if (![HOSTS, REQUESTS, FILL].every((n) => Number.isInteger(n) && n >= 0) || HOSTS < 1 || REQUESTS < 1) {
  console.error('--hosts and --requests must be whole numbers >= 1, --fill >= 0');
  process.exit(2);
}
const TARGET_P99_MS = 5;

// ---------------------------------------------------------------- the fleet

/** A deterministic stream of numbers in [0, 1), so every run sees the same fleet. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
}

const SIZES = [
  { vcpus: 16, memoryMb: 65_536, localGb: 500 },
  { vcpus: 32, memoryMb: 131_072, localGb: 1000 },
  { vcpus: 64, memoryMb: 262_144, localGb: 2000 },
];

/** Three sizes, three zones, one host in ten ARM, one in a hundred disabled, one in a hundred down. */
function fleet(core: Core, n: number): HostAnnouncement[] {
  const next = lcg(42);
  const out: HostAnnouncement[] = [];
  for (let i = 0; i < n; i++) {
    const host = `compute-${String(i).padStart(5, '0')}`;
    const size = SIZES[Math.floor(next() * SIZES.length)]!;
    const inventory = core.inventory({
      ...size,
      hypervisorHostname: host,
      availabilityZone: `az${1 + (i % 3)}`,
      cpuInfo: { arch: next() < 0.1 ? 'aarch64' : 'x86_64' },
    });
    const r = next();
    out.push({ host, inventory, status: r < 0.01 ? { enabled: false, disabledReason: 'maintenance' } : r < 0.02 ? { up: false } : {} });
  }
  return out;
}

const FLAVORS = [
  { vcpus: 1, memoryMb: 2048, rootGb: 20 },
  { vcpus: 2, memoryMb: 4096, rootGb: 40 },
  { vcpus: 4, memoryMb: 8192, rootGb: 80 },
  { vcpus: 8, memoryMb: 16_384, rootGb: 160 },
];

/** The request kinds measured, each turned into a spec per cycle. */
function scenarios(core: Core): { name: string; spec: (uuid: string) => RequestSpec }[] {
  const members = Array.from({ length: 9 }, (_, i) => `member-${i}`);
  const group = { uuid: 'group', policy: 'anti-affinity' as const, members: [...members, 'cycle'] };
  return [
    { name: 'plain boot (m1.small)', spec: (uuid) => core.requestSpec(uuid) },
    { name: 'zone az2 + hw_architecture=aarch64', spec: (uuid) => core.requestSpec(uuid, { availabilityZone: 'az2', image: { id: 'arm', properties: { hw_architecture: 'aarch64' } } }) },
    { name: 'anti-affinity, 9 members placed', spec: (uuid) => core.requestSpec(uuid, { group: { ...group, members: [...members, uuid] } }) },
    { name: 'soft-anti-affinity, 9 members placed', spec: (uuid) => core.requestSpec(uuid, { group: { ...group, policy: 'soft-anti-affinity', members: [...members, uuid] } }) },
    { name: 'different_host, 5 instances', spec: (uuid) => core.requestSpec(uuid, { differentHost: members.slice(0, 5) }) },
    { name: 'no valid host (flavor too big)', spec: (uuid) => core.requestSpec(uuid, { flavor: { vcpus: 512 } }) },
  ];
}

// ---------------------------------------------------------------- measuring

interface Row {
  what: string;
  p50?: number;
  p99?: number;
  perSecond?: number;
  /** CPU time a cycle took: on a shared machine it varies far less than wall time does. */
  cpuMs?: number;
  note?: string;
}

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** Times `select` alone per call; the rate counts the whole cycle (select and release). */
function cycles(what: string, count: number, select: (i: number) => unknown, release: (i: number) => void): Row {
  const times = new Float64Array(count);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const a = performance.now();
    select(i);
    times[i] = performance.now() - a;
    release(i);
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const sorted = Array.from(times).sort((x, y) => x - y);
  return { what, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), perSecond: count / (wall / 1000), cpuMs: (cpu.user + cpu.system) / 1000 / count };
}

/** The core, bundled into one module as workerd would run it (tsx's per-file modules would hide inlining). */
async function loadCore(dir: string): Promise<Core> {
  const out = join(dir, 'scheduler-core.mjs');
  const result = await build({
    stdin: {
      contents: "export * from './host-manager'; export * from './fixtures'; export * from './weighers';",
      resolveDir: join(ROOT, 'durable-objects', 'scheduler'),
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'node',
    target: 'es2022',
    logLevel: 'error',
  });
  writeFileSync(out, result.outputFiles[0]!.text);
  return (await import(pathToFileURL(out).href)) as Core;
}

async function measureCore(core: Core, hosts: HostAnnouncement[]): Promise<Row[]> {
  const rows: Row[] = [];
  const spread = new core.HostManager({ multipliers: core.SPREAD });
  const t0 = performance.now();
  for (const h of hosts) spread.upsertHost(h.host, h.inventory, h.status);
  rows.push({ what: `load ${fmt(hosts.length)} hosts`, note: `${fmt(performance.now() - t0, 1)} ms` });

  const next = lcg(7);
  const fillFlavor = () => FLAVORS[Math.floor(next() * FLAVORS.length)]!;
  const placeMembers = (m: InstanceType<Core['HostManager']>) => {
    for (let i = 0; i < 9; i++) m.selectDestinations(core.requestSpec(`member-${i}`));
  };
  // Warm-up: the engine optimises the hot paths first.
  for (let i = 0; i < 500; i++) {
    spread.selectDestinations(core.requestSpec(`warm-${i}`));
    spread.releaseClaim(`warm-${i}`);
  }
  rows.push(cycles(`fill: ${fmt(FILL)} selects, claims kept`, FILL, (i) => spread.selectDestinations(core.requestSpec(`fill-${i}`, { flavor: fillFlavor() })), () => {}));
  placeMembers(spread);

  // The same fleet and claims under "pack".
  const pack = new core.HostManager({ multipliers: core.PACK });
  for (const h of hosts) pack.upsertHost(h.host, h.inventory, h.status);
  for (let i = 0; i < FILL; i++) {
    const claim = spread.claimOf(`fill-${i}`);
    if (claim) pack.restoreClaim(`fill-${i}`, claim);
  }
  placeMembers(pack);

  for (const s of scenarios(core)) {
    rows.push(cycles(`${s.name}, spread`, REQUESTS, (i) => spread.selectDestinations(s.spec(`cycle-${i}`)), (i) => void spread.releaseClaim(`cycle-${i}`)));
  }
  const plain = scenarios(core)[0]!;
  rows.push(cycles(`${plain.name}, pack`, REQUESTS, (i) => pack.selectDestinations(plain.spec(`cycle-${i}`)), (i) => void pack.releaseClaim(`cycle-${i}`)));
  const alternates = spread.selectDestinations(core.requestSpec('probe'), 2)!.alternates;
  spread.releaseClaim('probe');
  rows.push(cycles('claimAlternate on 2 candidates', REQUESTS, (i) => spread.claimAlternate(core.requestSpec(`alt-${i}`), alternates), (i) => void spread.releaseClaim(`alt-${i}`)));
  return rows;
}

/** CPU time (user + system) of the workerd this process started, in ms (Linux clock ticks are 10 ms). */
function workerdCpuMs(): number {
  const workerd = processTree(process.pid).find((p) => p.name.includes('workerd'));
  if (!workerd) return NaN;
  const stat = readFileSync(`/proc/${workerd.pid}/stat`, 'utf8');
  // The command name may hold spaces: utime and stime are the 12th and 13th fields after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function measureObject(core: Core, hosts: HostAnnouncement[], dir: string): Promise<Row[]> {
  const rows: Row[] = [];
  const persistDir = join(dir, 'do');
  let worker: SchedulerWorker | undefined = await startSchedulerWorker({ persistDir });
  try {
    let t0 = performance.now();
    for (let i = 0; i < hosts.length; i += 1000) await worker.call('upsertHosts', hosts.slice(i, i + 1000));
    rows.push({ what: `load ${fmt(hosts.length)} hosts (upsertHosts, 1,000 a call)`, note: `${fmt(performance.now() - t0, 0)} ms` });

    // In runs of 1,000, so that no one HTTP request lasts long; each run has its own uuids.
    let runs = 0;
    const batch = async (what: string, spec: RequestSpec, count: number, release: boolean): Promise<Row> => {
      const cpu0 = workerdCpuMs();
      let ms = 0;
      let placed = 0;
      for (let done = 0; done < count; done += 1000) {
        const run = { spec: { ...spec, instanceUuid: `${spec.instanceUuid}-${runs++}` }, count: Math.min(1000, count - done), release };
        const r = (await worker!.post('/bench', run satisfies BenchRequest)) as BenchResult;
        ms += r.ms;
        placed += r.placed;
      }
      return { what, perSecond: count / (ms / 1000), cpuMs: (workerdCpuMs() - cpu0) / count, note: `mean ${fmt(ms / count, 3)} ms a cycle; ${fmt(placed)} placed` };
    };
    await batch('warm-up', core.requestSpec('warm'), 500, true);
    rows.push(await batch(`fill: ${fmt(FILL)} selects over RPC, claims kept`, core.requestSpec('fill'), FILL, false));
    rows.push(await batch('plain boot, select + release over RPC from a Worker', core.requestSpec('cycle'), REQUESTS, true));

    // From Node, one HTTP request per call: per-call percentiles, with HTTP's share shown by the floor row.
    const times: number[] = [];
    const floor: number[] = [];
    for (let i = 0; i < Math.min(REQUESTS, 2000); i++) {
      let a = performance.now();
      await worker.call('selectDestinations', core.requestSpec(`http-${i}`));
      times.push(performance.now() - a);
      await worker.call('releaseClaim', `http-${i}`);
      a = performance.now();
      await worker.call('hostState', 'no-such-host');
      floor.push(performance.now() - a);
    }
    times.sort((x, y) => x - y);
    floor.sort((x, y) => x - y);
    rows.push({ what: 'plain boot, one select per HTTP request from Node', p50: percentile(times, 0.5), p99: percentile(times, 0.99) });
    rows.push({ what: '  floor: hostState of no host, same path', p50: percentile(floor, 0.5), p99: percentile(floor, 0.99) });

    await worker.dispose();
    worker = undefined;
    t0 = performance.now();
    worker = await startSchedulerWorker({ persistDir });
    const started = performance.now();
    await worker.call('hostState', 'compute-00000');
    rows.push({
      what: `restart: first call reads ${fmt(hosts.length)} hosts and ${fmt(FILL)} claims from SQLite`,
      note: `${fmt(performance.now() - started, 0)} ms (+ ${fmt(started - t0, 0)} ms workerd start)`,
    });
  } finally {
    await worker?.dispose();
  }
  return rows;
}

// ---------------------------------------------------------------- main

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'flarestack-bench-scheduler-'));
  try {
    const load0 = loadavg()[0]!;
    const core = await loadCore(dir);
    const hosts = fleet(core, HOSTS);
    console.log(`Measuring the core over ${fmt(HOSTS)} hosts...`);
    const coreRows = await measureCore(core, hosts);
    let objectRows: Row[] = [];
    if (!values['no-do']) {
      console.log('Measuring the Durable Object in Miniflare...');
      objectRows = await measureObject(core, hosts, dir);
    }
    const load1 = loadavg()[0]!;

    const render = (rows: Row[], target: boolean): Cell[][] =>
      rows.map((r) => [
        r.what,
        r.p50 === undefined ? '' : fmt(r.p50, 3),
        r.p99 === undefined ? '' : fmt(r.p99, 3),
        r.perSecond === undefined ? '' : fmt(r.perSecond, 0),
        r.cpuMs === undefined || Number.isNaN(r.cpuMs) ? '' : fmt(r.cpuMs, 3),
        r.note ?? '',
        target && r.p99 !== undefined ? `< ${TARGET_P99_MS} ms` : '',
        target && r.p99 !== undefined ? verdict(r.p99 < TARGET_P99_MS) : '',
      ]);
    const head = ['what', 'p50 ms', 'p99 ms', 'selections/s', 'CPU ms/cycle', 'note', 'p99 target', ''];
    const out = [
      table(`a) HostManager in Node, ${fmt(HOSTS)} hosts, ${fmt(REQUESTS)} cycles a row (p50/p99: the select with its claim; rate: select + release)`, head, render(coreRows, true)),
    ];
    if (objectRows.length) {
      out.push(
        table(
          'b) Scheduler Durable Object in Miniflare (SQLite on disk, each claim and release written through; CPU: the workerd process)',
          head.slice(0, -2),
          render(objectRows, false).map((r) => r.slice(0, -2)),
        ),
      );
    }
    console.log(`\n${out.join('\n\n')}\n\nLoad average (1 min) ${fmt(load0, 2)} at the start, ${fmt(load1, 2)} at the end, on ${fmt(cpus().length)} cores.\n`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
