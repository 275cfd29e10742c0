// Objects larger than a stripe (64 MiB) sent whole, as `swift upload` sends them: kept in
// R2 as stripes (workers/swift/stripes.ts). The CLI gets the same bytes back, ranges
// across a stripe's end read right, and no stripe outlives the version it belongs to.
// Stripes are looked up in the local R2's own index in the state folder.
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { storageAccess, swiftOk, uniqueName } from '../swift-cli';

const MiB = 1024 * 1024;
const STRIPE = 64 * MiB;
const SIZE = 2 * STRIPE + 20 * MiB + 777; // three stripes, the last of a size no other test writes
const dir = mkdtempSync(join(tmpdir(), 'flarestack-swift-striped-'));
const big = join(dir, 'big.bin');
let bigMd5 = '';

function md5File(path: string): Promise<string> {
  return new Promise((ok, fail) => {
    const hash = createHash('md5');
    createReadStream(path).on('data', (d) => hash.update(d)).on('end', () => ok(hash.digest('hex'))).on('error', fail);
  });
}

function bytesOf(path: string, offset: number, length: number): Buffer {
  const fd = openSync(path, 'r');
  try {
    const out = Buffer.alloc(length);
    readSync(fd, out, 0, length, offset);
    return out;
  } finally {
    closeSync(fd);
  }
}

/** Every stripe in the local R2: key and size, from its index (SQLite) in the state folder. */
function stripesInR2(): Promise<{ key: string; size: number }[]> {
  const index = join(inject('cloud').stateDir, 'v3', 'r2', 'miniflare-R2BucketObject');
  const script = `
import glob, json, sqlite3, sys
rows = []
for f in glob.glob(sys.argv[1] + '/*.sqlite'):
    db = sqlite3.connect('file:' + f + '?mode=ro', uri=True)
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = '_mf_objects'").fetchone():
        rows += db.execute("SELECT key, size FROM _mf_objects WHERE key LIKE '.stripes/%'").fetchall()
print(json.dumps(rows))`;
  return new Promise((ok, fail) => {
    execFile('python3', ['-c', script, index], (err, stdout, stderr) => {
      if (err) return fail(new Error(`${err.message}\n${stderr}`));
      ok((JSON.parse(stdout) as [string, number][]).map(([key, size]) => ({ key, size })));
    });
  });
}

/** The stripes of the one striped object whose last stripe has this test's odd size. */
async function ourStripes(): Promise<string[]> {
  const all = await stripesInR2();
  const lasts = all.filter((s) => s.size === SIZE - 2 * STRIPE).map((s) => s.key.slice(0, s.key.lastIndexOf('/')));
  return all.filter((s) => lasts.some((prefix) => s.key.startsWith(`${prefix}/`))).map((s) => s.key).sort();
}

