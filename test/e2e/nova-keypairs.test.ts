// Key pairs through the openstack CLI: generated (the private key works with ssh-keygen),
// imported from a file ssh-keygen made, listed, shown and deleted; admins acting for
// another user; and over HTTP Nova's errors and paging.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, demoLogin, openstack, openstackJson, openstackOk } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
const asDemo = { cloud: 'flarestack-demo' };
const v = (version: string) => ({ 'OpenStack-API-Version': `compute ${version}` });
type Keypair = Record<string, any>;

/** A valid ed25519 public key and its MD5 fingerprint, for machines without ssh-keygen. */
const FIXED_KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKC+Ir8d4PUNHT4fl1tXDsAzZhipZF+Nbx8uhDx9X3Ed e2e@flarestack';
const FIXED_MD5 = 'e7:37:5f:e5:ba:ed:4a:21:89:e4:73:4f:c7:eb:e5:d7';

function hasSshKeygen(): boolean {
  try {
    execFileSync('ssh-keygen', ['-?'], { stdio: 'ignore' });
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== 'ENOENT';
  }
}

let dir: string;
let admin: string;
let demo: string;
let demoUser: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'nova-keypairs-'));
  admin = await adminToken();
  ({ token: demo, userId: demoUser } = await demoLogin());
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A public key file (made by ssh-keygen when there is one) and its MD5 fingerprint. */
function publicKeyFile(name: string): { path: string; fingerprint: string } {
  const path = join(dir, `${name}.pub`);
  if (!hasSshKeygen()) {
    writeFileSync(path, `${FIXED_KEY}\n`);
    return { path, fingerprint: FIXED_MD5 };
  }
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  const printed = execFileSync('ssh-keygen', ['-l', '-E', 'md5', '-f', path], { encoding: 'utf8' });
  return { path, fingerprint: /MD5:(\S+)/.exec(printed)![1]! };
}

describe('keypairs through the CLI', () => {
  it('generates a key pair whose private key ssh-keygen reads', async () => {
    const name = `gen-${suffix()}`;
    const printed = `${(await openstackOk(['keypair', 'create', name], asDemo)).trim()}\n`;
    expect(printed).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----\n$/);
    const shown = await openstackJson<Keypair>(['keypair', 'show', name], asDemo);
    expect(shown).toMatchObject({ name, type: 'ssh', user_id: demoUser });
    expect(shown.fingerprint).toMatch(/^([0-9a-f]{2}:){15}[0-9a-f]{2}$/);
    const publicKey = (await openstackOk(['keypair', 'show', '--public-key', name], asDemo)).trim();
    expect(publicKey).toMatch(/^ssh-rsa \S+ Generated-by-Nova$/);
    if (hasSshKeygen()) {
      const keyFile = join(dir, name);
      writeFileSync(keyFile, printed, { mode: 0o600 });
      const derived = execFileSync('ssh-keygen', ['-y', '-f', keyFile], { encoding: 'utf8' }).trim();
      expect(derived.split(' ')[1]).toBe(publicKey.split(' ')[1]);
    }
    // --private-key writes the key to a file instead.
    const name2 = `gen-${suffix()}`;
    const file = join(dir, `${name2}.pem`);
    await openstackOk(['keypair', 'create', '--private-key', file, name2], asDemo);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/);
    await openstackOk(['keypair', 'delete', name, name2], asDemo);
  });

  it('imports a public key file with its MD5 fingerprint, lists, shows and deletes it', async () => {
    const name = `imp-${suffix()}`;
    const { path, fingerprint } = publicKeyFile(name);
    const created = await openstackJson<Keypair>(['keypair', 'create', '--public-key', path, name], asDemo);
    expect(created).toMatchObject({ name, fingerprint, type: 'ssh' });
    const rows = await openstackJson<{ Name: string; Fingerprint: string }[]>(['keypair', 'list'], asDemo);
    expect(rows.find((r) => r.Name === name)?.Fingerprint).toBe(fingerprint);
    // Key pairs belong to their user: the admin does not list demo's.
    expect((await openstackJson<{ Name: string }[]>(['keypair', 'list'])).map((r) => r.Name)).not.toContain(name);
    const shown = await api('GET', `/compute/v2.1/os-keypairs/${name}`, { token: demo, headers: v('2.2') });
    expect(shown.json.keypair).toMatchObject({
      name, fingerprint, user_id: demoUser, public_key: readFileSync(path, 'utf8'), deleted: false, deleted_at: null, updated_at: null, type: 'ssh',
    });
    expect(typeof shown.json.keypair.id).toBe('number');
    await openstackOk(['keypair', 'delete', name], asDemo);
    const gone = await openstack(['keypair', 'show', name], asDemo);
    expect(gone.code).not.toBe(0);
  });

  it('lets an admin create and list key pairs for another user (2.10)', async () => {
    const name = `adm-${suffix()}`;
    const { path } = publicKeyFile(name);
    const created = await openstackJson<Keypair>(['--os-compute-api-version', '2.10', 'keypair', 'create', '--public-key', path, '--user', 'demo', name]);
    expect(created.user_id).toBe(demoUser);
    const theirs = await openstackJson<{ Name: string }[]>(['--os-compute-api-version', '2.10', 'keypair', 'list', '--user', 'demo']);
    expect(theirs.map((r) => r.Name)).toContain(name);
    expect((await api('GET', `/compute/v2.1/os-keypairs?user_id=${demoUser}`, { token: demo, headers: v('2.10') })).status).toBe(200);
    const adminUser = (await api('GET', '/identity/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': admin } })).json.token.user.id;
    expect((await api('GET', `/compute/v2.1/os-keypairs?user_id=${adminUser}`, { token: demo, headers: v('2.10') })).status).toBe(403);
    await openstackOk(['keypair', 'delete', name], asDemo);
  });
});

