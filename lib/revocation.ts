// A mirror of the revocation list kept in each isolate. It refreshes at most once per
// TTL with only the new events, so validating a token costs no database query; the
// isolate that records a revocation applies it at once.
import type { RevocationList } from '../durable-objects/revocation-list';
import type { TokenPayload } from './token';

export interface RevocationEvent {
  seq: number;
  /** Tokens issued at or before this time (ms) and matching every field given are revoked. */
  issuedBefore: number;
  auditId?: string;
  userId?: string;
  projectId?: string;
  domainId?: string;
  applicationCredentialId?: string;
}

export function matches(e: RevocationEvent, t: TokenPayload): boolean {
  if (t.issuedAt > e.issuedBefore) return false;
  if (e.auditId !== undefined && !t.auditIds.includes(e.auditId)) return false;
  if (e.userId !== undefined && t.user.id !== e.userId) return false;
  if (e.projectId !== undefined && t.project?.id !== e.projectId) return false;
  if (
    e.domainId !== undefined &&
    t.domain?.id !== e.domainId &&
    t.user.domain.id !== e.domainId &&
    t.project?.domain.id !== e.domainId
  )
    return false;
  if (e.applicationCredentialId !== undefined && t.applicationCredential?.id !== e.applicationCredentialId)
    return false;
  return true;
}

export class RevocationMirror {
  private events: RevocationEvent[] = [];
  private known = new Set<number>();
  private seq = 0;
  private fetchedAt = 0;

  constructor(
    private readonly list: DurableObjectNamespace<RevocationList>,
    private readonly ttlMs: number,
  ) {}

  private stub() {
    return this.list.get(this.list.idFromName('global'));
  }

  async isRevoked(token: TokenPayload): Promise<boolean> {
    await this.sync();
    for (const e of this.events) if (matches(e, token)) return true;
    return false;
  }

  /**
   * Brings the mirror up to date if it is older than the TTL and returns how many events
   * it holds: a change in that number tells caches built on identity data to start over.
   */
  async sync(): Promise<number> {
    if (Date.now() - this.fetchedAt >= this.ttlMs) await this.refresh();
    return this.events.length;
  }

  async revoke(event: Omit<RevocationEvent, 'seq' | 'issuedBefore'>): Promise<void> {
    const recorded = await this.stub().revoke({ ...event, issuedBefore: Date.now() });
    this.add([recorded]);
  }

  // Each request that finds the mirror stale fetches for itself: workerd cancels I/O
  // begun by one request when that request ends, so sharing the call could hang another.
  private async refresh(): Promise<void> {
    const fresh = await this.stub().since(this.seq);
    this.add(fresh);
    // since() is complete after the cursor, so the cursor moves to its last event.
    const last = fresh[fresh.length - 1];
    if (last && last.seq > this.seq) this.seq = last.seq;
    this.fetchedAt = Date.now();
  }

  // Locally recorded events apply at once but leave the cursor alone: events recorded
  // elsewhere in between still arrive with the next refresh.
  private add(events: RevocationEvent[]) {
    for (const e of events) {
      if (this.known.has(e.seq)) continue;
      this.known.add(e.seq);
      this.events.push(e);
    }
  }
}
