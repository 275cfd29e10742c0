// POST /servers: the first steps of the seed's provisioning. Checks the request against
// flavor, image, keypair, zone and server group; writes the instances as BUILD inside the
// quota in one atomic statement each; then asks the Scheduler for a host (claimed) and
// hands the build to that host's Conductor. Later steps (ports from Neutron, volumes from
// Cinder) join the build in the Conductor, before the spawn job.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { badRequest, ApiError } from '../../../lib/errors';
import type { SpawnInstance } from '../../../lib/connector-protocol';
import { flavorProjects, flavors, instanceActions, instanceActionEvents, instances, keyPairs, serverGroupMembers, serverGroups, services, type FlavorSnapshot } from '../../../schema/nova';
import type { RequestSpec } from '../../../durable-objects/scheduler/types';
import { conductor, database, isoNow, scheduler, type Db, type InstanceRow } from '../db';
import { limitsFor, overQuota, usageFor, withinQuota, type Quotas } from '../quota';
import { isBase64, type ServerCreate } from '../schemas/servers';
import { isAdmin, type C } from './api';
import { buildFailed, EVENT_OF } from './instance-updates';

interface GlanceImage {
  id: string;
  status: string;
  min_disk?: number;
  min_ram?: number;
  disk_format?: string | null;
  checksum?: string | null;
  [property: string]: unknown;
}

/** The image as the caller sees it in Glance (its visibility rules apply). */
async function lookUpImage(c: C, id: string): Promise<GlanceImage> {
  const res = await c.env.GLANCE.fetch(
    new Request(`${new URL(c.req.url).origin}/image/v2/images/${encodeURIComponent(id)}`, { headers: { 'X-Auth-Token': c.var.auth.token } }),
  );
  if (res.status === 404 || res.status === 400) {
    await res.body?.cancel();
    throw badRequest(`Image ${id} could not be found.`);
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ApiError(503, `The image service answered ${res.status} for image ${id}.`);
  }
  const image = (await res.json()) as GlanceImage;
  if (image.status !== 'active') throw badRequest(`Image ${id} is not active.`);
  return image;
}

/** Image properties as strings, for the scheduler's image properties filter and the host. */
function imageProperties(image: GlanceImage): Record<string, string> {
  const props: Record<string, string> = {};
  for (const [k, v] of Object.entries(image)) {
    if (typeof v === 'string' && (k.startsWith('hw_') || k.startsWith('img_') || k === 'architecture' || k === 'hypervisor_type' || k === 'kernel_id' || k === 'ramdisk_id' || k === 'os_type')) props[k] = v;
  }
  return props;
}

async function lookUpFlavor(c: C, db: Db, id: string): Promise<FlavorSnapshot> {
  const [f] = await db.select().from(flavors).where(eq(flavors.id, id));
  let visible = !!f && !f.disabled;
  if (f && visible && !f.isPublic && !isAdmin(c)) {
    const [access] = await db.select().from(flavorProjects).where(and(eq(flavorProjects.flavorId, id), eq(flavorProjects.projectId, c.var.auth.projectId ?? '')));
    visible = !!access;
  }
  if (!f || !visible) throw badRequest('Invalid flavorRef provided.');
  return { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.memoryMb, disk: f.rootGb, ephemeral: f.ephemeralGb, swap: f.swap, extraSpecs: f.extraSpecs };
}

