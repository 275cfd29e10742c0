// The public endpoint: services not built yet answer 501 in their own error shape, so
// clients that find them in the catalog get an OpenStack error, not a bare 404.
import { describe, expect, it } from 'vitest';
import { api } from '../cli';

describe('gateway', () => {
  it('answers 501 in each unbuilt service’s shape', async () => {
    const compute = await api('GET', '/compute/v2.1/servers');
    expect(compute.status).toBe(501);
    expect(compute.json.notImplemented.code).toBe(501);
    const network = await api('GET', '/network/v2.0/networks');
    expect(network.status).toBe(501);
    expect(network.json.NeutronError.type).toBe('NotImplemented');
    const volume = await api('GET', '/volume/v3/x/volumes');
    expect(volume.status).toBe(501);
    expect(volume.json.notImplemented.message).toContain('Block Storage');
  });

  it('lists the services at its root', async () => {
    const root = await api('GET', '/');
    expect(root.status).toBe(200);
    expect(root.json.services.map((s: { path: string }) => s.path)).toEqual(
      expect.arrayContaining(['/identity', '/compute', '/image', '/network', '/volume', '/object-storage']),
    );
  });
});
