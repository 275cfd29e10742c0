// /os-keypairs: import a public key or have one generated, list (paged from 2.35), show,
// delete. A key pair belongs to a user; from 2.10 admins name the user with user_id.
import { and, asc, eq, sql } from 'drizzle-orm';
import { Hono, type Context } from 'hono';
import { badRequest, conflict, forbidden, notFound } from '../../../lib/errors';
import { jsonBody } from '../../../lib/validation';
import { keyPairs } from '../../../schema/nova';
import { database, isoNow, isUniqueViolation } from '../db';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';
import { withinQuota } from '../quota';
import { KEYPAIR_LIST_QUERY_V2_35, KEYPAIR_QUERY_V2_10, keypairCreateV2_1, keypairCreateV2_10, keypairCreateV2_2, type KeypairCreate } from '../schemas/keypairs';
import { limitAndMarker, refuseUnknownQuery } from '../schemas/query';
import { generateKeyPair, sshFingerprint, x509Fingerprint } from '../ssh-keys';
import { keypairCreated, keypairListItem, keypairView, type KeypairRecord } from '../views/keypairs';
import { collectionLinks } from '../views/links';

type C = Context<NovaEnv>;

export const keypairRoutes = new Hono<NovaEnv>();

const invalidKeypair = (reason: string) => badRequest(`Keypair data is invalid: ${reason}`);
const keypairNotFound = (name: string, userId: string) => notFound(`Keypair ${name} not found for user ${userId}`);

/** The user a request is about: ?user_id= from 2.10 (first value), else the caller. */
function targetUser(c: C): string {
  if (!c.var.version.atLeast('2.10')) return c.var.auth.userId;
  return c.req.queries('user_id')?.[0] || c.var.auth.userId;
}

const columns = {
  id: sql<number>`${keyPairs}.rowid`,
  userId: keyPairs.userId,
  name: keyPairs.name,
  type: keyPairs.type,
  fingerprint: keyPairs.fingerprint,
  publicKey: keyPairs.publicKey,
  createdAt: keyPairs.createdAt,
};

async function findKeypair(c: C, userId: string, name: string): Promise<KeypairRecord> {
  const row = await database(c.env.DB).select(columns).from(keyPairs).where(and(eq(keyPairs.userId, userId), eq(keyPairs.name, name))).get();
  if (!row) throw keypairNotFound(name, userId);
  return row;
}

keypairRoutes.post('/os-keypairs', async (c) => {
  const v = c.var.version;
  const schema = v.atLeast('2.10') ? keypairCreateV2_10 : v.atLeast('2.2') ? keypairCreateV2_2 : keypairCreateV2_1;
  const b = (await jsonBody(c, schema)).keypair as KeypairCreate;
  const userId = (v.atLeast('2.10') ? b.user_id : undefined) || c.var.auth.userId;
  authorize(c, 'os_compute_api:os-keypairs:create', { user_id: userId });
  const type = b.type ?? 'ssh';
  let publicKey: string;
  let fingerprint: string;
  let privateKey: string | undefined;
  if (b.public_key !== undefined) {
    publicKey = b.public_key;
    if (type === 'ssh') {
      const fp = sshFingerprint(publicKey);
      if (fp === null) throw invalidKeypair('failed to generate fingerprint');
      fingerprint = fp;
    } else {
      const fp = x509Fingerprint(publicKey);
      if ('error' in fp) throw invalidKeypair(`failed to generate X509 fingerprint. Error message: ${fp.error}`);
      fingerprint = fp.fingerprint;
    }
  } else {
    // Nova makes an X.509 certificate with a PKCS#12 private key here; only SSH keys are generated.
    if (type === 'x509') throw invalidKeypair('generating x509 key pairs is not supported; import a certificate as public_key');
    const pair = await generateKeyPair();
    ({ publicKey, fingerprint, privateKey } = pair);
  }
  const name = b.name.trim();
  const db = database(c.env.DB);
  const createdAt = isoNow();
  let inserted: number;
  try {
    // The quota is checked by the insert itself, so two concurrent creates cannot both pass.
    const res = await db.run(sql`insert into ${keyPairs} (user_id, name, type, fingerprint, public_key, created_at)
      select ${userId}, ${name}, ${type}, ${fingerprint}, ${publicKey}, ${createdAt}
      where ${withinQuota(c.var.auth.projectId ?? '', userId, { key_pairs: 1 })}`);
    inserted = res.meta.changes;
  } catch (err) {
    if (isUniqueViolation(err)) throw conflict(`Key pair '${name}' already exists.`);
    throw err;
  }
  if (inserted === 0) throw forbidden('Quota exceeded, too many key pairs.');
  const record: KeypairRecord = { id: 0, userId, name, type, fingerprint, publicKey, createdAt };
  return c.json(keypairCreated(v, record, privateKey), v.atLeast('2.2') ? 201 : 200);
});

keypairRoutes.get('/os-keypairs', async (c) => {
  const v = c.var.version;
  if (v.atLeast('2.75')) refuseUnknownQuery(c, KEYPAIR_LIST_QUERY_V2_35);
  const userId = targetUser(c);
  authorize(c, 'os_compute_api:os-keypairs:index', { user_id: userId });
  const paged = v.atLeast('2.35');
  const { limit, marker } = paged ? limitAndMarker(c) : { limit: Infinity, marker: undefined };
  const rows = await database(c.env.DB).select(columns).from(keyPairs).where(eq(keyPairs.userId, userId)).orderBy(asc(keyPairs.name));
  let start = 0;
  if (marker !== undefined) {
    const at = rows.findIndex((r) => r.name === marker);
    if (at < 0) throw badRequest(`Marker ${marker} could not be found.`);
    start = at + 1;
  }
  const page = rows.slice(start, start + limit);
  const links = paged ? collectionLinks(c, 'os-keypairs', page.length, page[page.length - 1]?.name) : [];
  return c.json({ keypairs: page.map((k) => keypairListItem(v, k)), ...(links.length > 0 ? { keypairs_links: links } : {}) });
});

keypairRoutes.get('/os-keypairs/:name', async (c) => {
  if (c.var.version.atLeast('2.75')) refuseUnknownQuery(c, KEYPAIR_QUERY_V2_10);
  const userId = targetUser(c);
  authorize(c, 'os_compute_api:os-keypairs:show', { user_id: userId });
  return c.json(keypairView(c.var.version, await findKeypair(c, userId, c.req.param('name'))));
});

keypairRoutes.delete('/os-keypairs/:name', async (c) => {
  const v = c.var.version;
  if (v.atLeast('2.75')) refuseUnknownQuery(c, KEYPAIR_QUERY_V2_10);
  const userId = targetUser(c);
  authorize(c, 'os_compute_api:os-keypairs:delete', { user_id: userId });
  const name = c.req.param('name');
  const gone = await database(c.env.DB)
    .delete(keyPairs)
    .where(and(eq(keyPairs.userId, userId), eq(keyPairs.name, name)))
    .returning({ name: keyPairs.name });
  if (gone.length === 0) throw keypairNotFound(name, userId);
  return c.body(null, v.atLeast('2.2') ? 204 : 202);
});
