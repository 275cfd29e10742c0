// Where Swift keeps things: object data and per-object metadata in R2 (key
// <account>/<container>/<object>), so GET and HEAD need no Durable Object call; each
// account's containers, listings and counts in its SwiftAccount Durable Object.
import { ApiError, badRequest } from '../../lib/errors';
import type { SwiftAccount } from '../../durable-objects/swift-account';
import type { Env } from './env';
import { byteLength, LIMITS } from './names';

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

/** An object as its R2 record describes it. */
export interface StoredObject {
  key: string;
  size: number;
  etag: string;
  contentType: string;
  timestamp: string;
  /** Lower-case names: x-object-meta-*, content-disposition, x-delete-at, x-static-large-object, ... */
  custom: Record<string, string>;
  /** R2's own etag of the data, for guarding a later read of the same version. */
  r2Etag: string;
}

export const isExpired = (custom: Record<string, string>) =>
  custom['x-delete-at'] !== undefined && Number(custom['x-delete-at']) <= Date.now() / 1000;

/**
 * The Swift etag: kept in R2 metadata when known before the write, else R2's own etag
 * (the MD5 for a single put); multipart uploads (chunked bodies) keep it in the listing.
 */
async function describe(env: Env, account: string, container: string, object: string, r: R2Object): Promise<StoredObject> {
  const custom = r.customMetadata ?? {};
  let etag = custom.etag ?? r.etag;
  if (custom['etag-source'] === 'listing') {
    etag = (await accountStub(env, account).getObject(container, object))?.etag ?? etag;
  }
  return {
    key: r.key, size: r.size, etag, contentType: r.httpMetadata?.contentType ?? 'application/octet-stream',
    timestamp: custom['x-timestamp'] ?? (r.uploaded.getTime() / 1000).toFixed(5), custom, r2Etag: r.etag,
  };
}

/** HEAD of an object; null when absent or expired. */
export async function headObject(env: Env, account: string, container: string, object: string): Promise<StoredObject | null> {
  const r = await env.OBJECTS.head(await objectKey(account, container, object));
  if (!r || isExpired(r.customMetadata ?? {})) return null;
  return describe(env, account, container, object, r);
}

/** GET of an object (a byte range of it when asked); null when absent, expired or replaced. */
export async function getObject(
  env: Env, account: string, container: string, object: string, range?: { offset: number; length: number }, r2Etag?: string,
): Promise<{ stored: StoredObject; body: ReadableStream<Uint8Array> } | null> {
  const key = await objectKey(account, container, object);
  const r = await env.OBJECTS.get(key, { range, onlyIf: r2Etag ? { etagMatches: r2Etag } : undefined });
  if (!r || !('body' in r)) return null;
  if (isExpired(r.customMetadata ?? {})) {
    await r.body.cancel();
    return null;
  }
  return { stored: await describe(env, account, container, object, r), body: r.body };
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
 * Streams a body into R2 at key: a known length through FixedLengthStream in one put;
 * a chunked body as a multipart upload, part by part. Never holds more than one part.
 * Returns the MD5 etag and the size.
 */
export async function writeData(
  env: Env, key: string, body: ReadableStream<Uint8Array> | null, length: number | null, opts: WriteOptions,
): Promise<{ etag: string; bytes: number }> {
  const clientEtag = opts.clientEtag?.replace(/"/g, '').toLowerCase();
  const httpMetadata = { contentType: opts.contentType };
  if (length !== null && length > LIMITS.maxFileSize) throw new ApiError(413, 'Your request is too large.');
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
  const key = await objectKey(account, container, object);
  const head = await env.OBJECTS.head(key);
  const removed = await accountStub(env, account).removeObject(container, object);
  if (head) await env.OBJECTS.delete(key);
  if (head) return !isExpired(head.customMetadata ?? {});
  return removed !== null && (removed.deleteAt === null || removed.deleteAt > Date.now() / 1000);
}

export async function deleteContainer(env: Env, account: string, container: string): Promise<'deleted' | 'not_found' | 'not_empty'> {
  return accountStub(env, account).deleteContainer(container);
}
