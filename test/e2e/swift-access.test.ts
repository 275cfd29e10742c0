// Who may reach Swift objects: keystoneauth's roles, container ACLs and temp URLs, driven
// through the real `swift` CLI (python3-swiftclient) and plain HTTP.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, fetchRetrying, openstackOk, passwordToken } from '../cli';
import { swiftAs as swift } from '../swift-cli';

const suffix = () => Math.random().toString(36).slice(2, 8);

async function swiftOk(args: string[], user: Parameters<typeof swift>[1], cwd?: string): Promise<string> {
  const r = await swift(args, user, cwd);
  if (r.code !== 0) throw new Error(`swift ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return r.stdout;
}

const ADMIN = () => ({ name: 'admin', password: inject('cloud').passwords.admin, project: 'admin' });
const DEMO = () => ({ name: 'demo', password: inject('cloud').passwords.demo, project: 'demo' });

let adminToken = '';
let adminProject = '';
let demoToken = '';
let demoProject = '';
const account = () => `AUTH_${adminProject}`;
const storagePath = (acct = account()) => `/object-storage/v1/${acct}`;
const work = mkdtempSync(join(tmpdir(), 'swift-access-'));

beforeAll(async () => {
  const a = await passwordToken('admin', inject('cloud').passwords.admin, 'admin');
  adminToken = a.token;
  adminProject = a.body.token.project.id;
  const d = await passwordToken('demo', inject('cloud').passwords.demo, 'demo');
  demoToken = d.token;
  demoProject = d.body.token.project.id;
});

/** A container of admin's with one object, made over HTTP with admin's token. */
async function containerWith(name: string, object = 'o.txt', body = `hello from ${name}`) {
  expect((await api('PUT', `${storagePath()}/${name}`, { token: adminToken })).status).toBe(201);
  const put = await api('PUT', `${storagePath()}/${name}/${object}`, { token: adminToken, raw: body, headers: { 'Content-Type': 'text/plain' } });
  expect(put.status).toBe(201);
  return body;
}

const anon = (method: string, path: string, headers: Record<string, string> = {}) => api(method, path, { headers });

describe('temp URLs', () => {
  const key = `key-${suffix()}`;
  let body = '';
  let container = '';
  beforeAll(async () => {
    container = `tmp-${suffix()}`;
    body = await containerWith(container);
    await swiftOk(['post', '-m', `Temp-URL-Key:${key}`], ADMIN());
  });

  it('serves a GET made by `swift tempurl` without a token, and refuses it once expired', async () => {
    // Valid for 60 s: the CLI alone can take seconds on a loaded machine. Expiry is
    // checked below with a URL whose time has already passed.
    const path = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim();
    expect(path).toMatch(/^\/v1\/AUTH_.*\?temp_url_sig=[0-9a-f]{64}&temp_url_expires=\d+$/);
    const res = await fetchRetrying(`${inject('cloud').url}/object-storage${path}`, {});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
    expect(res.headers.get('Content-Disposition')).toBe(`attachment; filename="o.txt"; filename*=UTF-8''o.txt`);
    expect(res.headers.get('Expires')).toBe(new Date(Number(new URL(path, 'http://x').searchParams.get('temp_url_expires')) * 1000).toUTCString());
    // HEAD passes with a GET signature.
    expect((await anon('HEAD', `/object-storage${path}`)).status).toBe(200);
    // It grants GET only: not a PUT, nor another object.
    expect((await api('PUT', `/object-storage${path}`, { raw: 'x' })).status).toBe(401);
    expect((await anon('GET', `/object-storage${path.replace('o.txt', 'other.txt')}`)).status).toBe(401);
    const past = Math.floor(Date.now() / 1000) - 5;
    const old = (await swiftOk(['tempurl', '--absolute', 'GET', String(past), `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim();
    expect(old).toContain(`temp_url_expires=${past}`);
    const expired = await anon('GET', `/object-storage${old}`);
    expect(expired.status).toBe(401);
  });

  it('refuses a wrong signature, a wrong key and half a temp URL with 401', async () => {
    const path = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim();
    const sig = new URL(path, 'http://x').searchParams.get('temp_url_sig')!;
    const flipped = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    expect((await anon('GET', `/object-storage${path.replace(sig, flipped)}`)).status).toBe(401);
    const other = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, 'not-the-key'], ADMIN())).trim();
    expect((await anon('GET', `/object-storage${other}`)).status).toBe(401);
    expect((await anon('GET', `/object-storage${path.replace(/&temp_url_expires=\d+/, '')}`)).status).toBe(401);
    // Even with a valid token, a bad temp URL is refused: the signature decides alone.
    expect((await api('GET', `/object-storage${path.replace(sig, flipped)}`, { token: adminToken })).status).toBe(401);
  });

  it('uploads through a PUT temp URL, which does not read', async () => {
    const path = (await swiftOk(['tempurl', 'PUT', '60', `/v1/${account()}/${container}/uploaded.txt`, key], ADMIN())).trim();
    const put = await fetchRetrying(`${inject('cloud').url}/object-storage${path}`, { method: 'PUT', body: 'via temp url' });
    expect(put.status).toBe(201);
    expect((await anon('GET', `/object-storage${path}`)).status).toBe(401);
    const got = await api('GET', `${storagePath()}/${container}/uploaded.txt`, { token: adminToken });
    expect(got.status).toBe(200);
    expect(got.text).toBe('via temp url');
    // A temp URL may not upload a pointer to other data.
    const manifest = await fetchRetrying(`${inject('cloud').url}/object-storage${path}`, {
      method: 'PUT',
      body: '',
      headers: { 'X-Object-Manifest': `${container}/o` },
    });
    expect(manifest.status).toBe(400);
    const slo = await fetchRetrying(`${inject('cloud').url}/object-storage${path}&multipart-manifest=put`, { method: 'PUT', body: '[]' });
    expect(slo.status).toBe(400);
  });

  it('takes SHA1 and SHA512 signatures, ISO 8601 expiry, filename and inline', async () => {
    for (const digest of ['sha1', 'sha512']) {
      const path = (await swiftOk(['tempurl', '--digest', digest, '--iso8601', 'GET', '60', `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim();
      expect(path).toMatch(/temp_url_expires=\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
      const res = await anon('GET', `/object-storage${path}`);
      expect(res.status).toBe(200);
      expect(res.text).toBe(body);
    }
    const path = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim();
    const named = await anon('GET', `/object-storage${path}&filename=My+Report.txt`);
    expect(named.headers.get('Content-Disposition')).toBe(`attachment; filename="My Report.txt"; filename*=UTF-8''My%20Report.txt`);
    const inline = await anon('GET', `/object-storage${path}&inline`);
    expect(inline.headers.get('Content-Disposition')).toBe('inline');
  });

  it('honours --ip-range with the address the cloud sees, which no client header can change', async () => {
    const url = async (range: string) =>
      `/object-storage${(await swiftOk(['tempurl', '--ip-range', range, 'GET', '60', `/v1/${account()}/${container}/o.txt`, key], ADMIN())).trim()}`;
    // The local cloud's clients all reach it through its relay on loopback.
    const loopback = await anon('GET', await url('127.0.0.0/8'));
    expect(loopback.status).toBe(200);
    expect(loopback.text).toBe(body);
    const elsewhere = await url('10.0.0.0/8');
    expect((await anon('GET', elsewhere)).status).toBe(401);
    expect((await anon('GET', elsewhere, { 'CF-Connecting-IP': '10.1.2.3' })).status).toBe(401);
  });

  it('signs a prefix for every object under it', async () => {
    await api('PUT', `${storagePath()}/${container}/pre/a.txt`, { token: adminToken, raw: 'A' });
    await api('PUT', `${storagePath()}/${container}/prb.txt`, { token: adminToken, raw: 'B' });
    const path = (await swiftOk(['tempurl', '--prefix-based', 'GET', '60', `/v1/${account()}/${container}/pre`, key], ADMIN())).trim();
    expect(path).toContain('temp_url_prefix=pre');
    const query = path.slice(path.indexOf('?'));
    const under = await anon('GET', `${storagePath()}/${container}/pre/a.txt${query}`);
    expect(under.status).toBe(200);
    expect(under.text).toBe('A');
    expect((await anon('GET', `${storagePath()}/${container}/prb.txt${query}`)).status).toBe(401);
  });

  it('accepts a container key for that container only, and the second account key', async () => {
    const other = `tmpc-${suffix()}`;
    await containerWith(other);
    const ckey = `ckey-${suffix()}`;
    await swiftOk(['post', '-m', `Temp-URL-Key:${ckey}`, other], ADMIN());
    const path = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${other}/o.txt`, ckey], ADMIN())).trim();
    expect((await anon('GET', `/object-storage${path}`)).status).toBe(200);
    const elsewhere = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, ckey], ADMIN())).trim();
    expect((await anon('GET', `/object-storage${elsewhere}`)).status).toBe(401);

    const key2 = `key2-${suffix()}`;
    await swiftOk(['post', '-m', `Temp-URL-Key-2:${key2}`], ADMIN());
    const byKey2 = (await swiftOk(['tempurl', 'GET', '60', `/v1/${account()}/${container}/o.txt`, key2], ADMIN())).trim();
    expect((await anon('GET', `/object-storage${byKey2}`)).status).toBe(200);
  });

  it('signs the full storage URL too, so its output can be fetched as printed', async () => {
    const storageUrl = `${inject('cloud').url}${storagePath()}`;
    const url = (await swiftOk(['tempurl', 'GET', '60', `${storageUrl}/${container}/o.txt`, key], ADMIN())).trim();
    expect(url.startsWith(storageUrl)).toBe(true);
    const res = await fetchRetrying(url, {});
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(body);
  });
});