/** "zone", "zone:host" or "zone::node" (the latter two only for admins, as Nova has it). */
async function parseZone(c: C, db: Db, requested: string | undefined): Promise<{ zone: string | null; forcedHost: string | null }> {
  if (!requested) return { zone: null, forcedHost: null };
  const [zone, host] = requested.split(':', 2) as [string, string | undefined];
  const known = await db.select({ host: services.host, zone: services.availabilityZone }).from(services).where(eq(services.availabilityZone, zone)).limit(1);
  if (known.length === 0) throw badRequest('The requested availability zone is not available');
  if (host) {
    if (!isAdmin(c)) throw new ApiError(403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.");
    return { zone, forcedHost: host };
  }
  return { zone, forcedHost: null };
}

const hintList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** A host name from a display name, as Nova's sanitize_hostname makes it. */
function hostnameOf(name: string): string {
  const h = name.toLowerCase().replace(/[ _]/g, '-').replace(/[^a-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '').slice(0, 63);
  return h || 'server';
}

const dialect = new SQLiteAsyncDialect();

/**
 * Inserts one instance only while the project stays within its quota (and its server
 * group within server_group_members): the check and the insert are one SQL statement,
 * so concurrent creates can never exceed it together.
 */
function quotaGuardedInsert(d1: D1Database, db: Db, row: InstanceRow, limits: Quotas, group: { uuid: string; limit: number } | null): D1PreparedStatement {
  const insert = db.insert(instances).values(row).toSQL();
  const quota = withinQuota(limits, row.projectId, row.userId, { instances: 1, cores: row.vcpus, ram: row.memoryMb });
  const members = group && group.limit >= 0
    ? sql` and (select count(*) from ${serverGroupMembers} where ${serverGroupMembers.groupUuid} = ${group.uuid}) + 1 <= ${group.limit}`
    : sql``;
  const where = dialect.sqlToQuery(sql`${quota}${members}`);
  const values = /\svalues\s*\((.*)\)\s*$/is.exec(insert.sql);
  if (!values) throw new Error('unexpected insert statement');
  const text = `${insert.sql.slice(0, values.index)} select ${values[1]} where ${where.sql}`;
  return d1.prepare(text).bind(...insert.params, ...where.params);
}

async function quotaExceeded(db: Db, projectId: string, userId: string, flavor: FlavorSnapshot, count: number): Promise<ApiError> {
  const [limits, usage] = await Promise.all([limitsFor(db, projectId), usageFor(db, projectId, userId)]);
  const asks = { instances: count, cores: flavor.vcpus * count, ram: flavor.ram * count };
  const [resource] = overQuota(limits, usage, asks);
  if (resource) {
    return new ApiError(403, `Quota exceeded for ${resource}: Requested ${asks[resource as keyof typeof asks]}, but already used ${usage[resource]} of ${limits[resource]} ${resource}`);
  }
  return new ApiError(403, 'Quota exceeded, too many servers in group');
}

export async function createServers(c: C, body: ServerCreate): Promise<Response> {
  const v = c.var.version;
  const s = body.server;
  const auth = c.var.auth;
  const projectId = auth.projectId;
  if (!projectId) throw badRequest('A project-scoped token is required to create servers.');
  if (v.atLeast('2.37') && s.networks === undefined) {
    throw badRequest("Invalid input for field/attribute server. Value: (server). 'networks' is a required property");
  }
  if (!v.atLeast('2.19') && s.description !== undefined) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('description' was unexpected)");
  if (!v.atLeast('2.52') && s.tags !== undefined) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('tags' was unexpected)");
  if (v.atLeast('2.57') && s.personality !== undefined) throw badRequest("Invalid input for field/attribute server. Additional properties are not allowed ('personality' was unexpected)");
  if (Array.isArray(s.networks)) {
    const first = s.networks.find((n) => n.uuid || n.port);
    if (first) throw badRequest(first.port ? `Port id ${first.port} could not be found.` : `Network ${first.uuid} could not be found.`);
  }
  const volumeBdm = (s.block_device_mapping_v2 ?? []).find((b) => b.destination_type === 'volume' || b.source_type === 'volume' || b.source_type === 'snapshot');
  if (volumeBdm || s.block_device_mapping) throw badRequest('Block Device Mapping is Invalid: this cloud has no block storage (Cinder) yet.');
  if (!s.imageRef) throw badRequest('Missing imageRef attribute');
  if (s.user_data && !isBase64(s.user_data)) throw badRequest('User data needs to be valid base 64.');
  const minCount = s.min_count ?? 1;
  const maxCount = s.max_count ?? minCount;
  if (minCount > maxCount) throw badRequest('min_count must be <= max_count');

  const db = database(c.env.DB);
  const hints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'] ?? {};
  const groupUuid = typeof hints.group === 'string' ? hints.group : null;
  const [flavor, image, keypair, zone, group, limits] = await Promise.all([
    lookUpFlavor(c, db, String(s.flavorRef)),
    lookUpImage(c, s.imageRef),
    s.key_name
      ? db.select().from(keyPairs).where(and(eq(keyPairs.userId, auth.userId), eq(keyPairs.name, s.key_name))).then((r) => r[0] ?? null)
      : Promise.resolve(null),
    parseZone(c, db, s.availability_zone),
    groupUuid
      ? db.select().from(serverGroups).where(and(eq(serverGroups.uuid, groupUuid), eq(serverGroups.projectId, projectId))).then((r) => r[0] ?? null)
      : Promise.resolve(null),
    limitsFor(db, projectId),
  ]);
  if (s.key_name && !keypair) throw badRequest('Invalid key_name provided.');
  if (groupUuid && !group) throw badRequest(`Instance group ${groupUuid} could not be found.`);
  if ((image.min_disk ?? 0) > flavor.disk && flavor.disk > 0) throw badRequest("Flavor's disk is too small for requested image.");
  if ((image.min_ram ?? 0) > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");

  const reservationId = `r-${crypto.randomUUID().slice(0, 8)}`;
  const now = isoNow();
  const reqIds: string[] = [];
  const rows: InstanceRow[] = [];
  for (let i = 0; i < maxCount; i++) {
    const name = maxCount > 1 ? `${s.name}-${i + 1}` : s.name;
    rows.push({
      uuid: crypto.randomUUID(),
      name,
      hostname: hostnameOf(name),
      description: s.description ?? null,
      projectId,
      userId: auth.userId,
      imageRef: image.id,
      flavorId: flavor.id,
      flavor,
      newFlavor: null,
      vcpus: flavor.vcpus,
      memoryMb: flavor.ram,
      keyName: keypair?.name ?? null,
      keyData: keypair?.publicKey ?? null,
      userData: s.user_data ?? null,
      metadata: s.metadata ?? {},
      tags: s.tags ?? [],
      requestedZone: zone.zone,
      availabilityZone: zone.zone,
      host: null,
      node: null,
      vmState: 'building',
      taskState: 'scheduling',
      powerState: 0,
      locked: false,
      lockedBy: null,
      lockedReason: null,
      reservationId,
      launchIndex: i,
      configDrive: s.config_drive === true || s.config_drive === 'true' || s.config_drive === 'True' ? 'True' : '',
      accessIpV4: s.accessIPv4 ?? '',
      accessIpV6: s.accessIPv6 ?? '',
      networks: s.networks ?? null,
      securityGroups: (s.security_groups ?? [{ name: 'default' }]).map((g) => g.name),
      blockDeviceMapping: s.block_device_mapping_v2 ?? [],
      addresses: {},
      launchedAt: null,
      terminatedAt: null,
      createdAt: now,
      updatedAt: now,
      deletedAt: null,
      deleted: false,
    });
  }

  // Each instance with its action and group membership, inserted only inside the quota.
  const groupLimit = group ? (limits.server_group_members ?? -1) : -1;
  const statements: D1PreparedStatement[] = [];
  for (const row of rows) {
    const reqId = `req-${crypto.randomUUID()}`;
    reqIds.push(reqId);
    statements.push(quotaGuardedInsert(c.env.DB, db, row, limits, group ? { uuid: group.uuid, limit: groupLimit } : null));
    const exists = `EXISTS (SELECT 1 FROM instances WHERE uuid = ?)`;
    statements.push(
      c.env.DB.prepare(`INSERT INTO instance_actions (request_id, action, instance_uuid, project_id, user_id, start_time, updated_at) SELECT ?, 'create', ?, ?, ?, ?, ? WHERE ${exists}`)
        .bind(reqId, row.uuid, projectId, auth.userId, now, now, row.uuid),
      c.env.DB.prepare(`INSERT INTO instance_actions_events (action_id, event, start_time) SELECT id, ?, ? FROM instance_actions WHERE request_id = ?`)
        .bind(EVENT_OF.spawn, now, reqId),
    );
    if (group) {
      statements.push(c.env.DB.prepare(`INSERT INTO instance_group_member (group_uuid, instance_uuid) SELECT ?, ? WHERE ${exists}`).bind(group.uuid, row.uuid, row.uuid));
    }
  }
  const results = await c.env.DB.batch(statements);
  const per = group ? 4 : 3;
  const created = rows.filter((_, i) => (results[i * per]?.meta.changes ?? 0) > 0);
  if (created.length < minCount) {
    if (created.length > 0) {
      const ids = created.map((r) => r.uuid);
      await db.batch([
        db.delete(serverGroupMembers).where(inArray(serverGroupMembers.instanceUuid, ids)),
        db.delete(instanceActionEvents).where(inArray(instanceActionEvents.actionId, db.select({ id: instanceActions.id }).from(instanceActions).where(inArray(instanceActions.instanceUuid, ids)))),
        db.delete(instanceActions).where(inArray(instanceActions.instanceUuid, ids)),
        db.delete(instances).where(inArray(instances.uuid, ids)),
      ]);
    }
    throw await quotaExceeded(db, projectId, auth.userId, flavor, minCount);
  }

  const members = group ? (await db.select().from(serverGroupMembers).where(eq(serverGroupMembers.groupUuid, group.uuid))).map((m) => m.instanceUuid) : [];
  const sched = scheduler(c.env);
  await Promise.all(
    created.map(async (row) => {
      const reqId = reqIds[rows.indexOf(row)]!;
      const spec: RequestSpec = {
        instanceUuid: row.uuid,
        projectId,
        flavor: { vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk, ephemeralGb: flavor.ephemeral, swapMb: flavor.swap, extraSpecs: flavor.extraSpecs },
        image: { id: image.id, properties: imageProperties(image) },
        availabilityZone: zone.zone,
        forcedHost: zone.forcedHost,
        group: group ? { uuid: group.uuid, policy: group.policy as NonNullable<RequestSpec['group']>['policy'], maxServerPerHost: group.rules.max_server_per_host, members: members.filter((m) => m !== row.uuid) } : null,
        sameHost: hintList(hints.same_host),
        differentHost: hintList(hints.different_host),
        ignoreHosts: [],
      };
      const selection = await sched.selectDestinations(spec);
      if (!selection) {
        await buildFailed(db, row.uuid, reqId, 'No valid host was found. There are not enough hosts available.', null);
        return;
      }
      const instance: SpawnInstance = {
        uuid: row.uuid,
        name: row.name,
        hostname: row.hostname,
        projectId,
        flavor: { name: flavor.name, vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk, ephemeralGb: flavor.ephemeral, swapMb: flavor.swap },
        image: { id: image.id, checksum: image.checksum ?? null, diskFormat: image.disk_format ?? null, properties: imageProperties(image) },
        keyData: row.keyData,
        userData: row.userData,
        metadata: row.metadata,
      };
      await conductor(c.env, selection.host).buildAndRunInstance(selection.host, {
        instance, spec, alternates: selection.alternates, attempt: 1, requestId: reqId, failures: [],
      });
    }),
  );

  const first = created[0]!;
  c.header('x-openstack-request-id', reqIds[0]!);
  c.header('x-compute-request-id', reqIds[0]!);
  if (s.return_reservation_id === true || s.return_reservation_id === 'True' || s.return_reservation_id === 'true') {
    return c.json({ reservation_id: reservationId }, 202);
  }
  const base = `${new URL(c.req.url).origin}/compute`;
  c.header('Location', `${base}/v2.1/servers/${first.uuid}`);
  return c.json(
    {
      server: {
        id: first.uuid,
        links: [
          { rel: 'self', href: `${base}/v2.1/servers/${first.uuid}` },
          { rel: 'bookmark', href: `${base}/servers/${first.uuid}` },
        ],
        'OS-DCF:diskConfig': s['OS-DCF:diskConfig'] ?? 'MANUAL',
        security_groups: first.securityGroups.map((name) => ({ name })),
        adminPass: s.adminPass ?? crypto.randomUUID().replace(/-/g, '').slice(0, 12),
      },
    },
    202,
  );
}

