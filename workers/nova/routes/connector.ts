// The endpoint host connectors dial: a WebSocket upgrade authenticated by the host's
// credential, handed to the Conductor object of the host the credential names.
import { and, eq, isNull } from 'drizzle-orm';
import { Hono } from 'hono';
import { ApiError, unauthorized } from '../../../lib/errors';
import { hostCredentials } from '../../../schema/nova';
import { hashSecret, parseCredential } from '../compute/host-credentials';
import { conductor, database } from '../db';
import type { NovaEnv } from '../env';

export const connectorRoutes = new Hono<NovaEnv>();

connectorRoutes.get('/connector', async (c) => {
  if (c.req.header('Upgrade')?.toLowerCase() !== 'websocket') throw new ApiError(426, 'The connector endpoint takes a WebSocket upgrade.');
  const credential = parseCredential(c.req.header('Authorization'));
  if (!credential) throw unauthorized('A host credential is required (Authorization: Bearer <id>.<secret>).');
  const [row] = await database(c.env.DB)
    .select()
    .from(hostCredentials)
    .where(and(eq(hostCredentials.id, credential.id), isNull(hostCredentials.revokedAt)));
  // Compared as hashes of equal length, so the time taken says nothing about the secret.
  if (!row || row.secretHash !== (await hashSecret(credential.secret))) throw unauthorized('The host credential is not valid.');
  const headers = new Headers(c.req.raw.headers);
  headers.set('X-Flarestack-Host', row.host);
  headers.set('X-Flarestack-Credential', row.id);
  headers.delete('Authorization');
  return conductor(c.env, row.host).fetch(new Request(c.req.raw.url, { headers }));
});
