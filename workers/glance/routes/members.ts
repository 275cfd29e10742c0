// /v2/images/{image_id}/members: sharing an image with other projects. The owner adds
// and removes members; each member project accepts or rejects the image for itself.
import { and, asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { ApiError, conflict, forbidden, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { imageMembers } from '../../../schema/glance';
import { loadImage, targetOf, type C, type Loaded } from '../access';
import { isoNow, isUniqueViolation, type MemberRow } from '../db';
import type { GlanceEnv } from '../env';
import { authorize, isAdmin } from '../policies';
import { memberCreate, memberUpdate } from '../schemas/images';
import { memberView } from '../views';

export const memberRoutes = new Hono<GlanceEnv>();

/** Glance's image_member_quota. */
const MAX_MEMBERS = 128;

const memberNotFound = (imageId: string, memberId: string) => notFound(`${memberId} is not a member of image ${imageId}.`);

/** Owners and admins see every member; a member project sees only its own membership. */
function seesAll(c: C, l: Loaded): boolean {
  return isAdmin(c) || (l.row.owner !== null && l.row.owner === c.var.auth.projectId);
}

async function findMember(l: Loaded, memberId: string): Promise<MemberRow | undefined> {
  return l.db.select().from(imageMembers).where(and(eq(imageMembers.imageId, l.row.id), eq(imageMembers.memberId, memberId))).get();
}

memberRoutes.post('/v2/images/:image_id/members', async (c) => {
  const l = await loadImage(c);
  authorize(c, 'add_member', targetOf(c, l.row, l.member));
  const { member } = await jsonBody(c, memberCreate);
  if (l.row.visibility !== 'shared') throw forbidden(`Only shared images have members.`);
  const count = (await l.db.select({ m: imageMembers.memberId }).from(imageMembers).where(eq(imageMembers.imageId, l.row.id))).length;
  if (count >= MAX_MEMBERS) throw new ApiError(413, `Maximum number of image members exceeded (${MAX_MEMBERS}).`);
  const now = isoNow();
  const row: MemberRow = { imageId: l.row.id, memberId: member, status: 'pending', createdAt: now, updatedAt: now };
  try {
    await l.db.insert(imageMembers).values(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Member ${member} is already associated with image ${l.row.id}.`);
    throw err;
  }
  return c.json(memberView(row));
});

memberRoutes.get('/v2/images/:image_id/members', async (c) => {
  const l = await loadImage(c);
  authorize(c, 'get_members', targetOf(c, l.row, l.member));
  if (l.row.visibility !== 'shared') throw forbidden('Only shared images have members.');
  const rows = seesAll(c, l)
    ? await l.db.select().from(imageMembers).where(eq(imageMembers.imageId, l.row.id)).orderBy(asc(imageMembers.createdAt), asc(imageMembers.memberId))
    : l.member ? [l.member] : [];
  return c.json({ members: rows.map(memberView), schema: '/v2/schemas/members' });
});

memberRoutes.get('/v2/images/:image_id/members/:member_id', async (c) => {
  const l = await loadImage(c);
  const memberId = c.req.param('member_id');
  authorize(c, 'get_member', targetOf(c, l.row, l.member));
  const row = seesAll(c, l) || memberId === c.var.auth.projectId ? await findMember(l, memberId) : undefined;
  if (!row) throw memberNotFound(l.row.id, memberId);
  return c.json(memberView(row));
});

memberRoutes.put('/v2/images/:image_id/members/:member_id', async (c) => {
  const l = await loadImage(c);
  const memberId = c.req.param('member_id');
  const row = seesAll(c, l) || memberId === c.var.auth.projectId ? await findMember(l, memberId) : undefined;
  if (!row) throw memberNotFound(l.row.id, memberId);
  // Only the member project decides: the target names it, not the caller.
  authorize(c, 'modify_member', { ...targetOf(c, l.row, l.member), member_id: memberId });
  const { status } = await jsonBody(c, memberUpdate);
  const next: MemberRow = { ...row, status, updatedAt: isoNow() };
  await l.db.update(imageMembers).set({ status, updatedAt: next.updatedAt })
    .where(and(eq(imageMembers.imageId, row.imageId), eq(imageMembers.memberId, row.memberId)));
  return c.json(memberView(next));
});

memberRoutes.delete('/v2/images/:image_id/members/:member_id', async (c) => {
  const l = await loadImage(c);
  const memberId = c.req.param('member_id');
  authorize(c, 'delete_member', targetOf(c, l.row, l.member));
  const row = await findMember(l, memberId);
  if (!row) throw memberNotFound(l.row.id, memberId);
  await l.db.delete(imageMembers).where(and(eq(imageMembers.imageId, row.imageId), eq(imageMembers.memberId, row.memberId)));
  return c.body(null, 204);
});
