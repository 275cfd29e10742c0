// Compute quotas and limits: `openstack quota set` and `quota list --compute` on a project
// of the suite's own, the quota sets over HTTP (detail, defaults, force, revert), the key
// pair and server group quotas enforced, /limits, and `openstack quota show` / `limits show`
// (which ask every quota API the catalog lists).
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, openstack, openstackJson, openstackOk, passwordToken } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
const v = (version: string) => ({ 'OpenStack-API-Version': `compute ${version}` });
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKC+Ir8d4PUNHT4fl1tXDsAzZhipZF+Nbx8uhDx9X3Ed e2e@flarestack';

let admin: string;
beforeAll(async () => {
  admin = await adminToken();
});

/** A project of the suite's own with a member user, so its quota touches no other suite. */
async function memberOfNewProject(): Promise<{ projectId: string; name: string; token: string }> {
  const name = `quota-${suffix()}`;
  const password = `pw-${suffix()}-${suffix()}`;
  const project = await api('POST', '/identity/v3/projects', { token: admin, body: { project: { name, domain_id: 'default' } } });
  const user = await api('POST', '/identity/v3/users', { token: admin, body: { user: { name, password, domain_id: 'default' } } });
  const role = await api('GET', '/identity/v3/roles?name=member', { token: admin });
  await api('PUT', `/identity/v3/projects/${project.json.project.id}/users/${user.json.user.id}/roles/${role.json.roles[0].id}`, { token: admin });
  return { projectId: project.json.project.id, name, token: (await passwordToken(name, password, name)).token };
}

describe('quota sets', () => {
  it('are set with `openstack quota set` and listed with `quota list --compute`', async () => {
    const p = await memberOfNewProject();
    await openstackOk(['quota', 'set', '--cores', '30', '--instances', '7', '--ram', '10240', '--key-pairs', '5', '--server-groups', '3', p.projectId]);
    const rows = await openstackJson<Record<string, unknown>[]>(['quota', 'list', '--compute', '--project', p.projectId]);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ 'Project ID': p.projectId, Cores: 30, Instances: 7, Ram: 10240, 'Key Pairs': 5, 'Server Groups': 3, 'Metadata Items': 128 });
    const detail = await openstackJson<{ Resource: string; 'In Use': number; Limit: number }[]>(['quota', 'list', '--compute', '--detail', '--project', p.projectId]);
    expect(detail.find((r) => r.Resource === 'cores')).toMatchObject({ 'In Use': 0, Limit: 30 });

    const shown = await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: p.token, headers: v('2.57') });
    expect(shown.json.quota_set).toEqual({
      id: p.projectId, instances: 7, cores: 30, ram: 10240, metadata_items: 128, key_pairs: 5, server_groups: 3, server_group_members: 10,
    });
    const old = await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: p.token });
    expect(old.json.quota_set).toMatchObject({ injected_files: 5, floating_ips: -1, fixed_ips: -1, security_groups: -1 });
    const defaults = await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}/defaults`, { token: p.token, headers: v('2.57') });
    expect(defaults.json.quota_set).toMatchObject({ instances: 10, cores: 20, ram: 51200, key_pairs: 100, server_groups: 10 });

    // DELETE reverts to the defaults.
    expect((await api('DELETE', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: admin })).status).toBe(202);
    expect((await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: p.token })).json.quota_set).toMatchObject({ instances: 10, cores: 20 });
  });

  it('enforce the key pair and server group quotas, and refuse a limit below usage unless forced', async () => {
    const p = await memberOfNewProject();
    await openstackOk(['quota', 'set', '--key-pairs', '1', '--server-groups', '1', p.projectId]);
    const key = (name: string) => api('POST', '/compute/v2.1/os-keypairs', { token: p.token, body: { keypair: { name, public_key: KEY } } });
    expect((await key('one')).status).toBe(200);
    expect((await key('two')).json).toEqual({ forbidden: { code: 403, message: 'Quota exceeded, too many key pairs.' } });
    const group = (name: string) =>
      api('POST', '/compute/v2.1/os-server-groups', { token: p.token, body: { server_group: { name, policy: 'affinity' } }, headers: v('2.64') });
    expect((await group('g1')).status).toBe(200);
    expect((await group('g2')).json).toEqual({ forbidden: { code: 403, message: 'Quota exceeded, too many server groups.' } });

    const detail = await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}/detail`, { token: p.token, headers: v('2.57') });
    expect(detail.json.quota_set.server_groups).toEqual({ limit: 1, in_use: 1, reserved: 0 });
    const below = await api('PUT', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: admin, body: { quota_set: { server_groups: 0 } } });
    expect(below.json).toEqual({
      badRequest: { code: 400, message: 'Quota limit 0 for server_groups must be greater than or equal to already used and reserved 1.' },
    });
    const cli = await openstack(['quota', 'set', '--server-groups', '0', p.projectId]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('must be greater than or equal to already used');
    const forced = await api('PUT', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: admin, body: { quota_set: { server_groups: 0, force: 'True' } } });
    expect(forced.status).toBe(200);
    expect(forced.json.quota_set.server_groups).toBe(0);
    // Unlimited lets more in.
    await openstackOk(['quota', 'set', '--key-pairs', '-1', p.projectId]);
    expect((await key('two')).status).toBe(200);
  });

  it('refuse non-admin writers, other projects, unknown projects and bad bodies', async () => {
    const p = await memberOfNewProject();
    const put = (body: unknown, token = admin, version = '2.1') =>
      api('PUT', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token, body, headers: v(version) });
    expect((await put({ quota_set: { cores: 50 } }, p.token)).json.forbidden.code).toBe(403);
    expect((await api('GET', `/compute/v2.1/os-quota-sets/${p.projectId}`, { token: (await memberOfNewProject()).token })).status).toBe(403);
    expect((await api('GET', '/compute/v2.1/os-quota-sets/no-such-project', { token: admin })).json).toEqual({
      badRequest: { code: 400, message: 'Project ID no-such-project is not a valid project.' },
    });
    for (const [body, version] of [
      [{ quota_set: { cores: -2 } }, '2.1'],
      [{ quota_set: { cores: 'many' } }, '2.1'],
      [{ quota_set: { bogus: 1 } }, '2.1'],
      [{ quota_set: { floating_ips: 1 } }, '2.36'],
      [{ quota_set: { injected_files: 1 } }, '2.57'],
      [{ cores: 1 }, '2.1'],
    ] as const) {
      const r = await put(body, admin, version);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.json.badRequest.code).toBe(400);
    }
  });
});

