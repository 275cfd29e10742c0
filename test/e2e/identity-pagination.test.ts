// limit/marker on every Keystone list, through the one shared paginator.
import { describe, expect, it } from 'vitest';
import { adminToken, api } from '../cli';

const lists = ['/identity/v3/roles', '/identity/v3/services', '/identity/v3/users', '/identity/v3/projects', '/identity/v3/regions'];

describe('pagination', () => {
  for (const path of lists) {
    it(`pages ${path} with limit and marker`, async () => {
      const token = await adminToken();
      const key = path.split('/').pop()!;
      const all = await api('GET', path, { token });
      expect(all.status).toBe(200);
      const ids: string[] = all.json[key].map((r: { id: string }) => r.id);
      expect(ids.length).toBeGreaterThanOrEqual(1);

      const first = await api('GET', `${path}?limit=1`, { token });
      expect(first.json[key].map((r: { id: string }) => r.id)).toEqual(ids.slice(0, 1));
      if (ids.length > 1) {
        expect(first.json.links.next).toContain(`marker=${ids[0]}`);
        const next = await api('GET', new URL(first.json.links.next).pathname + new URL(first.json.links.next).search, { token });
        expect(next.json[key][0].id).toBe(ids[1]);
      } else {
        expect(first.json.links.next).toBeNull();
      }

      expect((await api('GET', `${path}?limit=-1`, { token })).status).toBe(400);
      const unknown = await api('GET', `${path}?marker=no-such-marker`, { token });
      expect(unknown.status).toBe(400);
      expect(unknown.json.error.code).toBe(400);
    });
  }
});
