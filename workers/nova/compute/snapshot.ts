// The createImage action (Nova's API.snapshot): the image is created in Glance first,
// queued, with the caller's token; then the server's host uploads the disk to it, with the
// same token, as nova-compute does with the request context's. The server shows
// image_snapshot_pending, image_snapshot, image_pending_upload and image_uploading on the
// way, and no task once the image is active. Locks do not stop it: in Nova's words, "lock
// is intended to prevent accidental change/delete of instances", and a snapshot is neither.
import { and, eq, isNull } from 'drizzle-orm';
import { conflict } from '../../../lib/errors';
import { validate } from '../../../lib/validation';
import { instances } from '../../../schema/nova';
import { conductor, database, isoNow, type InstanceRow } from '../db';
import { authorize } from '../policies';
import { createImageV2_1 } from '../schemas/server-actions';
import { checkState, hostUnavailable, recordAction, requestId, type C } from './api';
import { addImageMember, createImage, deleteImage, findImage, imageProperties, imageUrl } from './glance';
import { EVENT_OF } from './instance-updates';
import { checkLaunched } from './server-moves';

/** Properties a snapshot never inherits from the image its server was built from (Nova's NON_INHERITABLE_IMAGE_PROPERTIES). */
const NON_INHERITABLE = new Set(['cinder_encryption_key_id', 'cinder_encryption_key_deletion_policy', 'img_signature', 'img_signature_hash_method', 'img_signature_key_type', 'img_signature_certificate_uuid']);

export async function createServerImage(c: C, s: InstanceRow, arg: unknown): Promise<Response> {
  authorize(c, 'os_compute_api:servers:create_image', { project_id: s.projectId });
  const body = validate(createImageV2_1, arg);
  checkState(s, 'createImage', ['active', 'stopped', 'paused', 'suspended']);
  checkLaunched(s, 'createImage');
  if (!s.host) throw hostUnavailable(null);
  const cond = conductor(c.env, s.host);
  if (!(await cond.isUp())) throw hostUnavailable(s.host);

  // Nova's create_image: the base image's properties and sizes, the snapshot's own, then the caller's.
  const base = await findImage(c, s.imageRef);
  const inherited = Object.fromEntries(Object.entries(imageProperties(base)).filter(([k]) => !NON_INHERITABLE.has(k)));
  const ownProject = c.var.auth.projectId === s.projectId;
  const properties: Record<string, string> = {
    ...inherited,
    instance_uuid: s.uuid,
    user_id: c.var.auth.userId,
    image_type: 'snapshot',
    base_image_ref: s.imageRef,
    // An admin's snapshot of another project's server is shared with that project.
    ...(ownProject ? {} : { instance_owner: s.projectId }),
    ...body.metadata,
  };
  const image = await createImage(c, {
    name: body.name,
    visibility: ownProject ? 'private' : 'shared',
    min_disk: Math.max(base?.min_disk ?? 0, s.flavor.disk),
    min_ram: base?.min_ram ?? 0,
    ...properties,
  });
  if (!ownProject) await addImageMember(c, image.id, s.projectId);

  const db = database(c.env.DB);
  const [taken] = await db
    .update(instances)
    .set({ taskState: 'image_snapshot_pending', updatedAt: isoNow() })
    .where(and(eq(instances.uuid, s.uuid), eq(instances.deleted, false), isNull(instances.taskState)))
    .returning({ uuid: instances.uuid });
  const url = imageUrl(c, image.id);
  if (!taken) {
    await deleteImage(c.env.GLANCE, url, c.var.auth.token);
    throw conflict(`Cannot 'createImage' instance ${s.uuid} while it is in task_state ${s.taskState}`);
  }
  const reqId = requestId(c);
  await db.batch(recordAction(db, c, reqId, s.uuid, 'createImage', EVENT_OF.snapshot, s.host));
  await cond.runInstanceAction(s.host, {
    job: { id: `${s.uuid}.snapshot.${reqId}`, kind: 'snapshot', instanceUuid: s.uuid, imageId: image.id, imageUrl: url, uploadUrl: `${url}/file`, token: c.var.auth.token },
    requestId: reqId,
  });

  // From 2.45 the image's id is in the body; before, only in the Location header.
  if (c.var.version.atLeast('2.45')) return c.json({ image_id: image.id }, 202);
  // Nova's generate_image_url: the image endpoint of the catalog, then images/<id>.
  c.header('Location', `${new URL(c.req.url).origin}/image/images/${image.id}`);
  return c.body(null, 202);
}
