// What token issue reads (users, projects, domains, effective roles) kept in isolate
// memory. Every change that matters for security (disable, delete, password change,
// role removal) records a revocation event, so the cache starts over whenever this
// isolate sees a new event or itself handles a write; other data lives at most MAX_AGE_MS.
import type { RevocationMirror } from '../../lib/revocation';

const MAX_AGE_MS = 30_000;
const MAX_ENTRIES = 10_000;

let entries = new Map<string, { at: number; value: Promise<unknown> }>();
let eventsSeen = -1;

/** Drops everything: called after every write through the identity API. */
export function identityChanged(): void {
  entries = new Map();
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
 * Returns the cached value of key, loading it once. Failed loads, absent rows and empty
 * role lists are not kept: a user, project or assignment created a moment later (the
 * bootstrap writes straight to the database) must count at once.
 */
export function memo<T>(key: string, load: () => Promise<T>): Promise<T> {
  const now = Date.now();
  const hit = entries.get(key);
  if (hit && now - hit.at < MAX_AGE_MS) return hit.value as Promise<T>;
  if (entries.size >= MAX_ENTRIES) entries = new Map();
  const value = load();
  entries.set(key, { at: now, value });
  const forget = () => {
    if (entries.get(key)?.value === value) entries.delete(key);
  };
  value.then((v) => {
    if (v === undefined || v === null || (Array.isArray(v) && v.length === 0)) forget();
  }, forget);
  return value;
}
