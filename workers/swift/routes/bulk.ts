// Bulk delete (swift/common/middleware/bulk.py): POST or DELETE /v1/<account>?bulk-delete
// with a text/plain body of URL-encoded /container/object or /container lines. The answer
// is always 200; the body (text, JSON or XML by Accept) carries the real outcome.
import { Hono, type Context } from 'hono';
import { ApiError } from '../../../lib/errors';
import { authorizeSwift } from '../access';
import type { SwiftEnv } from '../env';
import { deleteContainer, deleteObject } from '../storage';
import { capabilities } from './info';

export const MAX_DELETES_PER_REQUEST = 10_000;
export const MAX_FAILED_DELETES = 1_000;
// Swift's MAX_OBJECT_NAME_LENGTH + MAX_CONTAINER_NAME_LENGTH + 2
const MAX_PATH_LENGTH = 1024 + 256 + 2;
// Deletes in flight at once (Swift's delete_concurrency is 2; a Durable Object call is cheaper).
const CONCURRENCY = 8;

/** What /info advertises under "bulk_delete"; swift delete uses bulk delete when it is there. */
export const BULK_DELETE_INFO = { max_deletes_per_request: MAX_DELETES_PER_REQUEST, max_failed_deletes: MAX_FAILED_DELETES };

// Mounting this module is what offers bulk delete; `swift delete` looks for it in /info.
capabilities.bulk_delete = BULK_DELETE_INFO;

const STATUS_TEXT: Record<number, string> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  406: '406 Not Acceptable',
  409: '409 Conflict',
  411: '411 Length Required',
  412: '412 Precondition Failed',
  413: '413 Request Entity Too Large',
  422: '422 Unprocessable Entity',
  500: '500 Internal Error',
  502: '502 Bad Gateway',
};
export const statusLine = (code: number) => STATUS_TEXT[code] ?? `${code} Error`;

const ACCEPTABLE = ['text/plain', 'application/json', 'application/xml', 'text/xml'] as const;
export type OutFormat = (typeof ACCEPTABLE)[number];

/** Accept negotiation as swob's best_match: highest q wins, ties go to the server's order. */
export function bestMatch(accept: string | undefined): OutFormat | null {
  if (!accept) return 'text/plain';
  let best: OutFormat | null = null;
  let bestQ = 0;
  for (const offer of ACCEPTABLE) {
    let q = 0;
    for (const part of accept.split(',')) {
      const [range = '', ...paramList] = part.trim().split(';');
      const r = range.trim().toLowerCase();
      const qParam = paramList.map((p) => p.trim()).find((p) => p.startsWith('q='));
      const pq = qParam ? Number(qParam.slice(2)) : 1;
      const type = offer.slice(0, offer.indexOf('/'));
      if (r === offer || r === '*/*' || r === `${type}/*`) q = Math.max(q, Number.isFinite(pq) ? pq : 0);
    }
    if (q > bestQ) {
      bestQ = q;
      best = offer;
    }
  }
  return best;
}

