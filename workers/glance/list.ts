// GET /v2/images: visibility, filters with operators, sorting and limit/marker, as
// Glance's sqlalchemy API builds them.
import { and, asc, desc, eq, inArray, ne, or, sql, type SQL } from 'drizzle-orm';
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core';
import { badRequest } from '../../lib/errors';
import { imageMembers, images } from '../../schema/glance';
import type { C } from './access';
import { database, type ImageRow } from './db';
import { isAdmin } from './policies';
import { MEMBER_STATUSES, VISIBILITIES } from './schemas/images';

const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 1000;

const SORT_KEYS: Record<string, SQLiteColumn> = {
  name: images.name, status: images.status, container_format: images.containerFormat, disk_format: images.diskFormat,
  size: images.size, id: images.id, created_at: images.createdAt, updated_at: images.updatedAt, visibility: images.visibility,
  owner: images.owner, min_disk: images.minDisk, min_ram: images.minRam, virtual_size: images.virtualSize,
};
/** Query parameters that are not property filters. */
const KNOWN = new Set([
  'limit', 'marker', 'sort_key', 'sort_dir', 'sort', 'visibility', 'member_status', 'name', 'id', 'status', 'owner',
  'tag', 'disk_format', 'container_format', 'size_min', 'size_max', 'created_at', 'updated_at', 'protected', 'os_hidden',
]);
const OPERATORS: Record<string, string> = { gt: '>', gte: '>=', lt: '<', lte: '<=', eq: '=', neq: '!=' };

/** "true"/"false" as Glance reads booleans in queries. */
function flag(key: string, value: string): boolean {
  const v = value.toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes') return true;
  if (v === 'false' || v === '0' || v === 'no') return false;
  throw badRequest(`Invalid value '${value}' for the boolean filter ${key}.`);
}

/** A plain equality filter, or "in:a,b" for any of several values. */
function matchFilter(column: SQLiteColumn, value: string): SQL {
  if (value.startsWith('in:')) return inArray(column, value.slice(3).split(',').map((v) => v.replace(/^"(.*)"$/, '$1')));
  return eq(column, value);
}

/** created_at / updated_at with an operator: "gte:2016-04-18T21:38:54Z". */
function timeFilter(column: SQLiteColumn, key: string, value: string): SQL {
  const m = /^(?:(gt|gte|lt|lte|eq|neq):)?(.+)$/.exec(value)!;
  const when = Date.parse(m[2]!);
  if (Number.isNaN(when)) throw badRequest(`Invalid filter value ${value} for ${key}: not an ISO 8601 date and time.`);
  const iso = new Date(when).toISOString().replace(/\.\d+Z$/, 'Z');
  return sql`${column} ${sql.raw(OPERATORS[m[1] ?? 'eq']!)} ${iso}`;
}

function sizeFilter(key: string, value: string, op: '>=' | '<='): SQL {
  if (!/^\d+$/.test(value)) throw badRequest(`Invalid value for ${key}: '${value}' is not a non-negative integer.`);
  return sql`${images.size} ${sql.raw(op)} ${Number(value)}`;
}

function sortOrder(c: C): SQL[] {
  const q = c.req.query();
  const pairs: [string, string][] = [];
  if (q.sort !== undefined) {
    if (q.sort_key !== undefined || q.sort_dir !== undefined) throw badRequest('The "sort" parameter cannot be used with "sort_key" or "sort_dir".');
    for (const part of q.sort.split(',')) {
      const [key, dir = 'desc'] = part.trim().split(':');
      pairs.push([key!, dir]);
    }
  } else {
    const keys = c.req.queries('sort_key') ?? ['created_at'];
    const dirs = c.req.queries('sort_dir') ?? [];
    keys.forEach((k, i) => pairs.push([k, dirs[i] ?? dirs[0] ?? 'desc']));
  }
  const order: SQL[] = [];
  for (const [key, dir] of pairs) {
    const column = SORT_KEYS[key];
    if (!column) throw badRequest(`Invalid sort key: ${key}. It must be one of the following: ${Object.keys(SORT_KEYS).join(', ')}.`);
    if (dir !== 'asc' && dir !== 'desc') throw badRequest(`Invalid sort direction: ${dir}`);
    order.push(dir === 'asc' ? asc(column) : desc(column));
  }
  const last = pairs[pairs.length - 1]![1] === 'asc' ? asc : desc;
  // Ties broken as Glance does, so pages never overlap.
  if (!pairs.some(([k]) => k === 'created_at')) order.push(last(images.createdAt));
  if (!pairs.some(([k]) => k === 'id')) order.push(last(images.id));
  return order;
}

