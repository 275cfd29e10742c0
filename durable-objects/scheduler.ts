// Nova's scheduler as one Durable Object: every host's inventory and every instance's
// claim, held in memory by a HostManager and written through to this object's SQLite
// storage. The object runs one call at a time and every method is synchronous, so a
// select and its claim are atomic.
import { DurableObject } from 'cloudflare:workers';
import type { HostInventory } from '../lib/connector-protocol';
import { HostManager, type HostRecord } from './scheduler/host-manager';
import { schedulerOptions } from './scheduler/options';
import type { HostState, HostStatusUpdate, HypervisorView, RequestSpec, Selection } from './scheduler/types';

export type { HostStatusUpdate } from './scheduler/types';

export interface SchedulerEnv {
  /** "spread" (the default: the host with the most room wins) or "pack". */
  SCHEDULER_WEIGHER?: string;
  /** Nova's host_subset_size: choose at random among this many best hosts (default 1). */
  SCHEDULER_HOST_SUBSET_SIZE?: string;
}

/** One host for upsertHosts. */
export interface HostAnnouncement {
  host: string;
  inventory: HostInventory;
  status?: HostStatusUpdate;
}

interface HostRow extends Record<string, SqlStorageValue> {
  host: string;
  id: string;
  inventory: string;
  enabled: number;
  disabled_reason: string | null;
  forced_down: number;
  up: number;
}

interface ClaimRow extends Record<string, SqlStorageValue> {
  instance_uuid: string;
  host: string;
  vcpus: number;
  memory_mb: number;
  disk_gb: number;
}

