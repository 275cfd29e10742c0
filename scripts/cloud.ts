// The local cloud: every Worker in one workerd through the Miniflare API, configured
// from the same wrangler.toml files that `wrangler deploy` reads, with state on disk.
// Used by `npm run dev`, the end-to-end tests and the benchmarks alike.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, readdir, rename, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { WorkerOptions } from 'miniflare';
import { generateKey } from '../lib/token';
import { buildBundle, cachedBundle, stopBuilds, type CachedBundle } from './bundle-cache.mjs';
import { startKeepAliveProxy } from './keepalive-proxy';
import { useWorkerdV8Flags } from './workerd-v8-flags';
import { workerBuild } from './worker-build';
import type { Migration, SetupRequest } from './setup-worker';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const run = promisify(execFile);
// Miniflare is loaded by require: Node's ESM loader would first scan its 4 MB of
// CommonJS for export names, 0.15 s more.
const requireModule = createRequire(import.meta.url);

export interface CloudOptions {
  port: number;
  host: string;
  stateDir: string;
  /** Where to write clouds.yaml (a copy always goes into the state folder). */
  cloudsYaml: string;
  adminPassword?: string;
  demoPassword?: string;
  /** Token lifetime in seconds. */
  tokenExpiration?: number;
  /** Seconds without a heartbeat before a compute host counts as down. */
  serviceDownTime?: number;
  /** How often connectors send a heartbeat (ms). */
  heartbeatIntervalMs?: number;
  /** Glance's swift_store_large_object_size and _chunk_size (MB): larger images go to Swift in segments. */
  largeObjectSize?: number;
  largeObjectChunkSize?: number;
  /** A port for the V8 inspector (Chrome DevTools, CPU profiles) of every Worker. */
  inspectorPort?: number;
}

export interface Cloud {
  url: string;
  authUrl: string;
  stateDir: string;
  cloudsYaml: string;
  passwords: { admin: string; demo: string };
  readyMs: number;
  /** A fresh admin token (project admin), for the launcher's own API calls. */
  adminToken(): Promise<string>;
  dispose(): Promise<void>;
}

async function passwordToken(authUrl: string, user: string, password: string, project: string): Promise<string> {
  const res = await fetch(`${authUrl}/auth/tokens?nocatalog`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { id: 'default' }, password } } },
        scope: { project: { name: project, domain: { id: 'default' } } },
      },
    }),
  });
  await res.arrayBuffer();
  const token = res.headers.get('X-Subject-Token');
  if (res.status !== 201 || !token) throw new Error(`admin token: ${res.status}`);
  return token;
}

/**
 * Each Worker: its wrangler.toml and the entry esbuild bundles. The gateway (first) is
 * the public endpoint, as when deployed: it routes each service's path to its Worker over
 * a service binding.
 */
const WORKERS = [
  { config: 'wrangler.toml', entry: 'workers/gateway/index.ts' },
  { config: 'workers/keystone/wrangler.toml', entry: 'workers/keystone/index.ts' },
  { config: 'workers/nova/wrangler.toml', entry: 'workers/nova/index.ts' },
  { config: 'workers/glance/wrangler.toml', entry: 'workers/glance/index.ts' },
  { config: 'workers/swift/wrangler.toml', entry: 'workers/swift/index.ts' },
];

interface Secrets {
  tokenKeys: string[];
  adminPassword: string;
  demoPassword: string;
  /** The glance service user's password: Glance stores image data in Swift as that user. */
  glancePassword: string;
}

