// Which images a caller sees, as Glance's database layer decides it: admins see all;
// others see public and community images, their project's own, and shared images their
// project is a member of. An image the caller cannot see is a 404, never a 403.
import { and, eq } from 'drizzle-orm';
import type { Context } from 'hono';
import { notFound } from '../../lib/errors';
import type { Target } from '../../lib/policy';
import { imageMembers, images } from '../../schema/glance';
import { database, type Db, type ImageRow, type MemberRow } from './db';
import type { GlanceEnv } from './env';
import { isAdmin } from './policies';
import { UUID_PATTERN } from './schemas/images';

export type C = Context<GlanceEnv>;

export interface Loaded {
  db: Db;
  row: ImageRow;
  /** The caller's project's membership of the image, if any. */
  member: MemberRow | undefined;
}

const uuid = new RegExp(UUID_PATTERN);

export const imageNotFound = (id: string) => notFound(`No image found with ID ${id}`);

export function visibleTo(c: C, row: ImageRow, member: MemberRow | undefined): boolean {
  if (isAdmin(c)) return true;
  if (row.visibility === 'public' || row.visibility === 'community') return true;
  const project = c.var.auth.projectId;
  if (project !== undefined && row.owner === project) return true;
  return row.visibility === 'shared' && member !== undefined;
}

/** The policy target of an image, as Glance builds it. */
export function targetOf(c: C, row: ImageRow, member: MemberRow | undefined): Target {
  return {
    project_id: row.owner ?? undefined,
    owner: row.owner ?? undefined,
    member_id: member ? c.var.auth.projectId : undefined,
    visibility: row.visibility,
  };
}

/** The image in the URL, if the caller may see it; otherwise 404. */
export async function loadImage(c: C, id = c.req.param('image_id')!): Promise<Loaded> {
  const db = database(c.env.DB);
  if (!uuid.test(id)) throw imageNotFound(id);
  const row = await db.select().from(images).where(eq(images.id, id)).get();
  if (!row) throw imageNotFound(id);
  const project = c.var.auth.projectId;
  const member = project
    ? await db.select().from(imageMembers).where(and(eq(imageMembers.imageId, id), eq(imageMembers.memberId, project))).get()
    : undefined;
  if (!visibleTo(c, row, member)) throw imageNotFound(id);
  return { db, row, member };
}
