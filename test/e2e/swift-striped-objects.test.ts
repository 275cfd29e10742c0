// Objects larger than a stripe (64 MiB) sent whole, as `swift upload` sends them: kept in
// R2 as stripes (workers/swift/stripes.ts). The CLI gets the same bytes back, ranges
// across a stripe's end read right, and no stripe outlives the version it belongs to:
// the local R2's blobs in the state folder are counted by the odd size of a last stripe.
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, mkdtempSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { fetchRetrying } from '../cli';
import { storageAccess, swiftOk, uniqueName } from '../swift-cli';

const MiB = 1024 * 1024;
const STRIPE = 64 * MiB;
const LAST = 20 * MiB + 777; // a size no other test writes
const SIZE = 2 * STRIPE + LAST; // three stripes
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

/**
 * How many of the local R2's blobs in the state folder have this size: each object or
 * stripe is one file holding its bytes. (Its SQLite index cannot be read safely while
 * workerd writes it.) A blob goes shortly after its object, in the background.
 */
function blobsOfSize(size: number): number {
  const blobs = join(inject('cloud').stateDir, 'v3', 'r2', 'flarestack-objects', 'blobs');
  return readdirSync(blobs).filter((f) => !f.startsWith('.') && statSync(join(blobs, f), { throwIfNoEntry: false })?.size === size).length;
}

/** Waits until there are this many blobs of a size (they go in the background); returns how many there were. */
async function settledBlobs(size: number, want: number): Promise<number> {
  let n = blobsOfSize(size);
  for (let i = 0; i < 40 && n !== want; i++) {
    await new Promise((ok) => setTimeout(ok, 500));
    n = blobsOfSize(size);
  }
  return n;
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
    expect(blobsOfSize(LAST)).toBe(1);

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
    expect(await settledBlobs(LAST, 1)).toBe(1);

    await swiftOk(['copy', '--destination', `/${c}/copy.bin`, c, 'big.bin']);
    await swiftOk(['download', c, 'copy.bin', '-o', out]);
    expect(await md5File(out)).toBe(bigMd5);
    expect(blobsOfSize(LAST)).toBe(2);

    // A small object over a striped one, and deletes: no stripe of these is left.
    const small = await fetchRetrying(`${storageUrl}/${c}/copy.bin`, { method: 'PUT', headers: { 'X-Auth-Token': token }, body: 'small' });
    expect(small.status).toBe(201);
    await swiftOk(['delete', c, 'big.bin']);
    expect(await settledBlobs(LAST, 0)).toBe(0);
    await swiftOk(['delete', c]);
  });

  it('reads a dynamic and a static large object whose segments are striped', async () => {
    const { token, storageUrl } = await storageAccess();
    for (const flags of [[], ['--use-slo']]) {
      const c = uniqueName('striped-segments');
      await swiftOk(['upload', c, 'big.bin', '--segment-size', String(70 * MiB), ...flags], { cwd: dir });
      const out = join(dir, 'segments.out');
      await swiftOk(['download', c, 'big.bin', '-o', out]);
      expect(await md5File(out), flags.join(' ')).toBe(bigMd5);
      rmSync(out);
      const offset = 70 * MiB - 5;
      const res = await fetchRetrying(`${storageUrl}/${c}/big.bin`, { headers: { 'X-Auth-Token': token, Range: `bytes=${offset}-${offset + 9}` } });
      expect(res.status).toBe(206);
      expect(Buffer.from(await res.arrayBuffer()).equals(bytesOf(big, offset, 10))).toBe(true);
      await swiftOk(['delete', c, 'big.bin']);
      await swiftOk(['delete', c]);
    }
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
    // No stripe stays: the last, of one byte, is the one to look for.
    expect(await settledBlobs(1, 0)).toBe(0);
    await swiftOk(['delete', c]);
  });

  it('X-Delete-After: the expirer removes every stripe', async () => {
    const c = uniqueName('striped-expiry');
    await swiftOk(['post', c]);
    const { token, storageUrl } = await storageAccess();
    const url = `${storageUrl}/${c}/soon.bin`;
    const res = await fetchRetrying(url, { method: 'PUT', headers: { 'X-Auth-Token': token }, body: randomBytes(STRIPE + 3) });
    expect(res.status).toBe(201);
    expect(blobsOfSize(3)).toBe(1);
    // Set by a POST, which writes the object again: however long that takes, it is due soon after.
    expect((await fetchRetrying(url, { method: 'POST', headers: { 'X-Auth-Token': token, 'X-Delete-After': '1' } })).status).toBe(202);
    expect(await settledBlobs(3, 0)).toBe(0);
    expect((await fetchRetrying(url, { method: 'HEAD', headers: { 'X-Auth-Token': token } })).status).toBe(404);
    await swiftOk(['delete', c]);
  });
});
