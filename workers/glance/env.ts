import type { AuthBindings, AuthVariables } from '../../lib/auth';

export interface Env extends AuthBindings {
  DB: D1Database;
  KEYSTONE: Fetcher;
  SWIFT: Fetcher;
  /** The glance service user's password: image data is stored in its Swift account. */
  GLANCE_SERVICE_PASSWORD: string;
  /** glance_store's swift_store_large_object_size (MB): larger images are stored in segments. Default 5120. */
  SWIFT_STORE_LARGE_OBJECT_SIZE?: string;
  /** glance_store's swift_store_large_object_chunk_size (MB): the size of those segments. Default 200. */
  SWIFT_STORE_LARGE_OBJECT_CHUNK_SIZE?: string;
  /** Optional policy.json-style overrides of the default rules. */
  POLICY_OVERRIDES?: string;
}

export type GlanceEnv = { Bindings: Env; Variables: AuthVariables };
