// Static large objects, read and deleted as Swift's slo middleware does: the manifest
// (a JSON list of segments, checked when written: slo-manifest.ts) is walked for the
// bytes asked, segment by segment; a segment may be a byte range of an object, inline
// data, or itself an SLO (nested at most 10 manifests deep).
import { ApiError } from '../../lib/errors';
import type { Env } from './env';
import { md5Hex, segmentError, segmentPiece, SLO_LIMITS, type ObjectSource, type Piece } from './large-objects';
import type { Deletion } from './routes/bulk';
import { getObject, type StoredObject } from './storage';

/** An object-backed segment as the manifest stores it (and ?multipart-manifest=get returns it). */
export interface StoredSegment {
  name: string;
  hash: string;
  bytes: number;
  content_type: string;
  last_modified: string;
  /** "first-last", inclusive: the part of the object used; absent for all of it. */
  range?: string;
  /** The segment is itself an SLO manifest. */
  sub_slo?: boolean;
}

/** Inline bytes, base64. */
export interface DataSegment {
  data: string;
}

export type ManifestSegment = StoredSegment | DataSegment;

export const isData = (s: ManifestSegment): s is DataSegment => 'data' in s;

/** The container and object of a segment path "/container/object" (names as they are, not URL-encoded). */
export function splitSegmentPath(path: string): { container: string; object: string } {
  const trimmed = path.replace(/^\/+/, '');
  const at = trimmed.indexOf('/');
  return { container: trimmed.slice(0, at), object: trimmed.slice(at + 1) };
}

