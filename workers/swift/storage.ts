// Where Swift keeps things: each account's containers, listings and counts in its
// SwiftAccount Durable Object, and there too small objects whole (up to INLINE_MAX bytes
// with a known length), so writing or reading one is one call; larger objects' data and
// metadata in R2 (key <account>/<container>/<object>), and the largest as stripes
// (stripes.ts). Reads ask the account first.
import { ApiError, badRequest } from '../../lib/errors';
import type { ObjectRead, ObjectRecord, RecordResult, SwiftAccount } from '../../durable-objects/swift-account';
import type { Env } from './env';
import { byteLength, LIMITS } from './names';
import { BodyLengthError, deleteStripes, readStripes, STRIPE_SIZE, stripesOf, writeStripes, type Stripes } from './stripes';

export function accountStub(env: Env, account: string): DurableObjectStub<SwiftAccount> {
  return env.ACCOUNTS.get(env.ACCOUNTS.idFromName(account));
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/**
 * The R2 key of an object. R2 keys stop at 1024 bytes, Swift names do not (account,
 * container and object together reach ~1300), so a long name keeps what fits and ends
 * in the SHA-256 of the whole name.
 */
export async function objectKey(account: string, container: string, object: string): Promise<string> {
  const key = `${account}/${container}/${object}`;
  if (byteLength(key) <= 1024) return key;
  const digest = hex(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(object)));
  let head = object;
  while (byteLength(`${account}/${container}/${head}#${digest}`) > 1024) head = head.slice(0, -16);
  return `${account}/${container}/${head}#${digest}`;
}

/** Objects of at most this many bytes, sent with a Content-Length, are kept in the account's Durable Object. */
export const INLINE_MAX = 64 * 1024;

/** An object as its stored record describes it. */
export interface StoredObject {
  /** The R2 key of its data (also set for an object held inline, for the version it may replace). */
  key: string;
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  /** Lower-case names: x-object-meta-*, content-disposition, x-delete-at, x-static-large-object, ... */
  custom: Record<string, string>;
  /** Identifies this version, to guard a later read of the same one: R2's etag, the stripes' key, or the timestamp of an inline object. */
  version: string;
  /** The bytes of an object held inline (empty when read for a HEAD). */
  inline?: Uint8Array;
}

export const isExpired = (custom: Record<string, string>) =>
  custom['x-delete-at'] !== undefined && Number(custom['x-delete-at']) <= Date.now() / 1000;

/** An object held inline, as its Durable Object row describes it. */
function describeInline(read: ObjectRead & { inline: NonNullable<ObjectRead['inline']> }): StoredObject {
  const { record, inline } = read;
  // The listing may show a large object's etag; the data's own MD5 is kept beside it.
  return {
    key: record.key, size: inline.size, etag: inline.metadata.etag ?? record.etag, contentType: cleanContentType(record.contentType),
    timestamp: record.timestamp,
    custom: inline.metadata, version: record.timestamp, inline: inline.data,
  };
}

/**
 * An object in R2 (r: its R2 object, or a striped object's stripe 0). The Swift etag is
 * kept in R2 metadata when known before the write, else it is R2's own etag (the MD5 for
 * a single put); multipart uploads (chunked bodies) and stripes keep it in the listing record.
 */
function describe(record: ObjectRecord, r: R2Object): StoredObject {
  const custom = r.customMetadata ?? {};
  const etag = custom['etag-source'] === 'listing' ? record.etag : custom.etag ?? r.etag;
  const stripes = stripesOf(record.key);
  return {
    key: record.key, size: stripes?.size ?? r.size, etag, contentType: r.httpMetadata?.contentType ?? 'application/octet-stream',
    timestamp: custom['x-timestamp'] ?? (r.uploaded.getTime() / 1000).toFixed(5), custom, version: stripes ? stripes.key : r.etag,
  };
}

/**
 * An object's record without its data (R2's), or with it when it is held inline and
 * withData is set (a small object's bytes come in the same call); null when absent or expired.
 */
export async function headObject(env: Env, account: string, container: string, object: string, withData = false): Promise<StoredObject | null> {
  const read = await accountStub(env, account).readObject(container, object, withData);
  if (!read) return null;
  if (read.inline) return describeInline({ ...read, inline: read.inline });
  const r = await env.OBJECTS.head(stripesOf(read.record.key)?.at(0) ?? read.record.key);
  if (!r || isExpired(r.customMetadata ?? {})) return null;
  return describe(read.record, r);
}

