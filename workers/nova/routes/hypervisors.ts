// /os-hypervisors: the compute nodes, as the Scheduler knows them (inventory, claims,
// state), each with its host's nova-compute service. List and detail (paged from 2.33,
// searched with ?hypervisor_hostname_pattern= and ?with_servers= from 2.53), show,
// statistics, and before 2.53 the {pattern}/search and {pattern}/servers routes.
import { and, asc, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { ApiError, badRequest, notFound } from '../../../lib/errors';
import { instances, services } from '../../../schema/nova';
import { database, scheduler } from '../db';
import type { NovaEnv } from '../env';
import { authorize, novaPolicies } from '../policies';
import { boolFromString, fqdn, isUuidLike } from '../schemas/parameter-types';
import { limitAndMarker, queryParam, refuseUnknownQuery } from '../schemas/query';
import { hypervisorId, hypervisorUsage, hypervisorView, type Hypervisor } from '../views/hypervisors';
import { collectionLinks } from '../views/links';

type C = Context<NovaEnv>;
type ServerRef = { name: string; uuid: string };

export const hypervisorRoutes = new Hono<NovaEnv>();

/** Every compute node whose host still has a nova-compute service, in id order (Nova skips the others). */
async function allHypervisors(c: C): Promise<Hypervisor[]> {
  const db = database(c.env.DB);
  const [views, rows, work] = await Promise.all([
    scheduler(c.env).hypervisors(),
    db.select({ ...getTableColumns(services), seq: sql<number>`${services}.rowid` }).from(services).where(eq(services.binary, 'nova-compute')),
    db
      .select({ host: instances.host, n: sql<number>`count(*)` })
      .from(instances)
      .where(and(eq(instances.deleted, false), sql`${instances.taskState} is not null`))
      .groupBy(instances.host),
  ]);
  const byHost = new Map(rows.map((s) => [s.host, s]));
  const workload = new Map(work.map((w) => [w.host, Number(w.n)]));
  const out: Hypervisor[] = [];
  for (const view of views) {
    const service = byHost.get(view.host);
    if (service) out.push({ view, service, workload: workload.get(view.host) ?? 0 });
  }
  return out.sort((a, b) => a.service.seq - b.service.seq);
}

/** The servers on each of these hosts that are not deleted. */
async function serversOn(c: C, hosts: string[]): Promise<Map<string, ServerRef[]>> {
  const out = new Map<string, ServerRef[]>(hosts.map((h) => [h, []]));
  if (hosts.length === 0) return out;
  const rows = await database(c.env.DB)
    .select({ host: instances.host, name: instances.name, uuid: instances.uuid })
    .from(instances)
    .where(and(inArray(instances.host, hosts), eq(instances.deleted, false)))
    .orderBy(asc(instances.createdAt));
  for (const r of rows) out.get(r.host!)?.push({ name: r.name, uuid: r.uuid });
  return out;
}

/** The hypervisors whose hostname matches a pattern as SQL LIKE '%pattern%' does (case-insensitive); none is a 404. */
function matching(all: Hypervisor[], pattern: string): Hypervisor[] {
  const re = new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*').replace(/_/g, '.'), 'i');
  const found = all.filter((h) => re.test(h.view.inventory.hypervisorHostname));
  if (found.length === 0) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}

/** A strict boolean query parameter (with_servers). */
function flagQuery(c: C, key: string): boolean {
  const raw = queryParam(c, key);
  if (raw === undefined) return false;
  const b = boolFromString(raw, true);
  if (b === undefined) throw badRequest(`Invalid input for query parameters ${key}. Value: ${raw}. '${raw}' is not a valid boolean`);
  return b;
}

async function list(c: C, detail: boolean): Promise<Response> {
  const v = c.var.version;
  authorize(c, detail ? 'os_compute_api:os-hypervisors:list-detail' : 'os_compute_api:os-hypervisors:list', {});
  let pattern: string | undefined;
  let withServers = false;
  if (v.atLeast('2.53')) {
    refuseUnknownQuery(c, ['limit', 'marker', 'hypervisor_hostname_pattern', 'with_servers']);
    pattern = queryParam(c, 'hypervisor_hostname_pattern');
    if (pattern !== undefined && !fqdn.safeParse(pattern).success) {
      throw badRequest(`Invalid input for query parameters hypervisor_hostname_pattern. Value: ${pattern}. '${pattern}' does not match '^[a-zA-Z0-9-._]*$'`);
    }
    withServers = flagQuery(c, 'with_servers');
  }
  const paged = v.atLeast('2.33');
  const { limit, marker } = paged ? limitAndMarker(c) : { limit: Infinity, marker: undefined };
  let page: Hypervisor[];
  const all = await allHypervisors(c);
  if (pattern !== undefined) {
    if (queryParam(c, 'limit') !== undefined || marker) {
      throw badRequest('Paging over hypervisors with the hypervisor_hostname_pattern query parameter is not supported.');
    }
    page = matching(all, pattern);
  } else {
    let start = 0;
    if (marker !== undefined) {
      const at = all.findIndex((h) => String(hypervisorId(v, h)) === marker);
      if (at < 0) throw badRequest(`marker [${marker}] not found`);
      start = at + 1;
    }
    page = all.slice(start, start + limit);
  }
  const servers = withServers ? await serversOn(c, page.map((h) => h.view.host)) : undefined;
  const hypervisors = page.map((h) => hypervisorView(v, h, { detail, servers: servers?.get(h.view.host), withServers }));
  const last = page[page.length - 1];
  const links = paged && pattern === undefined
    ? collectionLinks(c, detail ? 'os-hypervisors/detail' : 'os-hypervisors', page.length, last && String(hypervisorId(v, last)))
    : [];
  return c.json({ hypervisors, ...(links.length > 0 ? { hypervisors_links: links } : {}) });
}

hypervisorRoutes.get('/os-hypervisors', (c) => list(c, false));
hypervisorRoutes.get('/os-hypervisors/detail', (c) => list(c, true));

hypervisorRoutes.get('/os-hypervisors/statistics', async (c) => {
  authorize(c, 'os_compute_api:os-hypervisors:statistics', {});
  const stats: Record<string, number> = {
    count: 0, current_workload: 0, disk_available_least: 0, free_disk_gb: 0, free_ram_mb: 0, local_gb: 0, local_gb_used: 0,
    memory_mb: 0, memory_mb_used: 0, running_vms: 0, vcpus: 0, vcpus_used: 0,
  };
  // Only hosts whose service is enabled count, as in Nova.
  for (const h of (await allHypervisors(c)).filter((x) => !x.service.disabled)) {
    stats.count! += 1;
    for (const [k, n] of Object.entries(hypervisorUsage(h))) stats[k]! += n;
  }
  return c.json({ hypervisor_statistics: stats });
});

/** Before 2.53: GET /os-hypervisors/{pattern}/search and /servers; from 2.53 those are query parameters. */
for (const route of ['search', 'servers'] as const) {
  hypervisorRoutes.get(`/os-hypervisors/:pattern/${route}`, async (c) => {
    const v = c.var.version;
    if (v.atLeast('2.53')) throw notFound('The resource could not be found.');
    authorize(c, `os_compute_api:os-hypervisors:${route}`, {});
    const found = matching(await allHypervisors(c), c.req.param('pattern'));
    const servers = route === 'servers' ? await serversOn(c, found.map((h) => h.view.host)) : undefined;
    return c.json({ hypervisors: found.map((h) => hypervisorView(v, h, { detail: false, servers: servers?.get(h.view.host) })) });
  });
}

/** HypervisorsController._validate_id and the lookup: a UUID from 2.53 (else 400), an integer before (else 404). */
async function findHypervisor(c: C, id: string): Promise<Hypervisor> {
  const missing = () => notFound(`Hypervisor with ID '${id}' could not be found.`);
  const uuid = c.var.version.atLeast('2.53');
  if (uuid && !isUuidLike(id)) throw badRequest(`Invalid uuid ${id}`);
  if (!uuid && !/^\s*[+-]?\d+\s*$/.test(id)) throw missing();
  const hex = (s: string) => s.replace(/^urn:uuid:/i, '').replace(/[{}-]/g, '').toLowerCase();
  const all = await allHypervisors(c);
  const h = uuid ? all.find((x) => hex(x.view.id) === hex(id)) : all.find((x) => x.service.seq === Number(id));
  if (!h) throw missing();
  return h;
}

hypervisorRoutes.get('/os-hypervisors/:hypervisor_id', async (c) => {
  const v = c.var.version;
  authorize(c, 'os_compute_api:os-hypervisors:show', {});
  let withServers = false;
  if (v.atLeast('2.53')) {
    refuseUnknownQuery(c, ['with_servers']);
    withServers = flagQuery(c, 'with_servers');
  }
  const h = await findHypervisor(c, c.req.param('hypervisor_id'));
  const servers = withServers ? (await serversOn(c, [h.view.host])).get(h.view.host) : undefined;
  return c.json({ hypervisor: hypervisorView(v, h, { detail: true, servers, withServers }) });
});

// Until the policy rules hold os-hypervisors:uptime, the show rule (admin, as uptime's) guards it.
const UPTIME_RULE = novaPolicies.some((r) => r.name === 'os_compute_api:os-hypervisors:uptime')
  ? 'os_compute_api:os-hypervisors:uptime'
  : 'os_compute_api:os-hypervisors:show';

/** Before 2.88: a host's uptime, which hosts do not report here; Nova answers 501 for such drivers. */
hypervisorRoutes.get('/os-hypervisors/:hypervisor_id/uptime', async (c) => {
  authorize(c, UPTIME_RULE, {});
  await findHypervisor(c, c.req.param('hypervisor_id'));
  throw new ApiError(501, 'The requested functionality is not supported.');
});
