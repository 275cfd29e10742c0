// Image data: upload (PUT /file), download (GET /file), and the interoperable import's
// glance-direct method (PUT /stage, then POST /import). Data streams through: the
// Worker never holds an image whole, and hashes it (MD5 and SHA-512) as it passes.
import { and, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { ApiError, badRequest, conflict, forbidden } from '../../../lib/errors';
import { copyThrough, ShortBodyError } from '../../../lib/streams';
import { jsonBody } from '../../../lib/validation';
import { images, type StagedData } from '../../../schema/glance';
import { loadImage, targetOf, type C } from '../access';
import { isoNow, type Db, type ImageRow } from '../db';
import type { GlanceEnv } from '../env';
import { authorize, isAdmin } from '../policies';
import { importBody } from '../schemas/images';
import { getImageData, putImageData } from '../store';

export const dataRoutes = new Hono<GlanceEnv>();

/** Glance's image_size_cap, at its default (1 TiB); images above 5 GiB go to Swift in segments (store.ts). */
export const IMAGE_SIZE_CAP = 1024 ** 4;

const BATCH = 1 << 20;
const tooLarge = () => new ApiError(413, `Denying attempt to upload image larger than ${IMAGE_SIZE_CAP} bytes.`);
const hex = (buf: ArrayBuffer) => [...new Uint8Array(buf)].map((b) => b.toString(16).padStart(2, '0')).join('');

/** The request body as the store reads it, counted and hashed on the way. */
interface Hashing {
  stream: ReadableStream<Uint8Array>;
  done: () => Promise<StagedData>;
  /** Why the body could not be read as declared (too large, or shorter than its length), once known. */
  failure: () => ApiError | null;
}

/**
 * The request body in 1 MiB pieces, filled by the runtime from its 4 KiB chunks (a BYOB
 * read), so the script sees a few calls per MiB instead of hundreds, and two digest
 * writes. With a known length one buffer serves every piece, written to a
 * FixedLengthStream whose writes settle once their bytes were read: fresh buffers wait
 * for a collection, and workerd grew by ~90 MB per GiB uploaded.
 */
function hashing(body: ReadableStream<Uint8Array>, length: number | null): Hashing {
  const md5 = new crypto.DigestStream('MD5');
  const sha = new crypto.DigestStream('SHA-512');
  const md5w = md5.getWriter();
  const shaw = sha.getWriter();
  const reader = body.getReader({ mode: 'byob' });
  let size = 0;
  let failure: ApiError | null = null;
  const digests = async (): Promise<StagedData> => ({ size, checksum: hex(await md5.digest), hashValue: hex(await sha.digest) });

  if (length !== null) {
    const { readable, writable } = new FixedLengthStream(length);
    const writer = writable.getWriter();
    const copied = (async () => {
      try {
        const each = (piece: Uint8Array) => {
          size += piece.byteLength;
          return Promise.all([md5w.write(piece), shaw.write(piece)]);
        };
        await copyThrough(reader, writer, new ArrayBuffer(BATCH), { length, each }).catch((err: unknown) => {
          throw err instanceof ShortBodyError ? (failure = badRequest('The image data was shorter than its Content-Length.')) : err;
        });
        await Promise.all([md5w.close(), shaw.close(), writer.close()]);
      } catch (err) {
        await writer.abort(err).catch(() => undefined);
        await reader.cancel(err).catch(() => undefined);
        throw err;
      }
    })();
    copied.catch(() => undefined);
    return { stream: readable as ReadableStream<Uint8Array>, failure: () => failure, done: () => copied.then(digests) };
  }

  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(ctrl) {
        const r = await reader.readAtLeast(BATCH, new Uint8Array(BATCH));
        if (r.value?.byteLength) {
          size += r.value.byteLength;
          if (size > IMAGE_SIZE_CAP) throw (failure = tooLarge());
          await Promise.all([md5w.write(r.value), shaw.write(r.value)]);
          ctrl.enqueue(r.value);
        }
        if (r.done) {
          await Promise.all([md5w.close(), shaw.close()]);
          ctrl.close();
        }
      },
      cancel: (reason) => reader.cancel(reason),
    },
    { highWaterMark: 0 },
  );
  return { stream, failure: () => failure, done: digests };
}

/** Moves the image from one status to another only if no one else did first. */
async function transition(db: Db, id: string, from: string, to: string, set: Partial<ImageRow> = {}): Promise<boolean> {
  const res = await db.update(images).set({ ...set, status: to, updatedAt: isoNow() }).where(and(eq(images.id, id), eq(images.status, from))).run();
  return (res.meta.changes ?? 0) > 0;
}

