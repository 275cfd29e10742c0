// /v1/<account>/<container>/<object>: PUT (streamed into R2), GET/HEAD, POST (replace
// metadata), DELETE, COPY and PUT with X-Copy-From; SLO manifests with ?multipart-manifest.
import type { Context } from 'hono';
import { ApiError, badRequest, notFound } from '../../../lib/errors';
import { authorizeSwift } from '../access';
import type { SwiftEnv } from '../env';
import { deleteAtOf, objectMetadata, swiftTimestamp, httpDate } from '../headers';
import { parseDloManifest, SLO_LIMITS } from '../large-objects';
import { isData, readManifest, segmentsToDelete, splitSegmentPath, type StoredSegment } from '../slo';
import { checkSloSegments, parseSloManifest, problemsResponse, type HeadSegment } from '../slo-manifest';
import { bodilessOutcome, heartbeatResponse } from '../heartbeat';
import { bestMatch, deleteResponse, statusLine } from './bulk';
import { checkContainerName, checkObjectName, parseObjectRef, type SwiftPath } from '../names';
import { copiedPart, OBJECT_HEADERS, objectHeaders, objectResponse, sourceOf, streamOf } from '../object-read';
import { accountStub, deleteObject, getObject, headObject, INLINE_MAX, writeObject, type ObjectTarget } from '../storage';
import { guessContentType } from '../content-types';
import { NOT_FOUND } from './container';

type C = Context<SwiftEnv>;
type Target = SwiftPath & { container: string; object: string };

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);

/** A GET that asks for the whole object with no preconditions: one read (the account, then R2 for a large object) serves it. */
function isPlainGet(c: C): boolean {
  const h = c.req.raw.headers;
  return (
    c.req.method === 'GET' &&
    c.req.query('multipart-manifest') === undefined &&
    !h.has('Range') && !h.has('If-Match') && !h.has('If-None-Match') && !h.has('If-Modified-Since') && !h.has('If-Unmodified-Since')
  );
}

async function get(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'object:read', path);
  if (isPlainGet(c)) {
    const found = await getObject(c.env, path.account, path.container, path.object);
    if (!found) throw notFound(NOT_FOUND);
    const { stored, body } = found;
    if (!stored.custom['x-static-large-object'] && !stored.custom['x-object-manifest']) {
      return new Response(stored.inline ?? body, {
        status: 200,
        headers: { ...objectHeaders(stored), ETag: stored.etag, 'Content-Length': String(stored.size) },
      });
    }
    // A manifest reads as its segments: the general path below assembles them.
    await body.cancel();
  }
  // A GET of a small object gets its bytes in the same call.
  const stored = await headObject(c.env, path.account, path.container, path.object, c.req.method === 'GET');
  if (!stored) throw notFound(NOT_FOUND);
  return objectResponse(c, path.account, path.container, path.object, stored);
}

/** What a new object version keeps beside its data: the request's headers over a base. */
function newCustom(headers: Headers, base: Record<string, string>, timestamp: string): Record<string, string> {
  const custom: Record<string, string> = { ...base, ...objectMetadata(headers), 'x-timestamp': timestamp };
  for (const name of OBJECT_HEADERS) {
    const value = headers.get(name);
    if (value !== null && name !== 'x-delete-at') custom[name] = value;
  }
  if (custom['x-object-manifest'] !== undefined) parseDloManifest(custom['x-object-manifest']);
  const deleteAt = deleteAtOf(headers);
  if (deleteAt !== undefined) custom['x-delete-at'] = String(deleteAt);
  return custom;
}

function contentLength(c: C): number | null {
  const raw = c.req.header('Content-Length');
  if (raw === undefined) {
    if (!/chunked/i.test(c.req.header('Transfer-Encoding') ?? '') && c.req.raw.body === null) {
      throw new ApiError(411, 'Missing Content-Length or Transfer-Encoding: chunked.');
    }
    return null;
  }
  if (!/^\d+$/.test(raw.trim())) throw badRequest('Invalid Content-Length');
  return Number(raw);
}

function created(etag: string, timestamp: string, extra: Record<string, string> = {}): Response {
  return new Response(null, {
    status: 201,
    headers: { ETag: etag, 'Last-Modified': httpDate(timestamp), 'Content-Type': 'text/html; charset=UTF-8', 'Content-Length': '0', ...extra },
  });
}

