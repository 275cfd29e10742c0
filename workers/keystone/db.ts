import { databaseOf } from '../../lib/database';
import * as schema from '../../schema/keystone';

export type Db = ReturnType<typeof database>;

export function database(d1: D1Database) {
  return databaseOf(d1, schema);
}

/** Keystone's ids: a UUID4 as 32 hex digits. */
export function newId(): string {
  return crypto.randomUUID().replace(/-/g, '');
}

export function isoNow(): string {
  return new Date().toISOString();
}

/** SQLite reports a unique-index violation in its message; D1 passes it through. */
export function isUniqueViolation(err: unknown): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : err);
  return /UNIQUE constraint failed/i.test(text);
}
