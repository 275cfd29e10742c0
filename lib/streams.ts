// Copying a body in workerd a MiB at a time: a BYOB read lets the runtime fill one buffer
// from the body's 4 KiB chunks, so the script runs a few turns per MiB instead of one per
// chunk, and the buffer serves again once the write settles (a FixedLengthStream's write
// settles when its bytes were read). Fresh buffers would wait for a garbage collection.
// Also how a FixedLengthStream is read into another: workerd cannot pipe one into one.

export const COPY_SIZE = 1 << 20;

/** The body ended before the length it was to have. */
export class ShortBodyError extends Error {}

/**
 * Copies from reader to writer through `buffer` (handed back for the next copy): exactly
 * `length` bytes when given (ShortBodyError if the body ends first), else up to the end.
 * `each` sees every piece before it is written (a digest, say).
 */
export async function copyThrough(
  reader: ReadableStreamBYOBReader, writer: WritableStreamDefaultWriter<Uint8Array>, buffer: ArrayBuffer,
  opts: { length?: number; each?: (piece: Uint8Array) => Promise<unknown> } = {},
): Promise<ArrayBuffer> {
  for (let left = opts.length ?? Infinity; left > 0;) {
    const want = Math.min(buffer.byteLength, left);
    const r = await reader.readAtLeast(want, new Uint8Array(buffer, 0, want));
    buffer = (r.value?.buffer as ArrayBuffer | undefined) ?? new ArrayBuffer(COPY_SIZE);
    const got = r.value?.byteLength ?? 0;
    if (got < want && opts.length !== undefined) throw new ShortBodyError();
    if (got) {
      await Promise.all([opts.each?.(r.value!), writer.write(r.value!)]);
      left -= got;
    }
    if (r.done) break;
  }
  return buffer;
}
