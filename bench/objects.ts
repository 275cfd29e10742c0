// `npm run bench:objects`: starts a local cloud as a user does and measures Swift and
// Glance: 4 KiB object PUT and GET rates (such objects are kept in the account's Durable
// Object), listing a 10,000-object container, streaming a large object and a large image
// in and out against a plain disk copy, and the cloud's peak memory while it streams.
//
//   npm run bench:objects -- [--duration S] [--object-mib N] [--image-mib N] [--listing N]
import { execFile, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, copyFileSync, createReadStream, fsyncSync, mkdtempSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { Miniflare, Runtime } from 'miniflare';
import { freePort, startLocalCloud, type LocalCloud } from '../test/local-cloud';
import { useWorkerdV8Flags } from '../scripts/workerd-v8-flags';
import { call, fmt, processTree, table, verdict, wrk, type Scenario } from './lib';

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    'object-mib': { type: 'string', default: '256' },
    'image-mib': { type: 'string', default: '1024' },
    listing: { type: 'string', default: '10000' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});
if (values.help) {
  console.log(`Usage: npm run bench:objects -- [--duration S] [--object-mib N] [--image-mib N] [--listing N]

  --duration S     seconds of each wrk run (default 5)
  --object-mib N   size of the large Swift object (default 256)
  --image-mib N    size of the large image, also streamed as a Swift object for the memory row (default 1024)
  --listing N      objects in the listed container (default 10000)`);
  process.exit(0);
}
const DURATION = Number(values.duration);
const OBJECT_MIB = Number(values['object-mib']);
const IMAGE_MIB = Number(values['image-mib']);
const LISTING = Number(values.listing);
const MiB = 1024 * 1024;

/** A file of random bytes, written in 1 MiB blocks and synced, and its MD5. */
function makeFile(path: string, mib: number): string {
  const md5 = createHash('md5');
  const fd = openSync(path, 'w');
  for (let i = 0; i < mib; i++) {
    const block = randomBytes(MiB);
    md5.update(block);
    writeSync(fd, block);
  }
  fsyncSync(fd);
  closeSync(fd);
  return md5.digest('hex');
}

/**
 * Waits until the kernel has written out what earlier steps left dirty (GiBs of objects,
 * files and copies), so each timed transfer does not pay for the writeback of the last.
 * For the same reason no file is deleted until the end (~5 GiB): freeing a GiB file on a
 * disk mounted with online discard slowed the next download by half.
 */
function settle(): void {
  spawnSync('sync');
}

/** The baseline: copying the same file on the same disk, synced, in MB/s. */
function diskCopyMBps(src: string, dst: string): number {
  settle();
  const t0 = performance.now();
  copyFileSync(src, dst);
  const fd = openSync(dst, 'r+');
  fsyncSync(fd);
  closeSync(fd);
  const seconds = (performance.now() - t0) / 1000;
  return statSync(src).size / MiB / seconds;
}

/**
 * Samples the cloud's process tree while work runs; returns the peak RSS sum and PSS sum
 * in MB, and the peak PSS of the cloud's own processes (the tree without npm, its root).
 */
async function peakMemory<T>(rootPid: number, work: () => Promise<T>): Promise<{ result: T; rss: number; pss: number; own: number }> {
  let rss = 0;
  let pss = 0;
  let own = 0;
  const sample = () => {
    const tree = processTree(rootPid);
    rss = Math.max(rss, tree.reduce((a, p) => a + p.rssKb, 0) / 1024);
    pss = Math.max(pss, tree.reduce((a, p) => a + p.pssKb, 0) / 1024);
    own = Math.max(own, tree.filter((p) => p.pid !== rootPid).reduce((a, p) => a + p.pssKb, 0) / 1024);
  };
  const timer = setInterval(sample, 100);
  try {
    const result = await work();
    sample();
    return { result, rss, pss, own };
  } finally {
    clearInterval(timer);
  }
}

