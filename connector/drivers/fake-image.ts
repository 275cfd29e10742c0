// The fake driver's snapshots: a small raw disk of deterministic bytes for an instance,
// and its upload to Glance as nova-compute's image client does it: the formats first
// (a JSON patch of the image), then the data (PUT .../file), with the caller's token.
import { DriverError, type ImageUpload } from './driver';

/** Big enough to be a disk, small enough that a test uploads it in a moment. */
const SIZE = 64 * 1024;

/** The same bytes for the same instance and the same moment: a header, then an xorshift32 sequence. */
export function fakeDisk(instanceUuid: string, takenAt: number): Uint8Array {
  const bytes = new Uint8Array(SIZE);
  const header = new TextEncoder().encode(`FLARESTACK FAKE DISK ${instanceUuid} ${new Date(takenAt).toISOString()}\n`);
  bytes.set(header);
  let x = 0x9e3779b9 ^ takenAt;
  for (const ch of instanceUuid) x = (x * 31 + ch.charCodeAt(0)) | 0;
  if (x === 0) x = 1;
  for (let i = header.length; i < SIZE; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

async function check(res: Response, what: string, upload: ImageUpload): Promise<void> {
  if (res.ok) {
    await res.body?.cancel();
    return;
  }
  const text = (await res.text()).slice(0, 300);
  const said = `${what} of image ${upload.imageId} answered ${res.status}: ${text}`;
  if (res.status === 401 || res.status === 403) throw new DriverError('ImageNotAuthorized', `Not authorized for image ${upload.imageId}. ${said}`);
  if (res.status === 404 || res.status === 410) throw new DriverError('ImageNotFound', `Image ${upload.imageId} could not be found. ${said}`);
  throw new Error(said);
}

/** Sets the image's formats and uploads `data`; Glance makes the image active. */
export async function uploadImage(upload: ImageUpload, data: Uint8Array, diskFormat: string): Promise<void> {
  const headers = { 'X-Auth-Token': upload.token };
  const patch = await fetch(upload.imageUrl, {
    method: 'PATCH',
    headers: { ...headers, 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
    body: JSON.stringify([
      { op: 'replace', path: '/disk_format', value: diskFormat },
      { op: 'replace', path: '/container_format', value: 'bare' },
    ]),
  });
  await check(patch, 'PATCH', upload);
  const put = await fetch(upload.uploadUrl, {
    method: 'PUT',
    headers: { ...headers, 'Content-Type': 'application/octet-stream', 'Content-Length': String(data.byteLength) },
    body: data,
  });
  await check(put, 'PUT', upload);
}
