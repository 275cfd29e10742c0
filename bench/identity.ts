// `npm run bench:identity`: starts a local cloud exactly as a user does (`npm run dev`,
// fresh state folder) and measures start-up time, memory, and the rate and latency of
// token issue and validation under wrk, next to the bare cost of one password hash.
//
//   npm run bench:identity -- [--duration S] [--idle S]
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Miniflare } from 'miniflare';
import { PBKDF2_ITERATIONS } from '../lib/password';
import { ROOT, freePort, startLocalCloud, type LocalCloud } from '../test/local-cloud';

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

const LUA = join(ROOT, 'bench', 'wrk-request.lua');
const CONCURRENCY = [1, 16] as const;
const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));

// ---------------------------------------------------------------- tables

type Cell = string | number;

/** Plain-text table; numbers are right-aligned. */
function table(title: string, head: string[], rows: Cell[][]): string {
  const text = rows.map((r) => r.map((c) => String(c)));
  const width = head.map((h, i) => Math.max(h.length, ...text.map((r) => (r[i] ?? '').length)));
  // A column is numeric when every cell is a number, blank or an "n/a (...)" note.
  const numeric = (c: Cell | undefined) => typeof c === 'number' || /^([\d.,]+( %)?|n\/a.*|)$/.test(String(c ?? ''));
  const right = head.map((_, i) => rows.some((r) => /\d/.test(String(r[i] ?? ''))) && rows.every((r) => numeric(r[i])));
  const line = (cells: string[]) =>
    cells.map((c, i) => (right[i] ? c.padStart(width[i]!) : c.padEnd(width[i]!))).join('  ').trimEnd();
  return [title, line(head), width.map((w) => '-'.repeat(w)).join('  '), ...text.map(line)].join('\n');
}

const fmt = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
const verdict = (met: boolean | undefined) => (met === undefined ? '' : met ? 'met' : 'MISSED');

// ---------------------------------------------------------------- memory

interface Proc {
  pid: number;
  name: string;
  rssKb: number;
  /** Proportional set size: shared pages (the node binary of npm and of the launcher) counted once overall. */
  pssKb: number;
}

function childrenOf(pid: number): number[] {
  const tasks = `/proc/${pid}/task`;
  // /proc/<pid>/task/<tid>/children needs CONFIG_PROC_CHILDREN; without it, scan every ppid.
  if (existsSync(`${tasks}/${pid}/children`)) {
    const out: number[] = [];
    for (const tid of safe(() => readdirSync(tasks), [])) {
      const text = safe(() => readFileSync(`${tasks}/${tid}/children`, 'utf8'), '');
      for (const c of text.split(/\s+/)) if (c) out.push(Number(c));
    }
    return out;
  }
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      // The command name may hold spaces and parentheses: ppid is the 2nd field after the last ')'.
      const stat = safe(() => readFileSync(`/proc/${d}/stat`, 'utf8'), '');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid;
    })
    .map(Number);
}

function safe<T>(f: () => T, fallback: T): T {
  try {
    return f();
  } catch {
    return fallback; // the process exited between listing and reading
  }
}

/** "npm run dev", "node tsx dev.ts", "workerd serve": the command up to its first long option. */
function label(cmdline: string): string {
  // npm rewrites its title into one string with spaces, so split on both.
  const words = cmdline.split(/[\0 ]/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < words.length && out.length < 4; i++) {
    const w = words[i]!;
    if (w === '--require' || w === '--import') {
      i++; // tsx's loader flags and their file
      continue;
    }
    if (w.startsWith('--')) break;
    out.push(w.replace(/^.*\//, ''));
  }
  return out.join(' ');
}

function processTree(root: number): Proc[] {
  const out: Proc[] = [];
  const queue = [root];
  while (queue.length) {
    const pid = queue.shift()!;
    const status = safe(() => readFileSync(`/proc/${pid}/status`, 'utf8'), '');
    if (!status) continue;
    out.push({
      pid,
      name: label(safe(() => readFileSync(`/proc/${pid}/cmdline`, 'utf8'), '')) || (/^Name:\s*(.*)$/m.exec(status)?.[1] ?? '?'),
      rssKb: Number(/^VmRSS:\s*(\d+)/m.exec(status)?.[1] ?? 0), // kernel threads and zombies have none
      pssKb: Number(/^Pss:\s*(\d+)/m.exec(safe(() => readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), ''))?.[1] ?? 0),
    });
    queue.push(...childrenOf(pid));
  }
  return out;
}

// ---------------------------------------------------------------- HTTP helpers

interface Reply {
  status: number;
  subjectToken: string | null;
  body: unknown;
}

async function call(url: string, method: string, headers: Record<string, string>, body?: unknown, retry = true): Promise<Reply> {
  let res: Response;
  try {
    res = await send(url, method, headers, body);
  } catch (e) {
    // A kept-alive connection the server closed meanwhile: one fresh attempt.
    if (!retry) throw e;
    res = await send(url, method, headers, body);
  }
  const text = await res.text();
  if (process.env.BENCH_DEBUG) console.log(`${(performance.now() / 1000).toFixed(2)} ${method} ${url} -> ${res.status}`);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: res.status, subjectToken: res.headers.get('X-Subject-Token'), body: parsed };
}

function send(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<Response> {
  return fetch(url, {
    method,
    headers: { ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

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

// ---------------------------------------------------------------- load

interface Scenario {
  name: string;
  method: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  expect: number;
  /** Set when the scenario cannot run: the text of its rows. */
  unavailable?: string;
}

interface WrkResult {
  requests: number;
  duration_us: number;
  p50_us: number;
  p99_us: number;
  max_us: number;
  status_errors: number;
  connect_errors: number;
  read_errors: number;
  write_errors: number;
  timeouts: number;
}

interface Run {
  scenario: string;
  concurrency: number;
  result?: { rps: number; p50: number; p99: number; errors: number };
  unavailable?: string;
}

function wrk(s: Scenario, concurrency: number, seconds: number, dir: string): Promise<WrkResult> {
  const bodyFile = join(dir, 'body.json');
  const headerFile = join(dir, 'headers.txt');
  writeFileSync(bodyFile, s.body === undefined ? '' : JSON.stringify(s.body));
  const headers = { ...(s.body === undefined ? {} : { 'Content-Type': 'application/json' }), ...s.headers };
  writeFileSync(headerFile, Object.entries(headers).map(([k, v]) => `${k}: ${v}\n`).join(''));
  // One wrk thread: it keeps up with this server easily and leaves the second core to the cloud.
  const args = ['-t1', `-c${concurrency}`, `-d${seconds}s`, '--timeout', '10s', '--latency', '-s', LUA, s.url];
  return new Promise((ok, fail) => {
    execFile(
      'wrk',
      args,
      { env: { ...process.env, WRK_METHOD: s.method, WRK_BODY_FILE: s.body === undefined ? '' : bodyFile, WRK_HEADER_FILE: headerFile } },
      (err, stdout, stderr) => {
        const line = /^WRK_RESULT (.*)$/m.exec(stdout)?.[1];
        if (err || !line) return fail(new Error(`wrk ${args.join(' ')} failed: ${err?.message ?? ''}\n${stdout}${stderr}`));
        ok(JSON.parse(line) as WrkResult);
      },
    );
  });
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