/** Bytes of an inline object as a stream of known length. */
function bytesStream(data: Uint8Array): ReadableStream<Uint8Array> {
  return new Blob([data]).stream();
}

/**
 * GET of an object (a byte range of it when asked); null when absent, expired, or no
 * longer the version given.
 */
export async function getObject(
  env: Env, account: string, container: string, object: string, range?: { offset: number; length: number }, version?: string,
): Promise<{ stored: StoredObject; body: ReadableStream<Uint8Array> } | null> {
  const read = await accountStub(env, account).readObject(container, object, true);
  if (!read) return null;
  if (read.inline) {
    const stored = describeInline({ ...read, inline: read.inline });
    if (version !== undefined && version !== stored.version) return null;
    const data = range ? stored.inline!.subarray(range.offset, range.offset + range.length) : stored.inline!;
    return { stored, body: bytesStream(data) };
  }
  const stripes = stripesOf(read.record.key);
  if (stripes) return getStriped(env, read.record, stripes, range, version);
  const r = await env.OBJECTS.get(read.record.key, { range, onlyIf: version ? { etagMatches: version } : undefined });
  if (!r || !('body' in r)) return null;
  if (isExpired(r.customMetadata ?? {})) {
    await r.body.cancel();
    return null;
  }
  return { stored: describe(read.record, r), body: r.body };
}

/**
 * A striped object, or a range of it. Its version is its stripes' key, never reused.
 * Stripe 0 holds the metadata: it is read with the part of the range it holds, or only
 * its head when the range starts later.
 */
async function getStriped(
  env: Env, record: ObjectRecord, stripes: Stripes, range: { offset: number; length: number } | undefined, version: string | undefined,
): Promise<{ stored: StoredObject; body: ReadableStream<Uint8Array> } | null> {
  if (version !== undefined && version !== stripes.key) return null;
  const offset = range?.offset ?? 0;
  const length = range?.length ?? stripes.size;
  const first: R2ObjectBody | R2Object | null = offset < stripes.stripeSize
    ? await env.OBJECTS.get(stripes.at(0), { range: { offset, length: Math.min(length, stripes.stripeSize - offset) } })
    : await env.OBJECTS.head(stripes.at(0));
  if (!first) return null;
  const body = 'body' in first ? (first as R2ObjectBody).body : undefined;
  if (isExpired(first.customMetadata ?? {})) {
    await body?.cancel();
    return null;
  }
  return { stored: describe(record, first), body: readStripes(env.OBJECTS, stripes, offset, length, body) };
}

/** Bytes [offset, offset + length) of an object's data in R2, by its record key; null when gone. */
export async function readRange(env: Env, key: string, offset: number, length: number): Promise<ReadableStream<Uint8Array> | null> {
  const stripes = stripesOf(key);
  if (stripes) return (await env.OBJECTS.head(stripes.at(0))) ? readStripes(env.OBJECTS, stripes, offset, length) : null;
  return (await env.OBJECTS.get(key, { range: { offset, length } }))?.body ?? null;
}

// --- writing ---

export interface WriteOptions {
  contentType: string;
  /** Lower-case names; x-timestamp included. */
  custom: Record<string, string>;
  /** The client's ETag header (MD5 hex): a mismatch stores nothing and is a 422. */
  clientEtag?: string;
}

const PART_SIZE = 8 << 20; // R2 parts: all but the last the same size, at least 5 MiB

function etagMismatch(): ApiError {
  return new ApiError(422, 'Unable to process the contained instructions');
}

/**
 * Streams a body into R2: a known length through FixedLengthStream in one put at key, or
 * as stripes when larger than a stripe; a chunked body as a multipart upload at key, part
 * by part. Never holds more than one part.
 */
