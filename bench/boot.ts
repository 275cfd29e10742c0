// `npm run bench:boot`: starts a local cloud as a user does, with a fleet of fake hosts
// (zero spawn latency), boots servers at a fixed concurrency, then deletes them, and
// prints boots/s, deletes/s and the time from POST /servers to ACTIVE (and from DELETE to
// gone). Each client waits for its server as `openstack server create --wait` does, by
// polling; the times come from the instance action's event, which the Conductor finishes
// (to the millisecond) when the host has answered, so the poll interval does not blur them.
//
//   npm run bench:boot -- [--servers N] [--hosts N] [--concurrency N]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../test/local-cloud';
import { call, cpuMs, fmt, processTree, table, verdict } from './lib';

const { values } = parseArgs({
  options: {
    servers: { type: 'string', default: '1000' },
    hosts: { type: 'string', default: '100' },
    concurrency: { type: 'string', default: '32' },
    poll: { type: 'string', default: '20' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`Usage: npm run bench:boot -- [--servers N] [--hosts N] [--concurrency N] [--poll MS]

  --servers N      servers to boot and then delete (default 1000)
  --hosts N        fake hosts in the fleet (default 100)
  --concurrency N  clients booting at once (default 32)
  --poll MS        how often each client polls its server (default 20)
  --keep           keep the state folder (its cloud.log) instead of removing it`);
  process.exit(0);
}
const SERVERS = Number(values.servers);
const HOSTS = Number(values.hosts);
const CONCURRENCY = Number(values.concurrency);
const POLL_MS = Number(values.poll);
for (const [k, v] of Object.entries({ SERVERS, HOSTS, CONCURRENCY })) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k.toLowerCase()} must be a whole number >= 1`);
}

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

/** When the event of an instance action finished, in ms since the epoch (NaN if it has not). */
async function eventFinished(compute: string, headers: Record<string, string>, server: string, requestId: string): Promise<number> {
  const r = await call(`${compute}/servers/${server}/os-instance-actions/${requestId}`, 'GET', { ...headers, 'OpenStack-API-Version': 'compute 2.21' });
  const events = (r.body as { instanceAction?: { events?: { finish_time: string | null }[] } }).instanceAction?.events ?? [];
  const finished = events.map((e) => (e.finish_time ? Date.parse(`${e.finish_time.slice(0, 23)}Z`) : NaN)).filter((t) => !Number.isNaN(t));
  return finished.length ? Math.max(...finished) : NaN;
}
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN;
};

/** Runs `n` tasks with `concurrency` workers; returns the wall time. */
async function pool(n: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
  return performance.now() - t0;
}

const stateDir = mkdtempSync(join(tmpdir(), 'flarestack-bench-boot-'));
console.log(`Starting a local cloud with ${HOSTS} fake hosts ...`);
const cloud = await startLocalCloud({ stateDir, args: ['--hosts', String(HOSTS)] });
try {
  const auth = await call(`${cloud.authUrl}/auth/tokens`, 'POST', {}, {
    auth: {
      identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password: cloud.passwords.admin } } },
      scope: { project: { name: 'admin', domain: { id: 'default' } } },
    },
  });
  const token = auth.subjectToken!;
  const projectId = (auth.body as { token: { project: { id: string } } }).token.project.id;
  const headers = { 'X-Auth-Token': token };
  const compute = `${cloud.url}/compute/v2.1`;
  /** A request whose answer's request id names its instance action. */
  const send = async (url: string, method: string, body?: unknown) => {
    const res = await fetch(url, {
      method,
      headers: { ...headers, ...(body ? { 'Content-Type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, requestId: res.headers.get('x-openstack-request-id') ?? '', body: text ? (JSON.parse(text) as unknown) : null };
  };
  // The benchmark boots far more than the default quota of 10 instances.
  const quota = await call(`${compute}/os-quota-sets/${projectId}`, 'PUT', headers, { quota_set: { instances: -1, cores: -1, ram: -1 } });
  if (quota.status !== 200) throw new Error(`quota: ${quota.status} ${JSON.stringify(quota.body)}`);
  const images = (await call(`${cloud.url}/image/v2/images`, 'GET', headers)).body as { images: { id: string }[] };
  const imageRef = images.images[0]!.id;
  const services = (await call(`${compute}/os-services`, 'GET', headers)).body as { services: { state: string }[] };
  const up = services.services.filter((s) => s.state === 'up').length;
  console.log(`${up} compute services up.`);
  // Where the time goes: CPU of workerd (every Worker and Durable Object) and of the
  // launcher (the fake hosts' connectors and the public relay) per boot and per delete.
  const tree = processTree(cloud.pid);
  const workerd = tree.find((p) => p.name.startsWith('workerd'))?.pid ?? 0;
  const launcher = tree.find((p) => p.name === 'node')?.pid ?? 0;
  const cpu = () => ({ workerd: cpuMs(workerd), launcher: cpuMs(launcher) });

  /**
   * Boots `n` servers with `concurrency` clients, then deletes them; times per server. The
   * instance actions' event times are read after the round, so reading them adds no load
   * while the clock runs (a client of `server create --wait` does not read them).
   */
  async function round(n: number, concurrency: number) {
    const ids: string[] = [];
    const booted: { id: string; requestId: string; t0: number }[] = [];
    const deleted: { id: string; requestId: string; t0: number }[] = [];
    let bootErrors = 0;
    const polls = { boot: 0, delete: 0 };
    const cpu0 = cpu();
    const bootWall = await pool(n, concurrency, async (i) => {
      const t0 = Date.now();
      const r = await send(`${compute}/servers`, 'POST', { server: { name: `bench-${i}`, flavorRef: '1', imageRef, networks: 'none' } });
      if (r.status !== 202) {
        bootErrors++;
        return;
      }
      const id = (r.body as { server: { id: string } }).server.id;
      ids.push(id);
      for (;;) {
        polls.boot++;
        const s = await call(`${compute}/servers/${id}`, 'GET', headers);
        const status = (s.body as { server?: { status: string } }).server?.status;
        if (status === 'ACTIVE') break;
        if (status === 'ERROR') {
          bootErrors++;
          return;
        }
        await sleep(POLL_MS);
      }
      booted.push({ id, requestId: r.requestId, t0 });
    });
    const cpu1 = cpu();
    let deleteErrors = 0;
    const deleteWall = await pool(ids.length, concurrency, async (i) => {
      const id = ids[i]!;
      const t0 = Date.now();
      const r = await send(`${compute}/servers/${id}`, 'DELETE');
      if (r.status !== 204) {
        deleteErrors++;
        return;
      }
      while ((polls.delete++, (await call(`${compute}/servers/${id}`, 'GET', headers)).status !== 404)) await sleep(POLL_MS);
      deleted.push({ id, requestId: r.requestId, t0 });
    });
    const cpu2 = cpu();
    const per = (a: number, b: number, count: number) => (b - a) / Math.max(1, count);
    const cost = {
      boot: { workerd: per(cpu0.workerd, cpu1.workerd, booted.length), launcher: per(cpu0.launcher, cpu1.launcher, booted.length), polls: polls.boot / Math.max(1, booted.length) },
      delete: { workerd: per(cpu1.workerd, cpu2.workerd, deleted.length), launcher: per(cpu1.launcher, cpu2.launcher, deleted.length), polls: polls.delete / Math.max(1, deleted.length) },
    };
    const times = async (runs: typeof booted) => {
      const out: number[] = [];
      await pool(runs.length, 8, async (i) => {
        const { id, requestId, t0 } = runs[i]!;
        out.push((await eventFinished(compute, headers, id, requestId)) - t0);
      });
      return out;
    };
    const toActive = await times(booted);
    const toGone = await times(deleted);
    return { toActive, toGone, bootWall, deleteWall, bootErrors, deleteErrors, cost };
  }

  // One client alone first: the time a boot takes when nothing waits in line.
  const alone = await round(Math.min(50, SERVERS), 1);
  console.log(`Alone: time to ACTIVE p50 ${fmt(pct(alone.toActive, 50), 1)} ms; now ${SERVERS} at concurrency ${CONCURRENCY} ...`);
  const r = await round(SERVERS, CONCURRENCY);
  const boots = r.toActive.length / (r.bootWall / 1000);
  const deletes = r.toGone.length / (r.deleteWall / 1000);
  const cycle = r.toGone.length / ((r.bootWall + r.deleteWall) / 1000);
  const ms = (x: number) => fmt(x, 1);
  console.log();
  console.log(
    table(
      `Boot and delete ${SERVERS} servers over ${HOSTS} fake hosts (zero spawn latency), concurrency ${CONCURRENCY}`,
      ['measure', 'result', 'target', ''],
      [
        ['boots/s (to ACTIVE)', fmt(boots, 1), '', ''],
        ['deletes/s (to gone)', fmt(deletes, 1), '', ''],
        ['boot+delete/s', fmt(cycle, 1), '>= 100', verdict(cycle >= 100)],
        ['time to ACTIVE p50 (ms)', ms(pct(r.toActive, 50)), '< 50', verdict(pct(r.toActive, 50) < 50)],
        ['time to ACTIVE p99 (ms)', ms(pct(r.toActive, 99)), '', ''],
        ['time to gone p50 (ms)', ms(pct(r.toGone, 50)), '', ''],
        ['time to gone p99 (ms)', ms(pct(r.toGone, 99)), '', ''],
        ['failed boots / deletes', `${r.bootErrors + alone.bootErrors} / ${r.deleteErrors + alone.deleteErrors}`, '0 / 0', verdict(r.bootErrors + r.deleteErrors + alone.bootErrors + alone.deleteErrors === 0)],
        [`time to ACTIVE p50, one client alone (${alone.toActive.length} boots)`, ms(pct(alone.toActive, 50)), '', ''],
        ['time to ACTIVE p99, one client alone', ms(pct(alone.toActive, 99)), '', ''],
        ['time to gone p50, one client alone', ms(pct(alone.toGone, 50)), '', ''],
      ],
    ),
  );
  console.log();
  console.log(
    table(
      `CPU per server at concurrency ${CONCURRENCY}, polls included (workerd runs every Worker and Durable Object on one thread)`,
      ['', 'workerd ms', 'launcher ms (fake hosts, relay)', 'GET polls'],
      [
        ['boot (POST, build, polls until ACTIVE)', fmt(r.cost.boot.workerd, 2), fmt(r.cost.boot.launcher, 2), fmt(r.cost.boot.polls, 1)],
        ['delete (DELETE, destroy, polls until 404)', fmt(r.cost.delete.workerd, 2), fmt(r.cost.delete.launcher, 2), fmt(r.cost.delete.polls, 1)],
      ],
    ),
  );
  const cycleMs = r.cost.boot.workerd + r.cost.delete.workerd;
  console.log(`\nOne boot+delete costs workerd ${fmt(cycleMs, 1)} ms of CPU: on its one thread at most ${fmt(1000 / cycleMs)} boot+delete/s.`);
  console.log(`\nBy Little's law ${CONCURRENCY} clients waiting p50 < 50 ms each would need over ${fmt(CONCURRENCY / 0.05)} boots/s.`);
  console.log(`Anchor: OpenStack's fake-driver run at 1,000 nodes took 6.2 s median per boot and 5.4 boot+delete/s.`);
} finally {
  await cloud.stop();
  if (!values.keep) rmSync(stateDir, { recursive: true, force: true });
  else console.log(`state kept in ${stateDir}`);
}
