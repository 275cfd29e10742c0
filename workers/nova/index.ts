// Nova: the compute API, a Hono app under /compute, plus the WebSocket endpoint host
// connectors dial. The Scheduler and Conductor Durable Objects live in this Worker.
import { Hono } from 'hono';
import { authToken } from '../../lib/auth';
import { onError, onNotFound } from '../../lib/errors';
import { microversion } from '../../lib/microversion';
import { bootstrapNova } from './bootstrap';
import type { NovaEnv } from './env';
import { aggregateRoutes } from './routes/aggregates';
import { connectorRoutes } from './routes/connector';
import { flavorRoutes } from './routes/flavors';
import { hostCredentialRoutes } from './routes/host-credentials';
import { hypervisorRoutes } from './routes/hypervisors';
import { instanceActionRoutes } from './routes/instance-actions';
import { keypairRoutes } from './routes/keypairs';
import { limitRoutes } from './routes/limits';
import { migrationRoutes } from './routes/migrations';
import { quotaSetRoutes } from './routes/quota-sets';
import { serverActionRoutes } from './routes/server-actions';
import { serverGroupRoutes } from './routes/server-groups';
import { serverMetadataRoutes } from './routes/server-metadata';
import { serverMigrationRoutes } from './routes/server-migrations';
import { serverRoutes } from './routes/servers';
import { serviceRoutes, availabilityZoneRoutes } from './routes/services';
import { versionRoutes } from './routes/versions';
import { MAX_VERSION, MIN_VERSION } from './versions';

export { Conductor } from '../../durable-objects/conductor';
export { Scheduler } from '../../durable-objects/scheduler';

const app = new Hono<NovaEnv>().basePath('/compute');

app.onError(onError('nova', (c) => `${new URL(c.req.url).origin}/identity`));
app.notFound(onNotFound('nova'));

app.route('/', versionRoutes);
app.route('/', connectorRoutes);
// A deployed cloud gets Nova's default flavors on its first request, as the local one does
// at start (bootstrapNova writes only into an empty flavor table).
let bootstrapped = false;
app.use('/v2.1/*', async (c, next) => {
  if (!bootstrapped) {
    await bootstrapNova(c.env.DB);
    bootstrapped = true;
  }
  await next();
});
// Everything under /v2.1 negotiates a microversion and needs a token.
app.use('/v2.1/*', microversion({ service: 'compute', min: MIN_VERSION, max: MAX_VERSION, legacyHeader: 'X-OpenStack-Nova-API-Version' }));
app.use('/v2.1/*', authToken());
for (const routes of [
  serverRoutes,
  serverActionRoutes,
  serverMetadataRoutes,
  serverMigrationRoutes,
  migrationRoutes,
  instanceActionRoutes,
  flavorRoutes,
  keypairRoutes,
  availabilityZoneRoutes,
  hypervisorRoutes,
  aggregateRoutes,
  serviceRoutes,
  hostCredentialRoutes,
  limitRoutes,
  quotaSetRoutes,
  serverGroupRoutes,
]) {
  app.route('/v2.1', routes);
}

export default app satisfies ExportedHandler<NovaEnv['Bindings']>;
