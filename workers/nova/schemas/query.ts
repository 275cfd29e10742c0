// Query strings as Nova's query schemas read them: a parameter given twice counts with its
// last value (webob's MultiDict), integers are digits, and from microversion 2.75 on most
// list APIs refuse parameters they do not know.
import type { Context } from 'hono';
import { badRequest } from '../../../lib/errors';

/** Nova's [api] max_limit: the most items one page holds, and the page size when none is asked. */
export const MAX_LIMIT = 1000;

/** The last value of a query parameter, or undefined when it is absent. */
export function queryParam(c: Context, key: string): string | undefined {
  const all = c.req.queries(key);
  return all && all.length > 0 ? all[all.length - 1] : undefined;
}

/** Refuses parameters outside `allowed` (additionalProperties: false in Nova's query schema). */
export function refuseUnknownQuery(c: Context, allowed: readonly string[]): void {
  const unknown = [...new Set(new URL(c.req.url).searchParams.keys())].filter((k) => !allowed.includes(k));
  if (unknown.length === 0) return;
  const list = unknown.map((k) => `'${k}'`).join(', ');
  throw badRequest(`Additional properties are not allowed (${list} ${unknown.length === 1 ? 'was' : 'were'} unexpected)`);
}

/** A query parameter that must be a non-negative integer (parameter_types.non_negative_integer). */
export function nonNegativeQuery(c: Context, key: string): number | undefined {
  const raw = queryParam(c, key);
  if (raw === undefined) return undefined;
  if (raw === '') throw badRequest(`Invalid input for query parameters ${key}. Value: ${raw}. '' is too short`);
  if (!/^[0-9]+$/.test(raw)) throw badRequest(`Invalid input for query parameters ${key}. Value: ${raw}. '${raw}' does not match '^[0-9]*$'`);
  return Number(raw);
}

/** common.get_limit_and_marker: limit capped at MAX_LIMIT (and MAX_LIMIT when absent), marker as given. */
export function limitAndMarker(c: Context): { limit: number; marker: string | undefined } {
  const limit = nonNegativeQuery(c, 'limit');
  return { limit: Math.min(limit ?? MAX_LIMIT, MAX_LIMIT), marker: queryParam(c, 'marker') };
}

/** A query parameter from a fixed set (an enum in the query schema). */
export function enumQuery<T extends string>(c: Context, key: string, values: readonly T[]): T | undefined {
  const raw = queryParam(c, key);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) {
    throw badRequest(`Invalid input for query parameters ${key}. Value: ${raw}. '${raw}' is not one of [${values.map((v) => `'${v}'`).join(', ')}]`);
  }
  return raw as T;
}
