// The public endpoint: services not built yet answer 501 in their own error shape, so
// clients that find them in the catalog get an OpenStack error, not a bare 404.
import { describe, expect, it } from 'vitest';
import { api } from '../cli';

describe('gateway', () => {
  it('answers 501 in each unbuilt service’s shape', async () => {
    const network = await api('GET', '/network/v2.0/networks');
    expect(network.status).toBe(501);
    expect(network.json.NeutronError.type).toBe('NotImplemented');
    const volume = await api('GET', '/volume/v3/x/volumes');
    expect(volume.status).toBe(501);
    expect(volume.json.notImplemented.message).toContain('Block Storage');
  });

  it('reaches built services: compute answers in its own shape', async () => {
    const compute = await api('GET', '/compute/v2.1/servers');
    expect(compute.status).toBe(401);
    expect(compute.json.unauthorized.code).toBe(401);
    const versions = await api('GET', '/compute');
    expect(versions.json.versions[0].version).toBe('2.79');
  });

  it('lists the services at its root', async () => {
    const root = await api('GET', '/');
    expect(root.status).toBe(200);
    expect(root.json.services.map((s: { path: string }) => s.path)).toEqual(
      expect.arrayContaining(['/identity', '/compute', '/image', '/network', '/volume', '/object-storage']),
    );
  });
});
