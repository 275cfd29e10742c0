// /limits: the project's absolute limits and what it uses, as Nova's views/limits.py names
// them; no rate limits. Admins may ask about another project with ?tenant_id=.
import { Hono } from 'hono';
import { database } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { limitsFor, usageFor, type QuotaResource } from '../quota';
import { queryParam, refuseUnknownQuery } from '../schemas/query';

export const limitRoutes = new Hono<NovaEnv>();

const LIMIT_NAMES: [QuotaResource, string][] = [
  ['ram', 'maxTotalRAMSize'],
  ['instances', 'maxTotalInstances'],
  ['cores', 'maxTotalCores'],
  ['key_pairs', 'maxTotalKeypairs'],
  ['floating_ips', 'maxTotalFloatingIps'],
  ['metadata_items', 'maxServerMeta'],
  ['metadata_items', 'maxImageMeta'],
  ['injected_files', 'maxPersonality'],
  ['injected_file_content_bytes', 'maxPersonalitySize'],
  ['security_groups', 'maxSecurityGroups'],
  ['security_group_rules', 'maxSecurityGroupRules'],
  ['server_groups', 'maxServerGroups'],
  ['server_group_members', 'maxServerGroupMembers'],
];

/** Gone from /limits at 2.36 (network proxies) and 2.57 (injected files). */
const FILTERED_2_36: QuotaResource[] = ['floating_ips', 'security_groups', 'security_group_rules'];
const FILTERED_2_57: QuotaResource[] = [...FILTERED_2_36, 'injected_files', 'injected_file_content_bytes'];

limitRoutes.get('/limits', async (c) => {
  const v = c.var.version;
  if (v.atLeast('2.75')) refuseUnknownQuery(c, ['tenant_id']);
  authorize(c, 'os_compute_api:limits', {});
  let projectId = c.var.auth.projectId ?? '';
  const asked = queryParam(c, 'tenant_id');
  if (asked !== undefined) {
    authorize(c, 'os_compute_api:limits:other_project', { project_id: asked });
    projectId = asked;
  }
  const db = database(c.env.DB);
  const [limits, usage] = await Promise.all([limitsFor(db, projectId), usageFor(db, projectId)]);
  const filtered = new Set(v.atLeast('2.57') ? FILTERED_2_57 : v.atLeast('2.36') ? FILTERED_2_36 : []);
  const absolute: Record<string, number> = {};
  for (const [resource, name] of LIMIT_NAMES) {
    if (filtered.has(resource)) continue;
    // 2.39: image metadata limits went with the image proxy API.
    if (name === 'maxImageMeta' && v.atLeast('2.39')) continue;
    absolute[name] = limits[resource];
  }
  const used: [string, QuotaResource, number][] = [
    ['totalRAMUsed', 'ram', usage.ram],
    ['totalCoresUsed', 'cores', usage.cores],
    ['totalInstancesUsed', 'instances', usage.instances],
    ['totalFloatingIpsUsed', 'floating_ips', 0],
    ['totalSecurityGroupsUsed', 'security_groups', 0],
    ['totalServerGroupsUsed', 'server_groups', usage.server_groups],
  ];
  for (const [name, resource, n] of used) if (!filtered.has(resource)) absolute[name] = n;
  return c.json({ limits: { rate: [], absolute } });
});
