// Answering GET and HEAD of an object: its headers, preconditions, and its bytes
// streamed whole, as one range (206) or as several (multipart/byteranges).
import type { Context } from 'hono';
import { authorizeSwift } from './access';
import type { SwiftEnv } from './env';
import { contentRange, hasRange, parseRanges, preconditions } from './conditional';
import { httpDate, titleCase } from './headers';
import { concatenate, dloSource, plainSource, primed, type ObjectSource, type Piece } from './large-objects';
import { rawManifest, readManifest, sloSource } from './slo';
import type { StoredObject } from './storage';

/** Stored headers sent back as they were given (besides X-Object-Meta-*). */
export const OBJECT_HEADERS = ['content-disposition', 'content-encoding', 'x-delete-at', 'x-object-manifest'] as const;

export function objectHeaders(s: StoredObject): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': s.contentType,
    'Last-Modified': httpDate(s.timestamp),
    'X-Timestamp': s.timestamp,
    'Accept-Ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(s.custom)) {
    if (name.startsWith('x-object-meta-') || (OBJECT_HEADERS as readonly string[]).includes(name)) headers[titleCase(name)] = value;
  }
  if (s.custom['x-static-large-object']) headers['X-Static-Large-Object'] = 'True';
  return headers;
}

/** What the object reads as: its own bytes, or its segments unless the manifest itself is asked. */
export async function sourceOf(
  c: Context<SwiftEnv>, account: string, container: string, object: string, stored: StoredObject, manifestItself: boolean,
): Promise<ObjectSource> {
  const readable = async (segments: string) => {
    await authorizeSwift(c, 'object:read', { account, container: segments });
  };
  if (!manifestItself && stored.custom['x-static-large-object']) return sloSource(c.env, account, container, object, stored, readable);
  const dlo = stored.custom['x-object-manifest'];
  if (!manifestItself && dlo) {
    const listable = async (segments: string) => {
      await readable(segments);
      await authorizeSwift(c, 'container:list', { account, container: segments });
    };
    return dloSource(c.env, account, { container, object }, dlo, listable);
  }
  return plainSource(c.env, { account, container, object }, stored);
}

async function* prepend<T>(first: T, rest: AsyncIterator<T>): AsyncGenerator<T> {
  yield first;
  for (let r = await rest.next(); !r.done; r = await rest.next()) yield r.value;
}

/**
 * The bytes [offset, offset + length) of a source as one stream. The first segment is
 * opened before this returns, so one that cannot be read is a 409, not a cut-off body.
 */
