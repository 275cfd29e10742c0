// The rebuild action: the server keeps its id, host, flavor and addresses but gets a new
// root disk from an image, with a new name, metadata, key or user data if asked (Nova's
// API.rebuild). Its host destroys and spawns it again in one job, task_state rebuilding,
// then rebuild_spawning; a stopped server is stopped again after.
import { and, eq, isNull } from 'drizzle-orm';
import { badRequest, conflict } from '../../../lib/errors';
import { validate } from '../../../lib/validation';
import { instances, keyPairs } from '../../../schema/nova';
import { conductor, database, isoNow, type InstanceRow } from '../db';
import { authorize } from '../policies';
import { isBase64 } from '../schemas/servers';
import { rebuildV2_1, type RebuildBody } from '../schemas/server-actions';
import { serverView } from '../views/servers';
import { checkLock, checkState, computeBase, hostUnavailable, recordAction, requestId, viewContexts, type C } from './api';
import { findImage } from './glance';
import { checkLaunched } from './server-moves';
import { EVENT_OF } from './instance-updates';
import { spawnInstanceOf } from './spawn-instance';

/** Fields a microversion does not have yet (or no longer has) are refused, as its schema refuses them. */
function refuseOutOfVersion(c: C, body: RebuildBody): void {
  const v = c.var.version;
  const unexpected = (field: string) => badRequest(`Invalid input for field/attribute rebuild. Additional properties are not allowed ('${field}' was unexpected)`);
  if (body.description !== undefined && !v.atLeast('2.19')) throw unexpected('description');
  if (body.key_name !== undefined && !v.atLeast('2.54')) throw unexpected('key_name');
  if (body.user_data !== undefined && !v.atLeast('2.57')) throw unexpected('user_data');
  if (body.personality !== undefined && v.atLeast('2.57')) throw unexpected('personality');
  if (body.trusted_image_certificates !== undefined && !v.atLeast('2.63')) throw unexpected('trusted_image_certificates');
}

/** Attributes a rebuild's answer leaves out before 2.75, when it began to answer as show does. */
function trimBefore2_75(view: Record<string, unknown>, c: C): void {
  for (const key of Object.keys(view)) {
    if (/^OS-EXT-(SRV-ATTR|STS|AZ):|^OS-SRV-USG:/.test(key)) delete view[key];
  }
  for (const key of ['config_drive', 'os-extended-volumes:volumes_attached', 'security_groups', 'host_status']) delete view[key];
  if (!c.var.version.atLeast('2.54')) delete view.key_name;
}

export async function rebuild(c: C, s: InstanceRow, arg: unknown): Promise<Response> {
  const body = validate(rebuildV2_1, arg);
  refuseOutOfVersion(c, body);
  authorize(c, 'os_compute_api:servers:rebuild', { user_id: s.userId, project_id: s.projectId });
  checkLock(c, s);
  checkState(s, 'rebuild', ['active', 'stopped', 'error']);
  checkLaunched(s, 'rebuild');
  const db = database(c.env.DB);
  let key: { keyName: string | null; keyData: string | null } | undefined;
  if (body.key_name !== undefined) {
    if (body.key_name === null) key = { keyName: null, keyData: null };
    else {
      // The caller's key pair, not the owner's: users own keys, projects own servers.
      const [kp] = await db.select().from(keyPairs).where(and(eq(keyPairs.userId, c.var.auth.userId), eq(keyPairs.name, body.key_name)));
      if (!kp) throw badRequest('Invalid key_name provided.');
      key = { keyName: kp.name, keyData: kp.publicKey };
    }
  }
  if (body.user_data && !isBase64(body.user_data)) throw badRequest('User data needs to be valid base 64.');
  const image = await findImage(c, body.imageRef);
  if (!image) throw badRequest('Cannot find image for rebuild');
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  if ((image.min_ram ?? 0) > s.flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
  if (s.flavor.disk > 0 && (image.min_disk ?? 0) > s.flavor.disk) {
    throw badRequest(`Flavor's disk is smaller than the minimum size specified in image metadata. Flavor disk is ${s.flavor.disk * 1024 ** 3} bytes, minimum size is ${(image.min_disk ?? 0) * 1024 ** 3} bytes.`);
  }
  if (!s.host) throw hostUnavailable(null);
  const cond = conductor(c.env, s.host);
  if (!(await cond.isUp())) throw hostUnavailable(s.host);

  const reqId = requestId(c);
  const [row] = await db
    .update(instances)
    .set({
      taskState: 'rebuilding',
      imageRef: image.id,
      ...(body.name !== undefined ? { name: body.name } : {}),
      ...(body.description !== undefined ? { description: body.description } : {}),
      ...(body.metadata !== undefined ? { metadata: body.metadata } : {}),
      ...(body.accessIPv4 !== undefined ? { accessIpV4: body.accessIPv4 } : {}),
      ...(body.accessIPv6 !== undefined ? { accessIpV6: body.accessIPv6 } : {}),
      ...(body.user_data !== undefined ? { userData: body.user_data } : {}),
      ...(key ?? {}),
      updatedAt: isoNow(),
    })
    .where(and(eq(instances.uuid, s.uuid), eq(instances.deleted, false), isNull(instances.taskState)))
    .returning();
  if (!row) throw conflict(`Cannot 'rebuild' instance ${s.uuid} while it is in task_state ${s.taskState}`);
  await db.batch(recordAction(db, c, reqId, s.uuid, 'rebuild', EVENT_OF.rebuild, s.host));
  const instance = spawnInstanceOf(row, row.flavor, image.id, image);
  // A stopped server is rebuilt and stopped again, as Nova's rebuild_instance does.
  await cond.runInstanceAction(s.host, { job: { id: `${s.uuid}.rebuild.${reqId}`, kind: 'rebuild', instanceUuid: s.uuid, instance, powerOff: s.vmState === 'stopped' }, requestId: reqId });

  const v = c.var.version;
  const view = serverView(row, (await viewContexts(c, [row])).get(row.uuid)!);
  if (!v.atLeast('2.75')) trimBefore2_75(view, c);
  // Nova's enable_instance_password: the password asked for, or one made up, is given back.
  view.adminPass = body.adminPass ?? crypto.randomUUID().replace(/-/g, '').slice(0, 12);
  if (v.atLeast('2.57')) view.user_data = row.userData;
  c.header('Location', `${computeBase(c)}/v2.1/servers/${s.uuid}`);
  return c.json({ server: view }, 202);
}
