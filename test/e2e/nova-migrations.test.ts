// Migration records and the migrations APIs: a resize confirmed, a resize reverted, a cold
// and a live migration, listed with Debian's `openstack server migration list` and over
// HTTP per microversion (GET /os-migrations with its filters and paging), and the
// in-progress live migrations of a server (shown, and aborted while preparing). The hosts
// are the suite's own, in zones of their own, each with an address of its own.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adminToken, api, demoLogin, openstack, openstackJson, openstackOk } from '../cli';
import { actionEvents, bootServer, bootstrapImageId, suiteHosts, unique, waitForServer, watchTaskStates, type TestHost } from '../compute';

const V = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
/** The CLI's migration list as JSON, at the microversion that shows ids, types and uuids. */
type Row = Record<string, string | number | null>;
const cliList = (...args: string[]) => openstackJson<Row[]>(['--os-compute-api-version', '2.59', 'server', 'migration', 'list', ...args]);

let admin: string;
let imageId: string;
let started: string;
const hosts = suiteHosts('mig');
const host = (zone: string, ip: string, opts: Parameters<typeof hosts.start>[1] = {}) => hosts.start(zone, { ...opts, inventory: { hostIp: ip } });

beforeAll(async () => {
  admin = await adminToken();
  imageId = await bootstrapImageId(admin);
  started = new Date(Date.now() - 1000).toISOString().replace(/\.\d+Z$/, 'Z');
});

const migrations = async (query: string, version = '2.59') => api('GET', `/compute/v2.1/os-migrations${query}`, { token: admin, headers: V(version) });

