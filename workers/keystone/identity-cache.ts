// What token issue reads (users, projects, domains, effective roles) kept in isolate
// memory. Every change that matters for security (disable, delete, password change,
// role removal) records a revocation event, so the cache starts over whenever this
// isolate sees a new event or itself handles a write; other data lives at most MAX_AGE_MS.
import type { RevocationMirror } from '../../lib/revocation';

const MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 10_000;

// Only settled values are kept: workerd cancels I/O begun by one request when that
// request ends, so a pending promise shared with another request could hang it.
let entries = new Map<string, { at: number; value: unknown }>();
let generation = 0;
let eventsSeen = -1;

/** Drops everything: called after every write through the identity API. */
export function identityChanged(): void {
  entries = new Map();
  generation++;
}

/** Checks the revocation list (at most once per its TTL) and drops the cache if it grew. */
export async function syncIdentityCache(mirror: RevocationMirror): Promise<void> {
  const seen = await mirror.sync();
  if (seen !== eventsSeen) {
    eventsSeen = seen;
    identityChanged();
  }
}

/**
 * Returns the cached value of key, or loads it. Absent rows and empty role lists are not
 * kept: a user, project or assignment created a moment later (the bootstrap writes
 * straight to the database) must count at once. A value loaded while the cache was
 * dropped is not kept either.
 */
export async function memo<T>(key: string, load: () => Promise<T>): Promise<T> {
  const hit = entries.get(key);
  if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.value as T;
  const started = generation;
  const value = await load();
  const empty = value === undefined || value === null || (Array.isArray(value) && value.length === 0);
  if (!empty && started === generation) {
    if (entries.size >= MAX_ENTRIES) entries = new Map();
    entries.set(key, { at: Date.now(), value });
  }
  return value;
}