export async function listImages(c: C): Promise<{ items: ImageRow[]; next: string | null }> {
  const q = c.req.query();
  const where: SQL[] = [];
  const project = c.var.auth.projectId ?? '';
  const admin = isAdmin(c);

  const memberStatus = q.member_status ?? 'accepted';
  if (memberStatus !== 'all' && !(MEMBER_STATUSES as readonly string[]).includes(memberStatus)) {
    throw badRequest(`Invalid status value: ${memberStatus}`);
  }
  if (q.visibility !== undefined && q.visibility !== 'all') {
    if (!(VISIBILITIES as readonly string[]).includes(q.visibility)) throw badRequest(`Invalid visibility value: ${q.visibility}`);
    where.push(eq(images.visibility, q.visibility));
  } else if (q.visibility === undefined) {
    where.push(or(ne(images.visibility, 'community'), eq(images.owner, project))!);
  }
  if (!admin) {
    const membership = sql`exists (select 1 from ${imageMembers} where ${imageMembers.imageId} = ${images.id} and ${imageMembers.memberId} = ${project}${
      memberStatus === 'all' ? sql`` : sql` and ${imageMembers.status} = ${memberStatus}`
    })`;
    where.push(or(inArray(images.visibility, ['public', 'community']), eq(images.owner, project), and(eq(images.visibility, 'shared'), membership))!);
  }
  where.push(eq(images.osHidden, q.os_hidden !== undefined ? flag('os_hidden', q.os_hidden) : false));
  for (const [key, column] of [['name', images.name], ['id', images.id], ['status', images.status], ['owner', images.owner],
    ['disk_format', images.diskFormat], ['container_format', images.containerFormat]] as const) {
    if (q[key] !== undefined) where.push(matchFilter(column, q[key]));
  }
  if (q.protected !== undefined) where.push(eq(images.protected, flag('protected', q.protected)));
  if (q.size_min !== undefined) where.push(sizeFilter('size_min', q.size_min, '>='));
  if (q.size_max !== undefined) where.push(sizeFilter('size_max', q.size_max, '<='));
  if (q.created_at !== undefined) where.push(timeFilter(images.createdAt, 'created_at', q.created_at));
  if (q.updated_at !== undefined) where.push(timeFilter(images.updatedAt, 'updated_at', q.updated_at));
  for (const tag of c.req.queries('tag') ?? []) {
    where.push(sql`exists (select 1 from json_each(${images.tags}) where json_each.value = ${tag})`);
  }
  // Any other parameter filters on a custom property, as Glance allows.
  for (const [key, value] of Object.entries(q)) {
    if (!KNOWN.has(key)) where.push(sql`json_extract(${images.properties}, ${`$."${key.replace(/"/g, '')}"`}) = ${value}`);
  }

  const rawLimit = q.limit;
  if (rawLimit !== undefined && !/^\d+$/.test(rawLimit)) throw badRequest('limit param must be an integer');
  const limit = Math.min(rawLimit === undefined ? DEFAULT_LIMIT : Number(rawLimit), MAX_LIMIT);
  const rows = await database(c.env.DB).select().from(images).where(and(...where)).orderBy(...sortOrder(c));
  let start = 0;
  if (q.marker !== undefined) {
    const at = rows.findIndex((r) => r.id === q.marker);
    if (at < 0) throw badRequest(`marker ${q.marker} could not be found.`);
    start = at + 1;
  }
  const items = rows.slice(start, start + limit);
  let next: string | null = null;
  if (start + limit < rows.length && items.length > 0) {
    const params = new URL(c.req.url).searchParams;
    params.set('marker', items[items.length - 1]!.id);
    next = `/v2/images?${params.toString()}`;
  }
  return { items, next };
}