/**
 * One transfer with curl, whose own cost stays far below the server's (Node's fetch
 * streams at ~200 MB/s here and would measure itself). Returns the status and MB/s.
 */
function curl(args: string[], out = '/dev/null'): Promise<{ status: number; mbps: number }> {
  return new Promise((ok, fail) => {
    execFile('curl', ['-s', '-o', out, '-w', '%{http_code} %{speed_upload} %{speed_download}', ...args], (err, stdout) => {
      if (err) return fail(err);
      const [status, up, down] = stdout.trim().split(' ').map(Number);
      ok({ status: status!, mbps: Math.max(up!, down!) / MiB });
    });
  });
}

function upload(url: string, file: string, headers: Record<string, string>): Promise<{ status: number; mbps: number }> {
  return curl(['-T', file, ...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url]);
}

/** Downloads to a file, then checks its MD5. */
async function download(url: string, file: string, headers: Record<string, string>): Promise<{ status: number; mbps: number; md5: string }> {
  const r = await curl([...Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]), url], file);
  const md5 = createHash('md5');
  await pipeline(createReadStream(file, { highWaterMark: MiB }), md5);
  return { ...r, md5: md5.digest('hex') };
}

/**
 * What the runtime itself allows, measured like the rows above: a bare Worker in its own
 * workerd that only reads a request body, only puts it into local R2, or only streams it
 * back; and, for small objects, one that only writes a 4 KiB row (and a count) into a
 * SQLite Durable Object or reads it back, as Swift does for objects it keeps inline.
 * Swift cannot be faster than these on this machine.
 */
async function runtimeCeiling(
  file: string, work: string,
): Promise<{ read: number; put: number; get: number; smallPut: number; smallGet: number; doPut: number; doGet: number }> {
  const script = `import { DurableObject } from 'cloudflare:workers';
  export class Rows extends DurableObject {
    constructor(ctx, env) {
      super(ctx, env);
      ctx.storage.sql.exec('CREATE TABLE IF NOT EXISTS o (name TEXT PRIMARY KEY, data BLOB NOT NULL); CREATE TABLE IF NOT EXISTS n (id INTEGER PRIMARY KEY, count INTEGER NOT NULL); INSERT OR IGNORE INTO n VALUES (1, 0)');
    }
    put(name, data) {
      this.ctx.storage.transactionSync(() => {
        this.ctx.storage.sql.exec('INSERT OR REPLACE INTO o VALUES (?, ?)', name, data);
        this.ctx.storage.sql.exec('UPDATE n SET count = count + 1 WHERE id = 1');
      });
    }
    get(name) { return this.ctx.storage.sql.exec('SELECT data FROM o WHERE name = ?', name).one().data; }
  }
  export default { async fetch(req, env) {
    const path = new URL(req.url).pathname;
    if (path.startsWith('/do/')) {
      const rows = env.D.get(env.D.idFromName('rows'));
      if (req.method === 'PUT') { await rows.put(path, new Uint8Array(await req.arrayBuffer())); return new Response('ok', { status: 201 }); }
      return new Response(await rows.get('/do/0'));
    }
    if (path.startsWith('/small/')) {
      if (req.method === 'PUT') { await env.B.put(path, await req.arrayBuffer()); return new Response('ok', { status: 201 }); }
      return new Response((await env.B.get('/small/0')).body);
    }
    if (path === '/read') { const r = req.body.getReader(); while (!(await r.read()).done); return new Response('ok'); }
    if (path === '/put') {
      const f = new FixedLengthStream(Number(req.headers.get('content-length')));
      const put = env.B.put('k', f.readable);
      await req.body.pipeTo(f.writable);
      await put;
      return new Response('ok');
    }
    return new Response((await env.B.get('k')).body);
  } };`;
  const port = await freePort();
  const persist = mkdtempSync(join(work, 'ceiling-')); // removed with the work folder, at the end
  useWorkerdV8Flags(Runtime); // the local cloud's V8 flags, so that the rows compare
  const mf = new Miniflare({
    modules: true, script, host: '127.0.0.1', port, cf: false, r2Buckets: ['B'], r2Persist: join(persist, 'r2'),
    durableObjects: { D: { className: 'Rows', useSQLite: true } }, durableObjectsPersist: join(persist, 'do'), compatibilityDate: '2026-04-26',
  });
  try {
    await mf.ready;
    const base = `http://127.0.0.1:${port}`;
    settle();
    const read = (await curl(['-T', file, `${base}/read`])).mbps;
    settle();
    const put = (await curl(['-T', file, `${base}/put`])).mbps;
    settle();
    const get = (await curl([`${base}/get`])).mbps;
    const rate = async (sc: Scenario) => {
      await wrk(sc, 16, 1, work);
      const r = await wrk(sc, 16, DURATION, work);
      return r.requests / (r.duration_us / 1e6);
    };
    const small = new Uint8Array(randomBytes(4096));
    const smallPut = await rate({ name: 'put', method: 'PUT', url: `${base}/small/`, headers: {}, body: small, expect: 201, paths: 'unique' });
    await fetch(`${base}/small/0`, { method: 'PUT', body: small });
    const smallGet = await rate({ name: 'get', method: 'GET', url: `${base}/small/0`, headers: {}, expect: 200 });
    const doPut = await rate({ name: 'put', method: 'PUT', url: `${base}/do/`, headers: {}, body: small, expect: 201, paths: 'unique' });
    await fetch(`${base}/do/0`, { method: 'PUT', body: small });
    const doGet = await rate({ name: 'get', method: 'GET', url: `${base}/do/0`, headers: {}, expect: 200 });
    return { read, put, get, smallPut, smallGet, doPut, doGet };
  } finally {
    await mf.dispose();
  }
}

