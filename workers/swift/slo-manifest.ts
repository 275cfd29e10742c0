// PUT ?multipart-manifest=put: the checks Swift's slo middleware makes on a manifest
// before storing it (parse_and_validate_input, then a HEAD of every segment), with its
// messages, and the manifest, SLO etag and size that it stores.
import { ApiError } from '../../lib/errors';
import { listingDate } from './headers';
import { md5Hex, SLO_LIMITS } from './large-objects';
import { decodeData, encodeData, splitSegmentPath, type ManifestSegment, type StoredSegment } from './slo';
import { heartbeatBody } from './heartbeat';
import { quote, statusLine, type OutFormat } from './routes/bulk';

/** A segment as a HEAD of it answers (large objects as their content), or the status the HEAD got. */
export interface SegmentHead {
  size: number;
  /** Unquoted. */
  etag: string;
  contentType: string;
  timestamp: string;
  isSlo: boolean;
}

export type HeadSegment = (container: string, object: string) => Promise<SegmentHead | number>;

/** A single byte range as swob's Range parses "bytes=<value>": [start, end], either may be null. */
type RangeSpec = [number | null, number | null];

/** The ranges of a "range" value; null when it is not valid. */
function parseRange(value: string): RangeSpec[] | null {
  const specs: RangeSpec[] = [];
  for (const rng of value.replace(/ /g, '').split(',')) {
    const dash = rng.indexOf('-');
    if (dash < 0) return null;
    const [a, b] = [rng.slice(0, dash), rng.slice(dash + 1)];
    if ((a && !/^\d+$/.test(a)) || (b && !/^\d+$/.test(b)) || (!a && !b)) return null;
    const start = a ? Number(a) : null;
    const end = b ? Number(b) : null;
    if (start !== null && end !== null && end < start) return null;
    specs.push([start, end]);
  }
  return specs;
}

/** swob's ranges_for_length for one range: [start, end) within length, or null when unsatisfiable. */
function rangeForLength([start, end]: RangeSpec, length: number): [number, number] | null {
  if (start === null) {
    if (end === 0) return null;
    return end! > length ? [0, length] : [length - end!, length];
  }
  if (start >= length) return null;
  return [start, end === null ? length : Math.min(end + 1, length)];
}

/** Python's int() of a JSON value, or null when it would raise. */
function toInt(value: unknown): number | null {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : null;
  if (typeof value === 'boolean') return Number(value);
  if (typeof value === 'string' && /^\s*[+-]?\d+\s*$/.test(value)) return Number(value);
  return null;
}

function strictBase64(value: unknown): Uint8Array | null {
  if (typeof value !== 'string' || !/^[A-Za-z0-9+/]*$/.test(value.replace(/^=+|=+$/g, '')) || value.length % 4 !== 0) return null;
  try {
    return decodeData(value);
  } catch {
    return null;
  }
}

interface PathEntry {
  path: string;
  etag?: string | null;
  size_bytes?: number | null;
  range?: RangeSpec;
}
type Parsed = PathEntry | { data: Uint8Array };

const plainBadRequest = (text: string) =>
  new Response(text, { status: 400, headers: { 'Content-Type': 'text/plain' } });

/** Swift's parse_and_validate_input: the entries, or the 400 listing every problem. */
function parseInput(text: string, self: { container: string; object: string }): Parsed[] | Response {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return plainBadRequest('Manifest must be valid JSON.\n');
  }
  if (!Array.isArray(parsed)) return plainBadRequest('Manifest must be a list.\n');
  const errors: string[] = [];
  const out: Parsed[] = [];
  for (const [i, item] of parsed.entries()) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      errors.push(`Index ${i}: not a JSON object`);
      continue;
    }
    const seg = item as Record<string, unknown>;
    const kind = 'data' in seg ? 'data' : 'path' in seg ? 'path' : null;
    if (!kind) {
      errors.push(`Index ${i}: expected keys to include one of 'data' or 'path'`);
      continue;
    }
    const allowed = kind === 'data' ? ['data'] : ['path', 'range', 'etag', 'size_bytes'];
    const extra = Object.keys(seg).filter((k) => !allowed.includes(k)).sort();
    if (extra.length) {
      errors.push(`Index ${i}: extraneous keys ${extra.map((k) => JSON.stringify(k)).join(', ')}`);
      continue;
    }
    if (kind === 'data') {
      const data = strictBase64(seg.data);
      if (!data) errors.push(`Index ${i}: data must be valid base64`);
      else if (data.byteLength < 1) errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
      else out.push({ data });
      continue;
    }
    if (typeof seg.path !== 'string') {
      errors.push(`Index ${i}: "path" must be a string`);
      continue;
    }
    if (!(seg.etag === undefined || seg.etag === null || typeof seg.etag === 'string')) {
      errors.push(`Index ${i}: "etag" must be a string or null (if provided)`);
      continue;
    }
    if (!seg.path.replace(/^\/+|\/+$/g, '').includes('/')) {
      errors.push(`Index ${i}: path does not refer to an object. Path must be of the form /container/object.`);
      continue;
    }
    let size: number | null = null;
    if (seg.size_bytes !== undefined && seg.size_bytes !== null) {
      size = toInt(seg.size_bytes);
      if (size === null) {
        errors.push(`Index ${i}: invalid size_bytes`);
        continue;
      }
      if (size < 1 && i !== parsed.length - 1) {
        errors.push(`Index ${i}: too small; each segment must be at least 1 byte.`);
        continue;
      }
    }
    const ref = splitSegmentPath(seg.path);
    if (ref.container === self.container && ref.object === self.object) {
      errors.push(`Index ${i}: manifest must not include itself as a segment`);
      continue;
    }
    const entry: PathEntry = { path: seg.path, etag: seg.etag as string | null | undefined, size_bytes: size };
    if (seg.range) {
      const ranges = parseRange(String(seg.range));
      if (!ranges) {
        errors.push(`Index ${i}: invalid range`);
        continue;
      }
      if (ranges.length > 1) {
        errors.push(`Index ${i}: multiple ranges (only one allowed)`);
        continue;
      }
      if (size !== null && !rangeForLength(ranges[0]!, size)) {
        errors.push(`Index ${i}: unsatisfiable range`);
        continue;
      }
      entry.range = ranges[0]!;
    }
    out.push(entry);
  }
  if (out.length && out.every((s) => 'data' in s)) errors.push('Inline data segments require at least one object-backed segment.');
  if (errors.length) return plainBadRequest(errors.map((e) => `${e}\n`).join(''));
  return out;
}

