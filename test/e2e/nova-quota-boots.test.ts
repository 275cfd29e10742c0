// Instance quotas hold at boot: a third server over a quota of 2 is refused with Nova's
// message, and 20 boots at once against a quota of 10 give exactly 10 servers. The cores
// and RAM quotas hold at resize: of two resizes at once only the one that fits goes, and
// a revert gives back what it took.
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { adminToken, api, openstack, openstackOk, passwordToken } from '../cli';
import { bootServer, bootstrapImageId, suiteHosts, unique, waitForServer } from '../compute';

let admin: string;
let imageId: string;

beforeAll(async () => {
  admin = await adminToken();
  imageId = await bootstrapImageId(admin);
});

/** A project of its own with a member user, so its quota touches no other suite. */
async function memberOfNewProject(): Promise<{ projectId: string; name: string; token: string; cloudEnv: Record<string, string> }> {
  const name = unique('qp');
  const password = 'quota-pass-1';
  const project = await api('POST', '/identity/v3/projects', { token: admin, body: { project: { name, domain_id: 'default' } } });
  const user = await api('POST', '/identity/v3/users', { token: admin, body: { user: { name, password, domain_id: 'default' } } });
  const role = await api('GET', '/identity/v3/roles?name=member', { token: admin });
  await api('PUT', `/identity/v3/projects/${project.json.project.id}/users/${user.json.user.id}/roles/${role.json.roles[0].id}`, { token: admin });
  const token = (await passwordToken(name, password, name)).token;
  const cloudEnv = {
    OS_AUTH_URL: inject('cloud').authUrl, OS_IDENTITY_API_VERSION: '3', OS_USERNAME: name, OS_PASSWORD: password, OS_PROJECT_NAME: name,
    OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default',
  };
  return { projectId: project.json.project.id, name, token, cloudEnv };
}

const boot = (token: string, name: string) =>
  api('POST', '/compute/v2.1/servers', {
    token,
    body: { server: { name, flavorRef: '1', imageRef: imageId, networks: 'none' } },
    headers: { 'OpenStack-API-Version': 'compute 2.79' },
  });

describe('instance quota', () => {
  it('refuses a third server over a quota of 2 with a 403 and Nova\'s message', async () => {
    const p = await memberOfNewProject();
    await openstackOk(['quota', 'set', '--instances', '2', p.projectId]);
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const r = await boot(p.token, unique('q'));
      expect(r.status).toBe(202);
      ids.push(r.json.server.id);
    }
    const third = await boot(p.token, unique('q'));
    expect(third.status).toBe(403);
    expect(third.json.forbidden.message).toBe('Quota exceeded for instances: Requested 1, but already used 2 of 2 instances');
    // The CLI shows the same refusal.
    const cli = await openstack(['server', 'create', '--flavor', 'm1.tiny', '--image', imageId, unique('q')], { cloud: '', env: p.cloudEnv });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('Quota exceeded for instances');
    for (const id of ids) await waitForServer(id, ['ACTIVE'], p.token);
    for (const id of ids) await api('DELETE', `/compute/v2.1/servers/${id}`, { token: p.token });
  });

  it('gives exactly 10 servers for 20 concurrent boots against a quota of 10', async () => {
    const p = await memberOfNewProject();
    const set = await api('PUT', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: admin, body: { quota_set: { instances: 10 } } });
    expect(set.status).toBe(200);
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => boot(p.token, `burst-${i}`)));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 202)).toHaveLength(10);
    expect(statuses.filter((s) => s === 403)).toHaveLength(10);
    const list = await api('GET', '/compute/v2.1/servers', { token: p.token });
    expect(list.json.servers).toHaveLength(10);
    const ids = results.filter((r) => r.status === 202).map((r) => r.json.server.id as string);
    await Promise.all(ids.map((id) => waitForServer(id, ['ACTIVE'], p.token)));
    await Promise.all(ids.map((id) => api('DELETE', `/compute/v2.1/servers/${id}`, { token: p.token })));
    await Promise.all(ids.map((id) => waitForServer(id, ['DELETED'], p.token)));
  });
});

describe('resize quota', () => {
  const zone = unique('az-quota');
  const hosts = suiteHosts('qh');
  const V = { 'OpenStack-API-Version': 'compute 2.79' };

  beforeAll(async () => {
    // Two hosts, so each resize has somewhere to go; the boots go to the roomier one.
    await hosts.start(zone, { memoryMb: 16_384 });
    await hosts.start(zone, { memoryMb: 12_288 });
  });

  it('lets one of two concurrent resizes take the last core, refuses the other with a 403, and a revert gives it back', async () => {
    const p = await memberOfNewProject();
    const ids = [
      await bootServer(p.token, { name: unique('grow'), imageRef: imageId, availability_zone: zone }),
      await bootServer(p.token, { name: unique('grow'), imageRef: imageId, availability_zone: zone }),
    ];
    for (const id of ids) await waitForServer(id, ['ACTIVE'], p.token);
    // Two m1.tiny use 2 cores; m1.medium needs one more each, and only one more is left.
    await openstackOk(['quota', 'set', '--cores', '3', p.projectId]);
    const cores = async () => (await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}/detail`, { token: p.token, headers: V })).json.quota_set.cores.in_use as number;
    const resize = (id: string, flavorRef: string) => api('POST', `/compute/v2.1/servers/${id}/action`, { token: p.token, body: { resize: { flavorRef } }, headers: V });
    const results = await Promise.all(ids.map((id) => resize(id, '3')));
    expect(results.map((r) => r.status).sort()).toEqual([202, 403]);
    const refused = results.find((r) => r.status === 403)!;
    expect(refused.json).toEqual({ forbidden: { code: 403, message: 'Quota exceeded for cores: Requested 1, but already used 3 of 3 cores' } });
    const grown = ids[results.findIndex((r) => r.status === 202)]!;
    const other = ids.find((id) => id !== grown)!;
    expect(await cores()).toBe(3);
    expect((await waitForServer(grown, ['VERIFY_RESIZE', 'ERROR'], p.token)).status).toBe('VERIFY_RESIZE');
    expect(await cores()).toBe(3);
    // The refused one is untouched.
    expect(await waitForServer(other, ['ACTIVE'], p.token)).toMatchObject({ 'OS-EXT-STS:task_state': null, flavor: { original_name: 'm1.tiny' } });
    expect((await resize(other, '3')).status).toBe(403);

    expect((await api('POST', `/compute/v2.1/servers/${grown}/action`, { token: p.token, body: { revertResize: null }, headers: V })).status).toBe(202);
    expect(await waitForServer(grown, ['ACTIVE', 'ERROR'], p.token)).toMatchObject({ status: 'ACTIVE', flavor: { original_name: 'm1.tiny' } });
    expect(await cores()).toBe(2);
    // The core is free again: the other one may have it now.
    expect((await resize(other, '3')).status).toBe(202);
    expect((await waitForServer(other, ['VERIFY_RESIZE', 'ERROR'], p.token)).status).toBe('VERIFY_RESIZE');
    expect(await cores()).toBe(3);
    await Promise.all(ids.map((id) => api('DELETE', `/compute/v2.1/servers/${id}`, { token: p.token })));
  });
});
