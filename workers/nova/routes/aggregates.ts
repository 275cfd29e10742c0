// /os-aggregates: host aggregates are not built yet. The list answers truthfully (none),
// as clients such as `openstack hypervisor show` read it; creating one is a 501.
import { Hono } from 'hono';
import { ApiError, notFound } from '../../../lib/errors';
import type { NovaEnv } from '../env';
import { authorize } from '../policies';

export const aggregateRoutes = new Hono<NovaEnv>();

aggregateRoutes.get('/os-aggregates', (c) => {
  authorize(c, 'os_compute_api:os-aggregates:index');
  return c.json({ aggregates: [] });
});

aggregateRoutes.get('/os-aggregates/:id', (c) => {
  authorize(c, 'os_compute_api:os-aggregates:index');
  throw notFound(`Aggregate ${c.req.param('id')} could not be found.`);
});

aggregateRoutes.post('/os-aggregates', (c) => {
  authorize(c, 'os_compute_api:os-aggregates:index');
  throw new ApiError(501, 'Host aggregates are not implemented yet in this cloud.');
});
