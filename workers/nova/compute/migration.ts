// A move of a server from one host to another (resize, cold migration, live migration), as
// Nova's Migration object records it, and the steps the two hosts' Conductors take. The
// API schedules the move and hands it to the destination; from there each step, once its
// job is done, hands the record to the Conductor of the next step. Each Conductor keeps
// the record while it has a part in the move, so it knows what its jobs belong to and so
// reconciliation leaves the instance alone on both hosts.
import type { SpawnInstance } from '../../../lib/connector-protocol';
import type { FlavorSnapshot } from '../../../schema/nova';

export interface MoveEnd {
  host: string;
  node: string;
  zone: string | null;
}

export interface Migration {
  /** Nova's migration uuid; the Scheduler holds the source's claim under it while the move lasts. */
  id: string;
  instanceUuid: string;
  /** Nova's migration_type. */
  type: 'resize' | 'migration' | 'live-migration';
  /**
   * Nova's migration status, as the migrations table shows it: pre-migrating, migrating,
   * post-migrating, finished, confirming, reverting for a resize or cold migration;
   * accepted, preparing, running for a live one.
   */
  status: string;
  source: MoveEnd;
  dest: MoveEnd;
  oldFlavor: FlavorSnapshot;
  newFlavor: FlavorSnapshot;
  /** The vm_state before the move: a stopped server stays stopped, a paused one paused. */
  oldVmState: string;
  /** What the destination makes: the server with the new flavor. */
  instance: SpawnInstance;
  /** The instance action under way: the move's, then its confirm's or revert's. */
  requestId: string;
  /** A live migration asked to stop while preparing: the live_migration_cancel action. */
  cancelRequestId?: string;
}

/**
 * What one Conductor is asked to do for a move, named after the nova-compute RPC method
 * that does it there. Those from the API (confirm_resize and revert_resize, on the
 * destination) answer false when there is no finished move to confirm or revert.
 */
export type MoveStep =
  | { step: 'prep_resize' | 'resize_instance' | 'finish_resize' | 'confirm_resize_at_source' | 'finish_revert_resize'; migration: Migration }
  | { step: 'pre_live_migration' | 'live_migration' | 'post_live_migration_at_destination' | 'rollback_live_migration_at_destination'; migration: Migration }
  | { step: 'confirm_resize' | 'revert_resize'; instanceUuid: string; requestId: string }
  /** From the API, on the destination: stop a live migration still preparing; false when it is past that. */
  | { step: 'live_migration_abort'; instanceUuid: string; migrationId: string; requestId: string }
  /** Forget the move, and remove the copy this host holds when `cleanup` (the server was deleted mid-move). */
  | { step: 'drop'; instanceUuid: string; migrationId: string; cleanup: boolean };

/** Nova's statuses of a live migration still under way (migration_get_in_progress_by_instance). */
export const LIVE_MIGRATION_IN_PROGRESS = ['queued', 'preparing', 'running', 'post-migrating'];

/** A move in Nova's words for its faults and events. */
export function moveName(m: Pick<Migration, 'type'>): string {
  return m.type === 'resize' ? 'resize' : m.type === 'migration' ? 'cold migrate' : 'live migration';
}
