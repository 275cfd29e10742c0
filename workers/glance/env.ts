import type { AuthBindings, AuthVariables } from '../../lib/auth';

export interface Env extends AuthBindings {
  DB: D1Database;
  KEYSTONE: Fetcher;
  SWIFT: Fetcher;
  /** The glance service user's password: image data is stored in its Swift account. */
  GLANCE_SERVICE_PASSWORD: string;
}

export type GlanceEnv = { Bindings: Env; Variables: AuthVariables };
