// Nova's quotas (nova/quota.py with the DbQuotaDriver): per-project hard limits in the
// `quotas` table, falling back to the default quota class (rows of project
// '__default__') and then to Nova's configured defaults; -1 is unlimited. Usage is
// counted, never stored: servers, cores and RAM from instances that are not deleted, key
// pairs per user, server groups per project.
import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { ApiVersion } from '../../lib/microversion';
import { instances, keyPairs, quotas, serverGroups } from '../../schema/nova';
import { database, type Db } from './db';

export const QUOTA_RESOURCES = [
  'instances', 'cores', 'ram', 'metadata_items', 'injected_files', 'injected_file_content_bytes',
  'injected_file_path_bytes', 'key_pairs', 'server_groups', 'server_group_members',
  // nova-network's, kept in the API until 2.36 (Nova reports them as unlimited).
  'fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules',
] as const;
export type QuotaResource = (typeof QUOTA_RESOURCES)[number];
export type Quotas = Record<QuotaResource, number>;

/** Nova's [quota] defaults. */
export const DEFAULT_QUOTAS: Readonly<Quotas> = {
  instances: 10,
  cores: 20,
  ram: 50 * 1024,
  metadata_items: 128,
  injected_files: 5,
  injected_file_content_bytes: 10 * 1024,
  injected_file_path_bytes: 255,
  key_pairs: 100,
  server_groups: 10,
  server_group_members: 10,
  fixed_ips: -1,
  floating_ips: -1,
  security_groups: -1,
  security_group_rules: -1,
};

/** The project id under which the default quota class's rows are kept. */
export const DEFAULT_QUOTA_CLASS = '__default__';

/** Gone from os-quota-sets at 2.36 (network proxies) and 2.57 (injected files). */
const REMOVED_AT_2_36: QuotaResource[] = ['fixed_ips', 'floating_ips', 'security_groups', 'security_group_rules'];
const REMOVED_AT_2_57: QuotaResource[] = ['injected_files', 'injected_file_content_bytes', 'injected_file_path_bytes'];

/** The resources os-quota-sets shows and takes at a microversion. */
export function quotaResourcesAt(version: ApiVersion): QuotaResource[] {
  const gone = new Set<QuotaResource>([
    ...(version.atLeast('2.36') ? REMOVED_AT_2_36 : []),
    ...(version.atLeast('2.57') ? REMOVED_AT_2_57 : []),
  ]);
  return QUOTA_RESOURCES.filter((r) => !gone.has(r));
}

const asDb = (db: Db | D1Database): Db => ('select' in db ? db : database(db));

async function rowsOf(db: Db, projectIds: string[]): Promise<{ projectId: string; resource: string; hardLimit: number }[]> {
  return db.select().from(quotas).where(inArray(quotas.projectId, projectIds));
}

function merge(base: Quotas, rows: { resource: string; hardLimit: number }[]): Quotas {
  const out = { ...base };
  for (const r of rows) if ((QUOTA_RESOURCES as readonly string[]).includes(r.resource)) out[r.resource as QuotaResource] = r.hardLimit;
  return out;
}

/** The defaults a project without its own limits gets: the default quota class over Nova's defaults. */
export async function defaultLimits(db: Db | D1Database): Promise<Quotas> {
  return merge({ ...DEFAULT_QUOTAS }, await rowsOf(asDb(db), [DEFAULT_QUOTA_CLASS]));
}

/** A project's hard limits, every resource present; -1 is unlimited. */
export async function limitsFor(db: Db | D1Database, projectId: string): Promise<Quotas> {
  return limitsFromRows(await rowsOf(asDb(db), [DEFAULT_QUOTA_CLASS, projectId]), projectId);
}

/** A project's limits from its rows and the default class's rows. */
export function limitsFromRows(rows: { projectId: string; resource: string; hardLimit: number }[], projectId: string): Quotas {
  const defaults = merge({ ...DEFAULT_QUOTAS }, rows.filter((r) => r.projectId === DEFAULT_QUOTA_CLASS));
  return merge(defaults, rows.filter((r) => r.projectId === projectId));
}

