// Account and container listings: the query (prefix, delimiter, marker, end_marker,
// limit, reverse), the format (?format= or Accept: json, xml or plain) and the body.
import type { Context } from 'hono';
import { ApiError, badRequest } from '../../lib/errors';
import type { ContainerEntry, ListQuery, ObjectEntry, Subdir } from '../../durable-objects/swift-account';
import { listingDate } from './headers';
import { LIMITS } from './names';

export type ListingFormat = 'json' | 'xml' | 'plain';

const CONTENT_TYPES: Record<ListingFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  plain: 'text/plain; charset=utf-8',
};

function param(c: Context, name: string): string {
  const value = c.req.query(name) ?? '';
  if (value.includes('\0')) throw badRequest(`Invalid ${name}: contains NULL`);
  return value;
}

const TRUE = new Set(['true', '1', 'yes', 'on', 't', 'y']);

export function listQuery(c: Context): ListQuery {
  const raw = c.req.query('limit');
  let limit: number = LIMITS.containerListingLimit;
  if (raw !== undefined && raw !== '') {
    if (!/^\d+$/.test(raw)) throw badRequest(`Invalid limit: '${raw}' is not a non-negative integer`);
    limit = Number(raw);
    // Swift answers 412 (not 400) for a limit over its maximum.
    if (limit > LIMITS.containerListingLimit) throw new ApiError(412, `Maximum limit is ${LIMITS.containerListingLimit}`);
  }
  return {
    prefix: param(c, 'prefix'),
    delimiter: param(c, 'delimiter'),
    marker: param(c, 'marker'),
    endMarker: param(c, 'end_marker'),
    limit,
    reverse: TRUE.has(param(c, 'reverse').toLowerCase()),
  };
}

/** ?format= wins (unknown values mean plain, as in Swift); otherwise the Accept header. */
export function listingFormat(c: Context): ListingFormat {
  const format = c.req.query('format')?.toLowerCase();
  if (format) return format === 'json' || format === 'xml' ? format : 'plain';
  const accept = c.req.header('Accept')?.toLowerCase() ?? '';
  if (!accept) return 'plain';
  const ranked = accept.split(',').map((part, i) => {
    const [type = '', ...params] = part.split(';').map((s) => s.trim());
    const q = params.find((p) => p.startsWith('q='));
    return { type, q: q ? Number(q.slice(2)) : 1, i };
  }).filter((r) => r.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { type } of ranked) {
    if (type === 'application/json') return 'json';
    if (type === 'application/xml' || type === 'text/xml') return 'xml';
    if (type === 'text/plain' || type === 'text/*' || type === '*/*') return 'plain';
    if (type === 'application/*') return 'json';
  }
  throw new ApiError(406, 'The requested format is not acceptable.');
}

const xmlEscape = (s: string) =>
  s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch]!);

const isSubdir = (e: object): e is Subdir => 'subdir' in e;

/** An object as a container listing shows it; a static large object's manifest adds slo_etag. */
export type ListedObject = ObjectEntry & { slo_etag?: string };

type Entry = ContainerEntry | ListedObject | Subdir;

/**
 * A container record as Swift's proxy lists it. A manifest's record carries the SLO's
 * size and etag as parameters (storage.ts): the container server puts swift_bytes in
 * bytes (override_bytes_from_content_type), and slo.py's handle_container_listing moves
 * slo_etag out of hash, quoted, which leaves hash the MD5 of the manifest as stored.
 */
export function listedObject(e: ObjectEntry): ListedObject {
  const out: ListedObject = { ...e };
  const bytesAt = e.content_type.lastIndexOf(';');
  const param = bytesAt < 0 ? '' : e.content_type.slice(bytesAt + 1).trim();
  if (param.startsWith('swift_bytes=') && /^\d+$/.test(param.slice(12))) {
    out.content_type = e.content_type.slice(0, bytesAt);
    out.bytes = Number(param.slice(12));
  }
  const [hash = '', ...params] = e.hash.split(';').map((p) => p.trim());
  const sloEtag = params.find((p) => p.startsWith('slo_etag='));
  if (sloEtag !== undefined) {
    out.hash = [hash, ...params.filter((p) => p !== sloEtag)].join('; ');
    out.slo_etag = `"${sloEtag.slice(9)}"`;
  }
  return out;
}

function jsonEntry(e: Entry): object {
  if (isSubdir(e)) return e;
  return { ...e, last_modified: listingDate(e.last_modified) };
}

function xmlEntry(e: Entry, tag: string): string {
  if (isSubdir(e)) return `<subdir name="${xmlEscape(e.subdir)}"><name>${xmlEscape(e.subdir)}</name></subdir>`;
  // Swift's listing_formats writes the fixed fields only: no slo_etag in XML.
  const fields = Object.entries(jsonEntry(e)).filter(([k]) => k !== 'slo_etag').map(([k, v]) => `<${k}>${xmlEscape(String(v))}</${k}>`).join('');
  return `<${tag}>${fields}</${tag}>`;
}

/**
 * The listing response. An empty plain listing is 204 as in Swift; json and xml are 200
 * with an empty list.
 */
export function listingResponse(
  c: Context,
  kind: 'account' | 'container',
  name: string,
  entries: Entry[],
  headers: Record<string, string>,
): Response {
  const format = listingFormat(c);
  let body: string;
  if (format === 'json') body = JSON.stringify(entries.map(jsonEntry));
  else if (format === 'xml') {
    const tag = kind === 'account' ? 'container' : 'object';
    body = `<?xml version="1.0" encoding="UTF-8"?>\n<${kind} name="${xmlEscape(name)}">${entries.map((e) => xmlEntry(e, tag)).join('')}</${kind}>`;
  } else body = entries.map((e) => `${isSubdir(e) ? e.subdir : e.name}\n`).join('');
  const status = format === 'plain' && entries.length === 0 ? 204 : 200;
  const all = { ...headers, 'Content-Type': CONTENT_TYPES[format] };
  return new Response(status === 204 ? null : body, { status, headers: all });
}