/** Writes an object's bytes and records it in the container listing (404 if the container went away). */
async function store(
  c: C, path: Target, body: ReadableStream<Uint8Array> | null, length: number | null,
  contentType: string, custom: Record<string, string>, opts: { clientEtag?: string } & Pick<ObjectTarget, 'listing' | 'slo'> = {},
): Promise<{ etag: string; bytes: number }> {
  // Before streaming a large or unknown-length body, make sure it has somewhere to go;
  // a small one is written straight away (the record checks the container in the same call).
  if ((length === null || length > INLINE_MAX) && !(await accountStub(c.env, path.account).getContainer(path.container))) {
    await body?.cancel();
    throw notFound(NOT_FOUND);
  }
  const { clientEtag, listing, slo } = opts;
  const written = await writeObject(c.env, { ...path, listing, slo }, body, length, { contentType, custom, clientEtag });
  if (!written) throw notFound(NOT_FOUND);
  return written;
}

const RESERVED_SLO_HEADER = 'X-Static-Large-Object is a reserved header. To create a static large object add query param multipart-manifest=put.';

async function put(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'object:write', path);
  if (c.req.query('multipart-manifest') === 'put') return putManifest(c, path);
  if (c.req.header('X-Static-Large-Object') !== undefined) throw badRequest(RESERVED_SLO_HEADER);
  const copyFrom = c.req.header('X-Copy-From');
  if (copyFrom !== undefined) {
    const source = parseObjectRef(copyFrom, 'X-Copy-From');
    const account = c.req.header('X-Copy-From-Account') ?? path.account;
    return copy(c, { account, ...source }, path);
  }
  const headers = c.req.raw.headers;
  const timestamp = swiftTimestamp();
  const contentType = headers.get('content-type') || guessContentType(path.object);
  const custom = newCustom(headers, {}, timestamp);
  const clientEtag = headers.get('etag')?.replace(/"/g, '').toLowerCase();
  if (clientEtag !== undefined && !/^[0-9a-f]{32}$/.test(clientEtag)) throw new ApiError(422, 'Unable to process the contained instructions');
  const written = await store(c, path, c.req.raw.body, contentLength(c), contentType, custom, { clientEtag });
  return created(written.etag, timestamp);
}

