// A Worker the local cloud runs beside the services, unreachable from outside (no route):
// the launcher asks it once per start to apply every service's D1 migrations and run the
// Keystone and Nova bootstraps inside workerd, as `wrangler d1 migrations apply`, keystone-manage
// and DevStack's default flavors would.
import { bootstrap, type BootstrapOptions } from '../workers/keystone/bootstrap';
import { bootstrapNova } from '../workers/nova/bootstrap';

/** One binding per service database, named after the service (KEYSTONE, GLANCE, ...). */
type Env = Record<string, D1Database>;

export interface Migration {
  /** The file name, recorded in d1_migrations as wrangler records it. */
  name: string;
  statements: string[];
}

export interface SetupRequest {
  /** Migrations per database binding. */
  migrations: Record<string, Migration[]>;
  bootstrap: BootstrapOptions;
}

async function migrate(db: D1Database, migrations: Migration[]): Promise<string[]> {
  await db.exec(
    'CREATE TABLE IF NOT EXISTS d1_migrations (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL)',
  );
  const done = new Set((await db.prepare('SELECT name FROM d1_migrations').all<{ name: string }>()).results.map((r) => r.name));
  const applied: string[] = [];
  for (const m of migrations) {
    if (done.has(m.name)) continue;
    // One batch: a migration applies whole or not at all.
    await db.batch([
      ...m.statements.map((s) => db.prepare(s)),
      db.prepare('INSERT INTO d1_migrations (name) VALUES (?)').bind(m.name),
    ]);
    applied.push(m.name);
  }
  return applied;
}

export default {
  async fetch(request: Request, env: Env): Promise<Response> {
    const body = (await request.json()) as SetupRequest;
    const applied: Record<string, string[]> = {};
    for (const [binding, migrations] of Object.entries(body.migrations)) {
      const db = env[binding];
      if (!db) return Response.json({ error: `no database bound as ${binding}` }, { status: 500 });
      applied[binding] = await migrate(db, migrations);
    }
    await bootstrap(env.KEYSTONE!, body.bootstrap);
    if (env.NOVA) await bootstrapNova(env.NOVA);
    return Response.json({ applied });
  },
} satisfies ExportedHandler<Env>;
