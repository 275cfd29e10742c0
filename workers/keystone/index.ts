// Keystone: the identity service, a Hono app under /identity.
import { Hono } from 'hono';
import { onError, onNotFound } from '../../lib/errors';
import { authToken } from '../../lib/auth';
import type { KeystoneEnv } from './env';
import { auth } from './routes/auth';
import { versions } from './routes/versions';
import { identityBase } from './views';

export { RevocationList } from '../../durable-objects/revocation-list';

const app = new Hono<KeystoneEnv>().basePath('/identity');

app.onError(onError('keystone', identityBase));
app.notFound(onNotFound('keystone'));

app.route('/', versions);
app.route('/v3/auth', auth);

// Every other resource needs a token.
app.use('/v3/*', authToken());

export default app satisfies ExportedHandler<KeystoneEnv['Bindings']>;