describe('container ACLs', () => {
  it('makes objects and the listing public with .r:*,.rlistings, and private again when removed', async () => {
    const c = `pub-${suffix()}`;
    const body = await containerWith(c);
    expect((await anon('GET', `${storagePath()}/${c}/o.txt`)).status).toBe(401);
    await swiftOk(['post', '-r', '.r:*,.rlistings', c], ADMIN());
    const obj = await anon('GET', `${storagePath()}/${c}/o.txt`);
    expect(obj.status).toBe(200);
    expect(obj.text).toBe(body);
    const listing = await anon('GET', `${storagePath()}/${c}?format=json`);
    expect(listing.status).toBe(200);
    expect(listing.json.map((o: { name: string }) => o.name)).toEqual(['o.txt']);
    // Public read is not public write, nor the account.
    expect((await api('PUT', `${storagePath()}/${c}/new.txt`, { raw: 'x' })).status).toBe(401);
    expect((await anon('GET', storagePath())).status).toBe(401);

    await swiftOk(['post', '-r', '', c], ADMIN());
    expect((await anon('GET', `${storagePath()}/${c}/o.txt`)).status).toBe(401);
    expect((await anon('GET', `${storagePath()}/${c}`)).status).toBe(401);
  });

  it('opens objects but not the listing with .r:* alone', async () => {
    const c = `pubobj-${suffix()}`;
    await containerWith(c);
    await swiftOk(['post', '-r', '.r:*', c], ADMIN());
    expect((await anon('GET', `${storagePath()}/${c}/o.txt`)).status).toBe(200);
    expect((await anon('GET', `${storagePath()}/${c}`)).status).toBe(401);
  });

  it('keeps demo out of admin’s container without an ACL (403)', async () => {
    const c = `priv-${suffix()}`;
    await containerWith(c);
    expect((await api('GET', `${storagePath()}/${c}/o.txt`, { token: demoToken })).status).toBe(403);
    expect((await api('GET', `${storagePath()}/${c}`, { token: demoToken })).status).toBe(403);
    const storageUrl = `${inject('cloud').url}${storagePath()}`;
    const r = await swift(['--os-storage-url', storageUrl, 'list', c], DEMO());
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/403/);
  });

  it('lets demo read but not write with -r DEMO_PROJECT_ID:*, and write with -w', async () => {
    const c = `shared-${suffix()}`;
    const body = await containerWith(c);
    await swiftOk(['post', '-r', `${demoProject}:*`, c], ADMIN());
    const storageUrl = `${inject('cloud').url}${storagePath()}`;
    expect((await swiftOk(['--os-storage-url', storageUrl, 'list', c], DEMO())).trim().split('\n')).toEqual(['o.txt']);
    const dir = mkdtempSync(join(work, 'demo-'));
    await swiftOk(['--os-storage-url', storageUrl, 'download', c, 'o.txt'], DEMO(), dir);
    expect(readFileSync(join(dir, 'o.txt'), 'utf8')).toBe(body);
    writeFileSync(join(dir, 'up.txt'), 'from demo');
    const up = await swift(['--os-storage-url', storageUrl, 'upload', c, 'up.txt'], DEMO(), dir);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/403/);
    expect((await api('PUT', `${storagePath()}/${c}/up.txt`, { token: demoToken, raw: 'x' })).status).toBe(403);
    // The ACL itself is the owner's to see.
    const asDemo = await api('HEAD', `${storagePath()}/${c}`, { token: demoToken });
    expect(asDemo.status).toBe(204);
    expect(asDemo.headers.get('X-Container-Read')).toBeNull();
    expect((await api('HEAD', `${storagePath()}/${c}`, { token: adminToken })).headers.get('X-Container-Read')).toBe(`${demoProject}:*`);
    // The ACL is on the container's objects, not on the container itself.
    expect((await api('DELETE', `${storagePath()}/${c}`, { token: demoToken })).status).toBe(403);

    await swiftOk(['post', '-w', `${demoProject}:*`, c], ADMIN());
    await swiftOk(['--os-storage-url', storageUrl, 'upload', c, 'up.txt'], DEMO(), dir);
    expect((await api('GET', `${storagePath()}/${c}/up.txt`, { token: adminToken })).text).toBe('from demo');
  });

  it('refuses a referrer in a write ACL with 400, and cleans what it stores', async () => {
    const c = `badacl-${suffix()}`;
    await containerWith(c);
    const r = await api('POST', `${storagePath()}/${c}`, { token: adminToken, headers: { 'X-Container-Write': '.r:*' } });
    expect(r.status).toBe(400);
    // and stores a messy one cleaned, as Swift does
    await swiftOk(['post', '-r', '.referrer : * , .rlistings', c], ADMIN());
    expect((await api('HEAD', `${storagePath()}/${c}`, { token: adminToken })).headers.get('X-Container-Read')).toBe('.r:*,.rlistings');
  });
});

