import type { AuthBindings, AuthVariables } from '../../lib/auth';
import type { SwiftAccount } from '../../durable-objects/swift-account';

export interface Env extends AuthBindings {
  OBJECTS: R2Bucket;
  ACCOUNTS: DurableObjectNamespace<SwiftAccount>;
}

export type SwiftEnv = { Bindings: Env; Variables: AuthVariables };
