// Conditional requests (If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since)
// and byte ranges, as Swift's object server applies them (RFC 7232 / 7233).
import { ApiError } from '../../lib/errors';

const unquote = (s: string) => s.trim().replace(/^W\//, '').replace(/^"|"$/g, '');

function matches(header: string, etag: string): boolean {
  return header.split(',').some((t) => t.trim() === '*' || unquote(t) === etag);
}

function parseDate(value: string | undefined): number | null {
  if (!value) return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t / 1000;
}

/**
 * Evaluates the preconditions against an object's etag (unquoted) and timestamp: 'ok',
 * 304 (not modified: GET/HEAD only) or throws 412.
 */
export function preconditions(headers: Headers, etag: string, timestamp: string): 'ok' | 304 {
  const lastModified = Math.ceil(Number(timestamp));
  const ifMatch = headers.get('if-match');
  if (ifMatch !== null && !matches(ifMatch, etag)) throw new ApiError(412, 'A precondition for this request was not met.');
  const unmodified = parseDate(headers.get('if-unmodified-since') ?? undefined);
  if (ifMatch === null && unmodified !== null && lastModified > unmodified) {
    throw new ApiError(412, 'A precondition for this request was not met.');
  }
  const ifNoneMatch = headers.get('if-none-match');
  if (ifNoneMatch !== null && matches(ifNoneMatch, etag)) return 304;
  const modified = parseDate(headers.get('if-modified-since') ?? undefined);
  if (ifNoneMatch === null && modified !== null && lastModified <= modified) return 304;
  return 'ok';
}

export interface ByteRange {
  offset: number;
  length: number;
}

/**
 * The ranges a Range header asks of an object of this size: undefined when there is no
 * header or it does not parse (the whole object is sent, as in Swift); 416 when none can
 * be satisfied.
 */
export function parseRanges(header: string | null, size: number): ByteRange[] | undefined {
  if (!header) return undefined;
  const m = /^\s*bytes\s*=\s*(.+)$/i.exec(header);
  if (!m) return undefined;
  const ranges: ByteRange[] = [];
  for (const spec of m[1]!.split(',')) {
    const r = /^\s*(\d*)\s*-\s*(\d*)\s*$/.exec(spec);
    if (!r || (r[1] === '' && r[2] === '')) return undefined;
    if (r[1] === '') {
      const suffix = Number(r[2]);
      if (suffix === 0) continue;
      const length = Math.min(suffix, size);
      ranges.push({ offset: size - length, length });
      continue;
    }
    const first = Number(r[1]);
    const last = r[2] === '' ? size - 1 : Number(r[2]);
    if (last < first) return undefined;
    if (first >= size) continue;
    ranges.push({ offset: first, length: Math.min(last, size - 1) - first + 1 });
  }
  if (!ranges.length) throw new ApiError(416, 'The Range requested is not available.', { 'Content-Range': `bytes */${size}` });
  return ranges;
}

export const contentRange = (r: ByteRange, size: number) => `bytes ${r.offset}-${r.offset + r.length - 1}/${size}`;

/** Whether a Range header parses (swob's req.range): an unsatisfiable one still counts, a malformed one is ignored. */
export function hasRange(header: string | null): boolean {
  try {
    return parseRanges(header, 1) !== undefined;
  } catch {
    return true;
  }
}