describe('roles', () => {
  it('lets a reader on the project list and download, but not upload (403)', async () => {
    const name = `reader-${suffix()}`;
    await openstackOk(['user', 'create', '--password', 'reader-pw', name]);
    await openstackOk(['role', 'add', '--user', name, '--project', 'admin', 'reader']);
    const reader = { name, password: 'reader-pw', project: 'admin' };
    const c = `ro-${suffix()}`;
    const body = await containerWith(c);
    expect((await swiftOk(['list', c], reader)).trim().split('\n')).toEqual(['o.txt']);
    expect(await swiftOk(['list'], reader)).toContain(c);
    const dir = mkdtempSync(join(work, 'reader-'));
    await swiftOk(['download', c, 'o.txt'], reader, dir);
    expect(readFileSync(join(dir, 'o.txt'), 'utf8')).toBe(body);
    writeFileSync(join(dir, 'up.txt'), 'nope');
    const up = await swift(['upload', c, 'up.txt'], reader, dir);
    expect(up.code).not.toBe(0);
    expect(up.stderr).toMatch(/403/);
    const post = await swift(['post', '-m', 'color:red', c], reader);
    expect(post.code).not.toBe(0);
    expect(post.stderr).toMatch(/403/);
    const { token } = await passwordToken(name, 'reader-pw', 'admin');
    expect((await api('DELETE', `${storagePath()}/${c}/o.txt`, { token })).status).toBe(403);
    // Temp URL keys are the owner's: a reader does not see them.
    expect((await api('POST', storagePath(), { token: adminToken, headers: { 'X-Account-Meta-Temp-URL-Key-2': 'secret-2' } })).status).toBe(204);
    expect((await api('HEAD', storagePath(), { token: adminToken })).headers.get('X-Account-Meta-Temp-Url-Key-2')).toBe('secret-2');
    const asReader = await api('HEAD', storagePath(), { token });
    expect(asReader.status).toBe(204);
    expect(asReader.headers.get('X-Account-Meta-Temp-Url-Key-2')).toBeNull();
    expect((await api('PUT', `${storagePath()}/ro-new-${suffix()}`, { token })).status).toBe(403);
  });

  it('keeps admin of project admin out of demo’s account, and lets ResellerAdmin in', async () => {
    const demoAccount = `AUTH_${demoProject}`;
    const c = `demo-${suffix()}`;
    expect((await api('PUT', `${storagePath(demoAccount)}/${c}`, { token: demoToken })).status).toBe(201);
    expect((await api('GET', `${storagePath(demoAccount)}/${c}`, { token: adminToken })).status).toBe(403);
    expect((await api('GET', storagePath(demoAccount), { token: adminToken })).status).toBe(403);

    const roles = await openstackOk(['role', 'list', '-f', 'value', '-c', 'Name']);
    if (!roles.split('\n').includes('ResellerAdmin')) await openstackOk(['role', 'create', 'ResellerAdmin']);
    const name = `reseller-${suffix()}`;
    await openstackOk(['user', 'create', '--password', 'rs-pw', name]);
    await openstackOk(['role', 'add', '--user', name, '--project', 'demo', 'ResellerAdmin']);
    const { token } = await passwordToken(name, 'rs-pw', 'demo');
    expect((await api('GET', `${storagePath()}`, { token })).status).toBe(200);
    expect((await api('PUT', `${storagePath()}/${c}-rs`, { token })).status).toBe(201);
    expect((await api('DELETE', `${storagePath()}/${c}-rs`, { token })).status).toBe(204);
  });

  it('answers 401 without a token and with an invalid one', async () => {
    expect((await anon('GET', storagePath())).status).toBe(401);
    expect((await api('GET', storagePath(), { token: 'not-a-token' })).status).toBe(401);
  });
});

