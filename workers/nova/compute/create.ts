// POST /servers: the first steps of the seed's provisioning. Checks the request against
// flavor, image, keypair, zone and server group; asks the Scheduler for a host (claimed);
// writes the instances as BUILD inside the quota in one atomic statement each; then hands
// each build to its host's Conductor. Later steps (ports from Neutron, volumes from
// Cinder) join the build in the Conductor, before the spawn job.
import { and, eq, inArray, sql } from 'drizzle-orm';
import { SQLiteAsyncDialect } from 'drizzle-orm/sqlite-core';
import { badRequest, ApiError } from '../../../lib/errors';
import type { SpawnInstance } from '../../../lib/connector-protocol';
import { flavors, instanceActions, instanceActionEvents, instanceFaults, instances, keyPairs, serverGroupMembers, serverGroups, services, type FlavorSnapshot } from '../../../schema/nova';
import type { RequestSpec, Selection } from '../../../durable-objects/scheduler/types';
import { conductor, database, isoNow, preciseNow, scheduler, type Db, type InstanceRow } from '../db';
import { visibleFlavors } from '../flavors';
import { limitOf, limitsFor, overQuota, usageFor, withinQuota } from '../quota';
import { isBase64, type ServerCreate } from '../schemas/servers';
import { isAdmin, type C } from './api';
import { findImage, imageProperties, type GlanceImage } from './glance';
import { EVENT_OF } from './instance-updates';

// Boots come in bursts of the same image and flavor: each, as a project saw it, is kept
// for a moment, as keystonemiddleware keeps validated tokens, to spare Glance a call and
// D1 a read per boot. The insert checks again that the flavor is still there (see below).
const IMAGE_CACHE_MS = 2000;
const imageCache = new Map<string, { image: GlanceImage; until: number }>();
const FLAVOR_CACHE_MS = 2000;
const flavorCache = new Map<string, { flavor: FlavorSnapshot; until: number }>();

function cachedFlavor(key: string): FlavorSnapshot | null {
  const hit = flavorCache.get(key);
  return hit && hit.until > Date.now() ? hit.flavor : null;
}

function cacheFlavor(key: string, flavor: FlavorSnapshot): void {
  if (flavorCache.size > 1000) flavorCache.clear();
  flavorCache.set(key, { flavor, until: Date.now() + FLAVOR_CACHE_MS });
}

/** The image to boot, as the caller sees it in Glance: missing or not active is a 400. */
async function lookUpImage(c: C, id: string): Promise<GlanceImage> {
  const key = `${c.var.auth.projectId ?? ''}/${isAdmin(c)}/${id}`;
  const hit = imageCache.get(key);
  if (hit && hit.until > Date.now()) return hit.image;
  const image = await findImage(c, id);
  if (!image) throw badRequest(`Image ${id} could not be found.`);
  if (image.status !== 'active') throw badRequest(`Image ${id} is not active.`);
  if (imageCache.size > 1000) imageCache.clear();
  imageCache.set(key, { image, until: Date.now() + IMAGE_CACHE_MS });
  return image;
}

/** "zone" or "zone:host" (the latter only for admins, as Nova has it). */
function parseZone(c: C, requested: string | undefined): { zone: string | null; forcedHost: string | null } {
  if (!requested) return { zone: null, forcedHost: null };
  const [zone, host] = requested.split(':', 2) as [string, string | undefined];
  if (host && !isAdmin(c)) throw new ApiError(403, "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.");
  return { zone, forcedHost: host || null };
}

const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

const hintList = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** A host name from a display name, as Nova's sanitize_hostname makes it. */
function hostnameOf(name: string): string {
  const h = name.toLowerCase().replace(/[ _]/g, '-').replace(/[^a-z0-9.-]/g, '').replace(/^[.-]+|[.-]+$/g, '').slice(0, 63);
  return h || 'server';
}

const dialect = new SQLiteAsyncDialect();

/** The flavor a caller may boot: enabled, and public or shared with the caller's project (admins: any). */
const bootableFlavor = (c: C, id: string) => and(eq(flavors.id, id), eq(flavors.disabled, false), visibleFlavors(c));

/**
 * Inserts one instance only while its flavor is still there for the caller and the
 * project stays within its quota (and its server group within server_group_members): the
 * checks and the insert are one SQL statement, so concurrent creates can never exceed it
 * together.
 */
