// Swift: the object storage API, a Hono app under /object-storage. Paths are parsed here
// (names may hold any character, '/' included in objects) and dispatched by level.
import { Hono, type Context } from 'hono';
import { ApiError, badRequest, onError, onNotFound } from '../../lib/errors';
import type { SwiftEnv } from './env';
import { tempUrlResponse } from './access';
import { requestId } from './headers';
import { parseSwiftPath, type SwiftPath } from './names';
import { accountRoutes } from './routes/account';
import { bulk } from './routes/bulk';
import { containerRoutes } from './routes/container';
import { info } from './routes/info';
import { objectRoutes } from './routes/object';

export { SwiftAccount } from '../../durable-objects/swift-account';

const app = new Hono<SwiftEnv>().basePath('/object-storage');

app.onError(onError('swift'));
app.notFound(onNotFound('swift'));

// Every Swift response carries the transaction id.
app.use('*', async (c, next) => {
  const id = requestId();
  await next();
  try {
    c.res.headers.set('X-Trans-Id', id);
    c.res.headers.set('X-Openstack-Request-Id', id);
  } catch {
    // immutable headers (a response passed through): leave them
  }
});

app.get('/info', info);

// Temp URL responses drop owner headers; bulk delete (?bulk-delete) answers before the account routes.
app.use('/v1/*', tempUrlResponse);
app.route('/', bulk);

type Handler = (c: Context<SwiftEnv>, path: never) => Promise<Response>;

app.all('/v1/*', async (c) => {
  const pathname = new URL(c.req.url).pathname;
  const rest = pathname.slice(pathname.indexOf('/v1/') + 4);
  if (!rest) throw badRequest('Invalid path: no account.');
  const path: SwiftPath = parseSwiftPath(rest);
  const table: Record<string, Handler> = path.object !== undefined ? objectRoutes : path.container !== undefined ? containerRoutes : accountRoutes;
  const handler = table[c.req.method];
  if (!handler) {
    throw new ApiError(405, 'The method is not allowed for this resource.', { Allow: Object.keys(table).join(', ') });
  }
  return handler(c, path as never);
});

export default app satisfies ExportedHandler<SwiftEnv['Bindings']>;
