import type { AuthBindings, AuthVariables } from '../../lib/auth';

export interface Env extends AuthBindings {
  DB: D1Database;
  KEYSTONE: Fetcher;
  SWIFT: Fetcher;
  /** The glance service user's password: image data is stored in its Swift account. */
  GLANCE_SERVICE_PASSWORD: string;
  /** Optional policy.json-style overrides of the default rules. */
  POLICY_OVERRIDES?: string;
}

export type GlanceEnv = { Bindings: Env; Variables: AuthVariables };
