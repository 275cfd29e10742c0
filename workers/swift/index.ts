// Swift: the object storage API, a Hono app under /object-storage.
import { Hono } from 'hono';
import { onError, onNotFound } from '../../lib/errors';
import type { SwiftEnv } from './env';

export { SwiftAccount } from '../../durable-objects/swift-account';

const app = new Hono<SwiftEnv>().basePath('/object-storage');

app.onError(onError('swift'));
app.notFound(onNotFound('swift'));

export default app satisfies ExportedHandler<SwiftEnv['Bindings']>;