/** Streams the request body into Swift while hashing it; returns what was stored. */
async function receive(c: C, row: ImageRow): Promise<StagedData> {
  const declared = c.req.header('Content-Length');
  const length = declared !== undefined && /^\d+$/.test(declared) ? Number(declared) : null;
  if (length !== null && length > IMAGE_SIZE_CAP) throw tooLarge();
  const h = hashing(c.req.raw.body ?? new Blob([]).stream(), length);
  try {
    await putImageData(c.env, row.id, h.stream, length, length !== null);
  } catch (err) {
    // The store saw the stream fail; the reason is ours to report.
    throw h.failure() ?? err;
  }
  return h.done();
}

async function startWriting(c: C, rule: 'upload_image', to: 'saving' | 'uploading') {
  const loaded = await loadImage(c);
  const { db, row, member } = loaded;
  authorize(c, rule, targetOf(c, row, member));
  if (!row.diskFormat || !row.containerFormat) {
    throw badRequest('Properties disk_format, container_format must be set prior to saving data.');
  }
  if (row.status !== 'queued' || !(await transition(db, row.id, 'queued', to))) {
    throw conflict(`Image status transition from ${row.status} to ${to} is not allowed`);
  }
  return loaded;
}

dataRoutes.put('/v2/images/:image_id/file', async (c) => {
  const { db, row } = await startWriting(c, 'upload_image', 'saving');
  let data: StagedData;
  try {
    data = await receive(c, row);
  } catch (err) {
    await transition(db, row.id, 'saving', 'queued');
    throw err;
  }
  const done = await transition(db, row.id, 'saving', 'active', {
    size: data.size, checksum: data.checksum, osHashAlgo: 'sha512', osHashValue: data.hashValue,
  });
  if (!done) throw new ApiError(410, `Image ${row.id} could not be found after upload. The image may have been deleted during the upload.`);
  return c.body(null, 204);
});

dataRoutes.get('/v2/images/:image_id/file', async (c) => {
  const { row, member } = await loadImage(c);
  authorize(c, 'download_image', targetOf(c, row, member));
  if (row.status === 'deactivated' && !isAdmin(c)) {
    throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
  }
  if (row.status !== 'active' && row.status !== 'deactivated') return c.body(null, 204);
  const range = c.req.header('Range');
  const res = await getImageData(c.env, row.id, range);
  const headers = new Headers({ 'Content-Type': 'application/octet-stream' });
  const length = res.headers.get('Content-Length');
  if (length) headers.set('Content-Length', length);
  if (res.status === 206) {
    headers.set('Content-Range', res.headers.get('Content-Range') ?? '');
  } else if (row.checksum) {
    // Only a whole download matches the image checksum, which clients verify.
    headers.set('Content-MD5', row.checksum);
  }
  return new Response(res.body, { status: res.status === 206 ? 206 : 200, headers });
});

dataRoutes.put('/v2/images/:image_id/stage', async (c) => {
  const { db, row } = await startWriting(c, 'upload_image', 'uploading');
  try {
    const staged = await receive(c, row);
    await db.update(images).set({ staged, updatedAt: isoNow() }).where(eq(images.id, row.id));
  } catch (err) {
    await transition(db, row.id, 'uploading', 'queued');
    throw err;
  }
  return c.body(null, 204);
});

dataRoutes.post('/v2/images/:image_id/import', async (c) => {
  const { db, row, member } = await loadImage(c);
  authorize(c, 'import_image', targetOf(c, row, member));
  const body = await jsonBody(c, importBody);
  const method = body.method.name;
  if (method !== 'glance-direct') throw badRequest(`Import method ${method} is not valid; this cloud offers glance-direct.`);
  for (const store of body.stores ?? []) if (store !== 'swift') throw badRequest(`Unknown store ${store}.`);
  if (row.status !== 'uploading' || !row.staged) {
    throw conflict("Image needs to be staged before 'glance-direct' method can be used");
  }
  // The staged object is already in the store: the import makes it the image's data.
  const s = row.staged;
  const done = await transition(db, row.id, 'uploading', 'active', {
    size: s.size, checksum: s.checksum, osHashAlgo: 'sha512', osHashValue: s.hashValue, staged: null,
  });
  if (!done) throw conflict(`Image ${row.id} changed status during the import.`);
  return c.body(null, 202);
});
