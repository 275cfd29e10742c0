// For the route tests: a real D1 database (in memory, in a workerd started through the
// Miniflare API) with the nova migrations applied, and a Hono app that mounts route
// modules behind the microversion middleware and a stand-in for token validation, so a
// test says who calls with which roles instead of issuing tokens.
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Hono } from 'hono';
import { Miniflare } from 'miniflare';
import type { AuthContext } from '../../lib/auth';
import { onError, onNotFound } from '../../lib/errors';
import { microversion } from '../../lib/microversion';
import type { Env, NovaEnv } from './env';
import { MAX_VERSION, MIN_VERSION } from './versions';

const MIGRATIONS = resolve(import.meta.dirname, '../../schema/migrations/nova');

export interface TestDb {
  d1: D1Database;
  dispose(): Promise<void>;
}

// The database is reached through a Worker of the test's own over HTTP, not through
// Miniflare's binding proxy: under load that proxy's synchronous calls from Node can fail
// an internal assertion, and a route test then sees a 500 that has nothing to do with it.
const DB_WORKER = `export default {
  async fetch(req, env) {
    const { queries, batch } = await req.json();
    const statements = queries.map((q) => env.DB.prepare(q.sql).bind(...q.params));
    try {
      if (batch) return Response.json({ ok: await env.DB.batch(statements) });
      const [q] = queries;
      const [stmt] = statements;
      const out = q.mode === 'raw' ? await stmt.raw() : q.mode === 'first' ? await stmt.first(q.column) : q.mode === 'run' ? await stmt.run() : await stmt.all();
      return Response.json({ ok: out });
    } catch (err) {
      return Response.json({ error: String(err && err.message || err) });
    }
  },
};`;

interface Query {
  sql: string;
  params: unknown[];
  mode?: 'all' | 'raw' | 'first' | 'run';
  column?: string;
}

/** The D1 API that drizzle and the routes use, each call a request to the database Worker. */
function httpD1(send: (body: { queries: Query[]; batch: boolean }) => Promise<unknown>): D1Database {
  const statement = (sql: string, params: unknown[] = []) => {
    const q = (mode: Query['mode'], column?: string) => send({ queries: [{ sql, params, mode, column }], batch: false });
    return {
      sql, params,
      bind: (...values: unknown[]) => statement(sql, values),
      all: () => q('all'),
      raw: () => q('raw'),
      run: () => q('run'),
      first: (column?: string) => q('first', column),
    };
  };
  return {
    prepare: (sql: string) => statement(sql),
    batch: (statements: { sql: string; params: unknown[] }[]) => send({ queries: statements.map(({ sql, params }) => ({ sql, params })), batch: true }),
    exec: (sql: string) => send({ queries: [{ sql, params: [], mode: 'run' }], batch: false }),
  } as unknown as D1Database;
}

/** A fresh nova database in memory. */
export async function novaTestDb(): Promise<TestDb> {
  const mf = new Miniflare({ modules: true, script: DB_WORKER, d1Databases: { DB: 'nova-test' } });
  const url = await mf.ready;
  const d1 = httpD1(async (body) => {
    const res = await fetch(url, { method: 'POST', body: JSON.stringify(body) });
    const out = (await res.json()) as { ok?: unknown; error?: string };
    if (out.error !== undefined) throw new Error(out.error);
    return out.ok;
  });
  for (const file of readdirSync(MIGRATIONS).filter((f) => f.endsWith('.sql')).sort()) {
    for (const stmt of readFileSync(join(MIGRATIONS, file), 'utf8').split('--> statement-breakpoint')) {
      if (stmt.trim()) await d1.prepare(stmt).run();
    }
  }
  return { d1, dispose: () => mf.dispose() };
}

export interface Caller {
  userId: string;
  projectId: string;
  roles: string[];
}

export const ADMIN: Caller = { userId: 'admin-user', projectId: 'admin-project', roles: ['admin', 'member', 'reader'] };
export const DEMO: Caller = { userId: 'demo-user', projectId: 'demo-project', roles: ['member', 'reader'] };
export const OTHER: Caller = { userId: 'other-user', projectId: 'other-project', roles: ['member', 'reader'] };

/** Keystone as Nova's identity checks see it: projects whose id starts with "missing" do not exist. */
export const fakeKeystone = {
  fetch: async (input: RequestInfo | URL) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    return new Response('{}', { status: /\/projects\/missing/.test(url.pathname) ? 404 : 200 });
  },
} as unknown as Fetcher;

/** An app with the given routes under /compute/v2.1; callers are named by the X-Test-Caller header. */
export function testApp(routes: Hono<NovaEnv>[], env: Partial<Env>): { request(method: string, path: string, opts?: RequestOpts): Promise<TestResponse> } {
  const app = new Hono<NovaEnv>().basePath('/compute');
  app.onError(onError('nova'));
  app.notFound(onNotFound('nova'));
  app.use('/v2.1/*', microversion({ service: 'compute', min: MIN_VERSION, max: MAX_VERSION, legacyHeader: 'X-OpenStack-Nova-API-Version' }));
  app.use('/v2.1/*', async (c, next) => {
    const caller = JSON.parse(c.req.header('X-Test-Caller') ?? JSON.stringify(ADMIN)) as Caller;
    c.set('auth', { token: 'test-token', system: false, userDomainId: 'default', projectDomainId: 'default', ...caller } as unknown as AuthContext);
    await next();
  });
  for (const r of routes) app.route('/v2.1', r);
  const fullEnv = { KEYSTONE: fakeKeystone, ...env } as Env;
  return {
    async request(method, path, opts = {}) {
      const headers: Record<string, string> = { 'X-Test-Caller': JSON.stringify(opts.as ?? ADMIN) };
      if (opts.version) headers['OpenStack-API-Version'] = `compute ${opts.version}`;
      if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
      const res = await app.request(
        `http://cloud.test/compute/v2.1${path}`,
        { method, headers, body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body) },
        fullEnv,
      );
      const text = await res.text();
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      return { status: res.status, headers: res.headers, text, json };
    },
  };
}

export interface RequestOpts {
  as?: Caller;
  version?: string;
  body?: unknown;
}

export interface TestResponse {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}
