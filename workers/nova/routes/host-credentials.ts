// /os-host-credentials: an admin creates the credential a host's connector dials in with,
// lists them (never the secret again) and revokes them. Not part of Nova: Flarestack's
// own extension, in Nova's style. The secret is shown once, at creation.
import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { z } from 'zod';
import { notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { hostCredentials } from '../../../schema/nova';
import { hashSecret, newSecret } from '../compute/host-credentials';
import { conductor, database, isoNow } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';

export const hostCredentialRoutes = new Hono<NovaEnv>();

const createBody = z.strictObject({
  host_credential: z.strictObject({
    host: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'a host name: letters, digits, ".", "_" and "-", up to 255'),
    description: z.string().max(255).optional(),
  }),
});

type Row = typeof hostCredentials.$inferSelect;
const view = (r: Row) => ({ id: r.id, host: r.host, description: r.description, created_at: r.createdAt, revoked_at: r.revokedAt });

hostCredentialRoutes.post('/os-host-credentials', async (c) => {
  authorize(c, 'os_compute_api:os-host-credentials');
  const { host_credential: body } = await jsonBody(c, createBody);
  const secret = newSecret();
  const row: Row = {
    id: crypto.randomUUID(),
    host: body.host,
    secretHash: await hashSecret(secret),
    description: body.description ?? null,
    createdAt: isoNow(),
    revokedAt: null,
  };
  await database(c.env.DB).insert(hostCredentials).values(row);
  return c.json({ host_credential: { ...view(row), credential: `${row.id}.${secret}` } }, 201);
});

hostCredentialRoutes.get('/os-host-credentials', async (c) => {
  authorize(c, 'os_compute_api:os-host-credentials');
  const host = c.req.query('host');
  const rows = await database(c.env.DB)
    .select()
    .from(hostCredentials)
    .where(and(isNull(hostCredentials.revokedAt), host ? eq(hostCredentials.host, host) : undefined))
    .orderBy(hostCredentials.createdAt);
  return c.json({ host_credentials: rows.map(view) });
});

hostCredentialRoutes.get('/os-host-credentials/:id', async (c) => {
  authorize(c, 'os_compute_api:os-host-credentials');
  const [row] = await database(c.env.DB).select().from(hostCredentials).where(eq(hostCredentials.id, c.req.param('id')));
  if (!row) throw notFound(`Host credential ${c.req.param('id')} could not be found.`);
  return c.json({ host_credential: view(row) });
});

hostCredentialRoutes.delete('/os-host-credentials/:id', async (c) => {
  authorize(c, 'os_compute_api:os-host-credentials');
  const [row] = await database(c.env.DB)
    .update(hostCredentials)
    .set({ revokedAt: isoNow() })
    .where(and(eq(hostCredentials.id, c.req.param('id')), isNull(hostCredentials.revokedAt)))
    .returning();
  if (!row) throw notFound(`Host credential ${c.req.param('id')} could not be found.`);
  await conductor(c.env, row.host).revokeCredential(row.id);
  return c.body(null, 204);
});