describe('keypair errors and paging over HTTP', () => {
  const create = (keypair: Record<string, unknown>, version = '2.79') =>
    api('POST', '/compute/v2.1/os-keypairs', { token: demo, body: { keypair }, headers: v(version) });

  it('answers a duplicate with 409, bad keys and names with 400, unknown names with 404', async () => {
    const name = `dup-${suffix()}`;
    const first = await create({ name, public_key: FIXED_KEY });
    expect(first.status).toBe(201);
    expect(first.json.keypair).toEqual({ name, public_key: FIXED_KEY, fingerprint: FIXED_MD5, user_id: demoUser, type: 'ssh' });
    expect((await create({ name, public_key: FIXED_KEY })).json).toEqual({
      conflictingRequest: { code: 409, message: `Key pair '${name}' already exists.` },
    });
    expect((await create({ name: `bad-${suffix()}`, public_key: 'ssh-rsa not-a-key' })).json).toEqual({
      badRequest: { code: 400, message: 'Keypair data is invalid: failed to generate fingerprint' },
    });
    for (const bad of [{ name: 'a/b', public_key: FIXED_KEY }, { public_key: FIXED_KEY }, { name: 'x', type: 'pgp' }, { name: 'x', bogus: true }]) {
      const r = await create(bad);
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
    expect((await api('GET', '/compute/v2.1/os-keypairs/no-such-key', { token: demo })).json).toEqual({
      itemNotFound: { code: 404, message: `Keypair no-such-key not found for user ${demoUser}` },
    });
    expect((await api('DELETE', '/compute/v2.1/os-keypairs/no-such-key', { token: demo })).status).toBe(404);
    expect((await api('DELETE', `/compute/v2.1/os-keypairs/${name}`, { token: demo, headers: v('2.2') })).status).toBe(204);
  });

  it('pages from 2.35 with limit, marker and keypairs_links', async () => {
    const prefix = `page-${suffix()}`;
    for (const n of ['a', 'b', 'c']) expect((await create({ name: `${prefix}-${n}`, public_key: FIXED_KEY })).status).toBe(201);
    const all = (await api('GET', '/compute/v2.1/os-keypairs', { token: demo, headers: v('2.35') })).json.keypairs.map((k: any) => k.keypair.name);
    const mine = all.filter((n: string) => n.startsWith(prefix));
    expect(mine).toEqual([`${prefix}-a`, `${prefix}-b`, `${prefix}-c`]);
    const at = all.indexOf(`${prefix}-a`);
    const marker = at > 0 ? `&marker=${all[at - 1]}` : '';
    const page = await api('GET', `/compute/v2.1/os-keypairs?limit=2${marker}`, { token: demo, headers: v('2.35') });
    expect(page.json.keypairs.map((k: any) => k.keypair.name)).toEqual([`${prefix}-a`, `${prefix}-b`]);
    expect(page.json.keypairs_links[0].rel).toBe('next');
    expect(page.json.keypairs_links[0].href).toContain(`marker=${prefix}-b`);
    expect((await api('GET', '/compute/v2.1/os-keypairs?marker=no-such-key', { token: demo, headers: v('2.35') })).json.badRequest.message).toBe(
      'Marker no-such-key could not be found.',
    );
    for (const n of ['a', 'b', 'c']) await api('DELETE', `/compute/v2.1/os-keypairs/${prefix}-${n}`, { token: demo });
  });
});
