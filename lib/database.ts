// One drizzle instance per D1 binding and schema, kept for the isolate's life: building
// one walks every table of the schema (extractTablesRelationalConfig), which cost each
// request more than its query.
import { drizzle, type DrizzleD1Database } from 'drizzle-orm/d1';

const instances = new WeakMap<object, WeakMap<D1Database, unknown>>();

export function databaseOf<S extends Record<string, unknown>>(d1: D1Database, schema: S): DrizzleD1Database<S> {
  let bySchema = instances.get(schema);
  if (!bySchema) instances.set(schema, (bySchema = new WeakMap()));
  let db = bySchema.get(d1) as DrizzleD1Database<S> | undefined;
  if (!db) bySchema.set(d1, (db = drizzle(d1, { schema })));
  return db;
}
