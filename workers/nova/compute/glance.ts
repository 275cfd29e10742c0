// Nova's image API (nova/image/glance.py), as far as rebuild, resize and snapshots need
// it: read an image as the caller sees it, create a snapshot's image, and delete one that
// failed. Always with the caller's token: Glance's own rules decide what they may do.
import { ApiError, badRequest, forbidden } from '../../../lib/errors';
import type { C } from './api';

export interface GlanceImage {
  id: string;
  status: string;
  min_disk?: number;
  min_ram?: number;
  disk_format?: string | null;
  checksum?: string | null;
  [property: string]: unknown;
}

const imageUrl = (c: C, id: string) => `${new URL(c.req.url).origin}/image/v2/images/${encodeURIComponent(id)}`;

/** The image as the caller sees it; null when Glance has none by that id for them. */
export async function findImage(c: C, id: string): Promise<GlanceImage | null> {
  const res = await c.env.GLANCE.fetch(new Request(imageUrl(c, id), { headers: { 'X-Auth-Token': c.var.auth.token } }));
  if (res.status === 404 || res.status === 400) {
    await res.body?.cancel();
    return null;
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ApiError(503, `The image service answered ${res.status} for image ${id}.`);
  }
  return (await res.json()) as GlanceImage;
}

/** Image properties as strings, for the scheduler's image properties filter and the host. */
export function imageProperties(image: GlanceImage | null): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(image ?? {})) {
    if (typeof v === 'string' && (k.startsWith('hw_') || k.startsWith('img_') || k === 'architecture' || k === 'hypervisor_type' || k === 'kernel_id' || k === 'ramdisk_id' || k === 'os_type')) props[k] = v;
  }
  return props;
}

/** What a spawn on a host is told about its image. */
export function spawnImage(id: string, image: GlanceImage | null) {
  return { id, checksum: image?.checksum ?? null, diskFormat: image?.disk_format ?? null, properties: imageProperties(image) };
}

/** Glance's answer to a refused create, as Nova passes it on. */
async function refused(res: Response): Promise<ApiError> {
  const text = await res.text();
  let message = text;
  try {
    const body = JSON.parse(text) as { message?: string };
    message = body.message ?? text;
  } catch {
    // Glance's plain-text errors are said as they are.
  }
  if (res.status === 400) return badRequest(message);
  if (res.status === 403 || res.status === 413) return forbidden(message);
  return new ApiError(503, `The image service answered ${res.status}: ${message.slice(0, 200)}`);
}

/** Creates an image record in Glance (queued, no data yet) with the caller's token. */
export async function createImage(c: C, body: Record<string, unknown>): Promise<GlanceImage> {
  const res = await c.env.GLANCE.fetch(
    new Request(`${new URL(c.req.url).origin}/image/v2/images`, {
      method: 'POST',
      headers: { 'X-Auth-Token': c.var.auth.token, 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    }),
  );
  if (res.status !== 201) throw await refused(res);
  return (await res.json()) as GlanceImage;
}

/** Shares an image with a project (a snapshot an admin made of another project's server). */
export async function addImageMember(c: C, id: string, projectId: string): Promise<void> {
  const res = await c.env.GLANCE.fetch(
    new Request(`${imageUrl(c, id)}/members`, {
      method: 'POST',
      headers: { 'X-Auth-Token': c.var.auth.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ member: projectId }),
    }),
  );
  await res.body?.cancel();
}

/** Deletes an image the caller made, if it is still there; failures are only logged. */
export async function deleteImage(glance: Fetcher, url: string, token: string): Promise<void> {
  try {
    const res = await glance.fetch(new Request(url, { method: 'DELETE', headers: { 'X-Auth-Token': token } }));
    await res.body?.cancel();
    if (!res.ok && res.status !== 404) console.warn(`could not delete image ${url}: ${res.status}`);
  } catch (err) {
    console.warn(`could not delete image ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

export { imageUrl };