export async function streamOf(c: Context<SwiftEnv>, source: ObjectSource, offset = 0, length = source.size): Promise<ReadableStream<Uint8Array>> {
  const it = source.pieces(offset, length)[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return new Blob([]).stream();
  if (first.value instanceof Uint8Array && first.value.byteLength === length) return new Blob([first.value]).stream();
  // One piece is already a stream of the right length: no copy through JS.
  if (!(first.value instanceof Uint8Array) && first.value.length === length) return first.value.open();
  return concatenate(length, await primed(prepend(first.value, it)), (p) => c.executionCtx.waitUntil(p));
}

/** ?multipart-manifest=get&format=raw: the manifest as it would be PUT, with the large object's type. */
async function rawSource(c: Context<SwiftEnv>, account: string, container: string, object: string, stored: StoredObject): Promise<ObjectSource> {
  const raw = await rawManifest(await readManifest(c.env, account, container, object, stored.version));
  return {
    size: raw.body.byteLength,
    etag: raw.etag,
    async *pieces(offset, length) {
      yield raw.body.subarray(offset, offset + length);
    },
  };
}

/** A response whose body is exactly this text (none for a HEAD), as swob sends an error given one. */
function textResponse(c: Context<SwiftEnv>, status: number, text: string, headers: Record<string, string> = {}): Response {
  const body = c.req.method === 'HEAD' ? '' : text;
  return new Response(body || null, {
    status,
    headers: { 'Content-Type': 'text/html; charset=UTF-8', ...headers, 'Content-Length': String(new TextEncoder().encode(body).byteLength) },
  });
}

/**
 * ?part-number=N of a static large object (Swift's get_valid_part_num): N, a 400 response
 * when N is not an integer above 0 or a Range comes with it, or undefined when not asked.
 */
function partNumberOf(c: Context<SwiftEnv>): number | Response | undefined {
  const raw = c.req.queries('part-number')?.at(-1); // swob keeps a repeated parameter's last value
  if (raw === undefined) return undefined;
  // Python's int(): spaces around, a sign, digits with single underscores between.
  const valid = /^\s*[+-]?\d+(_\d+)*\s*$/.test(raw) && Number(raw.replace(/_/g, '')) > 0;
  if (!valid) return textResponse(c, 400, 'Part number must be an integer greater than 0');
  if (hasRange(c.req.header('Range') ?? null)) return textResponse(c, 400, 'Range requests are not supported with part number queries');
  return Number(raw.replace(/_/g, ''));
}

/** Where part n of a static large object sits in the whole, and how many parts it has. */
async function partOf(source: ObjectSource, n: number): Promise<{ offset: number; length: number; count: number }> {
  const lengths = await source.parts!();
  const offset = lengths.slice(0, n - 1).reduce((a, b) => a + b, 0);
  return { offset, length: lengths[n - 1] ?? 0, count: lengths.length };
}

const unsatisfiable = (c: Context<SwiftEnv>, source: ObjectSource, headers: Record<string, string> = {}) =>
  textResponse(c, 416, 'The requested part number is not satisfiable', { ...headers, 'Content-Range': `bytes */${source.size}` });

/**
 * The bytes of ?part-number=N of a static large object, as the source of a copy (Swift's
 * copy middleware GETs the source with the request's query): a 400 or 416 response when
 * the part cannot be had, undefined when no part was asked for or the object has no parts.
 */
export async function copiedPart(
  c: Context<SwiftEnv>, source: ObjectSource, slo: boolean,
): Promise<{ body: ReadableStream<Uint8Array>; length: number } | Response | undefined> {
  const n = slo ? partNumberOf(c) : undefined;
  if (n === undefined || n instanceof Response) return n;
  const part = await partOf(source, n);
  if (n > part.count) return unsatisfiable(c, source);
  return { body: await streamOf(c, source, part.offset, part.length), length: part.length };
}

/**
 * One part of a static large object (slo.py _return_slo_response): 206 with that
 * segment's bytes and where they sit in the whole, or 416 past the last part.
 */
async function partResponse(c: Context<SwiftEnv>, source: ObjectSource, headers: Record<string, string>, n: number): Promise<Response> {
  const { offset, length, count } = await partOf(source, n);
  headers['X-Parts-Count'] = String(count);
  if (n > count) return unsatisfiable(c, source, headers);
  const partHeaders = {
    ...headers, 'Content-Length': String(length), 'Content-Range': `bytes ${offset}-${offset + length - 1}/${source.size}`,
  };
  const body = c.req.method === 'HEAD' ? null : await streamOf(c, source, offset, length);
  return new Response(body, { status: 206, headers: partHeaders });
}

export async function objectResponse(
  c: Context<SwiftEnv>, account: string, container: string, object: string, stored: StoredObject,
): Promise<Response> {
  const manifestGet = c.req.query('multipart-manifest') === 'get';
  const slo = Boolean(stored.custom['x-static-large-object']);
  // Only a static large object's content has parts: anywhere else part-number is ignored.
  const part = slo && !manifestGet ? partNumberOf(c) : undefined;
  if (part instanceof Response) return part;
  const raw = slo && manifestGet && c.req.query('format') === 'raw';
  const source = raw ? await rawSource(c, account, container, object, stored) : await sourceOf(c, account, container, object, stored, manifestGet);
  const headers: Record<string, string> = { ...objectHeaders(stored), ETag: source.etag };
  if (slo && manifestGet && !raw) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (slo && !manifestGet) headers['X-Manifest-Etag'] = stored.etag;
  if (preconditions(c.req.raw.headers, source.etag.replace(/"/g, ''), stored.timestamp) === 304) {
    const { 'Content-Type': _ct, ...rest } = headers;
    return new Response(null, { status: 304, headers: rest });
  }
  if (part !== undefined) return partResponse(c, source, headers, part);
  if (c.req.method === 'HEAD') return new Response(null, { status: 200, headers: { ...headers, 'Content-Length': String(source.size) } });

  const ranges = parseRanges(c.req.header('Range') ?? null, source.size);
  if (!ranges) {
    return new Response(await streamOf(c, source), { status: 200, headers: { ...headers, 'Content-Length': String(source.size) } });
  }
  if (ranges.length === 1) {
    const r = ranges[0]!;
    return new Response(await streamOf(c, source, r.offset, r.length), {
      status: 206,
      headers: { ...headers, 'Content-Length': String(r.length), 'Content-Range': contentRange(r, source.size) },
    });
  }
  // Several ranges: multipart/byteranges, each part with its own Content-Range.
  const boundary = [...crypto.getRandomValues(new Uint8Array(16))].map((b) => b.toString(16).padStart(2, '0')).join('');
  const encoder = new TextEncoder();
  const heads = ranges.map((r) => encoder.encode(`--${boundary}\r\nContent-Type: ${stored.contentType}\r\nContent-Range: ${contentRange(r, source.size)}\r\n\r\n`));
  const tail = encoder.encode(`--${boundary}--`);
  const total = ranges.reduce((n, r, i) => n + heads[i]!.byteLength + r.length + 2, tail.byteLength);
  async function* parts(): AsyncGenerator<Piece> {
    for (const [i, r] of ranges!.entries()) {
      yield heads[i]!;
      yield* source.pieces(r.offset, r.length);
      yield encoder.encode('\r\n');
    }
    yield tail;
  }
  const body = concatenate(total, await primed(parts()), (p) => c.executionCtx.waitUntil(p));
  return new Response(body, {
    status: 206,
    headers: { ...headers, 'Content-Type': `multipart/byteranges;boundary=${boundary}`, 'Content-Length': String(total) },
  });
}