async function writeData(
  env: Env, key: string, body: ReadableStream<Uint8Array> | null, length: number | null, opts: WriteOptions,
): Promise<Written> {
  const clientEtag = opts.clientEtag?.replace(/"/g, '').toLowerCase();
  if (length !== null && length > LIMITS.maxFileSize) throw new ApiError(413, 'Your request is too large.');
  if (body !== null && length !== null && length > STRIPE_SIZE) return writeStriped(env, body, length, opts, clientEtag);
  return { ...(await writeAt(env, key, body, length, opts, clientEtag)), key };
}

/** The data of a write: its etag, its size, and the key its record keeps (stripes' or the object's). */
interface Written {
  etag: string;
  bytes: number;
  key: string;
}

async function writeStriped(env: Env, body: ReadableStream<Uint8Array>, length: number, opts: WriteOptions, clientEtag?: string): Promise<Written> {
  const metadata = { httpMetadata: { contentType: opts.contentType }, customMetadata: { ...opts.custom, 'etag-source': 'listing' } };
  let written: Awaited<ReturnType<typeof writeStripes>>;
  try {
    written = await writeStripes(env.OBJECTS, body, length, metadata);
  } catch (err) {
    throw writeFailure(err instanceof BodyLengthError ? null : err);
  }
  const etag = hex(written.md5);
  if (clientEtag && clientEtag !== etag) {
    await deleteStripes(env.OBJECTS, written.stripes);
    throw etagMismatch();
  }
  return { etag, bytes: length, key: written.stripes.key };
}

/** Writes data at the object's own key. */
async function writeAt(
  env: Env, key: string, body: ReadableStream<Uint8Array> | null, length: number | null, opts: WriteOptions, clientEtag?: string,
): Promise<{ etag: string; bytes: number }> {
  const httpMetadata = { contentType: opts.contentType };
  if (length === 0 || (length === null && body === null)) return putWhole(env, key, new Uint8Array(0), opts, clientEtag);
  if (body === null) throw badRequest('Request body shorter than Content-Length');
  if (length === null) return writeChunked(env, key, body, opts, clientEtag);

  // R2 computes the MD5 itself (and checks the client's): no hashing in JS on this path,
  // which halves the CPU and the garbage a large upload makes.
  const fixed = new FixedLengthStream(length);
  const piping = body.pipeTo(fixed.writable);
  const [put, piped] = await Promise.allSettled([
    env.OBJECTS.put(key, fixed.readable, { httpMetadata, customMetadata: opts.custom, md5: clientEtag }),
    piping,
  ]);
  if (put.status === 'rejected' || piped.status === 'rejected' || !put.value) {
    if (clientEtag && piped.status === 'fulfilled') throw etagMismatch();
    throw writeFailure(put.status === 'rejected' ? put.reason : null);
  }
  const md5 = put.value.checksums.md5;
  return { etag: md5 ? hex(md5) : put.value.etag, bytes: length };
}

function writeFailure(reason: unknown): ApiError {
  const message = reason instanceof Error ? reason.message : '';
  if (/metadata/i.test(message)) return badRequest('Total metadata too large for an object.');
  if (/digest|md5/i.test(message)) return etagMismatch();
  return new ApiError(400, 'The request body did not match its Content-Length.');
}

async function putWhole(env: Env, key: string, data: Uint8Array, opts: WriteOptions, clientEtag?: string) {
  const etag = hex(await crypto.subtle.digest('MD5', data));
  if (clientEtag && clientEtag !== etag) throw etagMismatch();
  try {
    await env.OBJECTS.put(key, data, { httpMetadata: { contentType: opts.contentType }, customMetadata: { ...opts.custom, etag } });
  } catch (err) {
    throw writeFailure(err);
  }
  return { etag, bytes: data.byteLength };
}

/**
 * Reads a body part by part into two part-sized buffers used in turn. A part's bytes are
 * copied once, into memory that is reused: the body's thousands of small chunks leave no
 * garbage behind (workerd grows by ~80 MB per GiB this way, by ~200 MB with fresh buffers).
 */
class PartReader {
  private buffers = [new ArrayBuffer(PART_SIZE), new ArrayBuffer(PART_SIZE)];
  private turn = 0;
  private ended = false;
  private readonly reader: ReadableStreamBYOBReader;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader({ mode: 'byob' });
  }

  /** The next part: PART_SIZE bytes, fewer only at the end. Valid until the call after next. */
  async next(): Promise<Uint8Array> {
    let buffer = this.buffers[this.turn]!;
    let got = 0;
    while (got < PART_SIZE && !this.ended) {
      // A BYOB read takes the buffer over and hands it back in the view it returns.
      const r = await this.reader.readAtLeast(PART_SIZE - got, new Uint8Array(buffer, got, PART_SIZE - got));
      if (r.value) {
        buffer = r.value.buffer as ArrayBuffer;
        got += r.value.byteLength;
      } else {
        buffer = new ArrayBuffer(PART_SIZE);
      }
      if (r.done) this.ended = true;
    }
    this.buffers[this.turn] = buffer;
    this.turn ^= 1;
    return new Uint8Array(buffer, 0, got);
  }
}

