// What an object reads as: its own bytes, or, for a large object, its segments one after
// another. A dynamic large object (DLO) is an empty object whose X-Object-Manifest names
// a container/prefix whose objects, in listing order, are its content; static large
// objects (SLO) are in slo.ts. Either reads as one stream of known length.
import { ApiError, badRequest } from '../../lib/errors';
import { COPY_SIZE, copyThrough } from '../../lib/streams';
import type { ObjectEntry, Subdir } from '../../durable-objects/swift-account';
import type { Env } from './env';
import { listedObject } from './listing';
import { accountStub, getObject, readRange, type StoredObject } from './storage';

export const SLO_LIMITS = { maxManifestSegments: 1000, maxManifestSize: 8 << 20, maxDloSegments: 10_000, maxDepth: 10 } as const;

/** Bytes read only when their turn comes. */
export interface PendingRead {
  length: number;
  open: () => Promise<ReadableStream<Uint8Array>>;
}

/** A run of an object's bytes: literal bytes, or a pending read. */
export type Piece = Uint8Array | PendingRead;

/** Bytes an object is read as: its own data, or its segments one after another. */
export interface ObjectSource {
  size: number;
  /** The ETag header value: quoted for large objects, as Swift sends it. */
  etag: string;
  /** The pieces covering [offset, offset + length), found as they are reached. */
  pieces(offset: number, length: number): AsyncIterable<Piece>;
  /** A static large object's top-level segments' lengths, in order: the parts ?part-number counts. */
  parts?: () => Promise<number[]>;
}

export const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
export const md5Hex = async (data: string | Uint8Array) =>
  hex(await crypto.subtle.digest('MD5', typeof data === 'string' ? new TextEncoder().encode(data) : data));

/** A segment that cannot be read as its manifest says: Swift's SegmentError, a 409 before the body starts. */
export const segmentError = (message: string) => new ApiError(409, message);

async function readData(env: Env, key: string, offset: number, length: number): Promise<ReadableStream<Uint8Array>> {
  const body = await readRange(env, key, offset, length);
  if (!body) throw segmentError(`The data of this object is gone: ${key}`);
  return body;
}

/** A plain object's data: its inline bytes, or a read of them (from R2 or the account) when sent. */
export function plainSource(env: Env, ref: { account: string; container: string; object: string }, stored: StoredObject): ObjectSource {
  const open = (offset: number, length: number) => async () => {
    if (!stored.inline) return readData(env, stored.key, offset, length);
    const got = await getObject(env, ref.account, ref.container, ref.object, { offset, length }, stored.version);
    if (!got) throw segmentError('The object changed while it was read.');
    return got.body;
  };
  return {
    size: stored.size,
    etag: stored.etag,
    async *pieces(offset, length) {
      if (!length) return;
      if (stored.inline?.byteLength === stored.size) yield stored.inline.subarray(offset, offset + length);
      else yield { length, open: open(offset, length) };
    },
  };
}

/**
 * One segment's bytes [first, last] (inclusive), read when opened. With `expect`, the
 * segment must still be the object the manifest recorded (its etag and size), else 409.
 */
export function segmentPiece(
  env: Env, account: string, manifest: string, seg: { container: string; object: string }, first: number, last: number,
  expect?: { etag: string; bytes: number },
): PendingRead {
  const path = `/v1/${account}/${seg.container}/${seg.object}`;
  return {
    length: last - first + 1,
    open: async () => {
      const got = await getObject(env, account, seg.container, seg.object, { offset: first, length: last - first + 1 });
      if (!got) throw segmentError(`While processing manifest ${manifest}, got 404 while retrieving ${path}`);
      if (expect && (got.stored.etag !== expect.etag || got.stored.size !== expect.bytes)) {
        await got.body.cancel();
        throw segmentError(
          `Object segment no longer valid: ${path} etag: ${got.stored.etag} != ${expect.etag} or ${got.stored.size} != ${expect.bytes}.`,
        );
      }
      return got.body;
    },
  };
}