beforeAll(async () => {
  const out = createWriteStream(big);
  for (let at = 0; at < SIZE; at += MiB) out.write(randomBytes(Math.min(MiB, SIZE - at)));
  await new Promise<void>((ok, fail) => out.end(() => ok()).on('error', fail));
  bigMd5 = await md5File(big);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('objects larger than a stripe', () => {
  it('upload, download, ranges, post, copy and delete with the swift CLI leave no stripe behind', async () => {
    const c = uniqueName('striped');
    await swiftOk(['upload', c, 'big.bin'], { cwd: dir });
    const first = await ourStripes();
    expect(first).toHaveLength(3);

    const stat = await swiftOk(['stat', c, 'big.bin']);
    expect(stat).toMatch(new RegExp(`Content Length: ${SIZE}`));
    expect(stat).toMatch(new RegExp(`ETag: ${bigMd5}`));
    const out = join(dir, 'out.bin');
    await swiftOk(['download', c, 'big.bin', '-o', out]);
    expect(await md5File(out)).toBe(bigMd5);
    rmSync(out);

    // Ranges: across the first stripe's end, inside the last stripe, and a suffix.
    const { token, storageUrl } = await storageAccess();
    const url = `${storageUrl}/${c}/big.bin`;
    for (const [range, offset, length] of [
      [`bytes=${STRIPE - 6}-${STRIPE + 9}`, STRIPE - 6, 16],
      [`bytes=${2 * STRIPE + 100}-${2 * STRIPE + 199}`, 2 * STRIPE + 100, 100],
      ['bytes=-7', SIZE - 7, 7],
    ] as const) {
      const res = await fetchRetrying(url, { headers: { 'X-Auth-Token': token, Range: range } });
      expect(res.status, range).toBe(206);
      expect(res.headers.get('content-range'), range).toBe(`bytes ${offset}-${offset + length - 1}/${SIZE}`);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytesOf(big, offset, length)), range).toBe(true);
    }

    // POST rewrites the data: a new version in new stripes, the old ones gone.
    await swiftOk(['post', '-m', 'color:red', c, 'big.bin']);
    expect(await swiftOk(['stat', c, 'big.bin'])).toMatch(/Meta Color: red/);
    const second = await ourStripes();
    expect(second).toHaveLength(3);
    expect(second.some((k) => first.includes(k))).toBe(false);

    await swiftOk(['copy', '--destination', `/${c}/copy.bin`, c, 'big.bin']);
    await swiftOk(['download', c, 'copy.bin', '-o', out]);
    expect(await md5File(out)).toBe(bigMd5);
    expect(await ourStripes()).toHaveLength(6);

    // A small object over a striped one, and deletes: no stripe of these is left.
    const small = await fetchRetrying(`${storageUrl}/${c}/copy.bin`, { method: 'PUT', headers: { 'X-Auth-Token': token }, body: 'small' });
    expect(small.status).toBe(201);
    await swiftOk(['delete', c, 'big.bin']);
    expect(await ourStripes()).toEqual([]);
    await swiftOk(['delete', c]);
  });

  it('a wrong ETag is a 422 and stores nothing, not even a stripe', async () => {
    const c = uniqueName('striped-etag');
    await swiftOk(['post', c]);
    const { token, storageUrl } = await storageAccess();
    const data = randomBytes(STRIPE + 1);
    const res = await fetchRetrying(`${storageUrl}/${c}/bad.bin`, {
      method: 'PUT', headers: { 'X-Auth-Token': token, ETag: '0'.repeat(32) }, body: data,
    });
    expect(res.status).toBe(422);
    expect((await fetchRetrying(`${storageUrl}/${c}/bad.bin`, { method: 'HEAD', headers: { 'X-Auth-Token': token } })).status).toBe(404);
    // The body's last stripe, its one byte, was written and is gone again.
    expect((await stripesInR2()).filter((s) => s.size === 1)).toEqual([]);
    await swiftOk(['delete', c]);
  });

  it('X-Delete-After: the expirer removes every stripe', async () => {
    const c = uniqueName('striped-expiry');
    await swiftOk(['post', c]);
    const { token, storageUrl } = await storageAccess();
    const res = await fetchRetrying(`${storageUrl}/${c}/soon.bin`, {
      method: 'PUT', headers: { 'X-Auth-Token': token, 'X-Delete-After': '2' }, body: randomBytes(STRIPE + 3),
    });
    expect(res.status).toBe(201);
    const mine = () => stripesInR2().then((all) => all.filter((s) => s.size === 3));
    expect(await mine()).toHaveLength(1);
    let left = await mine();
    for (let i = 0; i < 40 && left.length; i++) {
      await new Promise((ok) => setTimeout(ok, 500));
      left = await mine();
    }
    expect(left).toEqual([]);
    expect((await fetchRetrying(`${storageUrl}/${c}/soon.bin`, { method: 'HEAD', headers: { 'X-Auth-Token': token } })).status).toBe(404);
    await swiftOk(['delete', c]);
  });
});
