// limit/marker pagination, as every OpenStack list API does it: results sorted by a
// stable key, "marker" is the id of the last item seen, "limit" caps the page size.
import type { Context } from 'hono';
import { badRequest } from './errors';

export interface Page {
  limit: number | undefined;
  marker: string | undefined;
}

export function pageParams(c: Context, maxLimit = 1000): Page {
  const rawLimit = c.req.query('limit');
  const marker = c.req.query('marker') || undefined;
  if (rawLimit === undefined || rawLimit === '') return { limit: undefined, marker };
  if (!/^\d+$/.test(rawLimit)) throw badRequest(`Invalid value for 'limit': '${rawLimit}' is not a non-negative integer.`);
  return { limit: Math.min(Number(rawLimit), maxLimit), marker };
}

/**
 * Applies a page to items already sorted by id. Returns the page and whether more follow.
 * An unknown marker is a 400, as in Nova and Neutron.
 */
export function paginate<T extends { id: string }>(items: T[], page: Page): { items: T[]; more: boolean } {
  let start = 0;
  if (page.marker !== undefined) {
    const at = items.findIndex((i) => i.id === page.marker);
    if (at < 0) throw badRequest(`Marker ${page.marker} could not be found.`);
    start = at + 1;
  }
  const end = page.limit === undefined ? items.length : start + page.limit;
  return { items: items.slice(start, end), more: end < items.length };
}

/** The "next" link of a page: the same URL with marker set to the last item's id. */
export function nextLink(url: string, last: { id: string } | undefined, more: boolean): string | null {
  if (!more || !last) return null;
  const u = new URL(url);
  u.searchParams.set('marker', last.id);
  return u.toString();
}
