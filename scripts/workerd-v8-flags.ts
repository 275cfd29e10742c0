// V8 flags for the local cloud's workerd. workerd reads them from its config (`v8Flags`,
// field 2 of the root Config struct), but Miniflare has no option for them; so the config
// Miniflare serialises is handed to workerd with the flags added.
//
// Why: each 4 KiB chunk of a streamed body is an ArrayBuffer that V8 counts only as
// external memory, and the local R2 passes every chunk through a script; the dead chunks
// pile up in workerd, and those that lived through two young-generation collections wait
// for an old-generation one. Small semi-spaces, --optimize-for-size and a tight old
// generation (grown by 10 % over what a collection leaves) keep workerd's growth while
// 1 GiB streams through it to ~60 MB, against ~190 MB; they cost large uploads ~15 %
// and nothing measurable elsewhere.
import type { Runtime } from 'miniflare';

export const WORKERD_V8_FLAGS = ['--max-semi-space-size=1', '--optimize-for-size', '--heap-growing-percent=10'];

const V8_FLAGS_POINTER = 2; // Config.v8Flags, in workerd.capnp

/**
 * Returns a Cap'n Proto Config message (standard framing, unpacked) with its v8Flags set.
 * The list goes into a new segment, reached from the root struct by a far pointer, so
 * nothing already in the message moves. Throws if the message is not what Miniflare writes
 * (a plain root struct pointer, v8Flags unset).
 */
export function withV8Flags(message: Uint8Array, flags: string[]): Buffer {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const segmentCount = view.getUint32(0, true) + 1;
  const sizes = Array.from({ length: segmentCount }, (_, i) => view.getUint32(4 + 4 * i, true));
  const tableBytes = (4 * (1 + segmentCount) + 7) & ~7;

  // The root pointer is segment 0's first word: a struct pointer (kind 0).
  const rootLo = view.getUint32(tableBytes, true);
  const rootHi = view.getUint32(tableBytes + 4, true);
  if ((rootLo & 3) !== 0) throw new Error('workerd config: the root is not a plain struct pointer');
  const offset = rootLo >> 2; // signed, in words from the pointer's end
  const dataWords = rootHi & 0xffff;
  const pointerCount = rootHi >>> 16;
  if (pointerCount <= V8_FLAGS_POINTER) throw new Error('workerd config: the root struct has no v8Flags pointer');
  const slot = tableBytes + 8 * (1 + offset + dataWords + V8_FLAGS_POINTER);
  if (view.getUint32(slot, true) !== 0 || view.getUint32(slot + 4, true) !== 0) throw new Error('workerd config: v8Flags already set');

  // The new segment: a landing pad (a list pointer), the list of text pointers, the texts.
  const texts = flags.map((f) => new TextEncoder().encode(`${f}\0`));
  const textWords = texts.map((t) => Math.ceil(t.byteLength / 8));
  const segmentWords = 1 + flags.length + textWords.reduce((a, b) => a + b, 0);
  const segment = new DataView(new ArrayBuffer(segmentWords * 8));
  const listPointer = (at: number, target: number, elementSize: number, count: number) => {
    segment.setUint32(at * 8, ((target - at - 1) << 2) | 1, true);
    segment.setUint32(at * 8 + 4, ((count << 3) | elementSize) >>> 0, true);
  };
  listPointer(0, 1, 6, flags.length); // element size 6: pointers
  let next = 1 + flags.length;
  texts.forEach((text, i) => {
    listPointer(1 + i, next, 2, text.byteLength); // element size 2: bytes
    new Uint8Array(segment.buffer, next * 8, text.byteLength).set(text);
    next += textWords[i]!;
  });

  const newTableBytes = (4 * (2 + segmentCount) + 7) & ~7;
  const out = Buffer.alloc(newTableBytes + (message.byteLength - tableBytes) + segment.byteLength);
  out.writeUInt32LE(segmentCount, 0);
  [...sizes, segmentWords].forEach((size, i) => out.writeUInt32LE(size, 4 + 4 * i));
  out.set(message.subarray(tableBytes), newTableBytes);
  out.set(new Uint8Array(segment.buffer), newTableBytes + message.byteLength - tableBytes);
  // A far pointer (kind 2) to the landing pad at word 0 of the new segment.
  const farSlot = slot - tableBytes + newTableBytes;
  out.writeUInt32LE(2, farSlot);
  out.writeUInt32LE(segmentCount, farSlot + 4);
  return out;
}

let installed: string[] | null = null;

/**
 * Makes every workerd that Miniflare starts from now on run with these V8 flags. Miniflare's
 * Runtime is passed in, so that this module does not load Miniflare before the launcher does.
 */
export function useWorkerdV8Flags(runtime: typeof Runtime, flags: string[] = WORKERD_V8_FLAGS): void {
  if (installed) {
    installed = flags;
    return;
  }
  installed = flags;
  const updateConfig = runtime.prototype.updateConfig;
  runtime.prototype.updateConfig = function (config, ...rest) {
    return updateConfig.call(this, installed!.length ? withV8Flags(config, installed!) : config, ...rest);
  };
}
