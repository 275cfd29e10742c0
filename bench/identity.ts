// `npm run bench:identity`: starts a local cloud exactly as a user does (`npm run dev`,
// fresh state folder) and measures start-up time, memory, and the rate and latency of
// token issue and validation under wrk, next to the bare cost of one password hash.
//
//   npm run bench:identity -- [--duration S] [--idle S]
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { PBKDF2_ITERATIONS } from '../lib/password';
import { freePort, startLocalCloud, type LocalCloud } from '../test/local-cloud';
import { call, fmt, processTree, table, verdict, wrk, type Proc, type Run, type Scenario } from './lib';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    idle: { type: 'string', default: '5' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`Usage: npm run bench:identity -- [--duration S] [--idle S]

  --duration S  seconds of each load run and of the hash measurement (default 5)
  --idle S      seconds the cloud sits idle before its memory is read (default 5)
  --keep        keep the state folder (its cloud.log) instead of removing it

Environment: BENCH_DEBUG=1 prints every request the bench makes outside wrk.`);
  process.exit(0);
}
const DURATION = Number(values.duration);
const IDLE = Number(values.idle);
if (!Number.isInteger(DURATION) || DURATION < 1 || !(IDLE >= 0)) {
  console.error('--duration must be a whole number of seconds >= 1 (wrk takes whole seconds), --idle >= 0');
  process.exit(2);
}

const CONCURRENCY = [1, 16] as const;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

const passwordAuth = (password: string, scope: 'unscoped' | { project: { name: string; domain: { id: string } } }) => ({
  auth: {
    identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
    scope,
  },
});
const ADMIN_PROJECT = { project: { name: 'admin', domain: { id: 'default' } } };

/** Polls token issue until it succeeds; the time is measured from `t0`. */
async function firstToken(tokensUrl: string, password: string, t0: number, stop: AbortSignal): Promise<number> {
  while (!stop.aborted) {
    try {
      const r = await call(tokensUrl, 'POST', {}, passwordAuth(password, ADMIN_PROJECT), false);
      if (r.status === 201) return performance.now() - t0;
    } catch {
      // not listening yet
    }
    await sleep(20);
  }
  throw new Error('stopped');
}

async function load(s: Scenario, dir: string): Promise<Run[]> {
  if (!s.unavailable) {
    // One request by hand first: a wrong status would otherwise only show as a count of errors.
    const probe = await call(s.url, s.method, s.headers, s.body);
    if (probe.status !== s.expect) s.unavailable = `n/a (HTTP ${probe.status}, expected ${s.expect})`;
  }
  if (s.unavailable) return CONCURRENCY.map((c) => ({ scenario: s.name, concurrency: c, unavailable: s.unavailable }));
  await wrk(s, 16, 1, dir); // warm-up: JIT, connections, D1 page cache
  const runs: Run[] = [];
  for (const c of CONCURRENCY) {
    const r = await wrk(s, c, DURATION, dir);
    runs.push({
      scenario: s.name,
      concurrency: c,
      result: {
        rps: r.requests / (r.duration_us / 1e6),
        p50: r.p50_us / 1000,
        p99: r.p99_us / 1000,
        errors: r.status_errors + r.connect_errors + r.read_errors + r.write_errors + r.timeouts,
      },
    });
  }
  return runs;
}

// ---------------------------------------------------------------- bare hash

/**
 * The bare cost of one password hash where Keystone hashes: a Worker in its own workerd
 * that does one PBKDF2-SHA256 at the project's strength per request and nothing else,
 * driven by wrk at concurrency 1 exactly as the token-issue rows are. Hashes per second.
 */
async function bareHashRate(seconds: number, dir: string): Promise<number> {
  const script = `export default { async fetch() {
    const key = await crypto.subtle.importKey('raw', new TextEncoder().encode('correct horse battery staple'), 'PBKDF2', false, ['deriveBits']);
    const salt = crypto.getRandomValues(new Uint8Array(16));
    await crypto.subtle.deriveBits({ name: 'PBKDF2', hash: 'SHA-256', salt, iterations: ${PBKDF2_ITERATIONS} }, key, 256);
    return new Response('ok');
  } };`;
  const port = await freePort();
  const mf = new Miniflare({ modules: true, script, host: '127.0.0.1', port, cf: false, compatibilityDate: '2026-04-26' });
  try {
    await mf.ready;
    const s: Scenario = { name: 'bare hash', method: 'GET', url: `http://127.0.0.1:${port}/`, headers: {}, expect: 200 };
    await wrk(s, 1, 1, dir); // warm-up
    const r = await wrk(s, 1, seconds, dir);
    return r.requests / (r.duration_us / 1e6);
  } finally {
    await mf.dispose();
  }
}

// ---------------------------------------------------------------- main

