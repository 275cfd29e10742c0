// JSON views of Keystone resources, each with its "links.self".
import type { Context } from 'hono';
import { nextLink, pageParams, paginate } from '../../lib/pagination';

/** The public base URL of the identity API, e.g. http://127.0.0.1:8787/identity. */
export function identityBase(c: Context): string {
  const u = new URL(c.req.url);
  return `${u.origin}/identity`;
}

export function selfLink(c: Context, path: string): { self: string } {
  return { self: `${identityBase(c)}/v3/${path}` };
}

/** The collection links of a list response. */
export function collectionLinks(c: Context, next: string | null = null) {
  return { self: c.req.url, previous: null, next };
}

/** Free-form attributes sit beside the core ones in the JSON, as Keystone returns them. */
export function withExtra<T extends object>(core: T, extra: Record<string, unknown>): T & Record<string, unknown> {
  return { ...extra, ...core };
}

/** One page of a list (limit/marker) and the collection links with "next". */
export function page<T extends { id: string }>(c: Context, rows: T[]) {
  const { items, more } = paginate(rows, pageParams(c));
  return { items, links: collectionLinks(c, nextLink(c.req.url, items[items.length - 1], more)) };
}
