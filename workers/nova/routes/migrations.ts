// GET /os-migrations: every move of every server (admins, by default policy), filtered by
// host, status, server, type or source host; from 2.59 newest first, paged by limit and a
// migration uuid as marker, and filtered by changes-since (changes-before from 2.66), as
// nova/api/openstack/compute/migrations.py and the DB API's migration_get_all_by_filters do.
import { and, asc, desc, eq, gte, lt, lte, or, type SQL } from 'drizzle-orm';
import { Hono } from 'hono';
import { badRequest } from '../../../lib/errors';
import { migrations } from '../../../schema/nova';
import { database } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { boolFromString } from '../schemas/parameter-types';
import { limitAndMarker, queryParam, refuseUnknownQuery } from '../schemas/query';
import { collectionLinks } from '../views/links';
import { migrationView } from '../views/migrations';

export const migrationRoutes = new Hono<NovaEnv>();

const FILTERS = ['hidden', 'host', 'instance_uuid', 'source_compute', 'status', 'migration_type'];

/** timeutils.parse_isotime, as the query schema's date-time format checks it; no zone is UTC. */
function isoTime(key: string, value: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?))?(Z|[+-]\d{2}(?::?\d{2})?)?$/i.exec(value);
  const t = m ? Date.parse(`${m[1]}T${m[2] ?? '00:00'}${(m[3] ?? 'Z').toUpperCase()}`) : NaN;
  if (Number.isNaN(t)) throw badRequest(`Invalid input for query parameters ${key}. Value: ${value}. '${value}' is not a 'date-time'`);
  // Stored times are to the second.
  return new Date(t).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** A parameter the query schema takes once (single_param: maxItems 1). */
function single(c: Parameters<typeof queryParam>[0], key: string): string | undefined {
  const all = c.req.queries(key) ?? [];
  if (all.length > 1) {
    const list = `[${all.map((v) => `'${v}'`).join(', ')}]`;
    throw badRequest(`Invalid input for query parameters ${key}. Value: ${list}. ${list} is too long`);
  }
  return all[0];
}

migrationRoutes.get('/os-migrations', async (c) => {
  authorize(c, 'os_compute_api:os-migrations:index', { project_id: c.var.auth.projectId });
  const v = c.var.version;
  const paged = v.atLeast('2.59');
  // Before 2.59 the schema lets anything through (and Nova drops changes-since); from 2.59 it refuses the unknown.
  if (paged) refuseUnknownQuery(c, [...FILTERS, 'limit', 'marker', 'changes-since', ...(v.atLeast('2.66') ? ['changes-before'] : [])]);
  const db = database(c.env.DB);
  // Hidden ones are never shown (Nova drops them after its query, which can cut a page short).
  const where: (SQL | undefined)[] = [eq(migrations.deleted, false), eq(migrations.hidden, false)];
  const q = (key: string) => queryParam(c, key);
  const status = q('status');
  if (status !== undefined) where.push(eq(migrations.status, status));
  const host = q('host');
  const source = q('source_compute');
  if (host !== undefined) where.push(or(eq(migrations.sourceCompute, host), eq(migrations.destCompute, host)));
  else if (source !== undefined) where.push(eq(migrations.sourceCompute, source));
  const type = q('migration_type');
  if (type !== undefined) where.push(eq(migrations.migrationType, type));
  const instance = q('instance_uuid');
  if (instance !== undefined) where.push(eq(migrations.instanceUuid, instance));
  const hidden = q('hidden');
  if (hidden !== undefined && boolFromString(hidden)) return c.json({ migrations: [] });

  if (!paged) {
    const rows = await db.select().from(migrations).where(and(...where)).orderBy(asc(migrations.id));
    return c.json({ migrations: rows.map((m) => migrationView(c, m, v)) });
  }

  for (const key of ['limit', 'marker', 'changes-since', 'changes-before']) single(c, key);
  const since = q('changes-since');
  const before = v.atLeast('2.66') ? q('changes-before') : undefined;
  const sinceAt = since !== undefined ? isoTime('changes-since', since) : undefined;
  const beforeAt = before !== undefined ? isoTime('changes-before', before) : undefined;
  if (sinceAt && beforeAt && beforeAt < sinceAt) throw badRequest('The value of changes-since must be less than or equal to changes-before.');
  if (sinceAt) where.push(gte(migrations.updatedAt, sinceAt));
  if (beforeAt) where.push(lte(migrations.updatedAt, beforeAt));
  const { limit, marker } = limitAndMarker(c);
  if (marker !== undefined) {
    const [at] = await db.select().from(migrations).where(and(eq(migrations.uuid, marker), eq(migrations.deleted, false)));
    if (!at) throw badRequest(`Marker ${marker} could not be found.`);
    // Sorted by created_at and id, newest first: the page goes on after the marker.
    where.push(or(lt(migrations.createdAt, at.createdAt), and(eq(migrations.createdAt, at.createdAt), lt(migrations.id, at.id))));
  }
  const shown = limit === 0 ? [] : await db.select().from(migrations).where(and(...where)).orderBy(desc(migrations.createdAt), desc(migrations.id)).limit(limit);
  const body: Record<string, unknown> = { migrations: shown.map((m) => migrationView(c, m, v)) };
  const links = collectionLinks(c, 'os-migrations', shown.length, shown[shown.length - 1]?.uuid);
  if (links.length > 0) body.migrations_links = links;
  return c.json(body);
});