describe('migration records of finished moves', () => {
  const zone = unique('az-migs');
  let a: TestHost;
  let b: TestHost;
  let id: string;

  beforeAll(async () => {
    // "a" has more memory: the boot goes there, and each move goes to the other host.
    a = await host(zone, '192.0.2.1', { memoryMb: 16_384 });
    b = await host(zone, '192.0.2.2', { memoryMb: 12_288 });
    id = await bootServer(admin, { name: unique('migrated'), imageRef: imageId, availability_zone: zone });
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(a.name);
  });
  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('records a resize from pre-migrating to confirmed, with both hosts and flavors', async () => {
    await openstackOk(['server', 'resize', '--flavor', 'm1.small', '--wait', id]);
    const [open] = await cliList('--server', id);
    expect(open).toMatchObject({ Status: 'finished', Type: 'resize', 'Source Compute': a.name, 'Dest Compute': b.name, 'Dest Host': '192.0.2.2', 'Old Flavor': 1, 'New Flavor': 2 });
    await openstackOk(['server', 'resize', 'confirm', id]);
    await waitForServer(id, ['ACTIVE'], admin);
    const rows = await cliList('--server', id);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({
      Status: 'confirmed', Type: 'resize', 'Server UUID': id, 'Source Compute': a.name, 'Source Node': a.name, 'Dest Compute': b.name, 'Dest Node': b.name,
    });
    expect(rows[0]!.UUID).toMatch(/^[0-9a-f-]{36}$/);
    expect(rows[0]!['Created At']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000$/);
  });

  it('records a resize reverted, a cold migration confirmed and a live migration completed', async () => {
    await openstackOk(['server', 'resize', '--flavor', 'm1.medium', '--wait', id]);
    await openstackOk(['server', 'resize', 'revert', id]);
    expect((await waitForServer(id, ['ACTIVE', 'ERROR'], admin))['OS-EXT-SRV-ATTR:host']).toBe(b.name);
    await openstackOk(['server', 'migrate', '--wait', id]);
    await openstackOk(['server', 'migrate', 'confirm', id]);
    expect((await waitForServer(id, ['ACTIVE', 'ERROR'], admin))['OS-EXT-SRV-ATTR:host']).toBe(a.name);
    await openstackOk(['server', 'migrate', '--live-migration', '--wait', id]);
    expect((await waitForServer(id, ['ACTIVE', 'ERROR'], admin))['OS-EXT-SRV-ATTR:host']).toBe(b.name);
    // Newest first (2.59).
    const rows = await cliList('--server', id);
    expect(rows.map((r) => [r.Type, r.Status, r['Source Compute'], r['Dest Compute'], r['Old Flavor'], r['New Flavor']])).toEqual([
      ['live-migration', 'completed', a.name, b.name, 2, 2],
      ['migration', 'confirmed', b.name, a.name, 2, 2],
      ['resize', 'reverted', b.name, a.name, 2, 3],
      ['resize', 'confirmed', a.name, b.name, 1, 2],
    ]);
  });

  it('filters by status, type and host with the CLI', async () => {
    const ours = (rows: Row[]) => rows.filter((r) => r['Server UUID'] === id).map((r) => r.Status);
    expect(ours(await cliList('--status', 'confirmed'))).toEqual(['confirmed', 'confirmed']);
    expect(ours(await cliList('--type', 'live-migration'))).toEqual(['completed']);
    expect(ours(await cliList('--type', 'cold-migration'))).toEqual(['confirmed']);
    expect(ours(await cliList('--type', 'resize', '--status', 'reverted'))).toEqual(['reverted']);
    // --host matches either end; the hosts are this suite's alone.
    expect((await cliList('--host', a.name)).map((r) => r.Status)).toEqual(['completed', 'confirmed', 'reverted', 'confirmed']);
    expect(await cliList('--host', unique('nowhere'))).toEqual([]);
    // The default microversion (2.1) lists without ids, types or uuids.
    const old = await openstackJson<Row[]>(['server', 'migration', 'list', '--server', id]);
    expect(old).toHaveLength(4);
    expect(Object.keys(old[0]!)).not.toContain('Type');
    expect(Object.keys(old[0]!)).not.toContain('UUID');
  });

  it('answers per microversion over HTTP, and pages from 2.59', async () => {
    const v21 = await migrations(`?instance_uuid=${id}&source_compute=${a.name}`, '2.1');
    expect(v21.status).toBe(200);
    // Oldest first before 2.59; no migration_type, links or uuid; unknown parameters are ignored.
    expect(v21.json.migrations.map((m: Row) => m.status)).toEqual(['confirmed', 'completed']);
    expect(Object.keys(v21.json.migrations[0]).sort()).toEqual([
      'created_at', 'dest_compute', 'dest_host', 'dest_node', 'id', 'instance_uuid', 'new_instance_type_id', 'old_instance_type_id',
      'source_compute', 'source_node', 'status', 'updated_at',
    ]);
    expect((await migrations(`?instance_uuid=${id}&whatever=1&limit=1`, '2.58')).json.migrations).toHaveLength(4);
    const v223 = await migrations(`?instance_uuid=${id}`, '2.23');
    expect(v223.json.migrations[0]).toMatchObject({ migration_type: 'resize' });
    expect(v223.json.migrations[0].uuid).toBeUndefined();

    const page1 = await migrations(`?instance_uuid=${id}&limit=3`);
    expect(page1.json.migrations.map((m: Row) => m.status)).toEqual(['completed', 'confirmed', 'reverted']);
    const next = new URL(page1.json.migrations_links[0].href);
    expect(page1.json.migrations_links[0].rel).toBe('next');
    expect(next.searchParams.get('marker')).toBe(page1.json.migrations[2].uuid);
    const page2 = await migrations(next.search);
    expect(page2.json.migrations.map((m: Row) => m.status)).toEqual(['confirmed']);
    expect(page2.json.migrations_links).toBeUndefined();
    expect((await migrations(`?instance_uuid=${id}&changes-since=${started}`)).json.migrations).toHaveLength(4);
    expect((await migrations(`?instance_uuid=${id}&changes-since=2099-01-01T00:00:00Z`)).json.migrations).toEqual([]);
    expect((await migrations(`?instance_uuid=${id}&changes-before=${started}`, '2.66')).json.migrations).toEqual([]);
    expect((await migrations(`?instance_uuid=${id}&changes-before=2099-01-01`, '2.66')).json.migrations).toHaveLength(4);
  });

  it('refuses bad filters with a 400, never a 500', async () => {
    const bad: [string, string, string][] = [
      ['?foo=bar', '2.59', "Additional properties are not allowed ('foo' was unexpected)"],
      ['?changes-before=2020-01-01T00:00:00Z', '2.65', "Additional properties are not allowed ('changes-before' was unexpected)"],
      ['?limit=-1', '2.59', "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'"],
      ['?limit=1&limit=2', '2.59', "Invalid input for query parameters limit. Value: ['1', '2']. ['1', '2'] is too long"],
      [`?marker=${crypto.randomUUID()}`, '2.59', 'Marker'],
      ['?changes-since=yesterday', '2.59', "Invalid input for query parameters changes-since. Value: yesterday. 'yesterday' is not a 'date-time'"],
      ['?changes-since=2020-01-02T00:00:00Z&changes-before=2020-01-01T00:00:00Z', '2.66', 'The value of changes-since must be less than or equal to changes-before.'],
    ];
    for (const [query, version, message] of bad) {
      const r = await migrations(query, version);
      expect([query, r.status]).toEqual([query, 400]);
      expect(r.json.badRequest.message).toContain(message);
    }
    const cli = await openstack(['--os-compute-api-version', '2.59', 'server', 'migration', 'list', '--marker', crypto.randomUUID()]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('could not be found');
  });

  it('leaves migrations to admins', async () => {
    const demo = await demoLogin();
    const r = await api('GET', '/compute/v2.1/os-migrations', { token: demo.token });
    expect(r.status).toBe(403);
    expect(r.json.forbidden.message).toContain('os_compute_api:os-migrations:index');
    const cli = await openstack(['server', 'migration', 'list'], { cloud: 'flarestack-demo' });
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toMatch(/403|[Pp]olicy/);
  });

  it('shows no finished move as in progress', async () => {
    const list = await api('GET', `/compute/v2.1/servers/${id}/migrations`, { token: admin, headers: V('2.59') });
    expect(list.json).toEqual({ migrations: [] });
    const all = (await migrations(`?instance_uuid=${id}`)).json.migrations as Row[];
    const live = all.find((m) => m.migration_type === 'live-migration')!;
    const resize = all.find((m) => m.migration_type === 'resize')!;
    const show = (mid: unknown) => api('GET', `/compute/v2.1/servers/${id}/migrations/${mid}`, { token: admin, headers: V('2.59') });
    expect((await show(live.id)).json.itemNotFound.message).toBe(`Live migration ${live.id} for server ${id} is not in progress.`);
    expect((await show(resize.id)).json.itemNotFound.message).toBe(`Migration ${resize.id} for server ${id} is not live-migration.`);
    expect((await show('nope')).status).toBe(404);
    expect((await api('GET', `/compute/v2.1/servers/${id}/migrations`, { token: admin, headers: V('2.22') })).status).toBe(404);
    const abort = await api('DELETE', `/compute/v2.1/servers/${id}/migrations/${live.id}`, { token: admin, headers: V('2.65') });
    expect([abort.status, abort.json.conflictingRequest.message]).toEqual([409, `Cannot 'abort live migration' instance ${id} while it is in task_state None`]);
    const cli = await openstack(['--os-compute-api-version', '2.59', 'server', 'migration', 'show', id, String(live.id)]);
    expect(cli.code).not.toBe(0);
    expect(cli.stderr).toContain('is not in progress');
  });
});

describe('live migrations in progress', () => {
  const zone = unique('az-live');
  let a: TestHost;
  let b: TestHost;
  let id: string;
  const list = () => api('GET', `/compute/v2.1/servers/${id}/migrations`, { token: admin, headers: V('2.59') });

  /** Polls the server's in-progress migrations until one has `status`. */
  async function inProgress(status: string): Promise<Row> {
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      const found = ((await list()).json.migrations as Row[]).find((m) => m.status === status);
      if (found) return found;
      await new Promise((ok) => setTimeout(ok, 100));
    }
    throw new Error(`no live migration of ${id} reached ${status}`);
  }

  beforeAll(async () => {
    // Slow hosts, so the CLI can look in: preparing takes the destination 10 s, running the source 10 s.
    a = await host(zone, '192.0.2.11', { memoryMb: 16_384, actionLatencyMs: 10_000 });
    b = await host(zone, '192.0.2.12', { memoryMb: 12_288, actionLatencyMs: 10_000 });
    id = await bootServer(admin, { name: unique('live'), imageRef: imageId, availability_zone: zone });
    expect((await waitForServer(id, ['ACTIVE'], admin))['OS-EXT-SRV-ATTR:host']).toBe(a.name);
  });
  afterAll(async () => {
    await api('DELETE', `/compute/v2.1/servers/${id}`, { token: admin });
  });

  it('aborts one still preparing from 2.65: it stays where it was, cancelled', async () => {
    expect((await api('POST', `/compute/v2.1/servers/${id}/action`, { token: admin, body: { 'os-migrateLive': { host: null, block_migration: 'auto' } }, headers: V('2.79') })).status).toBe(202);
    const m = await inProgress('preparing');
    expect(m).toMatchObject({ server_uuid: id, source_compute: a.name, dest_compute: b.name, dest_host: '192.0.2.12', memory_total_bytes: null });
    const early = await api('DELETE', `/compute/v2.1/servers/${id}/migrations/${m.id}`, { token: admin, headers: V('2.64') });
    expect([early.status, early.json.badRequest.message]).toEqual([
      400, `Migration ${m.id} state of instance ${id} is preparing. Cannot abort live migration while the migration is in this state.`,
    ]);
    const missing = await api('DELETE', `/compute/v2.1/servers/${id}/migrations/999999`, { token: admin, headers: V('2.65') });
    expect([missing.status, missing.json.itemNotFound.message]).toEqual([404, `Migration 999999 not found for instance ${id}`]);
    const shown = await openstackJson(['--os-compute-api-version', '2.59', 'server', 'migration', 'show', id, String(m.id)]);
    expect(shown).toMatchObject({ ID: m.id, Status: 'preparing', 'Dest Compute': b.name, UUID: m.uuid });
    const abort = await api('DELETE', `/compute/v2.1/servers/${id}/migrations/${m.id}`, { token: admin, headers: V('2.65') });
    expect([abort.status, abort.text]).toEqual([202, '']);
    const { server } = await watchTaskStates(id, admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': a.name });
    const [record] = (await migrations(`?instance_uuid=${id}`)).json.migrations as Row[];
    expect(record).toMatchObject({ id: m.id, status: 'cancelled' });
    expect(record!.links).toBeUndefined();
    expect(await actionEvents(id, 'live_migration_cancel', admin)).toEqual({ compute_live_migration_abort: 'Success' });
    // What the destination made goes.
    const deadline = Date.now() + 15_000;
    while ((await b.driver.listInstances()).length > 0 && Date.now() < deadline) await new Promise((ok) => setTimeout(ok, 200));
    expect(await b.driver.listInstances()).toEqual([]);
  });

  it('shows one running, with links from os-migrations, and cannot abort it', async () => {
    expect((await api('POST', `/compute/v2.1/servers/${id}/action`, { token: admin, body: { 'os-migrateLive': { host: null, block_migration: 'auto' } }, headers: V('2.79') })).status).toBe(202);
    const m = await inProgress('running');
    const shown = await openstackJson(['--os-compute-api-version', '2.59', 'server', 'migration', 'show', id, String(m.uuid)]);
    expect(shown).toMatchObject({ ID: m.id, Status: 'running', 'Source Compute': a.name, 'Dest Host': '192.0.2.12' });
    const [record] = (await migrations(`?instance_uuid=${id}`)).json.migrations as Row[];
    expect(record!.links).toEqual([
      { rel: 'self', href: expect.stringMatching(new RegExp(`/compute/v2\\.1/servers/${id}/migrations/${m.id}$`)) },
      { rel: 'bookmark', href: expect.stringMatching(new RegExp(`/compute/servers/${id}/migrations/${m.id}$`)) },
    ]);
    const abort = await openstack(['--os-compute-api-version', '2.65', 'server', 'migration', 'abort', id, String(m.id)]);
    expect(abort.code).not.toBe(0);
    expect(abort.stderr).toContain(`state of instance ${id} is running. Cannot abort live migration`);
    const demo = await demoLogin();
    expect((await api('GET', `/compute/v2.1/servers/${id}/migrations`, { token: demo.token, headers: V('2.59') })).status).toBe(404);
    const { server } = await watchTaskStates(id, admin);
    expect(server).toMatchObject({ status: 'ACTIVE', 'OS-EXT-SRV-ATTR:host': b.name });
    expect((await list()).json.migrations).toEqual([]);
    expect(((await migrations(`?instance_uuid=${id}`)).json.migrations as Row[]).map((r) => r.status)).toEqual(['completed', 'cancelled']);
  });
});
