// Links as Nova's common.ViewBuilder makes them: a "self" link under /v2.1, a versionless
// "bookmark", and a "next" link on a list page that came back full.
import type { Context } from 'hono';
import { MAX_LIMIT } from '../schemas/query';

export interface Link {
  rel: string;
  href: string;
}

/** The public base of the compute API, e.g. http://127.0.0.1:8787/compute. */
export function computeBase(c: Context): string {
  return `${new URL(c.req.url).origin}/compute`;
}

export function resourceLinks(c: Context, collection: string, id: string): Link[] {
  const base = computeBase(c);
  return [
    { rel: 'self', href: `${base}/v2.1/${collection}/${id}` },
    { rel: 'bookmark', href: `${base}/${collection}/${id}` },
  ];
}

/**
 * The "next" link of a page, when the page holds as many items as it could (the limit
 * asked for, capped at MAX_LIMIT): the request's parameters, sorted, with marker set.
 */
export function collectionLinks(c: Context, collection: string, count: number, lastId: string | undefined): Link[] {
  const url = new URL(c.req.url);
  const asked = url.searchParams.get('limit');
  const max = Math.min(asked !== null && /^\d+$/.test(asked) ? Number(asked) : MAX_LIMIT, MAX_LIMIT);
  if (max === 0 || count !== max || lastId === undefined) return [];
  const params = new Map<string, string>();
  for (const [k, v] of url.searchParams) params.set(k, v);
  params.set('marker', lastId);
  const query = new URLSearchParams([...params].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return [{ rel: 'next', href: `${computeBase(c)}/v2.1/${collection}?${query.toString()}` }];
}