async function loadSecrets(stateDir: string, opts: CloudOptions): Promise<{ secrets: Secrets; reset: boolean }> {
  const file = join(stateDir, 'secrets.json');
  const have: Partial<Secrets> = existsSync(file) ? JSON.parse(await readFile(file, 'utf8')) : {};
  const secret = () => randomBytes(12).toString('base64url');
  const secrets: Secrets = {
    tokenKeys: have.tokenKeys ?? [generateKey()],
    adminPassword: opts.adminPassword ?? have.adminPassword ?? secret(),
    demoPassword: opts.demoPassword ?? have.demoPassword ?? secret(),
    glancePassword: have.glancePassword ?? secret(),
  };
  const reset =
    secrets.adminPassword !== have.adminPassword ||
    secrets.demoPassword !== have.demoPassword ||
    secrets.glancePassword !== have.glancePassword;
  await writeFile(file, JSON.stringify(secrets, null, 2));
  await chmod(file, 0o600);
  return { secrets, reset };
}

// wrangler's config reader costs a second and ~150 MB to load, so it runs in a child
// process once per wrangler.toml content; its answer is cached beside node_modules.
async function workerOptions(config: string): Promise<WorkerOptions & { name: string }> {
  const text = await readFile(join(ROOT, config), 'utf8');
  const name = /^name\s*=\s*"([^"]+)"/m.exec(text)?.[1];
  if (!name) throw new Error(`${config}: no name`);
  const cacheDir = join(ROOT, 'node_modules', '.cache', 'flarestack');
  const cache = join(cacheDir, `options-${createHash('sha256').update(config + text).digest('hex').slice(0, 16)}.json`);
  if (!existsSync(cache)) {
    await mkdir(cacheDir, { recursive: true });
    const script =
      "import { unstable_getMiniflareWorkerOptions as o } from 'wrangler';" +
      'process.stdout.write(JSON.stringify(o(process.argv[1]).workerOptions));';
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script, join(ROOT, config)], {
      cwd: ROOT,
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false' },
      maxBuffer: 16 << 20,
    });
    // Written whole, then renamed: a second cloud starting at once never reads half a file.
    const tmp = `${cache}.${process.pid}`;
    await writeFile(tmp, stdout);
    await rename(tmp, cache);
  }
  return { ...(JSON.parse(await readFile(cache, 'utf8')) as WorkerOptions), name };
}

/** drizzle-kit's migration files, oldest first, split at its statement breakpoints. */
async function readMigrations(dir: string): Promise<Migration[]> {
  if (!existsSync(dir)) return [];
  const files = (await readdir(dir)).filter((f) => f.endsWith('.sql')).sort();
  return Promise.all(
    files.map(async (name) => ({
      name,
      statements: (await readFile(join(dir, name), 'utf8'))
        .split('--> statement-breakpoint')
        .map((s) => s.trim())
        .filter(Boolean),
    })),
  );
}

async function cloudsYaml(authUrl: string, secrets: Secrets): Promise<string> {
  const { stringify } = await import('yaml');
  const cloud = (user: string, password: string, project: string) => ({
    auth: { auth_url: authUrl, username: user, password, project_name: project, user_domain_name: 'Default', project_domain_name: 'Default' },
    region_name: 'RegionOne',
    identity_api_version: 3,
    interface: 'public',
  });
  const system = cloud('admin', secrets.adminPassword, 'admin');
  const { project_name: _p, project_domain_name: _d, ...systemAuth } = system.auth;
  return stringify({
    clouds: {
      'flarestack-admin': cloud('admin', secrets.adminPassword, 'admin'),
      'flarestack-demo': cloud('demo', secrets.demoPassword, 'demo'),
      'flarestack-system-admin': { ...system, auth: { ...systemAuth, system_scope: 'all' } },
    },
  });
}