function quotaGuardedInsert(c: C, db: Db, row: InstanceRow, groupUuid: string | null): D1PreparedStatement {
  const insert = db.insert(instances).values(row).toSQL();
  const flavor = sql`exists (select 1 from ${flavors} where ${bootableFlavor(c, row.flavorId)})`;
  const quota = withinQuota(row.projectId, row.userId, { instances: 1, cores: row.vcpus, ram: row.memoryMb });
  const limit = limitOf(row.projectId, 'server_group_members');
  const members = groupUuid
    ? sql` and (${limit} < 0 or (select count(*) from ${serverGroupMembers} where ${serverGroupMembers.groupUuid} = ${groupUuid}) + 1 <= ${limit})`
    : sql``;
  const where = dialect.sqlToQuery(sql`${flavor} and ${quota}${members}`);
  const values = /\svalues\s*\((.*)\)\s*$/is.exec(insert.sql);
  if (!values) throw new Error('unexpected insert statement');
  const text = `${insert.sql.slice(0, values.index)} select ${values[1]} where ${where.sql}`;
  return c.env.DB.prepare(text).bind(...insert.params, ...where.params);
}

/** Why the guarded inserts refused: the flavor went away meanwhile, or a quota. */
async function refusal(c: C, db: Db, projectId: string, userId: string, flavor: FlavorSnapshot, count: number): Promise<ApiError> {
  const [[still], limits, usage] = await Promise.all([
    db.select({ id: flavors.id }).from(flavors).where(bootableFlavor(c, flavor.id)),
    limitsFor(db, projectId),
    usageFor(db, projectId, userId),
  ]);
  if (!still) return badRequest('Invalid flavorRef provided.');
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
  const { zone: zoneName, forcedHost } = parseZone(c, s.availability_zone);
  // One round trip for every read the request needs, beside the image lookup in Glance;
  // none for a plain boot of a flavor seen a moment ago (quotas are read by the insert).
  const flavorKey = `${projectId}/${isAdmin(c)}/${String(s.flavorRef)}`;
  const known = cachedFlavor(flavorKey);
  const read = () =>
    db.batch([
      db.select().from(flavors).where(bootableFlavor(c, String(s.flavorRef))),
      db.select().from(keyPairs).where(and(eq(keyPairs.userId, auth.userId), eq(keyPairs.name, s.key_name ?? ''))),
      db.select({ host: services.host }).from(services).where(eq(services.availabilityZone, zoneName ?? '')).limit(1),
      db.select().from(serverGroups).where(and(eq(serverGroups.uuid, groupUuid ?? ''), eq(serverGroups.projectId, projectId))),
      db.select().from(serverGroupMembers).where(eq(serverGroupMembers.groupUuid, groupUuid ?? '')),
    ]);
  const needsRead = !known || s.key_name !== undefined || zoneName !== null || groupUuid !== null;
  const [[flavorRows, keypairRows, zoneRows, groupRows, memberRows], image] = await Promise.all([
    needsRead ? read() : Promise.resolve([[], [], [], [], []] as const),
    lookUpImage(c, s.imageRef),
  ]);
  const f = flavorRows[0];
  const flavor: FlavorSnapshot | null = f
    ? { id: f.id, name: f.name, vcpus: f.vcpus, ram: f.memoryMb, disk: f.rootGb, ephemeral: f.ephemeralGb, swap: f.swap, extraSpecs: f.extraSpecs }
    : needsRead ? null : known;
  if (!flavor) throw badRequest('Invalid flavorRef provided.');
  cacheFlavor(flavorKey, flavor);
  const keypair = keypairRows[0] ?? null;
  if (s.key_name && !keypair) throw badRequest('Invalid key_name provided.');
  if (zoneName && zoneRows.length === 0) throw badRequest('The requested availability zone is not available');
  const group = groupRows[0] ?? null;
  if (groupUuid && !group) throw badRequest(`Instance group ${groupUuid} could not be found.`);
  if ((image.min_disk ?? 0) > flavor.disk && flavor.disk > 0) throw badRequest("Flavor's disk is too small for requested image.");
  if ((image.min_ram ?? 0) > flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");

  const reservationId = `r-${crypto.randomUUID().slice(0, 8)}`;
  const now = isoNow();
  const started = preciseNow();
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
      requestedZone: zoneName,
      availabilityZone: zoneName,
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

  // Scheduled before they are written: the claim comes first, so each row goes in once,
  // with its host. A row over quota gives its claim back.
  const sched = scheduler(c.env);
  const members = memberRows.map((m) => m.instanceUuid);
  const specs = new Map<string, RequestSpec>();
  const selections = new Map<string, Selection>();
  for (const row of rows) {
    const spec: RequestSpec = {
      instanceUuid: row.uuid,
      projectId,
      flavor: { vcpus: flavor.vcpus, memoryMb: flavor.ram, rootGb: flavor.disk, ephemeralGb: flavor.ephemeral, swapMb: flavor.swap, extraSpecs: flavor.extraSpecs },
      image: { id: image.id, properties: imageProperties(image) },
      availabilityZone: zoneName,
      forcedHost,
      group: group
        ? { uuid: group.uuid, policy: group.policy as NonNullable<RequestSpec['group']>['policy'], maxServerPerHost: group.rules.max_server_per_host, members: [...members, ...rows.map((r) => r.uuid)].filter((m) => m !== row.uuid) }
        : null,
      sameHost: hintList(hints.same_host),
      differentHost: hintList(hints.different_host),
      ignoreHosts: [],
    };
    specs.set(row.uuid, spec);
    const selection = await sched.selectDestinations(spec);
    if (selection) {
      selections.set(row.uuid, selection);
      Object.assign(row, { host: selection.host, node: selection.node ?? selection.host, availabilityZone: selection.zone ?? zoneName, taskState: 'spawning' });
    } else {
      Object.assign(row, { vmState: 'error', taskState: null });
    }
  }

  // Each instance with its action and group membership, inserted only inside the quota.
  const statements: D1PreparedStatement[] = [];
  const reqIds: string[] = [];
  for (const row of rows) {
    const reqId = `req-${crypto.randomUUID()}`;
    reqIds.push(reqId);
    statements.push(quotaGuardedInsert(c, db, row, group?.uuid ?? null));
    const exists = `EXISTS (SELECT 1 FROM instances WHERE uuid = ?)`;
    statements.push(
      c.env.DB.prepare(`INSERT INTO instance_actions (request_id, action, instance_uuid, project_id, user_id, start_time, updated_at) SELECT ?, 'create', ?, ?, ?, ?, ? WHERE ${exists}`)
        .bind(reqId, row.uuid, projectId, auth.userId, now, now, row.uuid),
      c.env.DB.prepare(`INSERT INTO instance_actions_events (action_id, event, start_time, finish_time, result) SELECT id, ?, ?, ?, ? FROM instance_actions WHERE request_id = ?`)
        .bind(EVENT_OF.spawn, started, row.vmState === 'error' ? started : null, row.vmState === 'error' ? 'Error' : null, reqId),
      c.env.DB.prepare(`INSERT INTO instance_faults (instance_uuid, code, message, details, created_at) SELECT ?, 500, ?, '', ? WHERE ? AND ${exists}`)
        .bind(row.uuid, NO_VALID_HOST, now, row.vmState === 'error' ? 1 : 0, row.uuid),
    );
    if (group) {
      statements.push(c.env.DB.prepare(`INSERT INTO instance_group_member (group_uuid, instance_uuid) SELECT ?, ? WHERE ${exists}`).bind(group.uuid, row.uuid, row.uuid));
    }
  }
  const results = await c.env.DB.batch(statements);
  const per = group ? 5 : 4;
  const created = rows.filter((_, i) => (results[i * per]?.meta.changes ?? 0) > 0);
  const refused = created.length < minCount ? rows : rows.filter((r) => !created.includes(r));
  await Promise.all(refused.filter((r) => selections.has(r.uuid)).map((r) => sched.releaseClaim(r.uuid)));
  if (created.length < minCount) {
    if (created.length > 0) {
      const ids = created.map((r) => r.uuid);
      await db.batch([
        db.delete(serverGroupMembers).where(inArray(serverGroupMembers.instanceUuid, ids)),
        db.delete(instanceFaults).where(inArray(instanceFaults.instanceUuid, ids)),
        db.delete(instanceActionEvents).where(inArray(instanceActionEvents.actionId, db.select({ id: instanceActions.id }).from(instanceActions).where(inArray(instanceActions.instanceUuid, ids)))),
        db.delete(instanceActions).where(inArray(instanceActions.instanceUuid, ids)),
        db.delete(instances).where(inArray(instances.uuid, ids)),
      ]);
    }
    const error = await refusal(c, db, projectId, auth.userId, flavor, minCount);
    if (error.status === 400) flavorCache.delete(flavorKey);
    throw error;
  }

  await Promise.all(
    created.map(async (row) => {
      const selection = selections.get(row.uuid);
      if (!selection) return;
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
        instance, spec: specs.get(row.uuid)!, alternates: selection.alternates, attempt: 1, requestId: reqIds[rows.indexOf(row)]!, failures: [],
        placed: selection.node !== undefined,
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

