// Image data in Swift, as glance_store's swift driver keeps it: one object per image in
// the container "glance" of the glance service user's account (project "service"),
// reached with that user's token, which is cached until shortly before it expires. An
// image larger than swift_store_large_object_size (or of unknown size) is stored as
// segments <id>-00001, <id>-00002, ... of swift_store_large_object_chunk_size and a
// dynamic large object <id> whose X-Object-Manifest names them.
import { ApiError } from '../../lib/errors';
import type { Env } from './env';

const CONTAINER = 'glance';
/** A token is renewed this long before it expires. */
const RENEW_BEFORE_MS = 5 * 60_000;

interface ServiceToken {
  token: string;
  account: string;
  expiresAt: number;
}

// Only a settled token is kept: workerd cancels I/O begun by one request when that
// request ends, so a promise shared with another request could hang it.
let cached: ServiceToken | null = null;
let containerReady = false;

async function issueToken(env: Env): Promise<ServiceToken> {
  const res = await env.KEYSTONE.fetch('http://keystone/identity/v3/auth/tokens?nocatalog', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: 'glance', domain: { id: 'default' }, password: env.GLANCE_SERVICE_PASSWORD } } },
        scope: { project: { name: 'service', domain: { id: 'default' } } },
      },
    }),
  });
  if (res.status !== 201) {
    console.error(`glance: the service user could not get a token: ${res.status} ${await res.text()}`);
    throw storeUnavailable();
  }
  const body = (await res.json()) as { token: { expires_at: string; project: { id: string } } };
  return { token: res.headers.get('X-Subject-Token')!, account: `AUTH_${body.token.project.id}`, expiresAt: Date.parse(body.token.expires_at) };
}

export async function serviceToken(env: Env, fresh = false): Promise<ServiceToken> {
  if (!fresh && cached && cached.expiresAt - RENEW_BEFORE_MS > Date.now()) return cached;
  cached = await issueToken(env);
  return cached;
}

const storeUnavailable = () => new ApiError(503, 'The image store is not available; try again later.');

/** One request to Swift as the glance user; a 401 (a token revoked early) is retried once with a new token. */
async function swift(env: Env, method: string, path: string, init: { body?: ReadableStream | null; headers?: Record<string, string> } = {}): Promise<Response> {
  const send = async (t: ServiceToken) =>
    env.SWIFT.fetch(`http://swift/object-storage/v1/${t.account}${path}`, {
      method, body: init.body ?? null, headers: { ...init.headers, 'X-Auth-Token': t.token },
    });
  let res = await send(await serviceToken(env));
  // A streamed body cannot be sent twice: only bodiless requests are retried.
  if (res.status === 401 && !init.body) res = await send(await serviceToken(env, true));
  return res;
}

async function ensureContainer(env: Env): Promise<void> {
  if (containerReady) return;
  const res = await swift(env, 'PUT', `/${CONTAINER}`);
  if (!res.ok) {
    console.error(`glance: cannot create the Swift container: ${res.status} ${await res.text()}`);
    throw storeUnavailable();
  }
  await res.arrayBuffer();
  containerReady = true;
}

const MiB = 1024 * 1024;

/** glance_store's swift_store_large_object_size and _chunk_size (MB; defaults 5120 and 200), in bytes. */
function largeObjectLimits(env: Env): { size: number; chunk: number } {
  const mb = (value: string | undefined, fallback: number) => {
    const n = Number(value);
    return (value !== undefined && Number.isFinite(n) && n > 0 ? n : fallback) * MiB;
  };
  return { size: mb(env.SWIFT_STORE_LARGE_OBJECT_SIZE, 5120), chunk: mb(env.SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE, 200) };
}

/**
 * PUTs one object of the store; a known length is sent as Content-Length, so Swift writes
 * it to R2 in one put. A sized body already is a FixedLengthStream's, sent as it is
 * (workerd cannot pipe one into another).
 */
async function putObject(
  env: Env, name: string, body: ReadableStream<Uint8Array>, length: number | null, headers: Record<string, string> = {}, sized = false,
): Promise<void> {
  let stream = body;
  const sent: Record<string, string> = { 'Content-Type': 'application/octet-stream', ...headers };
  if (length !== null && !sized) {
    const fixed = new FixedLengthStream(length);
    void body.pipeTo(fixed.writable).catch(() => undefined);
    stream = fixed.readable as ReadableStream<Uint8Array>;
  }
  if (length !== null) sent['Content-Length'] = String(length);
  const res = await swift(env, 'PUT', `/${CONTAINER}/${name}`, { body: stream, headers: sent });
  if (res.status === 404) {
    containerReady = false; // the container went away; it is made again on the next upload
  }
  if (!res.ok) {
    const text = await res.text();
    console.error(`glance: storing ${name} in Swift failed: ${res.status} ${text}`);
    if (res.status === 413) throw new ApiError(413, 'Image storage media is full.');
    throw storeUnavailable();
  }
  await res.arrayBuffer();
}

/** Reads a stream in pieces of at most a given size, giving back what a piece did not take. */
class Splitter {
  private carry: Uint8Array | null = null;
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  private async read(): Promise<Uint8Array | null> {
    if (this.carry) {
      const c = this.carry;
      this.carry = null;
      return c;
    }
    for (;;) {
      const r = await this.reader.read();
      if (r.done) return null;
      if (r.value.byteLength) return r.value;
    }
  }