/** What a HEAD of a segment answers, as the requester: a large object as its content. */
function segmentHead(c: C, account: string): HeadSegment {
  return async (container, object) => {
    try {
      checkContainerName(container);
      checkObjectName(object);
      await authorizeSwift(c, 'object:read', { account, container, object });
      const stored = await headObject(c.env, account, container, object);
      if (!stored) return 404;
      const isSlo = Boolean(stored.custom['x-static-large-object']);
      const source = await sourceOf(c, account, container, object, stored, false);
      return { size: source.size, etag: source.etag.replace(/"/g, ''), contentType: stored.contentType, timestamp: stored.timestamp, isSlo };
    } catch (err) {
      if (err instanceof ApiError) return err.status;
      throw err;
    }
  };
}

/** What storing a manifest came to: Swift's final status for it, before any response is made. */
type ManifestOutcome =
  | { status: 201; etag: string; timestamp: string }
  | { status: 400; problems: [string, string][] }
  | { status: 422 };

/**
 * PUT ?multipart-manifest=put: a static large object from the segments listed in the
 * body. A body Swift cannot parse is refused at once; with ?heartbeat=on the segment
 * checks and the write then run behind a 202 (heartbeat.ts), as in Swift.
 */
async function putManifest(c: C, path: Target): Promise<Response> {
  if (c.req.header('X-Copy-From') !== undefined) throw new ApiError(405, 'Multipart Manifest PUTs cannot be COPY requests');
  const length = contentLength(c);
  if (length !== null && length > SLO_LIMITS.maxManifestSize) throw new ApiError(413, `Manifest File > ${SLO_LIMITS.maxManifestSize} bytes`);
  const headers = c.req.raw.headers;
  const timestamp = swiftTimestamp();
  const contentType = headers.get('content-type') || guessContentType(path.object);
  const custom = newCustom(headers, {}, timestamp);
  delete custom['x-object-manifest'];
  const parsed = await parseSloManifest(c.req.raw.body, path);
  if (parsed instanceof Response) return parsed;
  const format = bestMatch(c.req.header('Accept')) ?? 'text/plain';
  const clientEtag = headers.get('etag')?.replace(/"/g, '').toLowerCase();

  const finish = async (beat?: () => void): Promise<ManifestOutcome> => {
    const slo = await checkSloSegments(parsed, segmentHead(c, path.account), beat);
    if ('problems' in slo) return { status: 400, problems: slo.problems };
    if (clientEtag && clientEtag !== slo.etag) return { status: 422 };
    const data = new TextEncoder().encode(JSON.stringify(slo.manifest));
    const sloCustom: Record<string, string> = { ...custom, 'x-static-large-object': 'True', 'slo-etag': slo.etag, 'slo-size': String(slo.size) };
    await store(c, path, new Blob([data]).stream(), data.byteLength, contentType, sloCustom, { slo: { etag: slo.etag, size: slo.size } });
    return { status: 201, etag: `"${slo.etag}"`, timestamp };
  };

  if (TRUE.has((c.req.queries('heartbeat')?.at(-1) ?? '').toLowerCase())) {
    return heartbeatResponse(format, 'upload', async (beat) => {
      const outcome = await finish(beat);
      if (outcome.status === 400) return bodilessOutcome(400, outcome.problems);
      if (outcome.status === 422) return bodilessOutcome(422);
      const fields = { 'Response Status': statusLine(201), Etag: outcome.etag, 'Last Modified': httpDate(outcome.timestamp), 'Response Body': '' };
      return { fields, errors: [] };
    }, (p) => c.executionCtx.waitUntil(p));
  }
  const outcome = await finish();
  if (outcome.status === 400) return problemsResponse(format, outcome.problems);
  if (outcome.status === 422) throw new ApiError(422, 'Unable to process the contained instructions');
  return created(outcome.etag, outcome.timestamp);
}

/**
 * Server-side copy (COPY with Destination, or PUT with X-Copy-From). The new object has
 * the source's metadata with the request's over it (only the request's with
 * X-Fresh-Metadata: true); a large object is copied as its content unless
 * ?multipart-manifest=get asks for the manifest.
 */
async function copy(c: C, from: { account: string; container: string; object: string }, to: Target): Promise<Response> {
  await authorizeSwift(c, 'object:read', from);
  const stored = await headObject(c.env, from.account, from.container, from.object, true);
  if (!stored) throw notFound(NOT_FOUND);
  const manifestItself = c.req.query('multipart-manifest') === 'get';
  const source = await sourceOf(c, from.account, from.container, from.object, stored, manifestItself);
  const headers = c.req.raw.headers;
  const fresh = TRUE.has((headers.get('x-fresh-metadata') ?? '').toLowerCase());
  const base: Record<string, string> = {};
  for (const [name, value] of Object.entries(stored.custom)) {
    if (fresh && name.startsWith('x-object-meta-')) continue;
    if (name === 'x-delete-at' || name === 'x-timestamp' || name === 'etag' || name === 'etag-source') continue;
    if (name.startsWith('slo-') || name === 'x-static-large-object' || name === 'x-object-manifest') {
      if (manifestItself) base[name] = value;
      continue;
    }
    base[name] = value;
  }
  const timestamp = swiftTimestamp();
  const custom = newCustom(headers, base, timestamp);
  const contentType = headers.get('content-type') || stored.contentType;
  const slo = manifestItself && stored.custom['x-static-large-object']
    ? { size: Number(stored.custom['slo-size']), etag: stored.custom['slo-etag']! } : undefined;
  const part = await copiedPart(c, source, Boolean(stored.custom['x-static-large-object']) && !manifestItself);
  if (part instanceof Response) return part;
  const body = part ?? { body: await streamOf(c, source), length: source.size };
  // A large object's content is read segment by segment while it is written. Going to R2
  // it is written part by part (as a body of unknown length is), so no segment is read
  // while a put is under way: in the local R2, a put whose body waits on a get from the
  // same bucket never completes.
  const composite = !manifestItself && (stored.custom['x-static-large-object'] !== undefined || stored.custom['x-object-manifest'] !== undefined);
  const length = composite && body.length > INLINE_MAX ? null : body.length;
  const written = await store(c, to, body.body, length, contentType, custom, { slo });
  const extra: Record<string, string> = {
    'X-Copied-From': `${encodeURIComponent(from.container)}/${encodeURIComponent(from.object).replace(/%2F/g, '/')}`,
    'X-Copied-From-Last-Modified': httpDate(stored.timestamp),
  };
  if (from.account !== to.account) extra['X-Copied-From-Account'] = from.account;
  return created(slo ? `"${slo.etag}"` : written.etag, timestamp, extra);
}

async function copyMethod(c: C, path: Target): Promise<Response> {
  if (c.req.header('X-Static-Large-Object') !== undefined) throw badRequest(RESERVED_SLO_HEADER);
  const destination = c.req.header('Destination');
  if (!destination) throw new ApiError(412, 'Destination header required');
  const to = parseObjectRef(destination, 'Destination');
  const target: Target = { account: c.req.header('Destination-Account') ?? path.account, ...to };
  await authorizeSwift(c, 'object:write', target);
  return copy(c, path, target);
}

/** POST replaces the user metadata (and Content-Type, X-Delete-At); the data is rewritten in place. */
async function post(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'object:write', path);
  if (c.req.header('X-Static-Large-Object') !== undefined) throw badRequest(RESERVED_SLO_HEADER);
  const stored = await headObject(c.env, path.account, path.container, path.object);
  if (!stored) throw notFound(NOT_FOUND);
  const headers = c.req.raw.headers;
  const kept: Record<string, string> = { etag: stored.etag };
  for (const name of ['x-static-large-object', 'slo-etag', 'slo-size', 'x-object-manifest']) {
    if (stored.custom[name] !== undefined) kept[name] = stored.custom[name]!;
  }
  if (stored.custom['x-delete-at'] && !headers.has('x-remove-delete-at') && !headers.has('x-delete-after')) {
    kept['x-delete-at'] = stored.custom['x-delete-at'];
  }
  const timestamp = swiftTimestamp();
  const custom = newCustom(headers, kept, timestamp);
  const contentType = headers.get('content-type') || stored.contentType;
  const slo = stored.custom['x-static-large-object']
    ? { size: Number(stored.custom['slo-size']), etag: stored.custom['slo-etag']! } : undefined;
  const listing = { bytes: stored.size, etag: stored.etag };
  const current = await getObject(c.env, path.account, path.container, path.object, undefined, stored.version);
  if (!current) throw new ApiError(409, 'The object changed while its metadata was being replaced.');
  await store(c, path, current.body, stored.size, contentType, custom, { listing, slo });
  return new Response('<html><h1>Accepted</h1><p>The request is accepted for processing.</p></html>', {
    status: 202, headers: { 'Content-Type': 'text/html; charset=UTF-8' },
  });
}

/**
 * DELETE ?multipart-manifest=delete&async=yes (slo.py handle_async_delete): the segments,
 * all in one container and none a large object, are handed to expiry, then the manifest
 * goes as a plain object does.
 */
async function removeAsync(c: C, path: Target): Promise<Response> {
  const head = await headObject(c.env, path.account, path.container, path.object);
  if (!head) throw notFound('SLO manifest not found');
  if (!head.custom['x-static-large-object']) throw badRequest('Not an SLO manifest');
  const segments = (await readManifest(c.env, path.account, path.container, path.object)).filter((s): s is StoredSegment => !isData(s));
  if (segments.length > 0) {
    const names = segments.map((s) => splitSegmentPath(s.name));
    const containers = [...new Set(names.map((n) => n.container))];
    if (containers.length > 1) {
      throw badRequest(`All segments must be in one container. Found segments in ${containers.map((n) => `"${encodeURIComponent(n)}"`).join(', ')}`);
    }
    if (segments.some((s) => s.sub_slo)) throw badRequest('No segments may be large objects.');
    await authorizeSwift(c, 'object:write', { account: path.account, container: containers[0]!, object: names[0]!.object });
    await accountStub(c.env, path.account).expireNow(containers[0]!, names.map((n) => n.object));
  }
  if (!(await deleteObject(c.env, path.account, path.container, path.object))) throw notFound(NOT_FOUND);
  return new Response(null, { status: 204 });
}

async function remove(c: C, path: Target): Promise<Response> {
  await authorizeSwift(c, 'object:write', path);
  if (c.req.query('multipart-manifest') === 'delete' && TRUE.has((c.req.queries('async')?.at(-1) ?? '').toLowerCase())) {
    return removeAsync(c, path);
  }
  if (c.req.query('multipart-manifest') === 'delete') {
    // Segments (and nested manifests' segments) first, the manifest last, each as the caller.
    return deleteResponse(c, path.account, () => segmentsToDelete(c.env, path.account, path.container, path.object, async (container) => {
      await authorizeSwift(c, 'object:read', { account: path.account, container });
    }));
  }
  if (!(await deleteObject(c.env, path.account, path.container, path.object))) throw notFound(NOT_FOUND);
  return new Response(null, { status: 204 });
}

export const objectRoutes: Record<string, (c: C, path: Target) => Promise<Response>> = {
  GET: get, HEAD: get, PUT: put, POST: post, DELETE: remove, COPY: copyMethod,
};

