// Large objects, as Swift's slo and dlo middlewares make them: a static large object
// (SLO) is a JSON manifest listing its segments, checked when written; a dynamic large
// object (DLO) is an empty object whose X-Object-Manifest names a container/prefix whose
// objects, in listing order, are its content. Either reads as one stream.
import { ApiError, badRequest } from '../../lib/errors';
import type { ObjectEntry, Subdir } from '../../durable-objects/swift-account';
import type { Env } from './env';
import { LIMITS, parseObjectRef } from './names';
import { accountStub, deleteObject, headObject, objectKey, type StoredObject } from './storage';
import { listingDate } from './headers';

export const SLO_LIMITS = { maxManifestSegments: 1000, maxManifestSize: 8 << 20, maxDloSegments: 10_000 } as const;

/** Bytes an object is read as: its own data, or its segments one after another. */
export interface ObjectSource {
  size: number;
  /** The ETag header value: quoted for large objects, as Swift sends it. */
  etag: string;
  /** The parts covering [offset, offset + length), opened one at a time as they are sent. */
  parts(offset: number, length: number): (() => Promise<ReadableStream<Uint8Array>>)[];
}

interface Segment {
  key: string;
  bytes: number;
}

const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');
const md5Hex = async (s: string) => hex(await crypto.subtle.digest('MD5', new TextEncoder().encode(s)));

async function readRange(env: Env, key: string, offset: number, length: number): Promise<ReadableStream<Uint8Array>> {
  const r = await env.OBJECTS.get(key, { range: { offset, length } });
  if (!r) throw new ApiError(409, `A segment of this large object is gone: ${key}`);
  return r.body;
}

/** A plain object's data. */
export function plainSource(env: Env, stored: StoredObject): ObjectSource {
  return {
    size: stored.size,
    etag: stored.etag,
    parts: (offset, length) => (length ? [() => readRange(env, stored.key, offset, length)] : []),
  };
}

function segmentedSource(env: Env, segments: Segment[], etag: string): ObjectSource {
  const size = segments.reduce((n, s) => n + s.bytes, 0);
  return {
    size,
    etag: `"${etag}"`,
    parts(offset, length) {
      const out: (() => Promise<ReadableStream<Uint8Array>>)[] = [];
      let at = 0;
      const end = offset + length;
      for (const s of segments) {
        const from = Math.max(offset, at);
        const to = Math.min(end, at + s.bytes);
        const start = at; // captured now: the closures run later
        if (from < to) out.push(() => readRange(env, s.key, from - start, to - from));
        at += s.bytes;
      }
      return out;
    },
  };
}

/** Concatenates parts (streams or literal bytes) into one stream of a known length. */
export function concatenate(total: number, parts: (Uint8Array | (() => Promise<ReadableStream<Uint8Array>>))[], waitUntil: (p: Promise<unknown>) => void): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(total);
  const writer = writable.getWriter();
  const pump = async () => {
    for (const part of parts) {
      if (part instanceof Uint8Array) {
        await writer.write(part);
        continue;
      }
      const reader = (await part()).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) await writer.write(r.value);
    }
    await writer.close();
  };
  waitUntil(pump().catch((err: unknown) => writer.abort(err).catch(() => undefined)));
  return readable as ReadableStream<Uint8Array>;
}

// --- static large objects ---

/** A segment as Swift stores it in the manifest (and ?multipart-manifest=get returns it). */
export interface StoredSegment {
  name: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
}

async function readManifest(env: Env, stored: StoredObject): Promise<StoredSegment[]> {
  const r = await env.OBJECTS.get(stored.key);
  if (!r) throw new ApiError(409, 'The manifest of this large object is gone.');
  return (await r.json()) as StoredSegment[];
}

/** Checks that the reader may read the segments in these containers (throws 401/403). */
export type SegmentCheck = (containers: string[]) => Promise<void>;

export async function sloSource(env: Env, account: string, stored: StoredObject, check: SegmentCheck): Promise<ObjectSource> {
  const manifest = await readManifest(env, stored);
  const refs = manifest.map((s) => parseObjectRef(s.name, 'segment'));
  // Segments are read as the reader, as Swift's SLO middleware reads them by subrequest.
  await check([...new Set(refs.map((r) => r.container))]);
  const segments = await Promise.all(refs.map(async ({ container, object }, i) => ({
    key: await objectKey(account, container, object), bytes: manifest[i]!.bytes,
  })));
  return segmentedSource(env, segments, stored.custom['slo-etag'] ?? '');
}

/** Reads a request body of at most max bytes (a manifest), else 413. */
async function readLimited(body: ReadableStream<Uint8Array> | null, max: number): Promise<string> {
  if (!body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  const reader = body.getReader();
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    size += r.value.byteLength;
    if (size > max) {
      await reader.cancel();
      throw new ApiError(413, `Manifest File > ${max} bytes`);
    }
    chunks.push(r.value);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) all.set(c, at), (at += c.byteLength);
  return new TextDecoder().decode(all);
}

const SEGMENT_KEYS = new Set(['path', 'etag', 'size_bytes']);

