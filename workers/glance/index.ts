// Glance: the image API, a Hono app under /image.
import { Hono } from 'hono';
import { authToken } from '../../lib/auth';
import { bootstrapImage } from './bootstrap-image';
import { onError, onNotFound } from '../../lib/errors';
import type { GlanceEnv } from './env';
import { dataRoutes } from './routes/data';
import { imageRoutes } from './routes/images';
import { memberRoutes } from './routes/members';
import { infoRoutes, versionRoutes } from './routes/versions';

const app = new Hono<GlanceEnv>().basePath('/image');

app.onError(onError('glance', (c) => `${new URL(c.req.url).origin}/identity`));
app.notFound(onNotFound('glance'));

app.route('/', versionRoutes);
// Everything under /v2 needs a token.
app.use('/v2/*', authToken());
// The first request after start-up makes the public bootstrap image if the cloud has none.
app.use('/v2/*', bootstrapImage);
for (const routes of [infoRoutes, imageRoutes, dataRoutes, memberRoutes]) app.route('/', routes);

export default app satisfies ExportedHandler<GlanceEnv['Bindings']>;
