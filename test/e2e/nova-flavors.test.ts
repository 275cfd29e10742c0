// Flavors through the openstack CLI: the default flavors, create/show/list/set/unset/delete,
// extra specs as properties, private flavors and their access list; and over HTTP the
// error bodies Nova gives.
import { beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, demoLogin, openstack, openstackJson, openstackOk } from '../cli';

const suffix = () => Math.random().toString(36).slice(2, 8);
type Flavor = Record<string, any>;
type Row = { ID: string; Name: string };
const asDemo = { cloud: 'flarestack-demo' };
const v = (version: string) => ({ 'OpenStack-API-Version': `compute ${version}` });

let admin: string;
let demo: string;
let demoProject: string;
beforeAll(async () => {
  admin = await adminToken();
  ({ token: demo, projectId: demoProject } = await demoLogin());
});

describe('the default flavors', () => {
  it('are m1.tiny to m1.xlarge, as Nova\'s', async () => {
    const rows = await openstackJson<(Row & { RAM: number; Disk: number; VCPUs: number; 'Is Public': boolean })[]>(['flavor', 'list'], asDemo);
    const defaults = rows.filter((r) => r.Name.startsWith('m1.')).map((r) => [r.ID, r.Name, r.RAM, r.VCPUs, r.Disk]);
    expect(defaults).toEqual([
      ['1', 'm1.tiny', 512, 1, 1],
      ['2', 'm1.small', 2048, 1, 20],
      ['3', 'm1.medium', 4096, 2, 40],
      ['4', 'm1.large', 8192, 4, 80],
      ['5', 'm1.xlarge', 16384, 8, 160],
    ]);
  });
});

