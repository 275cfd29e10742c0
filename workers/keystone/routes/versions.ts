// Version discovery: keystoneauth reads these to find the v3 API.
import { Hono } from 'hono';
import type { Context } from 'hono';
import type { KeystoneEnv } from '../env';
import { identityBase } from '../views';

function v3(c: Context) {
  return {
    id: 'v3.14',
    status: 'stable',
    updated: '2020-04-07T00:00:00Z',
    links: [{ rel: 'self', href: `${identityBase(c)}/v3/` }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.identity-v3+json' }],
  };
}

export const versions = new Hono<KeystoneEnv>();

versions.get('/', (c) => c.json({ versions: { values: [v3(c)] } }, 300));
versions.get('/v3', (c) => c.json({ version: v3(c) }));
versions.get('/v3/', (c) => c.json({ version: v3(c) }));