// urllib's unquote: %XX sequences as UTF-8, anything malformed left as it is.
export function unquote(text: string): string {
  return text.replace(/(%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

// urllib's quote with safe '/': how Swift names failed paths in the body.
export function quote(text: string): string {
  let out = '';
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9_.\-~/]/.test(ch) ? ch : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

class BulkError extends Error {
  constructor(
    readonly status: number,
    readonly body = '',
  ) {
    super(body);
  }
}

/** The names in a bulk delete body, decoded; throws BulkError for too many or too long lines. */
export function parseDeleteBody(body: string): string[] {
  const names: string[] = [];
  for (const raw of body.split('\n')) {
    if (raw.length > MAX_PATH_LENGTH * 2) throw new BulkError(400, 'Invalid File Name');
    const name = unquote(raw.trim());
    if (name) names.push(name);
    if (names.length > MAX_DELETES_PER_REQUEST) throw new BulkError(413, `Maximum Bulk Deletes: ${MAX_DELETES_PER_REQUEST} per request`);
  }
  return names;
}

export interface BulkResult {
  'Response Status': string;
  'Response Body': string;
  'Number Deleted': number;
  'Number Not Found': number;
  Errors: [string, string][];
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderResult(format: OutFormat | null, result: BulkResult): string {
  const { Errors: errors, ...fields } = result;
  if (format === 'application/json') return JSON.stringify(result);
  const keys = Object.keys(fields).sort() as (keyof typeof fields)[];
  if (format?.endsWith('/xml')) {
    let out = '<?xml version="1.0" encoding="UTF-8"?>\n<delete>\n';
    for (const k of keys) {
      const tag = k.replace(/ /g, '_').toLowerCase();
      out += `<${tag}>${xmlEscape(String(fields[k]))}</${tag}>\n`;
    }
    out += '<errors>\n';
    out += errors.map(([name, status]) => `<object><name>${xmlEscape(name)}</name><status>${status}</status></object>`).join('\n');
    return out + '</errors>\n</delete>\n';
  }
  let out = '';
  for (const k of keys) out += `${k}: ${fields[k]}\n`;
  return out + 'Errors:\n' + errors.map(([name, status]) => `${name}, ${status}`).join('\n');
}

type Outcome = 'deleted' | 'not_found' | number;

// One item, as Swift's subrequest DELETE /v1/<account>/<name> would end.
async function deleteOne(c: Context<SwiftEnv>, account: string, name: string): Promise<Outcome> {
  const trimmed = name.replace(/^\/+/, '');
  const slash = trimmed.indexOf('/');
  const container = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const object = slash < 0 ? undefined : trimmed.slice(slash + 1);
  if (!container || object === '') return 400;
  try {
    if (object !== undefined) {
      await authorizeSwift(c, 'object:write', { account, container, object });
      return (await deleteObject(c.env, account, container, object)) ? 'deleted' : 'not_found';
    }
    await authorizeSwift(c, 'container:write', { account, container });
    const r = await deleteContainer(c.env, account, container);
    return r === 'not_empty' ? 409 : r;
  } catch (err) {
    if (err instanceof ApiError) return err.status;
    console.error('bulk delete', name, err);
    return 500;
  }
}

/** A name to delete; one with an error (found while listing a manifest's segments) is only reported. */
export interface Deletion {
  name: string;
  error?: { code: number; message: string };
}

/**
 * Deletes names as the caller, objects first, then containers (so a container emptied in
 * the same request goes too), a few at a time, counting into result. Throws BulkError
 * when too many fail.
 */
export async function deleteAll(c: Context<SwiftEnv>, account: string, items: Deletion[], result: BulkResult): Promise<void> {
  let failType = 400;
  const isObject = (n: string) => n.replace(/^\/+|\/+$/g, '').includes('/');
  for (const batch of [items.filter((d) => isObject(d.name)), items.filter((d) => !isObject(d.name))]) {
    let next = 0;
    let aborted = false;
    const worker = async () => {
      while (next < batch.length && !aborted) {
        const item = batch[next++]!;
        if (item.error) {
          if (item.error.code === 404) result['Number Not Found']++;
          else result.Errors.push([quote(item.name), item.error.message]);
          continue;
        }
        const outcome = await deleteOne(c, account, item.name);
        if (outcome === 'deleted') result['Number Deleted']++;
        else if (outcome === 'not_found' || outcome === 404) result['Number Not Found']++;
        else {
          if (outcome >= 500) failType = 502;
          result.Errors.push([quote(item.name), statusLine(outcome)]);
        }
        if (result.Errors.length >= MAX_FAILED_DELETES) aborted = true;
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, batch.length) }, worker));
    if (aborted) throw new BulkError(400, 'Max delete failures exceeded');
  }
  if (result.Errors.length > 0) result['Response Status'] = statusLine(failType);
  else if (!result['Number Deleted'] && !result['Number Not Found']) {
    result['Response Status'] = statusLine(400);
    result['Response Body'] = 'Invalid bulk delete.';
  }
}

/** Runs deletions and answers as Swift's bulk middleware does: always 200, the outcome in the body. */
export async function deleteResponse(
  c: Context<SwiftEnv>, account: string, items: () => Promise<Deletion[]>,
): Promise<Response> {
  const format = bestMatch(c.req.header('Accept'));
  const result: BulkResult = { 'Response Status': statusLine(200), 'Response Body': '', 'Number Deleted': 0, 'Number Not Found': 0, Errors: [] };
  try {
    if (!format) throw new BulkError(406);
    await deleteAll(c, account, await items(), result);
  } catch (err) {
    if (err instanceof BulkError || err instanceof ApiError) {
      result['Response Status'] = statusLine(err.status);
      result['Response Body'] = err instanceof BulkError ? err.body : err.message;
    } else {
      console.error('bulk delete:', err);
      result['Response Status'] = statusLine(500);
    }
  }
  return c.body(renderResult(format, result), 200, { 'Content-Type': `${format ?? 'text/plain'}; charset=utf-8` });
}

export function bulkDelete(c: Context<SwiftEnv>, account: string): Promise<Response> {
  return deleteResponse(c, account, async () => {
    const incoming = c.req.header('Content-Type');
    if (incoming && !incoming.startsWith('text/plain')) throw new BulkError(406);
    if (c.req.header('Content-Length') === undefined && c.req.header('Transfer-Encoding')?.toLowerCase() !== 'chunked' && c.req.raw.body === null) {
      throw new BulkError(411);
    }
    return parseDeleteBody(await c.req.text()).map((name) => ({ name }));
  });
}

/**
 * POST|DELETE /v1/:account?bulk-delete; other requests fall through to the account
 * routes. Mount before them: app.route('/', bulk).
 */
export const bulk = new Hono<SwiftEnv>();

bulk.on(['POST', 'DELETE'], '/v1/:account', async (c, next) => {
  if (c.req.query('bulk-delete') === undefined) return next();
  return bulkDelete(c, c.req.param('account'));
});
