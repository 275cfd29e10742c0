// Version discovery (glanceclient and keystoneauth negotiate through it), the JSON
// schemas, and /v2/info: what this cloud offers, truthfully.
import { Hono, type Context } from 'hono';
import type { GlanceEnv } from '../env';
import { authorize } from '../policies';
import { imageSchema, imagesSchema, memberSchema, membersSchema } from '../schemas/json-schema';
import { imageBase } from '../views';

export const versionRoutes = new Hono<GlanceEnv>();
export const infoRoutes = new Hono<GlanceEnv>();

/** The newest minor version first, as Glance lists them (v2.16 is Zed's). */
const CURRENT_MINOR = 16;

function versions(c: Context) {
  const href = `${imageBase(c)}/v2/`;
  return {
    versions: Array.from({ length: CURRENT_MINOR + 1 }, (_, i) => ({
      id: `v2.${CURRENT_MINOR - i}`,
      status: i === 0 ? 'CURRENT' : 'SUPPORTED',
      links: [{ rel: 'self', href }],
    })),
  };
}

versionRoutes.get('/', (c) => c.json(versions(c), 300));
versionRoutes.get('/versions', (c) => c.json(versions(c)));

infoRoutes.get('/v2/schemas/image', (c) => c.json(imageSchema));
infoRoutes.get('/v2/schemas/images', (c) => c.json(imagesSchema));
infoRoutes.get('/v2/schemas/member', (c) => c.json(memberSchema));
infoRoutes.get('/v2/schemas/members', (c) => c.json(membersSchema));

infoRoutes.get('/v2/info/import', (c) =>
  c.json({ 'import-methods': { description: 'Import methods available.', type: 'array', value: ['glance-direct'] } }),
);
infoRoutes.get('/v2/info/stores', (c) =>
  c.json({ stores: [{ id: 'swift', description: 'Image data in Swift object storage', default: true }] }),
);
infoRoutes.get('/v2/info/stores/detail', (c) => {
  authorize(c, 'stores_info_detail');
  return c.json({
    stores: [{ id: 'swift', type: 'swift', description: 'Image data in Swift object storage', default: true, properties: { container: 'glance' } }],
  });
});