describe('the CLI', () => {
  it('shows the compute quota and absolute limits with `quota show` and `limits show`', async () => {
    const quota = await openstackJson<Record<string, number | string>>(['quota', 'show', 'admin']);
    expect(quota.instances).toEqual(expect.any(Number));
    expect(quota['server-groups']).toEqual(expect.any(Number));
    const limits = await openstackJson<{ Name: string; Value: number }[]>(['limits', 'show', '--absolute']);
    expect(limits.map((l) => l.Name)).toEqual(expect.arrayContaining(['maxTotalInstances', 'maxTotalCores', 'totalInstancesUsed']));
  });
});

describe('limits', () => {
  it('shows absolute limits and usage, per microversion; admins may ask about another project', async () => {
    const p = await memberOfNewProject();
    await openstackOk(['quota', 'set', '--instances', '4', p.projectId]);
    await api('POST', '/compute/v2.1/os-server-groups', { token: p.token, body: { server_group: { name: 'g', policies: ['affinity'] } } });
    const mine = await api('GET', '/compute/v2.1/limits', { token: p.token });
    expect(mine.json.limits.rate).toEqual([]);
    expect(mine.json.limits.absolute).toEqual({
      maxTotalRAMSize: 51200, maxTotalInstances: 4, maxTotalCores: 20, maxTotalKeypairs: 100, maxTotalFloatingIps: -1, maxServerMeta: 128,
      maxImageMeta: 128, maxPersonality: 5, maxPersonalitySize: 10240, maxSecurityGroups: -1, maxSecurityGroupRules: -1, maxServerGroups: 10,
      maxServerGroupMembers: 10, totalRAMUsed: 0, totalCoresUsed: 0, totalInstancesUsed: 0, totalFloatingIpsUsed: 0,
      totalSecurityGroupsUsed: 0, totalServerGroupsUsed: 1,
    });
    const latest = await api('GET', '/compute/v2.1/limits', { token: p.token, headers: v('2.57') });
    expect(Object.keys(latest.json.limits.absolute).sort()).toEqual([
      'maxServerGroupMembers', 'maxServerGroups', 'maxServerMeta', 'maxTotalCores', 'maxTotalInstances', 'maxTotalKeypairs', 'maxTotalRAMSize',
      'totalCoresUsed', 'totalInstancesUsed', 'totalRAMUsed', 'totalServerGroupsUsed',
    ]);
    const asAdmin = await api('GET', `/compute/v2.1/limits?tenant_id=${p.projectId}`, { token: admin });
    expect(asAdmin.json.limits.absolute).toMatchObject({ maxTotalInstances: 4, totalServerGroupsUsed: 1 });
    expect((await api('GET', '/compute/v2.1/limits?tenant_id=other', { token: p.token })).status).toBe(403);
    expect((await api('GET', '/compute/v2.1/limits?bogus=1', { token: p.token, headers: v('2.75') })).status).toBe(400);
  });
});