/**
 * Pulls pieces until the first read is open, so a segment that cannot be read is an
 * error response rather than a cut-off body; returns the pieces with that one opened.
 */
export async function primed(pieces: AsyncIterable<Piece>): Promise<AsyncIterable<Piece | ReadableStream<Uint8Array>>> {
  const it = pieces[Symbol.asyncIterator]();
  const head: (Piece | ReadableStream<Uint8Array>)[] = [];
  for (let r = await it.next(); !r.done; r = await it.next()) {
    if (r.value instanceof Uint8Array) {
      head.push(r.value);
      continue;
    }
    head.push(await r.value.open());
    break;
  }
  return (async function* () {
    yield* head;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
}

/** Concatenates pieces into one stream of a known length; an error mid-way cuts the stream. */
export function concatenate(
  total: number, pieces: AsyncIterable<Piece | ReadableStream<Uint8Array>>, waitUntil: (p: Promise<unknown>) => void,
): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(total);
  const writer = writable.getWriter();
  const pump = async () => {
    let buffer = new ArrayBuffer(COPY_SIZE);
    for await (const piece of pieces) {
      if (piece instanceof Uint8Array) {
        await writer.write(piece);
        continue;
      }
      // A MiB at a time: a striped object's stream cannot be piped into this one.
      const stream = piece instanceof ReadableStream ? piece : await piece.open();
      buffer = await copyThrough(stream.getReader({ mode: 'byob' }), writer, buffer);
    }
    await writer.close();
  };
  waitUntil(pump().catch((err: unknown) => {
    console.error('swift: a large object read stopped:', err instanceof Error ? err.message : err);
    return writer.abort(err).catch(() => undefined);
  }));
  return readable as ReadableStream<Uint8Array>;
}

// --- dynamic large objects ---

/** X-Object-Manifest: "<container>/<prefix>", URL-encoded; 400 when malformed. */
export function parseDloManifest(value: string): { container: string; prefix: string } {
  let decoded: string;
  try {
    decoded = decodeURIComponent(value.trim());
  } catch {
    throw badRequest('X-Object-Manifest must be in the format container/prefix');
  }
  const at = decoded.indexOf('/');
  if (at <= 0 || decoded.startsWith('/')) throw badRequest('X-Object-Manifest must be in the format container/prefix');
  return { container: decoded.slice(0, at), prefix: decoded.slice(at + 1) };
}

/** Checks that the reader may read (and list) the segments' container (throws 401/403). */
export type SegmentCheck = (container: string) => Promise<void>;

export async function dloSource(
  env: Env, account: string, self: { container: string; object: string }, manifest: string, check: SegmentCheck,
): Promise<ObjectSource> {
  const { container, prefix } = parseDloManifest(manifest);
  await check(container);
  const entries: (ObjectEntry | Subdir)[] = (await accountStub(env, account).listObjects(container, {
    prefix, delimiter: '', marker: '', endMarker: '', limit: SLO_LIMITS.maxDloSegments, reverse: false,
  })) ?? [];
  const listed = entries
    .filter((e): e is ObjectEntry => 'name' in e && !(container === self.container && e.name === self.object))
    .map(listedObject);
  const name = `/v1/${account}/${self.container}/${self.object}`;
  return {
    size: listed.reduce((n, e) => n + e.bytes, 0),
    etag: `"${await md5Hex(listed.map((e) => e.hash).join(''))}"`,
    async *pieces(offset, length) {
      // DLOs only care that the names match the prefix: no etag or size checks (as in Swift).
      let at = 0;
      const end = offset + length;
      for (const e of listed) {
        const from = Math.max(offset, at);
        const to = Math.min(end, at + e.bytes);
        if (from < to) yield segmentPiece(env, account, name, { container, object: e.name }, from - at, to - at - 1);
        at += e.bytes;
        if (at >= end) return;
      }
    },
  };
}
