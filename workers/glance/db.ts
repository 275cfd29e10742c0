import { databaseOf } from '../../lib/database';
import * as schema from '../../schema/glance';

export type Db = ReturnType<typeof database>;
export type ImageRow = typeof schema.images.$inferSelect;
export type MemberRow = typeof schema.imageMembers.$inferSelect;

export function database(d1: D1Database) {
  return databaseOf(d1, schema);
}

/** Glance's timestamps: ISO 8601 to the second, in UTC. */
export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function isUniqueViolation(err: unknown): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : err);
  return /UNIQUE constraint failed/i.test(text);
}
