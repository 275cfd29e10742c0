// The token revocation list (Keystone's revocation events). Tokens are self-contained,
// so revoking one means recording an event that matches it; every service keeps a
// mirror of this list and asks only for the events it has not seen yet.
import { DurableObject } from 'cloudflare:workers';
import type { RevocationEvent } from '../lib/revocation';

// Events older than the longest possible token lifetime match nothing and are pruned.
/** The list needs no bindings of its own. */
type Env = Record<string, never>;

const RETENTION_MS = 7 * 24 * 3600 * 1000;

export class RevocationList extends DurableObject<Env> {
  private events: RevocationEvent[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(
        'CREATE TABLE IF NOT EXISTS revocation_event (seq INTEGER PRIMARY KEY AUTOINCREMENT, event TEXT NOT NULL)',
      );
      for (const row of ctx.storage.sql.exec<{ seq: number; event: string }>(
        'SELECT seq, event FROM revocation_event ORDER BY seq',
      )) {
        this.events.push({ ...(JSON.parse(row.event) as RevocationEvent), seq: row.seq });
      }
    });
  }

  /** Records an event and returns it with its sequence number. */
  revoke(event: Omit<RevocationEvent, 'seq'>): RevocationEvent {
    const cutoff = Date.now() - RETENTION_MS;
    if (this.events.length > 0 && this.events[0]!.issuedBefore < cutoff) {
      this.ctx.storage.sql.exec('DELETE FROM revocation_event WHERE json_extract(event, "$.issuedBefore") < ?', cutoff);
      this.events = this.events.filter((e) => e.issuedBefore >= cutoff);
    }
    const row = this.ctx.storage.sql
      .exec<{ seq: number }>('INSERT INTO revocation_event (event) VALUES (?) RETURNING seq', JSON.stringify(event))
      .one();
    const recorded = { ...event, seq: row.seq };
    this.events.push(recorded);
    return recorded;
  }

  /** Events after the given sequence number, oldest first. */
  since(seq: number): RevocationEvent[] {
    if (this.events.length === 0 || this.events[this.events.length - 1]!.seq <= seq) return [];
    return this.events.filter((e) => e.seq > seq);
  }
}