  /** Whether any bytes are left. */
  async more(): Promise<boolean> {
    this.carry = await this.read();
    return this.carry !== null;
  }

  /** The next max bytes (fewer at the end) as a stream; counted reports how many it gave. */
  piece(max: number, counted: (n: number) => void): ReadableStream<Uint8Array> {
    let sent = 0;
    return new ReadableStream<Uint8Array>({
      pull: async (ctrl) => {
        const chunk = sent < max ? await this.read() : null;
        if (!chunk) return ctrl.close();
        const take = Math.min(chunk.byteLength, max - sent);
        if (take < chunk.byteLength) this.carry = chunk.subarray(take);
        sent += take;
        counted(take);
        ctrl.enqueue(chunk.subarray(0, take));
      },
      cancel: (reason) => this.reader.cancel(reason),
    });
  }
}

const segmentName = (id: string, n: number) => `${id}-${String(n).padStart(5, '0')}`;

/**
 * Stores an image's data; the stream is passed on as it arrives, never held whole.
 * sized: the body is a FixedLengthStream's readable of that length.
 */
export async function putImageData(env: Env, id: string, body: ReadableStream, length: number | null, sized = false): Promise<void> {
  await ensureContainer(env);
  const limits = largeObjectLimits(env);
  if (length !== null && length < limits.size) return putObject(env, id, body, length, {}, sized);
  // Segments as glance_store writes them, then the manifest; on failure, none is left behind.
  const split = new Splitter(body);
  let written = 0;
  let segments = 0;
  try {
    while (await split.more()) {
      const size = length === null ? null : Math.min(limits.chunk, length - written);
      segments += 1;
      await putObject(env, segmentName(id, segments), split.piece(limits.chunk, (n) => (written += n)), size);
    }
    if (length !== null && written !== length) throw new ApiError(400, 'The image data was shorter than its Content-Length.');
    await putObject(env, id, new Blob([]).stream(), 0, { 'X-Object-Manifest': `${CONTAINER}/${id}-` });
  } catch (err) {
    await body.cancel().catch(() => undefined);
    await deleteSegments(env, id);
    throw err;
  }
}

/** The image's data from Swift; a Range header is passed through. */
export async function getImageData(env: Env, id: string, range: string | undefined): Promise<Response> {
  const res = await swift(env, 'GET', `/${CONTAINER}/${id}`, { headers: range ? { Range: range } : {} });
  if (res.status === 404) throw new ApiError(404, `Image data for ${id} was not found in the store.`);
  if (res.status === 416) throw new ApiError(416, 'Requested range not satisfiable.');
  if (!res.ok) {
    console.error(`glance: reading image ${id} from Swift failed: ${res.status} ${await res.text()}`);
    throw storeUnavailable();
  }
  return res;
}

/** Deletes the segments <id>-* of an image, listed page by page. */
async function deleteSegments(env: Env, id: string): Promise<void> {
  for (let marker = ''; ;) {
    const res = await swift(env, 'GET', `/${CONTAINER}?format=json&prefix=${encodeURIComponent(`${id}-`)}&marker=${encodeURIComponent(marker)}`);
    if (!res.ok) {
      await res.arrayBuffer();
      if (res.status !== 404) console.error(`glance: listing the segments of ${id} failed: ${res.status}`);
      return;
    }
    const names = ((await res.json()) as { name: string }[]).map((o) => o.name);
    for (const name of names) {
      const del = await swift(env, 'DELETE', `/${CONTAINER}/${name}`);
      await del.arrayBuffer();
    }
    if (!names.length) return;
    marker = names[names.length - 1]!;
  }
}

/** Removes an image's data (a segmented image's segments first); data already gone is not an error. */
export async function deleteImageData(env: Env, id: string): Promise<void> {
  try {
    const head = await swift(env, 'HEAD', `/${CONTAINER}/${id}`);
    await head.arrayBuffer();
    if (head.headers.get('X-Object-Manifest')) await deleteSegments(env, id);
    const res = await swift(env, 'DELETE', `/${CONTAINER}/${id}`);
    await res.arrayBuffer();
    if (!res.ok && res.status !== 404) console.error(`glance: deleting image ${id} from Swift failed: ${res.status}`);
  } catch (err) {
    // The record is gone already; data left behind is logged, not reported to the client.
    console.error(`glance: deleting image ${id} from Swift failed:`, err);
  }
}

/** The store container's metadata (lower-case x-container-meta-* names); empty when it does not exist yet. */
export async function storeMetadata(env: Env): Promise<Record<string, string>> {
  const res = await swift(env, 'HEAD', `/${CONTAINER}`);
  await res.arrayBuffer();
  if (res.status === 404) return {};
  if (!res.ok) throw storeUnavailable();
  return Object.fromEntries([...res.headers].filter(([name]) => name.startsWith('x-container-meta-')));
}

/** Sets metadata on the store container (X-Container-Meta-* headers). */
export async function setStoreMetadata(env: Env, headers: Record<string, string>): Promise<void> {
  await ensureContainer(env);
  const res = await swift(env, 'POST', `/${CONTAINER}`, { headers });
  await res.arrayBuffer();
  if (!res.ok) throw storeUnavailable();
}
