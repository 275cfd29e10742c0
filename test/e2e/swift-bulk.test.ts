// Bulk delete (POST /v1/<account>?bulk-delete) over HTTP, and `swift delete` of a
// container with many objects, which the CLI does by bulk delete when /info offers it.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, passwordToken } from '../cli';
import { swiftAs as swift } from '../swift-cli';

const suffix = () => Math.random().toString(36).slice(2, 8);

let token = '';
let demoToken = '';
let storage = '';

beforeAll(async () => {
  const a = await passwordToken('admin', inject('cloud').passwords.admin, 'admin');
  token = a.token;
  storage = `/object-storage/v1/AUTH_${a.body.token.project.id}`;
  demoToken = (await passwordToken('demo', inject('cloud').passwords.demo, 'demo')).token;
});

/** A container with n objects named obj-000..., made over HTTP, 10 at a time. */
async function fill(container: string, names: string[]) {
  expect((await api('PUT', `${storage}/${container}`, { token })).status).toBe(201);
  for (let i = 0; i < names.length; i += 10) {
    const batch = names.slice(i, i + 10);
    const statuses = await Promise.all(
      batch.map(async (n) => (await api('PUT', `${storage}/${container}/${encodeURIComponent(n)}`, { token, raw: n })).status),
    );
    expect(statuses).toEqual(batch.map(() => 201));
  }
}

const range = (n: number, name: (i: number) => string) => Array.from({ length: n }, (_, i) => name(i));
const bulkDelete = (lines: string[], opts: { token?: string; accept?: string; contentType?: string } = {}) =>
  api('POST', `${storage}?bulk-delete`, {
    token: opts.token ?? token,
    raw: lines.join('\n') + '\n',
    headers: { 'Content-Type': opts.contentType ?? 'text/plain', ...(opts.accept ? { Accept: opts.accept } : {}) },
  });

describe('bulk delete', () => {
  it('deletes 100 objects and then their container in one request', async () => {
    const c = `bulk-${suffix()}`;
    const names = range(100, (i) => `obj-${String(i).padStart(3, '0')}`);
    await fill(c, names);
    // The container comes first in the body: objects are deleted before containers anyway.
    const res = await bulkDelete([`/${c}`, ...names.map((n) => `/${c}/${n}`)], { accept: 'application/json' });
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^application\/json/);
    expect(res.json).toEqual({ 'Number Deleted': 101, 'Number Not Found': 0, 'Response Status': '200 OK', 'Response Body': '', Errors: [] });
    expect((await api('HEAD', `${storage}/${c}`, { token })).status).toBe(404);
  });

  it('counts what is not there, decodes URL-encoded names, and answers in text by default', async () => {
    const c = `bulk-enc-${suffix()}`;
    const names = ['with space', 'ünï/cödé', 'plus+sign'];
    await fill(c, names);
    const lines = [...names.map((n) => `/${c}/${encodeURIComponent(n).replace(/%2F/g, '/')}`), `/${c}/missing`, '/no-such-container'];
    const res = await bulkDelete(lines);
    expect(res.status).toBe(200);
    expect(res.headers.get('Content-Type')).toMatch(/^text\/plain/);
    expect(res.text).toBe('Number Deleted: 3\nNumber Not Found: 2\nResponse Body: \nResponse Status: 200 OK\nErrors:\n');
    const listing = await api('GET', `${storage}/${c}?format=json`, { token });
    expect(listing.json).toEqual([]);
  });

  it('reports a container that is not empty as 409 Conflict, and the whole as 400', async () => {
    const c = `bulk-full-${suffix()}`;
    await fill(c, ['keep']);
    const res = await bulkDelete([`/${c}`], { accept: 'application/json' });
    expect(res.json).toMatchObject({ 'Number Deleted': 0, 'Response Status': '400 Bad Request', Errors: [[`/${c}`, '409 Conflict']] });
    const xml = await bulkDelete([`/${c}`], { accept: 'application/xml' });
    expect(xml.text).toContain('<response_status>400 Bad Request</response_status>');
    expect(xml.text).toContain(`<object><name>/${c}</name><status>409 Conflict</status></object>`);
    expect((await api('HEAD', `${storage}/${c}/keep`, { token })).status).toBe(200);
  });

  it('refuses each item to a caller without rights: 403 for demo, 401 without a token', async () => {
    const c = `bulk-priv-${suffix()}`;
    await fill(c, ['a', 'b']);
    const demo = await bulkDelete([`/${c}/a`, `/${c}/b`], { token: demoToken, accept: 'application/json' });
    expect(demo.status).toBe(200);
    expect(demo.json['Number Deleted']).toBe(0);
    expect(demo.json.Errors).toEqual([
      [`/${c}/a`, '403 Forbidden'],
      [`/${c}/b`, '403 Forbidden'],
    ]);
    const res = await api('POST', `${storage}?bulk-delete`, { raw: `/${c}/a\n`, headers: { 'Content-Type': 'text/plain', Accept: 'application/json' } });
    expect(res.json.Errors).toEqual([[`/${c}/a`, '401 Unauthorized']]);
    expect((await api('GET', `${storage}/${c}?format=json`, { token })).json).toHaveLength(2);
  });

  it('refuses more than 10,000 names, another body type, and an empty body, in the body', async () => {
    const many = await bulkDelete(range(10_001, (i) => `/c/o${i}`), { accept: 'application/json' });
    expect(many.status).toBe(200);
    expect(many.json).toMatchObject({ 'Response Status': '413 Request Entity Too Large', 'Number Deleted': 0 });
    const json = await bulkDelete(['/c/o'], { accept: 'application/json', contentType: 'application/json' });
    expect(json.json['Response Status']).toBe('406 Not Acceptable');
    const empty = await api('POST', `${storage}?bulk-delete`, { token, raw: '\n', headers: { 'Content-Type': 'text/plain', Accept: 'application/json' } });
    expect(empty.json).toMatchObject({ 'Response Status': '400 Bad Request', 'Response Body': 'Invalid bulk delete.' });
  });

  it('leaves a plain account POST to the account route', async () => {
    const res = await api('POST', storage, { token, headers: { 'X-Account-Meta-Bulk-Test': 'yes' } });
    expect(res.status).toBe(204);
    expect((await api('HEAD', storage, { token })).headers.get('X-Account-Meta-Bulk-Test')).toBe('yes');
  });
});

describe('swift delete', () => {
  it('advertises bulk_delete in /info', async () => {
    const info = await api('GET', '/object-storage/info');
    expect(info.status).toBe(200);
    expect(info.json.bulk_delete).toMatchObject({ max_deletes_per_request: 10000 });
    expect(info.json.tempurl.allowed_digests).toEqual(['sha1', 'sha256', 'sha512']);
  });

  it('empties and deletes a container of 60 objects through bulk delete', async () => {
    const c = `cli-bulk-${suffix()}`;
    const names = range(60, (i) => `dir/file-${i}`);
    await fill(c, names);
    const admin = { name: 'admin', password: inject('cloud').passwords.admin, project: 'admin' };
    const r = await swift(['--debug', 'delete', c], admin);
    expect(r.code, r.stderr.slice(-2000)).toBe(0);
    // More than 2 × 10 objects and bulk_delete in /info: the CLI posts ?bulk-delete.
    expect(r.stderr).toMatch(/bulk-delete/);
    // Each deleted object is printed, and (verbose with --debug) the container last.
    expect(r.stdout.trim().split('\n').sort()).toEqual([...names, c].sort());
    expect((await api('HEAD', `${storage}/${c}`, { token })).status).toBe(404);
  });
});