async function writeChunked(env: Env, key: string, body: ReadableStream<Uint8Array>, opts: WriteOptions, clientEtag?: string) {
  const reader = new PartReader(body);
  const after = async (part: Uint8Array) => (part.byteLength === PART_SIZE ? reader.next() : new Uint8Array(0));
  let part = await reader.next();
  let next = await after(part);
  if (next.byteLength === 0) return putWhole(env, key, part, opts, clientEtag);

  const upload = await env.OBJECTS.createMultipartUpload(key, {
    httpMetadata: { contentType: opts.contentType },
    customMetadata: { ...opts.custom, 'etag-source': 'listing' },
  });
  const digest = new crypto.DigestStream('MD5');
  const digestWriter = digest.getWriter();
  const parts: R2UploadedPart[] = [];
  let bytes = 0;
  try {
    while (part.byteLength > 0) {
      await digestWriter.write(part);
      bytes += part.byteLength;
      if (bytes > LIMITS.maxFileSize) throw new ApiError(413, 'Your request is too large.');
      parts.push(await upload.uploadPart(parts.length + 1, part));
      part = next;
      next = await after(part);
    }
    await digestWriter.close();
    const etag = hex(await digest.digest);
    if (clientEtag && clientEtag !== etag) throw etagMismatch();
    await upload.complete(parts);
    return { etag, bytes };
  } catch (err) {
    await upload.abort().catch(() => undefined);
    throw err instanceof ApiError ? err : writeFailure(err);
  }
}

/** Reads a body of a declared length whole (a small object's). */
async function readWhole(body: ReadableStream<Uint8Array> | null, length: number): Promise<Uint8Array> {
  if (length === 0) {
    await body?.cancel();
    return new Uint8Array(0);
  }
  if (body === null) throw badRequest('Request body shorter than Content-Length');
  let data: Uint8Array;
  try {
    data = new Uint8Array(await new Response(body).arrayBuffer());
  } catch {
    throw writeFailure(null);
  }
  if (data.byteLength !== length) throw writeFailure(null);
  return data;
}

/** Where an object goes and what its listing shows (bytes and etag; by default the data's own). */
export interface ObjectTarget {
  account: string;
  container: string;
  object: string;
  listing?: { bytes: number; etag: string };
  /**
   * The object is a static large object's manifest: its record keeps the SLO's size and
   * etag beside the manifest's own, as Swift's container update override does
   * ("<etag>; slo_etag=<slo etag>" and "<type>;swift_bytes=<size>"); see listing.ts.
   */
  slo?: { etag: string; size: number };
}

/** Swift's clean_content_type: a content type without the swift_bytes a manifest's record carries. */
function cleanContentType(value: string): string {
  const at = value.lastIndexOf(';');
  return at >= 0 && value.slice(at + 1).trimStart().startsWith('swift_bytes=') ? value.slice(0, at) : value;
}

/**
 * Writes an object and records it in its container: a small body of known length into
 * the account's Durable Object in that one call, anything else into R2 first. Returns
 * null when the container does not exist (nothing is left behind).
 */
