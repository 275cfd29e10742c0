// Image data in Swift, as glance_store's swift driver keeps it: one object per image in
// the container "glance" of the glance service user's account (project "service"),
// reached with that user's token, which is cached until shortly before it expires.
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

async function serviceToken(env: Env, fresh = false): Promise<ServiceToken> {
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

/** Stores an image's data; the stream is passed on as it arrives, never held whole. */
export async function putImageData(env: Env, id: string, body: ReadableStream, length: number | null): Promise<void> {
  await ensureContainer(env);
  let stream = body;
  const headers: Record<string, string> = { 'Content-Type': 'application/octet-stream' };
  if (length !== null) {
    // A fixed-length stream gives the request a Content-Length, so Swift streams it to R2 as is.
    const fixed = new FixedLengthStream(length);
    void body.pipeTo(fixed.writable).catch(() => undefined);
    stream = fixed.readable;
    headers['Content-Length'] = String(length);
  }
  const res = await swift(env, 'PUT', `/${CONTAINER}/${id}`, { body: stream, headers });
  if (res.status === 404) {
    containerReady = false; // the container went away; it is made again on the next upload
  }
  if (!res.ok) {
    const text = await res.text();
    console.error(`glance: storing image ${id} in Swift failed: ${res.status} ${text}`);
    if (res.status === 413) throw new ApiError(413, 'Image storage media is full.');
    throw storeUnavailable();
  }
  await res.arrayBuffer();
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

/** Removes an image's data; data already gone is not an error. */
export async function deleteImageData(env: Env, id: string): Promise<void> {
  try {
    const res = await swift(env, 'DELETE', `/${CONTAINER}/${id}`);
    await res.arrayBuffer();
    if (!res.ok && res.status !== 404) console.error(`glance: deleting image ${id} from Swift failed: ${res.status}`);
  } catch (err) {
    // The record is gone already; data left behind is logged, not reported to the client.
    console.error(`glance: deleting image ${id} from Swift failed:`, err);
  }
}