export class Scheduler extends DurableObject<SchedulerEnv> {
  private readonly manager: HostManager;
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: SchedulerEnv) {
    super(ctx, env);
    this.manager = new HostManager(schedulerOptions(env));
    this.sql = ctx.storage.sql;
    // Read once; from here on memory is the working set and storage only follows it.
    void ctx.blockConcurrencyWhile(async () => this.load());
  }

  /** A host announced itself (or changed): store its inventory; usage is kept. */
  upsertHost(host: string, inventory: HostInventory, status: HostStatusUpdate = {}): void {
    this.saveHost(this.manager.upsertHost(host, inventory, status));
  }

  /** Many hosts in one call (a simulated fleet), written in one transaction. */
  upsertHosts(hosts: HostAnnouncement[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const h of hosts) this.saveHost(this.manager.upsertHost(h.host, h.inventory, h.status ?? {}));
    });
  }

  /** os-services or the host's Conductor changed its status; false when there is no such host. */
  setHostStatus(host: string, status: HostStatusUpdate): boolean {
    if (!this.manager.setHostStatus(host, status)) return false;
    this.saveHost(this.manager.host(host)!);
    return true;
  }

  /** Filters and weighs the hosts, claims on the best, returns it with alternates; null when none fits. */
  selectDestinations(spec: RequestSpec, maxAlternates = 2): Selection | null {
    const selection = this.manager.selectDestinations(spec, maxAlternates);
    this.saveClaim(spec.instanceUuid);
    return selection;
  }

  /** Claims on the first of `candidates` that still passes the filters (a retry after a failed build). */
  claimAlternate(spec: RequestSpec, candidates: string[]): string | null {
    const host = this.manager.claimAlternate(spec, candidates);
    this.saveClaim(spec.instanceUuid);
    return host;
  }

  /** Drops the claim of an instance, wherever it is. Idempotent. */
  releaseClaim(instanceUuid: string): void {
    if (this.manager.releaseClaim(instanceUuid)) this.sql.exec('DELETE FROM claims WHERE instance_uuid = ?', instanceUuid);
  }

  /**
   * Starts a move (resize, cold or live migration): the instance's claim on its source
   * becomes `migrationId`'s and the instance claims on a destination, `requestedHost` only
   * when given. Returns the destination with its node and zone; null, claims unchanged,
   * when no host fits ("No valid host was found").
   */
  selectMoveDestination(spec: RequestSpec, migrationId: string, requestedHost: string | null = null): Selection | null {
    const host = this.manager.selectMoveDestination(spec, migrationId, requestedHost);
    this.saveClaims(spec.instanceUuid, migrationId);
    const record = host === null ? undefined : this.manager.host(host);
    if (!record) return null;
    return { host: record.host, node: record.inventory.hypervisorHostname, zone: record.inventory.availabilityZone, alternates: [] };
  }

  /**
   * A move reverted or failed: the destination's claim goes and the source's is the
   * instance's again. Idempotent. (A confirmed move releases `migrationId` with releaseClaim.)
   */
  revertMove(instanceUuid: string, migrationId: string): void {
    if (this.manager.revertMove(instanceUuid, migrationId)) this.saveClaims(instanceUuid, migrationId);
  }

  hypervisors(): HypervisorView[] {
    return this.manager.hypervisors();
  }

  hostState(host: string): HostState | null {
    return this.manager.hostState(host);
  }

  // --- storage ------------------------------------------------------------------------

  private load(): void {
    this.sql.exec(`CREATE TABLE IF NOT EXISTS hosts (
      host TEXT PRIMARY KEY, id TEXT NOT NULL, inventory TEXT NOT NULL,
      enabled INTEGER NOT NULL, disabled_reason TEXT, forced_down INTEGER NOT NULL, up INTEGER NOT NULL)`);
    this.sql.exec(`CREATE TABLE IF NOT EXISTS claims (
      instance_uuid TEXT PRIMARY KEY, host TEXT NOT NULL,
      vcpus INTEGER NOT NULL, memory_mb INTEGER NOT NULL, disk_gb INTEGER NOT NULL)`);
    for (const r of this.sql.exec<HostRow>('SELECT * FROM hosts')) {
      const status = { enabled: r.enabled === 1, disabledReason: r.disabled_reason, forcedDown: r.forced_down === 1, up: r.up === 1 };
      this.manager.upsertHost(r.host, JSON.parse(r.inventory) as HostInventory, status, r.id);
    }
    for (const r of this.sql.exec<ClaimRow>('SELECT * FROM claims')) {
      this.manager.restoreClaim(r.instance_uuid, { host: r.host, vcpus: r.vcpus, memoryMb: r.memory_mb, diskGb: r.disk_gb });
    }
  }

  private saveHost(r: HostRecord): void {
    this.sql.exec(
      `INSERT INTO hosts (host, id, inventory, enabled, disabled_reason, forced_down, up) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host) DO UPDATE SET inventory = excluded.inventory, enabled = excluded.enabled,
         disabled_reason = excluded.disabled_reason, forced_down = excluded.forced_down, up = excluded.up`,
      r.host, r.id, JSON.stringify(r.inventory), r.enabled ? 1 : 0, r.disabledReason, r.forcedDown ? 1 : 0, r.up ? 1 : 0,
    );
  }

  /** Writes the claims of several consumers (an instance and its migration) at once. */
  private saveClaims(...consumers: string[]): void {
    this.ctx.storage.transactionSync(() => {
      for (const consumer of consumers) this.saveClaim(consumer);
    });
  }

  /**
   * Writes an instance's claim as memory now has it: replaced, or gone. A migration's
   * claim is stored the same way, under the migration's id.
   */
  private saveClaim(instanceUuid: string): void {
    const c = this.manager.claimOf(instanceUuid);
    if (!c) {
      this.sql.exec('DELETE FROM claims WHERE instance_uuid = ?', instanceUuid);
      return;
    }
    this.sql.exec(
      'INSERT OR REPLACE INTO claims (instance_uuid, host, vcpus, memory_mb, disk_gb) VALUES (?, ?, ?, ?, ?)',
      instanceUuid, c.host, c.vcpus, c.memoryMb, c.diskGb,
    );
  }
}
