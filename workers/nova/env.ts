import type { AuthBindings, AuthVariables } from '../../lib/auth';
import type { MicroversionVariables } from '../../lib/microversion';
import type { Conductor } from '../../durable-objects/conductor';
import type { Scheduler } from '../../durable-objects/scheduler';

export interface Env extends AuthBindings {
  DB: D1Database;
  KEYSTONE: Fetcher;
  GLANCE: Fetcher;
  SCHEDULER: DurableObjectNamespace<Scheduler>;
  CONDUCTOR: DurableObjectNamespace<Conductor>;
  /** Seconds without a heartbeat before a host counts as down. */
  SERVICE_DOWN_TIME: string;
  HEARTBEAT_INTERVAL_MS: string;
  SCHEDULER_MAX_ATTEMPTS: string;
  SCHEDULER_WEIGHER: string;
  /** Optional policy.json-style overrides of the default rules. */
  POLICY_OVERRIDES?: string;
}

export type NovaEnv = { Bindings: Env; Variables: AuthVariables & MicroversionVariables };
