// The swift CLI (post, stat, list, upload, download, delete) and the openstack CLI's
// container and object commands against the local cloud's Swift.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openstack, openstackJson, openstackOk } from '../cli';
import { swift, swiftOk, uniqueName } from '../swift-cli';

const dir = mkdtempSync(join(tmpdir(), 'flarestack-swift-cli-'));
const md5 = (data: Uint8Array | string) => createHash('md5').update(data).digest('hex');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('swift CLI', () => {
  it('posts, stats, uploads, lists, downloads and deletes', async () => {
    const c = uniqueName('cli');
    await swiftOk(['post', c, '-m', 'Purpose:tests', '-r', '.r:*']);
    const stat = await swiftOk(['stat', c]);
    expect(stat).toMatch(/Objects: 0/);
    expect(stat).toMatch(/Meta Purpose: tests/);
    expect(stat).toMatch(/Read ACL: \.r:\*/);

    const data = randomBytes(300_000);
    writeFileSync(join(dir, 'one.bin'), data);
    writeFileSync(join(dir, 'two.txt'), 'two\n');
    await swiftOk(['upload', c, 'one.bin', 'two.txt'], { cwd: dir });
    await swiftOk(['upload', c, 'two.txt', '--object-name', 'docs/two.txt', '-m', 'Kind:text'], { cwd: dir });
    expect((await swiftOk(['list', c])).split('\n').filter(Boolean)).toEqual(['docs/two.txt', 'one.bin', 'two.txt']);
    expect((await swiftOk(['list', c, '--prefix', 'docs/'])).trim()).toBe('docs/two.txt');
    expect((await swiftOk(['list', c, '--delimiter', '/'])).split('\n').filter(Boolean)).toEqual(['docs/', 'one.bin', 'two.txt']);
    const objStat = await swiftOk(['stat', c, 'docs/two.txt']);
    expect(objStat).toMatch(/Meta Kind: text/);
    expect(objStat).toMatch(new RegExp(`ETag: ${md5('two\n')}`));
    expect(await swiftOk(['stat', c])).toMatch(/Objects: 3/);

    // swift download checks the MD5 of what it receives against the ETag.
    const out = join(dir, 'back.bin');
    await swiftOk(['download', c, 'one.bin', '-o', out]);
    expect(md5(readFileSync(out))).toBe(md5(data));

    await swiftOk(['delete', c, 'one.bin']);
    expect((await swiftOk(['list', c])).split('\n').filter(Boolean)).toEqual(['docs/two.txt', 'two.txt']);
    const missing = await swift(['stat', c, 'one.bin']);
    expect(missing.code).not.toBe(0);
    await swiftOk(['delete', c]);
    expect((await swift(['stat', c])).code).not.toBe(0);
  });

  it('lets demo not read admin\'s container', async () => {
    const c = uniqueName('private');
    await swiftOk(['post', c]);
    const list = await swift(['list', c], { user: 'demo' });
    // demo's own account has no such container (404); admin's is out of reach with demo's token (403).
    expect(list.code).not.toBe(0);
    const stat = await swiftOk(['stat']);
    const account = /Account: (AUTH_\w+)/.exec(stat)![1]!;
    const auth = await swiftOk(['auth'], { user: 'demo' });
    const url = /OS_STORAGE_URL=(\S+)/.exec(auth)![1]!.replace(/AUTH_\w+$/, account);
    const foreign = await swift(['--os-storage-url', url, 'list', c], { user: 'demo' });
    expect(foreign.code).not.toBe(0);
    expect(foreign.stderr).toMatch(/403/);
  });
});

describe('openstack container and object commands', () => {
  it('creates, lists, shows and deletes containers and objects', async () => {
    const c = uniqueName('osc');
    const created = await openstackJson<{ container: string }[]>(['container', 'create', c]);
    expect(created[0]!.container).toBe(c);
    const list = await openstackJson<{ Name: string }[]>(['container', 'list', '--prefix', c]);
    expect(list.map((x) => x.Name)).toEqual([c]);

    const file = join(dir, 'osc.txt');
    writeFileSync(file, 'from openstack\n');
    const obj = await openstackJson<{ object: string; etag: string }[]>(['object', 'create', c, file, '--name', 'doc.txt']);
    expect(obj[0]!.etag).toBe(md5('from openstack\n'));
    const shown = await openstackJson<Record<string, string>>(['container', 'show', c]);
    expect(shown).toMatchObject({ container: c, object_count: '1', bytes_used: '15' });
    const objects = await openstackJson<{ Name: string }[]>(['object', 'list', c]);
    expect(objects.map((o) => o.Name)).toEqual(['doc.txt']);
    const saved = join(dir, 'saved.txt');
    await openstackOk(['object', 'save', c, 'doc.txt', '--file', saved]);
    expect(readFileSync(saved, 'utf8')).toBe('from openstack\n');

    const refused = await openstack(['container', 'delete', c]);
    expect(refused.code).not.toBe(0);
    await openstackOk(['object', 'delete', c, 'doc.txt']);
    await openstackOk(['container', 'delete', c]);
    expect((await openstackJson<{ Name: string }[]>(['container', 'list', '--prefix', c]))).toEqual([]);
  });
});