export interface Usage {
  instances: number;
  cores: number;
  ram: number;
  /** The user's key pairs (key pairs are counted per user, against the project's limit). */
  key_pairs: number;
  server_groups: number;
}

/** What a project (and, for key pairs, a user) uses now. */
export async function usageFor(db: Db | D1Database, projectId: string, userId?: string): Promise<Usage> {
  const d = asDb(db);
  const [servers, keys, groups] = await d.batch([
    d
      .select({ n: sql<number>`count(*)`, cores: sql<number>`coalesce(sum(${instances.vcpus}), 0)`, ram: sql<number>`coalesce(sum(${instances.memoryMb}), 0)` })
      .from(instances)
      .where(and(eq(instances.projectId, projectId), eq(instances.deleted, false))),
    d.select({ n: sql<number>`count(*)` }).from(keyPairs).where(eq(keyPairs.userId, userId ?? '')),
    d.select({ n: sql<number>`count(*)` }).from(serverGroups).where(eq(serverGroups.projectId, projectId)),
  ]);
  return {
    instances: Number(servers[0]?.n ?? 0),
    cores: Number(servers[0]?.cores ?? 0),
    ram: Number(servers[0]?.ram ?? 0),
    key_pairs: userId === undefined ? 0 : Number(keys[0]?.n ?? 0),
    server_groups: Number(groups[0]?.n ?? 0),
  };
}

export type CountedResource = keyof Usage;

/** The resources that `deltas` more would take over their limits (Nova's check_deltas "overs"). */
export function overQuota(limits: Quotas, usage: Usage, deltas: Partial<Record<CountedResource, number>>): CountedResource[] {
  return (Object.entries(deltas) as [CountedResource, number][])
    .filter(([r, d]) => limits[r] >= 0 && usage[r] + d > limits[r])
    .map(([r]) => r);
}

/** A project's hard limit on a resource, in SQL: its own row, the default class's, or Nova's default. */
export function limitOf(projectId: string, resource: QuotaResource): SQL {
  const row = (project: string) => sql`(select ${quotas.hardLimit} from ${quotas} where ${quotas.projectId} = ${project} and ${quotas.resource} = ${resource})`;
  return sql`coalesce(${row(projectId)}, ${row(DEFAULT_QUOTA_CLASS)}, ${DEFAULT_QUOTAS[resource]})`;
}

/**
 * A SQL condition that holds while the project's usage plus `deltas` stays within its
 * limits, for an INSERT ... SELECT ... WHERE that claims quota atomically (D1 runs each
 * statement alone, so no other write slips between the count and the insert). The limits
 * are read by the same statement, so a change of quota counts at once and costs no read.
 */
export function withinQuota(projectId: string, userId: string, deltas: Partial<Record<CountedResource, number>>): SQL {
  const counts: Record<CountedResource, SQL> = {
    instances: sql`(select count(*) from ${instances} where ${instances.projectId} = ${projectId} and ${instances.deleted} = 0)`,
    cores: sql`(select coalesce(sum(${instances.vcpus}), 0) from ${instances} where ${instances.projectId} = ${projectId} and ${instances.deleted} = 0)`,
    ram: sql`(select coalesce(sum(${instances.memoryMb}), 0) from ${instances} where ${instances.projectId} = ${projectId} and ${instances.deleted} = 0)`,
    key_pairs: sql`(select count(*) from ${keyPairs} where ${keyPairs.userId} = ${userId})`,
    server_groups: sql`(select count(*) from ${serverGroups} where ${serverGroups.projectId} = ${projectId})`,
  };
  const checks = (Object.entries(deltas) as [CountedResource, number][]).map(([r, d]) => {
    const limit = limitOf(projectId, r);
    return sql`(${limit} < 0 or ${counts[r]} + ${d} <= ${limit})`;
  });
  return checks.length === 0 ? sql`1 = 1` : sql.join(checks, sql` and `);
}
