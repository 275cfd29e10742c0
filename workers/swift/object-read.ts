// Answering GET and HEAD of an object: its headers, preconditions, and its bytes
// streamed whole, as one range (206) or as several (multipart/byteranges).
import type { Context } from 'hono';
import { authorizeSwift } from './access';
import type { SwiftEnv } from './env';
import { contentRange, parseRanges, preconditions } from './conditional';
import { httpDate, titleCase } from './headers';
import { concatenate, dloSource, plainSource, sloSource, type ObjectSource } from './large-objects';
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

/** What the object reads as: its own bytes, or its segments' unless the manifest itself is asked. */
export async function sourceOf(
  c: Context<SwiftEnv>, account: string, container: string, object: string, stored: StoredObject, manifestItself: boolean,
): Promise<ObjectSource> {
  const segmentsReadable = async (containers: string[]) => {
    for (const segments of containers) await authorizeSwift(c, 'object:read', { account, container: segments });
  };
  if (!manifestItself && stored.custom['x-static-large-object']) return sloSource(c.env, account, stored, segmentsReadable);
  const dlo = stored.custom['x-object-manifest'];
  if (!manifestItself && dlo) {
    const listable = async (containers: string[]) => {
      await segmentsReadable(containers);
      for (const segments of containers) await authorizeSwift(c, 'container:list', { account, container: segments });
    };
    return dloSource(c.env, account, { container, object }, dlo, listable);
  }
  return plainSource(c.env, stored);
}

/** The whole content of a source as one stream of known length. */
export async function streamOf(c: Context<SwiftEnv>, source: ObjectSource, offset = 0, length = source.size): Promise<ReadableStream<Uint8Array>> {
  const parts = source.parts(offset, length);
  // One part is already a stream of the right length: no copy through JS.
  if (parts.length === 1) return parts[0]!();
  return concatenate(length, parts, (p) => c.executionCtx.waitUntil(p));
}

export async function objectResponse(
  c: Context<SwiftEnv>, account: string, container: string, object: string, stored: StoredObject,
): Promise<Response> {
  const manifestGet = c.req.query('multipart-manifest') === 'get';
  const source = await sourceOf(c, account, container, object, stored, manifestGet);
  const headers: Record<string, string> = { ...objectHeaders(stored), ETag: source.etag };
  if (manifestGet && stored.custom['x-static-large-object']) headers['Content-Type'] = 'application/json; charset=utf-8';
  if (preconditions(c.req.raw.headers, source.etag.replace(/"/g, ''), stored.timestamp) === 304) {
    const { 'Content-Type': _ct, ...rest } = headers;
    return new Response(null, { status: 304, headers: rest });
  }
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
  const parts: Parameters<typeof concatenate>[1] = [];
  let total = 0;
  for (const r of ranges) {
    const head = encoder.encode(`--${boundary}\r\nContent-Type: ${stored.contentType}\r\nContent-Range: ${contentRange(r, source.size)}\r\n\r\n`);
    parts.push(head, ...source.parts(r.offset, r.length), encoder.encode('\r\n'));
    total += head.byteLength + r.length + 2;
  }
  const tail = encoder.encode(`--${boundary}--`);
  parts.push(tail);
  total += tail.byteLength;
  const body = concatenate(total, parts, (p) => c.executionCtx.waitUntil(p));
  return new Response(body, {
    status: 206,
    headers: { ...headers, 'Content-Type': `multipart/byteranges;boundary=${boundary}`, 'Content-Length': String(total) },
  });
}