function openrc(authUrl: string, user: string, password: string): string {
  const q = (v: string) => `'${v.replace(/'/g, `'\\''`)}'`;
  return [
    ['OS_AUTH_URL', authUrl], ['OS_IDENTITY_API_VERSION', '3'], ['OS_USERNAME', user], ['OS_PASSWORD', password],
    ['OS_PROJECT_NAME', user], ['OS_USER_DOMAIN_NAME', 'Default'], ['OS_PROJECT_DOMAIN_NAME', 'Default'], ['OS_REGION_NAME', 'RegionOne'],
  ].map(([k, v]) => `export ${k}=${q(v!)}\n`).join('');
}

export async function startCloud(opts: CloudOptions): Promise<Cloud> {
  const t0 = performance.now();
  process.env.CLOUDFLARE_CF_FETCH_ENABLED = 'false';
  const stateDir = resolve(opts.stateDir);
  const buildDir = join(stateDir, 'build');
  await mkdir(buildDir, { recursive: true });
  const { secrets, reset } = await loadSecrets(stateDir, opts);

  // Bundles come from the cache unless their code changed; any that must be built are
  // handed to esbuild's own process before Miniflare is loaded, so both go on at once.
  const entries = [...WORKERS.map((w) => w.entry), 'scripts/setup-worker.ts'];
  const names = entries.map((e) => (e.startsWith('workers/') ? e.split('/')[1]! : 'setup'));
  const cached = await Promise.all(entries.map((e, i) => cachedBundle(ROOT, `worker-${names[i]}`, workerBuild(e))));
  const building = entries.map((e, i) => cached[i] ?? buildBundle(ROOT, `worker-${names[i]}`, workerBuild(e)));
  const configs = Promise.all(WORKERS.map((w) => workerOptions(w.config)));
  const { Log, LogLevel, Miniflare, Runtime } = requireModule('miniflare') as typeof import('miniflare');
  const bundles: CachedBundle[] = await Promise.all(building);
  // esbuild keeps a service process alive after a build; the cloud does not need it.
  if (cached.some((c) => !c)) await stopBuilds();
  // Miniflare is given each Worker's code as one module: given a file instead, it parses
  // it with acorn in this thread to look for imports (~1 s and a burst of garbage for
  // these 4.8 MB).
  const module = (i: number) => {
    const path = join(buildDir, `${names[i]}.mjs`);
    return {
      modulesRoot: buildDir,
      modules: [{ type: 'ESModule' as const, path, contents: bundles[i]!.code }],
      // Without these Miniflare adds, per Worker, a Worker that strips a header from
      // requests to the Internet and a Cache API store (and its Durable Object): thirteen
      // isolates, ~11 MB of workerd and 0.1 s of start-up. No Worker uses the Cache API.
      cache: false,
      stripCfConnectingIp: false,
    };
  };
  // The bundles are also left in the state folder, to read what runs.
  const written = Promise.all(bundles.map((b, i) => writeFile(join(buildDir, `${names[i]}.mjs`), b.code)));

  const workers = (await configs).map((options: WorkerOptions & { name: string }, i: number) => {
    const bindings: Record<string, string> = { ...(options.bindings as Record<string, string>), TOKEN_KEYS: JSON.stringify(secrets.tokenKeys) };
    if (options.name === 'flarestack-glance') {
      bindings.GLANCE_SERVICE_PASSWORD = secrets.glancePassword;
      if (opts.largeObjectSize) bindings.SWIFT_STORE_LARGE_OBJECT_SIZE = String(opts.largeObjectSize);
      if (opts.largeObjectChunkSize) bindings.SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE = String(opts.largeObjectChunkSize);
    }
    if (opts.tokenExpiration) bindings.TOKEN_EXPIRATION = String(opts.tokenExpiration);
    if (options.name === 'flarestack-nova') {
      if (opts.serviceDownTime) bindings.SERVICE_DOWN_TIME = String(opts.serviceDownTime);
      if (opts.heartbeatIntervalMs) bindings.HEARTBEAT_INTERVAL_MS = String(opts.heartbeatIntervalMs);
    }
    // The relay reaches the gateway on a socket of its own: requests on Miniflare's port
    // pass through its entry Worker first, which costs twice what the gateway's hop does
    // (and gzips JSON and text/* answers, as Cloudflare's edge would). Behind the relay
    // every request comes from loopback, and the gateway says so in CF-Connecting-IP.
    if (i === 0) bindings.CLIENT_ADDRESS = '127.0.0.1';
    const sockets = i === 0 ? { unsafeDirectSockets: [{ host: '127.0.0.1', port: 0 }] } : {};
    return { ...options, name: options.name, ...module(i), bindings, ...sockets };
  });
  // The set-up Worker binds every service's database as DB is bound in that service,
  // under the service's name (flarestack-glance's DB as GLANCE).
  const databases: Record<string, { id: string }> = {};
  const migrationDirs: Record<string, string> = {};
  for (const w of workers) {
    const db = (w.d1Databases as Record<string, { id: string }> | undefined)?.DB;
    if (!db) continue;
    const service = w.name.replace(/^flarestack-/, '');
    databases[service.toUpperCase()] = db;
    migrationDirs[service.toUpperCase()] = join(ROOT, 'schema', 'migrations', service);
  }
  const setup: WorkerOptions = {
    name: 'flarestack-setup',
    ...module(entries.length - 1),
    compatibilityDate: workers[0]!.compatibilityDate,
    d1Databases: databases,
  };

  useWorkerdV8Flags(Runtime);
  // workerd listens on a loopback port of its own; the public port is the keep-alive relay.
  const mf = new Miniflare({
    host: '127.0.0.1',
    port: 0,
    cf: false,
    log: new Log(LogLevel.WARN),
    d1Persist: join(stateDir, 'v3', 'd1'),
    durableObjectsPersist: join(stateDir, 'v3', 'do'),
    r2Persist: join(stateDir, 'v3', 'r2'),
    kvPersist: join(stateDir, 'v3', 'kv'),
    workers: [...workers, setup] as WorkerOptions[],
    ...(opts.inspectorPort ? { inspectorPort: opts.inspectorPort } : {}),
  });
  await mf.ready;
  const gateway = await mf.unsafeGetDirectURL(workers[0]!.name);
  const proxy = await startKeepAliveProxy(opts.host, opts.port, '127.0.0.1', Number(gateway.port));
  const url = `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${proxy.port}`;

  const migrations: SetupRequest['migrations'] = {};
  for (const [binding, dir] of Object.entries(migrationDirs)) migrations[binding] = await readMigrations(dir);
  const request: SetupRequest = {
    migrations,
    bootstrap: {
      publicUrl: url,
      adminPassword: secrets.adminPassword,
      demoPassword: secrets.demoPassword,
      servicePasswords: { glance: secrets.glancePassword },
      resetPasswords: reset,
    },
  };
  const res = await (await mf.getWorker('flarestack-setup')).fetch('http://setup/', { method: 'POST', body: JSON.stringify(request) });
  if (!res.ok) throw new Error(`set-up of the local cloud failed: ${res.status} ${await res.text()}`);
  await res.arrayBuffer();
  // Loaded only now: it brings Glance's database code (drizzle).
  const { ensureBootstrapImage } = await import('./bootstrap-image');
  await ensureBootstrapImage(url, secrets.adminPassword);
  await written;

  const authUrl = `${url}/identity/v3`;
  const yaml = await cloudsYaml(authUrl, secrets);
  await writeFile(join(stateDir, 'clouds.yaml'), yaml, { mode: 0o600 });
  // The swift CLI does not read clouds.yaml: it takes OS_* variables, as DevStack's openrc sets them.
  for (const [user, password] of [['admin', secrets.adminPassword], ['demo', secrets.demoPassword]] as const) {
    await writeFile(join(stateDir, `${user}-openrc.sh`), openrc(authUrl, user, password), { mode: 0o600 });
  }
  if (resolve(opts.cloudsYaml) !== join(stateDir, 'clouds.yaml')) await writeFile(opts.cloudsYaml, yaml, { mode: 0o600 });

  return {
    url,
    authUrl,
    stateDir,
    cloudsYaml: opts.cloudsYaml,
    passwords: { admin: secrets.adminPassword, demo: secrets.demoPassword },
    readyMs: performance.now() - t0,
    adminToken: () => passwordToken(authUrl, 'admin', secrets.adminPassword, 'admin'),
    dispose: async () => {
      await proxy.close();
      await mf.dispose();
    },
  };
}