/**
 * Checks a ?multipart-manifest=put body: each segment must exist with the etag and size
 * given (when given). Returns the manifest as stored, the SLO etag (MD5 of the segments'
 * etags concatenated) and the total size. authorizeRead is asked once per segment container.
 */
export async function buildSloManifest(
  env: Env, account: string, body: ReadableStream<Uint8Array> | null, authorizeRead: (container: string, object: string) => Promise<void>,
): Promise<{ manifest: StoredSegment[]; etag: string; size: number }> {
  const text = await readLimited(body, SLO_LIMITS.maxManifestSize);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw badRequest('Manifest must be valid JSON.');
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw badRequest('Manifest must be a non-empty list of segments.');
  if (parsed.length > SLO_LIMITS.maxManifestSegments) throw badRequest(`Too many segments; max ${SLO_LIMITS.maxManifestSegments}`);
  const errors: string[] = [];
  const checked = new Set<string>();
  const manifest: StoredSegment[] = [];
  for (const [i, seg] of parsed.entries()) {
    if (typeof seg !== 'object' || seg === null || Array.isArray(seg)) throw badRequest(`Index ${i}: not a JSON object`);
    const entry = seg as Record<string, unknown>;
    const extra = Object.keys(entry).filter((k) => !SEGMENT_KEYS.has(k));
    if (extra.length) throw badRequest(`Index ${i}: extraneous keys ${extra.map((k) => `"${k}"`).join(', ')}`);
    if (typeof entry.path !== 'string') throw badRequest(`Index ${i}: "path" must be a string`);
    if (entry.etag !== undefined && entry.etag !== null && typeof entry.etag !== 'string') throw badRequest(`Index ${i}: "etag" must be a string or null`);
    const sizeGiven = entry.size_bytes;
    if (sizeGiven !== undefined && sizeGiven !== null && !(Number.isInteger(sizeGiven) && (sizeGiven as number) >= 0)) {
      throw badRequest(`Index ${i}: "size_bytes" must be an integer or null`);
    }
    let ref: { container: string; object: string };
    try {
      ref = parseObjectRef(entry.path, 'segment');
    } catch {
      throw badRequest(`Index ${i}: path does not refer to an object. Path must be of the form /container/object.`);
    }
    if (!checked.has(ref.container)) {
      await authorizeRead(ref.container, ref.object);
      checked.add(ref.container);
    }
    const found = await headObject(env, account, ref.container, ref.object);
    const path = `/${ref.container}/${ref.object}`;
    if (!found) {
      errors.push(`${path}, 404 Not Found`);
      continue;
    }
    if (found.custom['x-static-large-object']) errors.push(`${path}, a segment may not itself be a large object`);
    if (typeof entry.etag === 'string' && entry.etag.replace(/"/g, '') !== found.etag) errors.push(`${path}, Etag Mismatch`);
    if (typeof sizeGiven === 'number' && sizeGiven !== found.size) errors.push(`${path}, Size Mismatch`);
    if (found.size < 1 && i < parsed.length - 1) errors.push(`${path}, Too Small; each segment must be at least 1 byte.`);
    manifest.push({ name: path, hash: found.etag, bytes: found.size, content_type: found.contentType, last_modified: listingDate(found.timestamp) });
  }
  if (errors.length) throw badRequest(`Errors:\n${errors.join('\n')}`);
  const size = manifest.reduce((n, s) => n + s.bytes, 0);
  if (size > LIMITS.maxFileSize * SLO_LIMITS.maxManifestSegments) throw new ApiError(413, 'Your request is too large.');
  return { manifest, etag: await md5Hex(manifest.map((s) => s.hash).join('')), size };
}

/** ?multipart-manifest=delete: the segments, then the manifest. Counts for the response. */
export async function deleteSlo(env: Env, account: string, container: string, object: string, stored: StoredObject) {
  const manifest = await readManifest(env, stored);
  let deleted = 0;
  let notFound = 0;
  for (const s of manifest) {
    const { container: c, object: o } = parseObjectRef(s.name, 'segment');
    if (await deleteObject(env, account, c, o)) deleted += 1;
    else notFound += 1;
  }
  if (await deleteObject(env, account, container, object)) deleted += 1;
  else notFound += 1;
  return { 'Number Deleted': deleted, 'Number Not Found': notFound, 'Response Status': '200 OK', 'Response Body': '', Errors: [] as string[][] };
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

export async function dloSource(
  env: Env, account: string, self: { container: string; object: string }, manifest: string, check: SegmentCheck,
): Promise<ObjectSource> {
  const { container, prefix } = parseDloManifest(manifest);
  await check([container]);
  const entries: (ObjectEntry | Subdir)[] = (await accountStub(env, account).listObjects(container, {
    prefix, delimiter: '', marker: '', endMarker: '', limit: SLO_LIMITS.maxDloSegments, reverse: false,
  })) ?? [];
  const listed = entries.filter((e): e is ObjectEntry => 'name' in e && !(container === self.container && e.name === self.object));
  const segments = await Promise.all(listed.map(async (e) => ({ key: await objectKey(account, container, e.name), bytes: e.bytes })));
  return segmentedSource(env, segments, await md5Hex(listed.map((e) => e.hash).join('')));
}