export function encodeData(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.byteLength; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

export function decodeData(data: string): Uint8Array {
  const bin = atob(data);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** The bytes a segment contributes; data segments carry theirs already decoded. */
interface Annotated {
  seg: ManifestSegment;
  length: number;
  raw?: Uint8Array;
  first: number;
  last: number;
}

function annotate(segments: ManifestSegment[]): Annotated[] {
  return segments.map((seg) => {
    if (isData(seg)) {
      const raw = decodeData(seg.data);
      return { seg, raw, length: raw.byteLength, first: 0, last: raw.byteLength - 1 };
    }
    if (seg.range) {
      const [a, b] = seg.range.split('-').map(Number) as [number, number];
      return { seg, length: b - a + 1, first: a, last: b };
    }
    return { seg, length: Number(seg.bytes), first: 0, last: Number(seg.bytes) - 1 };
  });
}

/** Parses a manifest's bytes; null when they are not a JSON list. */
async function parseManifest(body: ReadableStream<Uint8Array>): Promise<ManifestSegment[] | null> {
  try {
    const parsed: unknown = JSON.parse(await new Response(body).text());
    return Array.isArray(parsed) ? (parsed as ManifestSegment[]) : null;
  } catch {
    return null;
  }
}

/** Reads the segments of a manifest object as stored; throws 409 when it cannot. */
export async function readManifest(env: Env, account: string, container: string, object: string, version?: string): Promise<ManifestSegment[]> {
  const got = await getObject(env, account, container, object, undefined, version);
  if (!got) throw segmentError('The manifest of this large object changed while it was read.');
  const segments = await parseManifest(got.body);
  if (!segments) throw new ApiError(500, 'Unable to load SLO manifest');
  return segments;
}

/** Checks that the reader may read this container; throws an ApiError (401/403) when not. */
export type ReadCheck = (container: string) => Promise<void>;

/** Who reads a large object: segments are read as the reader, as Swift's subrequests are. */
interface Walk {
  env: Env;
  account: string;
  /** The manifest asked for, /v1/<account>/<container>/<object>, for messages. */
  name: string;
  mayRead: ReadCheck;
  subManifests: Map<string, Annotated[]>;
  /** Per segment container: null when the reader may read it, else the status Swift's subrequest would get. */
  denied: Map<string, Promise<number | null>>;
}

function deniedStatus(w: Walk, container: string): Promise<number | null> {
  let known = w.denied.get(container);
  if (!known) {
    known = w.mayRead(container).then(() => null, (err: unknown) => (err instanceof ApiError ? err.status : 500));
    w.denied.set(container, known);
  }
  return known;
}

async function subManifest(w: Walk, path: string): Promise<Annotated[]> {
  const cached = w.subManifests.get(path);
  if (cached) return cached;
  const { container, object } = splitSegmentPath(path);
  const full = `/v1/${w.account}/${container}/${object}`;
  const failed = (status: number) => segmentError(`while fetching ${w.name}, GET of submanifest ${full} failed with status ${status}`);
  const denied = await deniedStatus(w, container);
  if (denied) throw failed(denied);
  const got = await getObject(w.env, w.account, container, object);
  if (!got) throw failed(404);
  const segments = await parseManifest(got.body);
  if (!segments) throw segmentError(`while fetching ${w.name}, JSON-decoding of submanifest ${full} failed`);
  // A few sub-manifests are kept, so several ranges in one needn't fetch it again.
  if (w.subManifests.size >= 2 * SLO_LIMITS.maxDepth) w.subManifests.delete(w.subManifests.keys().next().value!);
  const annotated = annotate(segments);
  w.subManifests.set(path, annotated);
  return annotated;
}

/** Swift's _byterange_listing_iterator: the pieces for bytes [first, last] of these segments. */
async function* walk(w: Walk, segments: Annotated[], first: number, last: number, depth: number): AsyncGenerator<Piece> {
  for (const a of segments) {
    if (first >= a.length) {
      first -= a.length;
      last -= a.length;
      continue;
    }
    if (last < 0) return;
    const from = Math.max(0, first);
    if (a.raw) {
      yield a.raw.subarray(from, Math.min(a.length - 1, last) + 1);
    } else {
      const seg = a.seg as StoredSegment;
      if (seg.sub_slo) {
        if (depth >= SLO_LIMITS.maxDepth) throw segmentError(`While processing manifest ${w.name}, max recursion depth was exceeded`);
        yield* walk(w, await subManifest(w, seg.name), a.first + from, Math.min(a.last, a.first + last), depth + 1);
      } else {
        const ref = splitSegmentPath(seg.name);
        const piece = segmentPiece(w.env, w.account, w.name, ref, a.first + from, Math.min(a.last, a.first + last), {
          etag: seg.hash, bytes: Number(seg.bytes),
        });
        yield {
          length: piece.length,
          open: async () => {
            const denied = await deniedStatus(w, ref.container);
            if (denied) throw segmentError(`While processing manifest ${w.name}, got ${denied} while retrieving /v1/${w.account}${seg.name}`);
            return piece.open();
          },
        };
      }
    }
    first -= a.length;
    last -= a.length;
  }
}

/** A static large object: size and etag from the manifest's metadata; the manifest is read only for bytes. */
export function sloSource(env: Env, account: string, container: string, object: string, stored: StoredObject, mayRead: ReadCheck): ObjectSource {
  const w: Walk = { env, account, name: `/v1/${account}/${container}/${object}`, mayRead, subManifests: new Map(), denied: new Map() };
  let top: Promise<Annotated[]> | undefined;
  const segments = () => (top ??= readManifest(env, account, container, object, stored.version).then(annotate));
  return {
    size: Number(stored.custom['slo-size'] ?? 0),
    etag: `"${stored.custom['slo-etag'] ?? ''}"`,
    async *pieces(offset, length) {
      if (!length) return;
      yield* walk(w, await segments(), offset, offset + length - 1, 1);
    },
    // A part is a segment of this manifest, data and nested SLOs included (not their segments).
    parts: async () => (await segments()).map((a) => a.length),
  };
}

/** ?multipart-manifest=get&format=raw: the manifest as a client would PUT it. */
export async function rawManifest(segments: ManifestSegment[]): Promise<{ body: Uint8Array; etag: string }> {
  const raw = segments.map((s) => {
    if (isData(s)) return s;
    const out: Record<string, unknown> = { etag: s.hash, path: s.name, size_bytes: s.bytes };
    if (s.range) out.range = s.range;
    return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
  });
  const body = new TextEncoder().encode(JSON.stringify(raw));
  return { body, etag: await md5Hex(body) };
}

/**
 * Swift's get_segments_to_delete_iter: every segment, nested manifests' segments before
 * the nested manifests themselves, and the manifest last.
 */
export async function segmentsToDelete(env: Env, account: string, container: string, object: string, mayRead: ReadCheck): Promise<Deletion[]> {
  const queue: (Deletion & { sub: boolean })[] = [{ name: `/${container}/${object}`, sub: true }];
  const out: Deletion[] = [];
  const seen = new Set<string>();
  while (queue.length) {
    if (queue.length > SLO_LIMITS.maxManifestSegments * 10) throw new ApiError(400, 'Too many buffered slo segments to delete.');
    const item = queue.shift()!;
    if (!item.sub) {
      // A segment listed twice is gone the second time (Swift deletes it again and finds nothing).
      const again = seen.has(item.name);
      seen.add(item.name);
      out.push({ name: item.name, error: again ? { code: 404, message: 'Not Found' } : item.error });
      continue;
    }
    try {
      const segments = await manifestToDelete(env, account, item.name, mayRead);
      for (const s of segments) if (!isData(s)) queue.push({ name: s.name, sub: Boolean(s.sub_slo) });
    } catch (err) {
      const e = err instanceof ApiError ? err : new ApiError(500, 'Unable to load SLO manifest or segment.');
      item.error = { code: e.status, message: e.message };
    }
    queue.push({ ...item, sub: false });
  }
  return out;
}

async function manifestToDelete(env: Env, account: string, path: string, mayRead: ReadCheck): Promise<ManifestSegment[]> {
  const { container, object } = splitSegmentPath(path);
  try {
    await mayRead(container);
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) throw new ApiError(401, '401 Unauthorized');
    throw new ApiError(500, 'Unable to load SLO manifest or segment.');
  }
  const got = await getObject(env, account, container, object);
  if (!got) throw new ApiError(404, 'SLO manifest not found');
  if (!got.stored.custom['x-static-large-object']) {
    await got.body.cancel();
    throw new ApiError(400, 'Not an SLO manifest');
  }
  const segments = await parseManifest(got.body);
  if (!segments) throw new ApiError(500, 'Unable to load SLO manifest');
  return segments;
}
