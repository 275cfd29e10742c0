// An object larger than STRIPE_SIZE with a known length is kept in R2 as stripes, as
// Ceph's RADOS Gateway keeps a large object in RADOS objects of a fixed size: one R2 put
// per stripe, and reads that pipe stripe after stripe natively. Why: the local R2 keeps
// ~200 bytes of JavaScript objects per 4 KiB chunk of a put until that put ends (+55 MB
// of workerd per GiB); stripes bound that to one stripe's worth. Its multipart uploads
// would too, but it reads them back through JavaScript, at a twentieth of the speed.
//
// The stripes' key, kept as the object's record key, says everything a read needs:
// ".stripes/<uuid>/<stripe size>/<object size>", with stripe i at ".stripes/<uuid>/<i>".
// A key is never reused, so a new version never races an old one over its data. Account
// keys begin with "AUTH_" (acl.ts refuses any other account), so no object's own key
// can start like this.
// Stripe 0 carries the object's metadata (content type, x-timestamp, user metadata); its
// etag is the listing's, known only once every byte is read.

import { COPY_SIZE, copyThrough, ShortBodyError } from '../../lib/streams';

export const STRIPE_SIZE = 64 << 20;
const PREFIX = '.stripes/';

export interface Stripes {
  /** The object's record key. */
  key: string;
  size: number;
  stripeSize: number;
  count: number;
  /** The key of stripe i. */
  at(i: number): string;
}

/** The stripes a record key describes; null for an object kept whole. */
export function stripesOf(key: string): Stripes | null {
  if (!key.startsWith(PREFIX)) return null;
  const [uuid, stripeSize, size] = key.slice(PREFIX.length).split('/');
  const s = Number(stripeSize);
  const n = Number(size);
  if (!uuid || !(s > 0) || !(n > 0)) return null;
  return { key, size: n, stripeSize: s, count: Math.ceil(n / s), at: (i) => `${PREFIX}${uuid}/${i}` };
}

function newStripes(size: number): Stripes {
  return stripesOf(`${PREFIX}${crypto.randomUUID()}/${STRIPE_SIZE}/${size}`)!;
}

/** Removes every stripe (those never written are simply absent). */
export async function deleteStripes(bucket: R2Bucket, stripes: Stripes): Promise<void> {
  const keys = Array.from({ length: stripes.count }, (_, i) => stripes.at(i));
  for (let i = 0; i < keys.length; i += 1000) await bucket.delete(keys.slice(i, i + 1000));
}

/** The body ended before its declared length, or went on after it. */
export class BodyLengthError extends Error {}

/**
 * Streams a body of a known length into new stripes; returns them and the body's MD5.
 * Nothing is left behind when it fails.
 */
export async function writeStripes(
  bucket: R2Bucket, body: ReadableStream<Uint8Array>, size: number, metadata: R2PutOptions,
): Promise<{ stripes: Stripes; md5: ArrayBuffer }> {
  const stripes = newStripes(size);
  const reader = body.getReader({ mode: 'byob' });
  const digest = new crypto.DigestStream('MD5');
  const md5 = digest.getWriter();
  let buffer = new ArrayBuffer(COPY_SIZE);
  try {
    for (let i = 0; i < stripes.count; i++) {
      const length = Math.min(stripes.stripeSize, size - i * stripes.stripeSize);
      const { readable, writable } = new FixedLengthStream(length);
      const put = bucket.put(stripes.at(i), readable, i === 0 ? metadata : {});
      const writer = writable.getWriter();
      const copy = async () => {
        try {
          buffer = await copyThrough(reader, writer, buffer, { length, each: (piece) => md5.write(piece) });
        } catch (err) {
          throw err instanceof ShortBodyError ? new BodyLengthError() : err;
        }
        await writer.close();
      };
      const [stored, copied] = await Promise.allSettled([put, copy()]);
      if (copied.status === 'rejected') {
        await writer.abort(copied.reason).catch(() => undefined);
        throw copied.reason;
      }
      if (stored.status === 'rejected') throw stored.reason;
    }
    const end = await reader.read(new Uint8Array(buffer, 0, 1));
    if (!end.done) throw new BodyLengthError();
    await md5.close();
    return { stripes, md5: await digest.digest };
  } catch (err) {
    await reader.cancel().catch(() => undefined);
    await deleteStripes(bucket, stripes);
    throw err;
  }
}

/**
 * The bytes [offset, offset + length) of striped data as one stream of that length.
 * `first` is stripe 0's body when the range starts in it (read already, for its
 * metadata); later stripes are read as their turn comes, each piped
 * natively. A stripe gone meanwhile (the object replaced) cuts the stream. The stream is
 * a FixedLengthStream's: workerd cannot pipe it into another one, only read it.
 */
export function readStripes(
  bucket: R2Bucket, stripes: Stripes, offset: number, length: number, first?: ReadableStream<Uint8Array>,
): ReadableStream<Uint8Array> {
  const { readable, writable } = new FixedLengthStream(length);
  const end = offset + length;
  const pump = async () => {
    for (let i = Math.floor(offset / stripes.stripeSize); i * stripes.stripeSize < end; i++) {
      const start = i * stripes.stripeSize;
      const from = Math.max(offset, start) - start;
      const to = Math.min(end, start + stripes.stripeSize) - start;
      let body: ReadableStream<Uint8Array>;
      if (i === 0 && first) {
        body = first;
      } else {
        const got = await bucket.get(stripes.at(i), { range: { offset: from, length: to - from } });
        if (!got) throw new Error(`stripe ${i} of ${stripes.key} is gone`);
        body = got.body;
      }
      await body.pipeTo(writable, { preventClose: true });
    }
    await writable.close();
  };
  pump().catch(async (err: unknown) => {
    console.error('swift: a striped object read stopped:', err instanceof Error ? err.message : err);
    await writable.abort(err).catch(() => undefined);
  });
  return readable as ReadableStream<Uint8Array>;
}
