// The service catalog as tokens carry it. Kept in isolate memory: it changes rarely and
// is read on every token issue; writes in this isolate drop the cache, others re-read
// within CATALOG_TTL_MS.
import { endpoints, regions, services } from '../../schema/keystone';
import type { Db } from './db';

const CATALOG_TTL_MS = 5000;

export interface CatalogEntry {
  id: string;
  type: string;
  name: string;
  endpoints: { id: string; interface: string; region: string | null; region_id: string | null; url: string }[];
}

let cached: { at: number; entries: CatalogEntry[] } | null = null;

export function invalidateCatalog(): void {
  cached = null;
}

async function loadCatalog(db: Db): Promise<CatalogEntry[]> {
  if (cached && Date.now() - cached.at < CATALOG_TTL_MS) return cached.entries;
  const [svcRows, epRows, regionRows] = await db.batch([
    db.select().from(services),
    db.select().from(endpoints),
    db.select({ id: regions.id }).from(regions),
  ]);
  const known = new Set(regionRows.map((r) => r.id));
  const entries = svcRows
    .filter((s) => s.enabled)
    .map((s) => ({
      id: s.id,
      type: s.type,
      name: s.name ?? '',
      endpoints: epRows
        .filter((e) => e.serviceId === s.id && e.enabled)
        .map((e) => {
          const region = e.regionId && known.has(e.regionId) ? e.regionId : null;
          return { id: e.id, interface: e.interface, region, region_id: region, url: e.url };
        }),
    }));
  cached = { at: Date.now(), entries };
  return entries;
}

/** The catalog for a token; endpoint URLs get the project id substituted, as Keystone does. */
export async function catalogFor(db: Db, projectId: string | undefined): Promise<CatalogEntry[]> {
  const entries = await loadCatalog(db);
  return entries.map((s) => ({
    ...s,
    endpoints: s.endpoints.flatMap((e) => {
      const needsProject = /[$%]\((project_id|tenant_id)\)s/.test(e.url);
      if (needsProject && !projectId) return [];
      const url = projectId ? e.url.replace(/[$%]\((project_id|tenant_id)\)s/g, projectId) : e.url;
      return [{ ...e, url }];
    }),
  }));
}
