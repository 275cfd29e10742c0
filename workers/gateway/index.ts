// The public endpoint. It only routes: each path prefix goes to its service's Worker
// over a service binding, with the request untouched.
import { Hono } from 'hono';
import { errorResponse, type ErrorStyle } from '../../lib/errors';

export interface Env {
  KEYSTONE: Fetcher;
  NOVA?: Fetcher;
  GLANCE?: Fetcher;
  NEUTRON?: Fetcher;
  CINDER?: Fetcher;
  SWIFT?: Fetcher;
}

/** Path prefix, the binding that serves it, and the error shape of that service. */
const ROUTES: { prefix: string; binding: keyof Env; style: ErrorStyle; service: string }[] = [
  { prefix: '/identity', binding: 'KEYSTONE', style: 'keystone', service: 'Identity' },
  { prefix: '/compute', binding: 'NOVA', style: 'nova', service: 'Compute' },
  { prefix: '/image', binding: 'GLANCE', style: 'glance', service: 'Image' },
  { prefix: '/network', binding: 'NEUTRON', style: 'neutron', service: 'Networking' },
  { prefix: '/volume', binding: 'CINDER', style: 'cinder', service: 'Block Storage' },
  { prefix: '/object-storage', binding: 'SWIFT', style: 'swift', service: 'Object Storage' },
];

const app = new Hono<{ Bindings: Env }>();

app.get('/', (c) => c.json({ name: 'flarestack', services: ROUTES.map((r) => ({ service: r.service, path: r.prefix })) }));

for (const route of ROUTES) {
  const handler = (c: { env: Env; req: { raw: Request } }) => {
    const target = c.env[route.binding];
    if (target) return target.fetch(c.req.raw);
    return errorResponse(route.style, 501, `The ${route.service} API is not implemented yet.`);
  };
  app.all(route.prefix, handler);
  app.all(`${route.prefix}/*`, handler);
}

export default app satisfies ExportedHandler<Env>;