describe('large objects read their segments as the reader', () => {
  it('refuses a public manifest whose segments sit in a private container', async () => {
    const segments = `seg-${suffix()}`;
    const shelf = `shelf-${suffix()}`;
    await containerWith(segments, 'part/1', 'secret-');
    await api('PUT', `${storagePath()}/${segments}/part/2`, { token: adminToken, raw: 'data' });
    await containerWith(shelf);
    const dlo = await api('PUT', `${storagePath()}/${shelf}/dlo`, {
      token: adminToken, raw: '', headers: { 'X-Object-Manifest': `${segments}/part/` },
    });
    expect(dlo.status).toBe(201);
    const slo = await api('PUT', `${storagePath()}/${shelf}/slo?multipart-manifest=put`, {
      token: adminToken, raw: JSON.stringify([{ path: `/${segments}/part/1` }, { path: `/${segments}/part/2` }]),
    });
    expect(slo.status).toBe(201);
    // The owner reads both whole.
    expect((await api('GET', `${storagePath()}/${shelf}/dlo`, { token: adminToken })).text).toBe('secret-data');
    expect((await api('GET', `${storagePath()}/${shelf}/slo`, { token: adminToken })).text).toBe('secret-data');
    // Anyone may read the shelf, but not the segments' container: the manifests do not open it.
    await api('POST', `${storagePath()}/${shelf}`, { token: adminToken, headers: { 'X-Container-Read': '.r:*' } });
    expect((await anon('GET', `${storagePath()}/${shelf}/o.txt`)).status).toBe(200);
    // The DLO's listing answers 401; an SLO's first segment that cannot be read is Swift's 409.
    expect((await anon('GET', `${storagePath()}/${shelf}/dlo`)).status).toBe(401);
    expect((await anon('GET', `${storagePath()}/${shelf}/slo`)).status).toBe(409);
    // Once the segments are public too, the manifests read whole.
    await api('POST', `${storagePath()}/${segments}`, { token: adminToken, headers: { 'X-Container-Read': '.r:*,.rlistings' } });
    expect((await anon('GET', `${storagePath()}/${shelf}/dlo`)).text).toBe('secret-data');
    expect((await anon('GET', `${storagePath()}/${shelf}/slo`)).text).toBe('secret-data');
  });
});
