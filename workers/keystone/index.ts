// Keystone: the identity service, a Hono app under /identity.
import { Hono } from 'hono';
import { onError, onNotFound } from '../../lib/errors';
import { authToken } from '../../lib/auth';
import type { KeystoneEnv } from './env';
import { bootstrapOnce } from './bootstrap';
import { identityChanged } from './identity-cache';
import { applicationCredentials } from './routes/application-credentials';
import { auth } from './routes/auth';
import { catalog } from './routes/catalog';
import { domains } from './routes/domains';
import { grants } from './routes/grants';
import { groups } from './routes/groups';
import { projects } from './routes/projects';
import { roleAssignments } from './routes/role-assignments';
import { roles } from './routes/roles';
import { users } from './routes/users';
import { versions } from './routes/versions';
import { identityBase } from './views';

export { RevocationList } from '../../durable-objects/revocation-list';

const app = new Hono<KeystoneEnv>().basePath('/identity');

app.onError(onError('keystone', identityBase));
app.notFound(onNotFound('keystone'));

// A hosted cloud bootstraps itself on its first request once BOOTSTRAP_ADMIN_PASSWORD
// is set as a secret; the local cloud's launcher bootstraps before it listens.
let bootstrapped = false;
app.use('*', async (c, next) => {
  if (!bootstrapped && c.env.BOOTSTRAP_ADMIN_PASSWORD) {
    await bootstrapOnce(c.env.DB, new URL(c.req.url).origin, {
      admin: c.env.BOOTSTRAP_ADMIN_PASSWORD,
      demo: c.env.BOOTSTRAP_DEMO_PASSWORD,
      glance: c.env.BOOTSTRAP_GLANCE_PASSWORD,
    });
  }
  bootstrapped = true;
  await next();
});

app.route('/', versions);
app.route('/v3/auth', auth);

// Every other resource needs a token.
app.use('/v3/*', authToken());
app.use('/v3/*', async (c, next) => {
  await next();
  if (c.req.method !== 'GET' && c.req.method !== 'HEAD') identityChanged();
});
for (const routes of [domains, projects, users, groups, roles, grants, roleAssignments, catalog, applicationCredentials]) {
  app.route('/v3', routes);
}

export default app satisfies ExportedHandler<KeystoneEnv['Bindings']>;