/** PUTs count small objects named prefix0..prefixN-1 with `parallel` requests in flight. */
async function fill(base: string, prefix: string, count: number, body: Uint8Array, token: string, parallel = 32) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < count) {
        const i = next++;
        const res = await fetch(`${base}/${prefix}${i}`, {
          method: 'PUT',
          headers: { 'X-Auth-Token': token, 'Content-Type': 'application/octet-stream' },
          body,
        });
        await res.arrayBuffer();
        if (res.status !== 201) throw new Error(`PUT ${prefix}${i}: ${res.status}`);
      }
    }),
  );
}

async function main() {
  if (spawnSync('wrk', ['--version']).error) {
    console.error('wrk is not installed: run scripts/install-deps.sh (Debian package "wrk").');
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), 'flarestack-bench-objects-'));
  const password = randomBytes(12).toString('base64url');
  let cloud: LocalCloud | undefined;
  try {
    cloud = await startLocalCloud({ port: await freePort(), env: { FLARESTACK_ADMIN_PASSWORD: password } });
    const auth = await call(`${cloud.authUrl}/auth/tokens`, 'POST', {}, {
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'admin', domain: { id: 'default' }, password } } },
        scope: { project: { name: 'admin', domain: { id: 'default' } } },
      },
    });
    const token = auth.subjectToken!;
    const projectId = (auth.body as { token: { project: { id: string } } }).token.project.id;
    const account = `${cloud.url}/object-storage/v1/AUTH_${projectId}`;
    const h = { 'X-Auth-Token': token };
    const container = `bench-${randomBytes(4).toString('hex')}`;
    if ((await call(`${account}/${container}`, 'PUT', h)).status >= 300) throw new Error('container create failed');

    // ---- large transfers, first: the memory rows measure a cloud that has not yet grown
    // under other loads (workerd keeps what it takes). The 1 GiB object goes first, as
    // that is the row with a target; the image rows then show Glance's path on top.
    console.log(`Streaming a ${IMAGE_MIB} MiB object, a ${OBJECT_MIB} MiB object and a ${IMAGE_MIB} MiB image...`);
    const imgFile = join(work, 'image.bin');
    const imgMd5 = makeFile(imgFile, IMAGE_MIB);
    const imgDisk = diskCopyMBps(imgFile, join(work, 'image.copy'));
    settle();
    const bigUp = await peakMemory(cloud.pid, () => upload(`${account}/${container}/huge`, imgFile, h));
    settle();
    const bigDown = await peakMemory(cloud.pid, () => download(`${account}/${container}/huge`, join(work, 'huge.out'), h));

    const objFile = join(work, 'object.bin');
    const objMd5 = makeFile(objFile, OBJECT_MIB);
    const objDisk = diskCopyMBps(objFile, join(work, 'object.copy'));
    const ceiling = await runtimeCeiling(objFile, work);
    settle();
    const objUp = await upload(`${account}/${container}/large`, objFile, h);
    settle();
    const objDown = await download(`${account}/${container}/large`, join(work, 'object.out'), h);

    const created = await call(`${cloud.url}/image/v2/images`, 'POST', h, { name: 'bench-image', disk_format: 'raw', container_format: 'bare' });
    const imageId = (created.body as { id?: string }).id;
    settle();
    const imgUp = imageId
      ? await peakMemory(cloud.pid, () => upload(`${cloud!.url}/image/v2/images/${imageId}/file`, imgFile, { ...h, 'Content-Type': 'application/octet-stream' }))
      : { result: { status: created.status, mbps: 0 }, rss: 0, pss: 0, own: 0 };
    settle();
    const imgDown = imageId
      ? await peakMemory(cloud.pid, () => download(`${cloud!.url}/image/v2/images/${imageId}/file`, join(work, 'image.out'), h))
      : { result: { status: 0, mbps: 0, md5: '' }, rss: 0, pss: 0, own: 0 };

    // ---- 4 KiB objects
    const small = new Uint8Array(randomBytes(4096));
    console.log('4 KiB PUT and GET...');
    const rows: (string | number)[][] = [];
    const putScenario: Scenario = { name: 'PUT 4 KiB object', method: 'PUT', url: `${account}/${container}/put-`, headers: { ...h, 'Content-Type': 'application/octet-stream' }, body: small, expect: 201, paths: 'unique' };
    await fill(`${account}/${container}`, 'get-', 1000, small, token);
    const getScenario: Scenario = { name: 'GET 4 KiB object', method: 'GET', url: `${account}/${container}/get-`, headers: h, expect: 200, paths: 'cycle:1000' };
    for (const [s, target] of [[putScenario, 1000], [getScenario, 2000]] as const) {
      await wrk(s, 16, 1, work);
      for (const c of [1, 16]) {
        const r = await wrk(s, c, DURATION, work);
        const rps = r.requests / (r.duration_us / 1e6);
        const errors = r.status_errors + r.connect_errors + r.read_errors + r.write_errors + r.timeouts;
        rows.push([s.name, c, fmt(rps, 1), fmt(r.p50_us / 1000, 2), fmt(r.p99_us / 1000, 2), errors, c === 16 ? `>= ${fmt(target)}/s` : '', c === 16 ? verdict(rps >= target && errors === 0) : '']);
      }
    }

    // ---- listing
    console.log(`Filling a container with ${fmt(LISTING)} objects...`);
    const listed = `${container}-list`;
    await call(`${account}/${listed}`, 'PUT', h);
    await fill(`${account}/${listed}`, 'obj-', LISTING, small, token);
    const listing: Scenario = { name: `GET listing of ${fmt(LISTING)} objects (json)`, method: 'GET', url: `${account}/${listed}?format=json&limit=10000`, headers: h, expect: 200 };
    const lr = await wrk(listing, 1, DURATION, work);
    const listingRows = [[listing.name, fmt(lr.requests / (lr.duration_us / 1e6), 1), fmt(lr.p50_us / 1000, 1), fmt(lr.p99_us / 1000, 1)]];

    const ratio = (mbps: number, disk: number) => `${fmt((mbps / disk) * 100)} %`;
    const transfer = (what: string, r: { status: number; mbps: number }, disk: number, ok: boolean) => [
      what, r.status, fmt(r.mbps, 1), fmt(disk, 1), ratio(r.mbps, disk), '>= 70 %', verdict(ok && r.mbps >= 0.7 * disk),
    ];
    console.log(`
${table('a) Small objects, wrk, keep-alive', ['request', 'conc', 'req/s', 'p50 ms', 'p99 ms', 'errors', 'target', ''], [
  ...rows,
  ['runtime ceiling: bare Worker, R2 put of 4 KiB', 16, fmt(ceiling.smallPut, 1), '', '', '', '', ''],
  ['runtime ceiling: bare Worker, R2 get of 4 KiB', 16, fmt(ceiling.smallGet, 1), '', '', '', '', ''],
  ['runtime ceiling: bare Worker, 4 KiB row into a SQLite DO', 16, fmt(ceiling.doPut, 1), '', '', '', '', ''],
  ['runtime ceiling: bare Worker, 4 KiB row from a SQLite DO', 16, fmt(ceiling.doGet, 1), '', '', '', '', ''],
])}

${table('b) Listing a large container, wrk at concurrency 1', ['request', 'req/s', 'p50 ms', 'p99 ms'], listingRows)}

${table('c) Large transfers, streamed (MB/s against copying the same file on the same disk)', ['transfer', 'status', 'MB/s', 'disk MB/s', 'ratio', 'target', ''], [
  transfer(`PUT ${OBJECT_MIB} MiB object`, objUp, objDisk, objUp.status === 201),
  transfer(`GET ${OBJECT_MIB} MiB object`, objDown, objDisk, objDown.md5 === objMd5),
  transfer(`upload ${IMAGE_MIB} MiB image`, imgUp.result, imgDisk, imgUp.result.status === 204),
  transfer(`download ${IMAGE_MIB} MiB image`, imgDown.result, imgDisk, imgDown.result.md5 === imgMd5),
  [`runtime ceiling: bare Worker reads a ${OBJECT_MIB} MiB body`, '', fmt(ceiling.read, 1), fmt(objDisk, 1), ratio(ceiling.read, objDisk), '', ''],
  [`runtime ceiling: bare Worker puts it into local R2`, '', fmt(ceiling.put, 1), fmt(objDisk, 1), ratio(ceiling.put, objDisk), '', ''],
  [`runtime ceiling: bare Worker streams it back from local R2`, '', fmt(ceiling.get, 1), fmt(objDisk, 1), ratio(ceiling.get, objDisk), '', ''],
])}

${table(`d) Peak memory of the local cloud's process tree (npm run dev) while streaming ${IMAGE_MIB} MiB, sampled every 100 ms; PSS counts shared pages once, a plain RSS sum counts them in each process`, ['transfer', 'peak PSS MB', 'without npm', 'peak RSS sum MB', 'target', ''], [
  [`PUT ${IMAGE_MIB} MiB object (first)`, fmt(bigUp.pss, 1), fmt(bigUp.own, 1), fmt(bigUp.rss, 1), '< 300 MB', verdict(bigUp.result.status === 201 && bigUp.pss < 300)],
  [`GET ${IMAGE_MIB} MiB object`, fmt(bigDown.pss, 1), fmt(bigDown.own, 1), fmt(bigDown.rss, 1), '< 300 MB', verdict(bigDown.result.md5 === imgMd5 && bigDown.pss < 300)],
  [`upload ${IMAGE_MIB} MiB image (after the ${OBJECT_MIB} MiB rows)`, fmt(imgUp.pss, 1), fmt(imgUp.own, 1), fmt(imgUp.rss, 1), '', ''],
  [`download ${IMAGE_MIB} MiB image`, fmt(imgDown.pss, 1), fmt(imgDown.own, 1), fmt(imgDown.rss, 1), '', ''],
])}
`);
  } finally {
    await cloud?.stop();
    rmSync(work, { recursive: true, force: true });
    if (cloud) rmSync(cloud.stateDir, { recursive: true, force: true });
  }
}

await main();
