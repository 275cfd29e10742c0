// One Swift account: its containers and the listing of their objects, in this object's
// SQLite storage. Every write to an account goes through here, so counts stay exact.
import { DurableObject } from 'cloudflare:workers';

type Env = Record<string, never>;

export class SwiftAccount extends DurableObject<Env> {}