async function main() {
  if (spawnSync('wrk', ['--version']).error) {
    console.error('wrk is not installed: run scripts/install-deps.sh (Debian package "wrk").');
    process.exit(2);
  }

  // Measured first, while the machine is quiet.
  const stateDir = mkdtempSync(join(tmpdir(), 'flarestack-bench-'));
  const workDir = mkdtempSync(join(tmpdir(), 'flarestack-bench-wrk-'));
  console.log(`Measuring bare PBKDF2-SHA256 (${fmt(PBKDF2_ITERATIONS)} iterations) in workerd for ${DURATION} s...`);
  const hashRate = await bareHashRate(DURATION, workDir);
  let cloud: LocalCloud | undefined;
  const cleanup = async () => {
    await cloud?.stop();
    cloud = undefined;
    if (values.keep) console.log(`State folder kept: ${stateDir}`);
    else rmSync(stateDir, { recursive: true, force: true });
    rmSync(workDir, { recursive: true, force: true });
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void cleanup().finally(() => process.exit(130)));

  try {
    // The password is given, not read from clouds.yaml, so polling can start at spawn time.
    const password = randomBytes(12).toString('base64url');
    const port = await freePort();
    const tokensUrl = `http://127.0.0.1:${port}/identity/v3/auth/tokens`;
    console.log('Starting the local cloud (npm run dev)...');
    const stopPolling = new AbortController();
    const t0 = performance.now();
    const starting = startLocalCloud({ stateDir, port, env: { FLARESTACK_ADMIN_PASSWORD: password } });
    const polling = firstToken(tokensUrl, password, t0, stopPolling.signal);
    polling.catch(() => {}); // its failure matters only if start-up succeeded
    try {
      cloud = await starting;
    } catch (e) {
      stopPolling.abort();
      throw e;
    }
    const firstTokenMs = await polling;
    const readyMs = cloud.startMs;
    const rootPid = cloud.pid;

    console.log(`Idle for ${IDLE} s...`);
    await sleep(IDLE * 1000);
    const idleTree = processTree(rootPid);

    // Tokens the scenarios need.
    const admin = await call(tokensUrl, 'POST', {}, passwordAuth(password, ADMIN_PROJECT));
    const unscoped = await call(tokensUrl, 'POST', {}, passwordAuth(password, 'unscoped'));
    if (admin.status !== 201 || !admin.subjectToken || unscoped.status !== 201 || !unscoped.subjectToken) {
      throw new Error(`token issue failed: ${admin.status} ${JSON.stringify(admin.body)} / ${unscoped.status}`);
    }
    const adminToken = admin.subjectToken;
    const userId = (admin.body as { token: { user: { id: string } } }).token.user.id;

    const appCred = await call(`${cloud.authUrl}/users/${userId}/application_credentials`, 'POST', { 'X-Auth-Token': adminToken }, {
      application_credential: { name: `bench-${Date.now()}`, description: 'bench/identity.ts' },
    });
    const ac = (appCred.body as { application_credential?: { id?: string; secret?: string } } | null)?.application_credential;
    let appCredUnavailable: string | undefined;
    if (appCred.status === 404 || appCred.status === 501) appCredUnavailable = 'n/a (route missing)';
    else if (appCred.status !== 201 || !ac?.id || !ac.secret) appCredUnavailable = `n/a (create answered HTTP ${appCred.status})`;

    const scenarios: Scenario[] = [
      { name: 'issue: password', method: 'POST', url: tokensUrl, headers: {}, body: passwordAuth(password, ADMIN_PROJECT), expect: 201 },
      {
        name: 'issue: application_credential',
        method: 'POST',
        url: tokensUrl,
        headers: {},
        body: { auth: { identity: { methods: ['application_credential'], application_credential: { id: ac?.id, secret: ac?.secret } } } },
        expect: 201,
        unavailable: appCredUnavailable,
      },
      {
        name: 'issue: token (rescope unscoped -> admin project)',
        method: 'POST',
        url: tokensUrl,
        headers: {},
        body: { auth: { identity: { methods: ['token'], token: { id: unscoped.subjectToken } }, scope: ADMIN_PROJECT } },
        expect: 201,
      },
      {
        name: 'validate: GET auth/tokens',
        method: 'GET',
        url: tokensUrl,
        headers: { 'X-Auth-Token': adminToken, 'X-Subject-Token': adminToken },
        expect: 200,
      },
      // Diagnostics, no target: what validation costs without the catalog, and the floor of
      // any request through the local runtime (gateway, service binding, Keystone; no auth, no D1).
      {
        name: 'validate: GET auth/tokens?nocatalog',
        method: 'GET',
        url: `${tokensUrl}?nocatalog`,
        headers: { 'X-Auth-Token': adminToken, 'X-Subject-Token': adminToken },
        expect: 200,
      },
      { name: 'floor: GET /identity/v3 (version)', method: 'GET', url: cloud.authUrl, headers: {}, expect: 200 },
    ];

    const runs: Run[] = [];
    for (const s of scenarios) {
      console.log(`Load: ${s.name}...`);
      runs.push(...(await load(s, workDir)));
    }
    const loadedTree = processTree(rootPid);

    await cleanup();

    // ------------------------------------------------------------ report
    const rss = (t: Proc[]) => t.reduce((a, p) => a + p.rssKb, 0) / 1024;
    const pss = (t: Proc[]) => t.reduce((a, p) => a + p.pssKb, 0) / 1024;
    // npm and its shell only wait for the launcher; `node scripts/dev.mjs` runs the cloud without them.
    const cloudOnly = (t: Proc[]) => t.filter((p) => !/^(npm|sh) /.test(p.name));
    const rate = (name: string, c: number) => runs.find((r) => r.scenario === name && r.concurrency === c)?.result?.rps;
    const passwordRatio = (rate('issue: password', 1) ?? NaN) / hashRate;
    const appCredRatio = (rate('issue: application_credential', 1) ?? NaN) / hashRate;

    const out: string[] = [];
    out.push(
      table('a) Start-up (spawn of `npm run dev` to ...)', ['what', 'seconds', 'target', ''], [
        ['"Flarestack is ready" line printed', fmt(readyMs / 1000, 2), '', ''],
        ['first token issued (polled every 20 ms)', fmt(firstTokenMs / 1000, 2), '< 3 s', verdict(firstTokenMs < 3000)],
      ]),
    );
    out.push(
      table('b) Memory of the process tree of `npm run dev`: PSS counts pages shared between processes once, a plain RSS sum counts them in each', ['when', 'PSS MB', 'RSS sum MB', 'processes', 'target', ''], [
        [`idle, ${IDLE} s after ready`, fmt(pss(idleTree), 1), fmt(rss(idleTree), 1), idleTree.length, '< 250 MB', verdict(pss(idleTree) < 250)],
        ['idle, node + workerd only', fmt(pss(cloudOnly(idleTree)), 1), fmt(rss(cloudOnly(idleTree)), 1), cloudOnly(idleTree).length, '', ''],
        ['after the load runs', fmt(pss(loadedTree), 1), fmt(rss(loadedTree), 1), loadedTree.length, '', ''],
      ]),
    );
    const after = (p: Proc) => loadedTree.find((q) => q.pid === p.pid);
    out.push(
      table('   per process, idle / after load', ['pid', 'process', 'idle PSS', 'idle RSS', 'loaded PSS', 'loaded RSS'],
        idleTree.map((p) => [p.pid, p.name, fmt(p.pssKb / 1024, 1), fmt(p.rssKb / 1024, 1), fmt((after(p)?.pssKb ?? 0) / 1024, 1), fmt((after(p)?.rssKb ?? 0) / 1024, 1)])),
    );
    const target = (r: Run): [string, string] => {
      const rps = r.result?.rps;
      if (rps === undefined) return ['', ''];
      if (r.scenario === 'issue: password' && r.concurrency === 1) return ['>= 80% of bare hash rate (d)', verdict(passwordRatio >= 0.8)];
      if (r.scenario.startsWith('issue: token') && r.concurrency === 16) return ['>= 1,000/s', verdict(rps >= 1000)];
      if (r.scenario === 'validate: GET auth/tokens' && r.concurrency === 16) return ['>= 3,000/s', verdict(rps >= 3000)];
      return ['', ''];
    };
    out.push(
      table(`c) Load, wrk ${DURATION} s per row, keep-alive`, ['request', 'conc', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'target', ''],
        runs.map((r) =>
          r.result
            ? [r.scenario, r.concurrency, fmt(r.result.rps, 1), fmt(r.result.p50, 2), fmt(r.result.p99, 2), r.result.errors, ...target(r)]
            : [r.scenario, r.concurrency, r.unavailable ?? 'n/a', '', '', '', '', ''],
        )),
    );
    out.push(
      table('d) Bare PBKDF2-SHA256 in workerd (one hash per request, wrk at concurrency 1)', ['what', 'value', 'target', ''], [
        ['iterations (PBKDF2_ITERATIONS)', fmt(PBKDF2_ITERATIONS), '', ''],
        ['hashes/s', fmt(hashRate, 1), '', ''],
        ['ms per hash', fmt(1000 / hashRate, 2), '', ''],
        ['password issue (c=1) / bare hash rate', Number.isNaN(passwordRatio) ? 'n/a' : `${fmt(passwordRatio * 100, 0)} %`, '>= 80 %', Number.isNaN(passwordRatio) ? '' : verdict(passwordRatio >= 0.8)],
        ['app credential issue (c=1) / bare hash rate', Number.isNaN(appCredRatio) ? 'n/a' : `${fmt(appCredRatio * 100, 0)} %`, '', ''],
      ]),
    );
    console.log(`\n${out.join('\n\n')}\n`);
    const failed = runs.filter((r) => (r.result?.errors ?? 0) > 0);
    if (failed.length) {
      console.log(`Requests failed in: ${failed.map((r) => `${r.scenario} c=${r.concurrency}`).join(', ')}`);
      process.exitCode = 1;
    }
  } finally {
    await cleanup();
  }
}

await main();
