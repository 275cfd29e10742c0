// The public endpoint. It only routes: each path prefix goes to its service's Worker
// over a service binding, with the request untouched (but for CLIENT_ADDRESS, below).
import { Hono } from 'hono';
import { errorResponse, type ErrorStyle } from '../../lib/errors';

export interface Env {
  KEYSTONE: Fetcher;
  NOVA?: Fetcher;
  GLANCE?: Fetcher;
  NEUTRON?: Fetcher;
  CINDER?: Fetcher;
  SWIFT?: Fetcher;
  /**
   * Set by the local cloud, whose public port is a relay: the address every request counts
   * as coming from. It replaces any CF-Connecting-IP the client sent, as Cloudflare's edge
   * does, so no client can claim an address (temp URLs may be limited to addresses).
   */
  CLIENT_ADDRESS?: string;
}

/** Path prefix, the binding that serves it, and the error shape of that service. */
const ROUTES: { prefix: string; binding: Exclude<keyof Env, 'CLIENT_ADDRESS'>; style: ErrorStyle; service: string }[] = [
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
    if (!target) return errorResponse(route.style, 501, `The ${route.service} API is not implemented yet.`);
    if (c.env.CLIENT_ADDRESS === undefined) return target.fetch(c.req.raw);
    const headers = new Headers(c.req.raw.headers);
    headers.set('CF-Connecting-IP', c.env.CLIENT_ADDRESS);
    return target.fetch(new Request(c.req.raw, { headers }));
  };
  app.all(route.prefix, handler);
  app.all(`${route.prefix}/*`, handler);
}

export default app satisfies ExportedHandler<Env>;
