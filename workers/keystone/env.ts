import type { AuthBindings, AuthVariables } from '../../lib/auth';

export interface Env extends AuthBindings {
  DB: D1Database;
  /** Token lifetime in seconds. */
  TOKEN_EXPIRATION: string;
  /** Optional policy.json-style overrides of the default rules. */
  POLICY_OVERRIDES?: string;
  /** Hosted clouds only: set as secrets, they make the first request run the bootstrap. */
  BOOTSTRAP_ADMIN_PASSWORD?: string;
  BOOTSTRAP_DEMO_PASSWORD?: string;
  /** The glance service user's password: the same value as Glance's GLANCE_SERVICE_PASSWORD. */
  BOOTSTRAP_GLANCE_PASSWORD?: string;
}

export type KeystoneEnv = { Bindings: Env; Variables: AuthVariables };
