// Glance: the image API, a Hono app under /image.
import { Hono } from 'hono';
import { onError, onNotFound } from '../../lib/errors';
import type { GlanceEnv } from './env';

const app = new Hono<GlanceEnv>().basePath('/image');

app.onError(onError('glance'));
app.notFound(onNotFound('glance'));

export default app satisfies ExportedHandler<GlanceEnv['Bindings']>;
