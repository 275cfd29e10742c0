// Version discovery: /compute lists the versions, /compute/v2.1 shows the current one.
import { Hono } from 'hono';
import type { NovaEnv } from '../env';
import { MAX_VERSION, MIN_VERSION } from '../versions';

export const versionRoutes = new Hono<NovaEnv>();

function v21(base: string) {
  return {
    id: 'v2.1',
    status: 'CURRENT',
    version: MAX_VERSION,
    min_version: MIN_VERSION,
    updated: '2013-07-23T11:33:21Z',
    links: [{ rel: 'self', href: `${base}/v2.1/` }, { rel: 'describedby', type: 'text/html', href: 'https://docs.openstack.org/' }],
    'media-types': [{ base: 'application/json', type: 'application/vnd.openstack.compute+json;version=2.1' }],
  };
}

const base = (url: string) => `${new URL(url).origin}/compute`;

versionRoutes.get('/', (c) => c.json({ versions: [v21(base(c.req.url))] }, 200));
versionRoutes.get('/v2.1', (c) => c.json({ version: v21(base(c.req.url)) }));
versionRoutes.get('/v2.1/', (c) => c.json({ version: v21(base(c.req.url)) }));
