import { databaseOf } from '../../lib/database';
import * as schema from '../../schema/nova';
import type { Conductor } from '../../durable-objects/conductor';
import type { Scheduler } from '../../durable-objects/scheduler';

export type Db = ReturnType<typeof database>;
export type InstanceRow = typeof schema.instances.$inferSelect;
export type FlavorRow = typeof schema.flavors.$inferSelect;

export function database(d1: D1Database) {
  return databaseOf(d1, schema);
}

/** Nova's timestamps: ISO 8601 to the second, in UTC, with a Z. */
export function isoNow(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

/** Event times keep their milliseconds: instance action events show microseconds, as Nova's do. */
export function preciseNow(): string {
  return new Date().toISOString();
}

/** Nova's microsecond form of a stored time: 2026-01-02T03:04:05.678000. */
export function microseconds(t: string | null): string | null {
  if (!t) return null;
  const m = /^(.*?)(?:\.(\d{1,6}))?Z$/.exec(t);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(6, '0')}` : t;
}

export function isUniqueViolation(err: unknown): boolean {
  const text = String(err instanceof Error ? `${err.message} ${String(err.cause ?? '')}` : err);
  return /UNIQUE constraint failed/i.test(text);
}

/** The Scheduler is one object for the whole cloud. */
export function scheduler(env: { SCHEDULER: DurableObjectNamespace<Scheduler> }): DurableObjectStub<Scheduler> {
  return env.SCHEDULER.get(env.SCHEDULER.idFromName('scheduler'));
}

/** Each host has its own Conductor, named after the host. */
export function conductor(env: { CONDUCTOR: DurableObjectNamespace<Conductor> }, host: string): DurableObjectStub<Conductor> {
  return env.CONDUCTOR.get(env.CONDUCTOR.idFromName(host));
}
