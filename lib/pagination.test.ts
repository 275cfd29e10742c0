import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { ApiError } from './errors';
import { nextLink, pageParams, paginate, type Page } from './pagination';

const items = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id }));
const ids = (r: { items: { id: string }[] }) => r.items.map((i) => i.id);

/** Runs pageParams on a real Hono context for the given query string. */
async function params(query: string, maxLimit?: number): Promise<Page> {
  const app = new Hono();
  let page: Page | undefined;
  app.get('/x', (c) => {
    page = pageParams(c, maxLimit);
    return c.body(null, 204);
  });
  app.onError((err) => {
    throw err;
  });
  await app.request(`/x${query}`);
  return page!;
}

/** The ApiError a call throws, or fails the test when it throws none. */
async function apiError(f: () => unknown): Promise<ApiError> {
  try {
    await f();
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('pageParams', () => {
  it('reads limit and marker', async () => {
    expect(await params('')).toEqual({ limit: undefined, marker: undefined });
    expect(await params('?limit=2&marker=b')).toEqual({ limit: 2, marker: 'b' });
    expect(await params('?limit=&marker=')).toEqual({ limit: undefined, marker: undefined });
    expect(await params('?limit=0')).toEqual({ limit: 0, marker: undefined });
  });

  it('caps the limit', async () => {
    expect((await params('?limit=5000')).limit).toBe(1000);
    expect((await params('?limit=50', 10)).limit).toBe(10);
  });

  it('answers 400 to a limit that is not a non-negative integer', async () => {
    for (const bad of ['-1', 'abc', '1.5', '2x', ' 3']) {
      const err = await apiError(() => params(`?limit=${encodeURIComponent(bad)}`));
      expect(err.status, bad).toBe(400);
      expect(err.message).toMatch(/limit/);
    }
  });
});

describe('paginate', () => {
  it('returns everything without a limit', () => {
    const r = paginate(items, { limit: undefined, marker: undefined });
    expect(ids(r)).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(r.more).toBe(false);
  });

  it('walks the pages with limit and marker', () => {
    const p1 = paginate(items, { limit: 2, marker: undefined });
    expect(ids(p1)).toEqual(['a', 'b']);
    expect(p1.more).toBe(true);
    const p2 = paginate(items, { limit: 2, marker: 'b' });
    expect(ids(p2)).toEqual(['c', 'd']);
    expect(p2.more).toBe(true);
    const p3 = paginate(items, { limit: 2, marker: 'd' });
    expect(ids(p3)).toEqual(['e']);
    expect(p3.more).toBe(false);
  });

  it('says no more when the page ends exactly at the last item', () => {
    const r = paginate(items, { limit: 2, marker: 'c' });
    expect(ids(r)).toEqual(['d', 'e']);
    expect(r.more).toBe(false);
    expect(paginate(items, { limit: undefined, marker: 'e' }).items).toEqual([]);
  });

  it('answers 400 to an unknown marker', async () => {
    const err = await apiError(() => paginate(items, { limit: 2, marker: 'zzz' }));
    expect(err.status).toBe(400);
    expect(err.message).toMatch(/zzz/);
  });
});

describe('nextLink', () => {
  it('sets the marker to the last item and keeps the other parameters', () => {
    const link = nextLink('http://h/identity/v3/users?limit=2&name=x&marker=a', { id: 'c' }, true);
    const u = new URL(link!);
    expect(u.pathname).toBe('/identity/v3/users');
    expect(u.searchParams.get('marker')).toBe('c');
    expect(u.searchParams.get('limit')).toBe('2');
    expect(u.searchParams.get('name')).toBe('x');
    expect(u.searchParams.getAll('marker')).toHaveLength(1);
  });

  it('is null on the last page or an empty one', () => {
    expect(nextLink('http://h/x?limit=2', { id: 'e' }, false)).toBeNull();
    expect(nextLink('http://h/x?limit=2', undefined, true)).toBeNull();
  });
});