describe('flavor management', () => {
  it('creates, shows, sets and unsets properties, describes and deletes a flavor', async () => {
    const name = `fl-${suffix()}`;
    const created = await openstackJson<Flavor>([
      '--os-compute-api-version', '2.55', 'flavor', 'create', '--ram', '256', '--disk', '2', '--vcpus', '2', '--swap', '128',
      '--ephemeral', '1', '--property', 'hw:cpu_policy=dedicated', '--description', 'first', name,
    ]);
    expect(created).toMatchObject({ name, ram: 256, disk: 2, vcpus: 2, swap: 128, 'OS-FLV-EXT-DATA:ephemeral': 1, 'os-flavor-access:is_public': true, description: 'first' });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

    const shown = await openstackJson<Flavor>(['flavor', 'show', name]);
    expect(shown.id).toBe(created.id);
    expect(shown.properties).toEqual({ 'hw:cpu_policy': 'dedicated' });

    await openstackOk(['flavor', 'set', '--property', 'quota:cpu_shares=512', '--property', 'hw:mem_page_size=large', name]);
    await openstackOk(['flavor', 'unset', '--property', 'hw:cpu_policy', name]);
    expect((await openstackJson<Flavor>(['flavor', 'show', created.id])).properties).toEqual({ 'quota:cpu_shares': '512', 'hw:mem_page_size': 'large' });
    await openstackOk(['--os-compute-api-version', '2.55', 'flavor', 'set', '--description', 'second', name]);
    expect((await openstackJson<Flavor>(['--os-compute-api-version', '2.55', 'flavor', 'show', name])).description).toBe('second');

    const long = await openstackJson<(Row & { Properties: unknown })[]>(['flavor', 'list', '--long', '--min-ram', '256', '--min-disk', '2']);
    expect(long.map((r) => r.ID)).toContain(created.id);
    expect(long.map((r) => r.ID)).not.toContain('1');

    await openstackOk(['flavor', 'delete', name]);
    const gone = await openstack(['flavor', 'show', created.id]);
    expect(gone.code).not.toBe(0);
    expect((await api('GET', `/compute/v2.1/flavors/${created.id}`, { token: admin })).json).toEqual({
      itemNotFound: { code: 404, message: `Flavor ${created.id} could not be found.` },
    });
  });

  it('creates with a given id, and refuses duplicates with 409', async () => {
    const id = `id-${suffix()}`;
    const name = `fl-${suffix()}`;
    const created = await openstackJson<Flavor>(['flavor', 'create', '--id', id, '--ram', '64', '--disk', '0', '--vcpus', '1', name]);
    expect(created.id).toBe(id);
    const dupName = await api('POST', '/compute/v2.1/flavors', { token: admin, body: { flavor: { name, ram: 64, vcpus: 1, disk: 0 } } });
    expect(dupName.status).toBe(409);
    expect(dupName.json).toEqual({ conflictingRequest: { code: 409, message: `Flavor with name ${name} already exists.` } });
    const dupId = await api('POST', '/compute/v2.1/flavors', { token: admin, body: { flavor: { name: `${name}-2`, ram: 64, vcpus: 1, disk: 0, id } } });
    expect(dupId.json.conflictingRequest.message).toBe(`Flavor with ID ${id} already exists.`);
    const cli = await openstack(['flavor', 'create', '--ram', '64', '--disk', '0', '--vcpus', '1', name]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('already exists');
    await openstackOk(['flavor', 'delete', id]);
  });
});

describe('private flavors', () => {
  it('are seen by the projects given access only, which the CLI manages', async () => {
    const name = `priv-${suffix()}`;
    const created = await openstackJson<Flavor>(['flavor', 'create', '--private', '--project', 'demo', '--ram', '64', '--disk', '0', '--vcpus', '1', name]);
    expect(created['os-flavor-access:is_public']).toBe(false);
    expect((await openstackJson<Flavor>(['flavor', 'show', name])).access_project_ids).toEqual([demoProject]);
    const access = await api('GET', `/compute/v2.1/flavors/${created.id}/os-flavor-access`, { token: admin });
    expect(access.json).toEqual({ flavor_access: [{ flavor_id: created.id, tenant_id: demoProject }] });

    expect((await openstackJson<Row[]>(['flavor', 'list'], asDemo)).map((r) => r.ID)).toContain(created.id);
    expect((await openstackJson<Flavor>(['flavor', 'show', created.id], asDemo)).name).toBe(name);
    // Admins list private flavors when asked.
    expect((await openstackJson<Row[]>(['flavor', 'list', '--private'])).map((r) => r.ID)).toContain(created.id);
    expect((await openstackJson<Row[]>(['flavor', 'list', '--public'])).map((r) => r.ID)).not.toContain(created.id);

    await openstackOk(['flavor', 'unset', '--project', 'demo', name]);
    expect((await openstackJson<Row[]>(['flavor', 'list'], asDemo)).map((r) => r.ID)).not.toContain(created.id);
    expect((await api('GET', `/compute/v2.1/flavors/${created.id}`, { token: demo })).status).toBe(404);
    expect((await openstack(['flavor', 'show', created.id], asDemo)).code).not.toBe(0);

    await openstackOk(['flavor', 'set', '--project', 'demo', name]);
    expect((await api('GET', `/compute/v2.1/flavors/${created.id}`, { token: demo })).status).toBe(200);
    const again = await api('POST', `/compute/v2.1/flavors/${created.id}/action`, { token: admin, body: { addTenantAccess: { tenant: demoProject } } });
    expect(again.status).toBe(409);
    const publicAccess = await api('GET', '/compute/v2.1/flavors/1/os-flavor-access', { token: admin });
    expect(publicAccess.json).toEqual({ itemNotFound: { code: 404, message: 'Access list not available for public flavors.' } });
    await openstackOk(['flavor', 'delete', created.id]);
  });
});

describe('errors', () => {
  it('refuses non-admins with 403, bad bodies with 400, unknown ids with 404', async () => {
    const body = { flavor: { name: `x-${suffix()}`, ram: 64, vcpus: 1, disk: 0 } };
    const denied = await api('POST', '/compute/v2.1/flavors', { token: demo, body });
    expect(denied.status).toBe(403);
    expect(denied.json.forbidden).toMatchObject({ code: 403 });
    const cli = await openstack(['flavor', 'create', '--ram', '64', '--disk', '0', '--vcpus', '1', `x-${suffix()}`], asDemo);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/403.*os_compute_api:os-flavor-manage:create/);

    for (const bad of [{ flavor: { name: 'x', ram: 0, vcpus: 1, disk: 0 } }, { flavor: { name: 'x', vcpus: 1, disk: 0 } }, { flavor: { ...body.flavor, bogus: 1 } }, { nope: {} }]) {
      const r = await api('POST', '/compute/v2.1/flavors', { token: admin, body: bad });
      expect(r.status, JSON.stringify(bad)).toBe(400);
      expect(r.json.badRequest).toMatchObject({ code: 400 });
    }
    expect((await api('POST', '/compute/v2.1/flavors', { token: admin, raw: '{not json' })).json.badRequest.code).toBe(400);
    expect((await api('GET', '/compute/v2.1/flavors?minRam=lots', { token: admin })).json).toEqual({ badRequest: { code: 400, message: 'Invalid minRam filter [lots]' } });
    expect((await api('GET', '/compute/v2.1/flavors/nope', { token: demo })).json).toEqual({ itemNotFound: { code: 404, message: 'Flavor nope could not be found.' } });
    expect((await api('DELETE', '/compute/v2.1/flavors/nope', { token: admin })).status).toBe(404);
    expect((await api('GET', '/compute/v2.1/flavors/nope/os-extra_specs', { token: admin })).status).toBe(404);
    expect((await api('GET', '/compute/v2.1/flavors/1/os-extra_specs/nope', { token: admin })).json.itemNotFound.message).toBe('Flavor 1 has no extra specs with key nope.');
  });

  it('negotiates microversions: 406 outside 2.1 to 2.79, 400 for a malformed one', async () => {
    const high = await api('GET', '/compute/v2.1/flavors', { token: demo, headers: v('2.99') });
    expect(high.status).toBe(406);
    expect(Object.values(high.json as object)[0]).toMatchObject({ code: 406 });
    expect((await api('GET', '/compute/v2.1/flavors', { token: demo, headers: v('two') })).status).toBe(400);
    const latest = await api('GET', '/compute/v2.1/flavors/1', { token: demo, headers: v('latest') });
    expect(latest.headers.get('OpenStack-API-Version')).toBe('compute 2.79');
    expect(latest.json.flavor).toMatchObject({ swap: 0, description: null, extra_specs: {} });
    const old = await api('GET', '/compute/v2.1/flavors/1', { token: demo });
    expect(old.json.flavor.swap).toBe('');
    expect(old.json.flavor).not.toHaveProperty('description');
    expect((await api('PUT', '/compute/v2.1/flavors/1', { token: admin, body: { flavor: { description: 'd' } }, headers: v('2.54') })).status).toBe(404);
    expect((await api('GET', '/compute/v2.1/flavors?bogus=1', { token: demo, headers: v('2.75') })).status).toBe(400);
  });
});