/** The 400 naming each segment that failed its check (get_heartbeat_response_body for 'upload'). */
export function problemsResponse(format: OutFormat, problems: [string, string][]): Response {
  return new Response(heartbeatBody(format, { fields: {}, errors: problems }, 'upload'), { status: 400, headers: { 'Content-Type': format } });
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
  return new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
}

export interface SloManifest {
  manifest: ManifestSegment[];
  /** MD5 of the segments' etags ("etag:range;" for ranged ones, MD5 of the bytes for data). */
  etag: string;
  size: number;
}

/** A manifest PUT's entries, parsed and checked on their own; their segments are not looked at yet. */
export type ParsedManifest = Parsed[];

/**
 * Reads and parses a ?multipart-manifest=put body: the entries, or the 400 response
 * listing every problem (413 when too big or with too many segments).
 */
export async function parseSloManifest(
  body: ReadableStream<Uint8Array> | null, self: { container: string; object: string },
): Promise<ParsedManifest | Response> {
  const parsed = parseInput(await readLimited(body, SLO_LIMITS.maxManifestSize), self);
  if (parsed instanceof Response) return parsed;
  if (parsed.filter((s) => 'path' in s).length > SLO_LIMITS.maxManifestSegments) {
    throw new ApiError(413, `Number of object-backed segments must be <= ${SLO_LIMITS.maxManifestSegments}`);
  }
  return parsed;
}

/**
 * Checks a parsed manifest's segments as Swift does: each object-backed segment is
 * HEADed once (as the requester) and must exist, match the etag and size_bytes given,
 * have a satisfiable range, and hold at least a byte (the last one may be empty).
 * beat() is called after each HEAD. Returns what to store, or the failures
 * ([quoted path, reason]) for a 400.
 */
export async function checkSloSegments(
  parsed: ParsedManifest, head: HeadSegment, beat: () => void = () => undefined,
): Promise<SloManifest | { problems: [string, string][] }> {
  const paths = parsed.filter((s): s is PathEntry => 'path' in s);
  // One HEAD per distinct path, a few at a time.
  const unique = [...new Set(paths.map((p) => p.path))];
  const results = await mapLimited(unique, 8, async (path) => {
    const { container, object } = splitSegmentPath(path);
    const found = await head(container, object);
    beat();
    return found;
  });
  const heads = new Map(unique.map((p, i) => [p, results[i]!]));

  const problems: [string, string][] = [];
  const manifest: ManifestSegment[] = [];
  const etagParts: string[] = [];
  let size = 0;
  for (const [i, seg] of parsed.entries()) {
    if ('data' in seg) {
      manifest.push({ data: encodeData(seg.data) });
      etagParts.push(await md5Hex(seg.data));
      size += seg.data.byteLength;
      continue;
    }
    const name = quote(seg.path);
    const found = heads.get(seg.path)!;
    if (typeof found === 'number') {
      problems.push([name, statusLine(found)]);
      continue;
    }
    let length = found.size;
    let range: string | undefined;
    if (seg.range) {
      const r = rangeForLength(seg.range, found.size);
      if (!r) problems.push([name, 'Unsatisfiable Range']);
      else if (!(r[0] === 0 && r[1] === found.size)) {
        range = `${r[0]}-${r[1] - 1}`;
        length = r[1] - r[0];
      }
    }
    if (length < 1 && i !== parsed.length - 1) problems.push([name, 'Too small; each segment must be at least 1 byte.']);
    if (seg.size_bytes !== null && seg.size_bytes !== undefined && seg.size_bytes !== found.size) problems.push([name, 'Size Mismatch']);
    if (seg.etag !== null && seg.etag !== undefined && seg.etag.replace(/"/g, '') !== found.etag) problems.push([name, 'Etag Mismatch']);
    const stored: StoredSegment = {
      name: `/${seg.path.replace(/^\/+/, '')}`, bytes: found.size, hash: found.etag, content_type: found.contentType,
      // Swift records the HEAD's Last-Modified: whole seconds.
      last_modified: listingDate(String(Math.ceil(Number(found.timestamp)))),
    };
    if (range) stored.range = range;
    if (found.isSlo) stored.sub_slo = true;
    manifest.push(stored);
    etagParts.push(range ? `${found.etag}:${range};` : found.etag);
    size += Math.max(length, 0);
  }
  if (problems.length) return { problems };
  return { manifest, etag: await md5Hex(etagParts.join('')), size };
}

async function mapLimited<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
