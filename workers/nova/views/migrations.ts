// Migrations as Nova's APIs show them: GET /os-migrations (MigrationsController._output)
// and GET /servers/{id}/migrations[/{id}] (server_migrations.output), per microversion.
import type { Context } from 'hono';
import type { migrations } from '../../../schema/nova';
import { LIVE_MIGRATION_IN_PROGRESS } from '../compute/migration';
import { microseconds } from '../db';
import { resourceLinks } from './links';

export type MigrationRow = typeof migrations.$inferSelect;

/** Nova shows its internal flavor ids (integers); ours are the public ones, numbers when they are. */
const flavorId = (id: string | null): number | string | null => (id !== null && /^\d+$/.test(id) ? Number(id) : id);

/** An in-progress live migration: the one kind the server migrations API shows. */
export function isLiveInProgress(m: MigrationRow): boolean {
  return m.migrationType === 'live-migration' && LIVE_MIGRATION_IN_PROGRESS.includes(m.status);
}

/** One migration of GET /os-migrations: migration_type and links from 2.23, uuid from 2.59. */
export function migrationView(c: Context, m: MigrationRow, version: { atLeast(v: string): boolean }): Record<string, unknown> {
  const view: Record<string, unknown> = {
    created_at: microseconds(m.createdAt),
    dest_compute: m.destCompute,
    dest_host: m.destHost,
    dest_node: m.destNode,
    id: m.id,
    instance_uuid: m.instanceUuid,
    new_instance_type_id: flavorId(m.newInstanceTypeId),
    old_instance_type_id: flavorId(m.oldInstanceTypeId),
    source_compute: m.sourceCompute,
    source_node: m.sourceNode,
    status: m.status,
    updated_at: microseconds(m.updatedAt),
  };
  if (version.atLeast('2.23')) {
    view.migration_type = m.migrationType;
    // Only an in-progress live migration can be looked at on its own.
    if (isLiveInProgress(m)) view.links = resourceLinks(c, `servers/${m.instanceUuid}/migrations`, String(m.id));
  }
  if (version.atLeast('2.59')) view.uuid = m.uuid;
  return view;
}

/** One migration of GET /servers/{id}/migrations: progress counters, server_uuid, uuid from 2.59. */
export function serverMigrationView(m: MigrationRow, version: { atLeast(v: string): boolean }): Record<string, unknown> {
  return {
    created_at: microseconds(m.createdAt),
    dest_compute: m.destCompute,
    dest_host: m.destHost,
    dest_node: m.destNode,
    disk_processed_bytes: m.diskProcessed,
    disk_remaining_bytes: m.diskRemaining,
    disk_total_bytes: m.diskTotal,
    id: m.id,
    memory_processed_bytes: m.memoryProcessed,
    memory_remaining_bytes: m.memoryRemaining,
    memory_total_bytes: m.memoryTotal,
    server_uuid: m.instanceUuid,
    source_compute: m.sourceCompute,
    source_node: m.sourceNode,
    status: m.status,
    updated_at: microseconds(m.updatedAt),
    ...(version.atLeast('2.59') ? { uuid: m.uuid } : {}),
  };
}
