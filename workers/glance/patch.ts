// JSON patch of an image (media type application/openstack-images-v2.1-json-patch), with
// Glance's rules: "add" sets, "replace" needs the attribute to exist, "remove" only
// takes custom properties; read-only and reserved attributes are a 403.
import { ApiError, badRequest, conflict, forbidden } from '../../lib/errors';
import { validate } from '../../lib/validation';
import type { ImageRow } from './db';
import { CORE, checkPropertyKeys, refuseProtected, writableImage, type WritableImage } from './schemas/images';

export const PATCH_MEDIA_TYPES = ['application/openstack-images-v2.1-json-patch', 'application/openstack-images-v2.0-json-patch'];

/** The attributes a client may write, core and custom, as one flat object. */
export function writableOf(row: ImageRow): Record<string, unknown> {
  return {
    ...row.properties,
    name: row.name, visibility: row.visibility, protected: row.protected, os_hidden: row.osHidden, owner: row.owner,
    min_ram: row.minRam, min_disk: row.minDisk, disk_format: row.diskFormat, container_format: row.containerFormat,
    tags: row.tags,
  };
}

const CORE_KEYS = new Set<string>(CORE);

function decodePointer(path: unknown): string {
  if (typeof path !== 'string') throw badRequest('Unable to find \'path\' in JSON Schema change');
  if (!path.startsWith('/')) throw badRequest(`Pointer \`${path}\` does not start with "/".`);
  if (path.endsWith('/') && path.length > 1) throw badRequest(`Pointer \`${path}\` end with "/".`);
  if (/~[^01]|~$/.test(path)) throw badRequest(`Pointer \`${path}\` contains "~" not part of a recognized escape sequence.`);
  const parts = path.slice(1).split('/');
  if (parts.length !== 1 || parts[0] === '') throw badRequest(`Invalid JSON pointer for this resource: '${path}'`);
  return parts[0]!.replace(/~1/g, '/').replace(/~0/g, '~');
}

/** Applies the operations to the image's writable attributes and returns the validated result. */
export function applyPatch(row: ImageRow, body: unknown): WritableImage {
  if (!Array.isArray(body)) throw badRequest('Request body must be a JSON array of operation objects.');
  const doc = writableOf(row);
  for (const raw of body as unknown[]) {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw badRequest('Operations must be JSON objects.');
    const change = raw as Record<string, unknown>;
    const op = change.op;
    if (op === undefined) throw badRequest("Unable to find 'op' in JSON Schema change");
    if (op !== 'add' && op !== 'replace' && op !== 'remove') {
      throw badRequest(`Invalid operation: \`${String(op)}\`: must be one of "add", "remove" or "replace".`);
    }
    const key = decodePointer(change.path);
    refuseProtected(key);
    if (op === 'remove') {
      if (CORE_KEYS.has(key)) throw forbidden(`Property ${key} may not be removed.`);
      if (!(key in doc)) throw conflict(`Property ${key} does not exist.`);
      delete doc[key];
      continue;
    }
    if (!('value' in change)) throw badRequest(`Operation "${op}" requires a member named "value".`);
    if (op === 'replace' && !CORE_KEYS.has(key) && !(key in doc)) throw conflict(`Property ${key} does not exist.`);
    doc[key] = change.value;
  }
  const out = validate(writableImage, doc);
  const { name: _n, visibility: _v, protected: _p, os_hidden: _h, owner: _o, min_ram: _r, min_disk: _d,
    disk_format: _df, container_format: _cf, tags: _t, ...props } = out;
  checkPropertyKeys(props as Record<string, string>);
  return out;
}

/** Splits validated attributes into the row's core columns and its custom properties. */
export function rowFields(w: WritableImage): Partial<ImageRow> & { properties: Record<string, string> } {
  const { name, visibility, protected: prot, os_hidden, owner, min_ram, min_disk, disk_format, container_format, tags, ...rest } = w;
  const properties: Record<string, string> = {};
  for (const [k, v] of Object.entries(rest)) if (typeof v === 'string') properties[k] = v;
  const out: Partial<ImageRow> & { properties: Record<string, string> } = { properties };
  if (name !== undefined) out.name = name;
  if (visibility !== undefined) out.visibility = visibility;
  if (prot !== undefined) out.protected = prot;
  if (os_hidden !== undefined) out.osHidden = os_hidden;
  if (owner !== undefined) out.owner = owner;
  if (min_ram !== undefined) out.minRam = min_ram;
  if (min_disk !== undefined) out.minDisk = min_disk;
  if (disk_format !== undefined) out.diskFormat = disk_format;
  if (container_format !== undefined) out.containerFormat = container_format;
  if (tags !== undefined) out.tags = [...new Set(tags)];
  return out;
}

/** Formats may change only while an image has no data, as Glance's domain model says. */
export function checkFormatChange(row: ImageRow, next: Partial<ImageRow>): void {
  for (const [attr, before, after] of [
    ['disk_format', row.diskFormat, next.diskFormat],
    ['container_format', row.containerFormat, next.containerFormat],
  ] as const) {
    if (after !== undefined && after !== before && row.status !== 'queued' && row.status !== 'importing') {
      throw new ApiError(403, `Attribute ${attr} can be only replaced for a queued image.`);
    }
  }
}