export async function writeObject(
  env: Env, to: ObjectTarget, body: ReadableStream<Uint8Array> | null, length: number | null, opts: WriteOptions,
): Promise<{ etag: string; bytes: number } | null> {
  const stub = accountStub(env, to.account);
  const key = await objectKey(to.account, to.container, to.object);
  const timestamp = opts.custom['x-timestamp']!;
  const deleteAt = opts.custom['x-delete-at'] ? Number(opts.custom['x-delete-at']) : null;
  // A manifest counts its own bytes in the container's bytes used, as in Swift.
  const record = (written: Written): ObjectRecord => {
    const etag = to.listing?.etag ?? written.etag;
    return {
      name: to.object, bytes: to.listing?.bytes ?? written.bytes, etag: to.slo ? `${etag}; slo_etag=${to.slo.etag}` : etag,
      contentType: to.slo ? `${opts.contentType};swift_bytes=${to.slo.size}` : opts.contentType, timestamp, deleteAt, key: written.key,
    };
  };

  if (length !== null && length <= INLINE_MAX) {
    const data = await readWhole(body, length);
    const etag = hex(await crypto.subtle.digest('MD5', data));
    const clientEtag = opts.clientEtag?.replace(/"/g, '').toLowerCase();
    if (clientEtag && clientEtag !== etag) throw etagMismatch();
    const written = { etag, bytes: data.byteLength, key };
    const result = await stub.recordObject(to.container, record(written), { data, size: data.byteLength, metadata: { ...opts.custom, etag } });
    if (!result.recorded) return null;
    await dropReplaced(env, result, { key, inline: true, timestamp });
    return { etag, bytes: written.bytes };
  }

  const written = await writeData(env, key, body, length, opts);
  const result = await stub.recordObject(to.container, record(written));
  if (!result.recorded) {
    await deleteData(env, written.key);
    return null;
  }
  await dropReplaced(env, result, { key: written.key, inline: false, timestamp });
  return { etag: written.etag, bytes: written.bytes };
}

/** Removes an object's data from R2, by its record key. */
async function deleteData(env: Env, key: string): Promise<void> {
  const stripes = stripesOf(key);
  await (stripes ? deleteStripes(env.OBJECTS, stripes) : env.OBJECTS.delete(key));
}

/**
 * After a write is recorded: removes the data no record refers to any more, the replaced
 * version's or, when a newer write was recorded first, this write's own stripes.
 */
async function dropReplaced(env: Env, result: RecordResult, ours: { key: string; inline: boolean; timestamp: string }): Promise<void> {
  if (result.superseded) {
    if (stripesOf(ours.key)) await deleteData(env, ours.key);
    return;
  }
  const old = result.replaced;
  if (old === null || (old === ours.key && !ours.inline)) return; // overwritten in place by this write
  if (stripesOf(old)) return deleteData(env, old);
  // Data at the object's own key: remove it, unless a newer write put it there meanwhile.
  const head = await env.OBJECTS.head(old);
  if (head && Number(head.customMetadata?.['x-timestamp'] ?? 0) <= Number(ours.timestamp)) await env.OBJECTS.delete(old);
}

// --- what access.ts and routes/bulk.ts use ---

/** The account's metadata, lower-case header names (x-account-meta-temp-url-key, ...). */
export async function getAccountMetadata(env: Env, account: string): Promise<Record<string, string>> {
  return (await accountStub(env, account).getAccountInfo()).metadata;
}

/** A container's user metadata and ACL headers; null when it does not exist. */
export async function getContainerInfo(
  env: Env, account: string, container: string,
): Promise<{ metadata: Record<string, string>; read?: string; write?: string } | null> {
  const record = await accountStub(env, account).getContainer(container);
  if (!record) return null;
  const { 'x-container-read': read, 'x-container-write': write, ...metadata } = record.metadata;
  return { metadata, read, write };
}

/** Deletes an object's data and its listing entry; true when it existed (and had not expired). */
export async function deleteObject(env: Env, account: string, container: string, object: string): Promise<boolean> {
  const removed = await accountStub(env, account).removeObject(container, object);
  const alive = removed !== null && (removed.record.deleteAt === null || removed.record.deleteAt > Date.now() / 1000);
  if (removed?.inline) return alive;
  const key = removed?.record.key ?? (await objectKey(account, container, object));
  const stripes = stripesOf(key);
  const head = await env.OBJECTS.head(stripes?.at(0) ?? key);
  if (head || stripes) await deleteData(env, key);
  if (head) return !isExpired(head.customMetadata ?? {});
  return alive;
}

export async function deleteContainer(env: Env, account: string, container: string): Promise<'deleted' | 'not_found' | 'not_empty'> {
  return accountStub(env, account).deleteContainer(container);
}
