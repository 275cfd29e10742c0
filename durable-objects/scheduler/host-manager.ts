// Nova's scheduler in memory: every host's state and every instance's claim, and
// select_destinations over them (filters, then weighers, then a claim on the best host).
// No Workers APIs: the Scheduler object persists what changes; tests and the benchmark
// run this in Node.
//
// A claim is also the usage Placement would hold: an instance keeps its claim until it
// is released (deleted, or its build failed), and the filters count it.
import type { HostInventory } from '../../lib/connector-protocol';
import { forcedHostPasses, hostPasses } from './filters';
import { resolveSpec } from './resolve-spec';
import type { HostState, HostStatusUpdate, HypervisorView, RequestSpec, ResolvedSpec, Selection } from './types';
import type { SchedulerOptions } from './options';
import { SPREAD, WEIGHERS, weighHost, type WeightMultipliers } from './weighers';

/** What one instance holds on one host. */
export interface Claim {
  host: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

/** A host with the id os-hypervisors shows for it (Nova's compute node uuid). */
export interface HostRecord extends HostState {
  id: string;
}

export class HostManager {
  /** Sorted by name, so that ties go to the same host after a restart as before. */
  private readonly hosts: HostRecord[] = [];
  private readonly byName = new Map<string, HostRecord>();
  private readonly claims = new Map<string, Claim>();
  private readonly multipliers: WeightMultipliers;
  private readonly hostSubsetSize: number;
  private readonly random: () => number;

  // Scratch space reused by every request, so a request allocates nothing per host.
  private passed = new Int32Array(0);
  /** Per weigher: the raw weight of each host that passed. */
  private raw: Float64Array[] = WEIGHERS.map(() => new Float64Array(0));
  /** Per weigher: 1 when it weighs this request (a multiplier, and something to weigh). */
  private readonly active = new Uint8Array(WEIGHERS.length);
  /** Per host that passed: the sum of its weights. */
  private total = new Float64Array(0);
  private top = new Int32Array(0);
  private topWeight = new Float64Array(0);

  private readonly hostOf = (instanceUuid: string): string | undefined => this.claims.get(instanceUuid)?.host;

  constructor(options: SchedulerOptions = {}) {
    this.multipliers = options.multipliers ?? SPREAD;
    this.hostSubsetSize = options.hostSubsetSize ?? 1;
    if (!Number.isInteger(this.hostSubsetSize) || this.hostSubsetSize < 1) throw new Error('hostSubsetSize must be a whole number >= 1');
    this.random = options.random ?? Math.random;
  }

  get hostCount(): number {
    return this.hosts.length;
  }

  get claimCount(): number {
    return this.claims.size;
  }

  // --- hosts --------------------------------------------------------------------------

  /**
   * Adds a host or replaces its inventory; its claims stay. A new host is enabled and up
   * unless `status` says otherwise, and gets `id` or a new one.
   */
  upsertHost(host: string, inventory: HostInventory, status: HostStatusUpdate = {}, id?: string): HostRecord {
    let record = this.byName.get(host);
    if (!record) {
      record = {
        id: id ?? crypto.randomUUID(),
        host,
        inventory,
        enabled: true,
        disabledReason: null,
        forcedDown: false,
        up: true,
        usedVcpus: 0,
        usedMemoryMb: 0,
        usedDiskGb: 0,
        instances: new Set(),
        usableRamMb: 0,
        usableDiskMb: 0,
        usableVcpus: 0,
      };
      this.hosts.splice(this.insertionPoint(host), 0, record);
      this.byName.set(host, record);
    }
    // Its own copy: a caller that changes its object later changes nothing here.
    record.inventory = { ...inventory, cpuInfo: { ...inventory.cpuInfo } };
    applyStatus(record, status);
    refresh(record);
    return record;
  }

  /** Changes a host's status; false when there is no such host. */
  setHostStatus(host: string, status: HostStatusUpdate): boolean {
    const record = this.byName.get(host);
    if (!record) return false;
    applyStatus(record, status);
    return true;
  }

  host(host: string): HostRecord | undefined {
    return this.byName.get(host);
  }

  /** A copy of a host's state, safe to hand out. */
  hostState(host: string): HostState | null {
    const r = this.byName.get(host);
    if (!r) return null;
    return {
      host: r.host,
      inventory: r.inventory,
      enabled: r.enabled,
      disabledReason: r.disabledReason,
      forcedDown: r.forcedDown,
      up: r.up,
      usedVcpus: r.usedVcpus,
      usedMemoryMb: r.usedMemoryMb,
      usedDiskGb: r.usedDiskGb,
      instances: new Set(r.instances),
      usableRamMb: r.usableRamMb,
      usableDiskMb: r.usableDiskMb,
      usableVcpus: r.usableVcpus,
    };
  }

  /** os-hypervisors: every host, in name order. */
  hypervisors(): HypervisorView[] {
    return this.hosts.map((r) => ({
      id: r.id,
      host: r.host,
      // A forced-down service is down whatever its heartbeat says, as in Nova's servicegroup.
      state: r.up && !r.forcedDown ? 'up' : 'down',
      status: r.enabled ? 'enabled' : 'disabled',
      inventory: r.inventory,
      usedVcpus: r.usedVcpus,
      usedMemoryMb: r.usedMemoryMb,
      usedDiskGb: r.usedDiskGb,
      runningVms: r.instances.size,
    }));
  }

  // --- claims -------------------------------------------------------------------------

  claimOf(instanceUuid: string): Claim | undefined {
    return this.claims.get(instanceUuid);
  }

  /** Puts back a claim read from storage, unchecked; false when its host is unknown. */
  restoreClaim(instanceUuid: string, claim: Claim): boolean {
    const record = this.byName.get(claim.host);
    if (!record) return false;
    this.releaseClaim(instanceUuid);
    this.take(record, instanceUuid, claim.vcpus, claim.memoryMb, claim.diskGb);
    return true;
  }

  /** Drops an instance's claim, wherever it is; false when it had none. */
  releaseClaim(instanceUuid: string): boolean {
    const claim = this.claims.get(instanceUuid);
    if (!claim) return false;
    this.claims.delete(instanceUuid);
    const record = this.byName.get(claim.host);
    if (record) {
      record.usedVcpus -= claim.vcpus;
      record.usedMemoryMb -= claim.memoryMb;
      record.usedDiskGb -= claim.diskGb;
      record.instances.delete(instanceUuid);
      refresh(record);
    }
    return true;
  }

  // --- scheduling ---------------------------------------------------------------------

  /**
   * Filters and weighs the hosts, claims on the best and returns it with up to
   * `maxAlternates` next best that also passed; null when no host passes ("No valid host
   * was found"). An instance holds one claim at most: a new one replaces the old, as
   * Placement replaces a consumer's allocations.
   */
  selectDestinations(spec: RequestSpec, maxAlternates = 2): Selection | null {
    this.releaseClaim(spec.instanceUuid);
    const rs = resolveSpec(spec, this.hostOf);
    if (spec.forcedHost !== null) {
      // Only the forced host, and so no alternates.
      const record = this.byName.get(spec.forcedHost);
      if (!record || !forcedHostPasses(record, rs)) return null;
      this.claim(record, rs);
      return selection(record, []);
    }
    const passed = this.scan(rs);
    if (passed === 0) return null;
    const alternates = Math.max(0, Math.floor(maxAlternates));
    const count = this.rank(passed, Math.max(this.hostSubsetSize, alternates + 1));
    // "We randomize the first element in the returned list to alleviate congestion where
    // the same host is consistently selected among numerous potential hosts."
    const subset = Math.min(this.hostSubsetSize, count);
    const chosen = subset > 1 ? Math.min(subset - 1, Math.floor(this.random() * subset)) : 0;
    const record = this.hosts[this.top[chosen]!]!;
    const others: string[] = [];
    for (let i = 0; i < count && others.length < alternates; i++) if (i !== chosen) others.push(this.hosts[this.top[i]!]!.host);
    this.claim(record, rs);
    return selection(record, others);
  }

  /**
   * Claims on the first of `candidates` that still passes every filter (the alternates
   * of a build that failed elsewhere); null when none does.
   */
  claimAlternate(spec: RequestSpec, candidates: readonly string[]): string | null {
    this.releaseClaim(spec.instanceUuid);
    const rs = resolveSpec(spec, this.hostOf);
    for (const name of candidates) {
      const record = this.byName.get(name);
      if (!record) continue;
      const ok = spec.forcedHost !== null ? name === spec.forcedHost && forcedHostPasses(record, rs) : hostPasses(record, rs);
      if (!ok) continue;
      this.claim(record, rs);
      return record.host;
    }
    return null;
  }

  // --- moves --------------------------------------------------------------------------
  //
  // While a server moves (resize, cold or live migration) it holds two claims, as it holds
  // two allocations in Placement: the source's under the migration's id, the destination's
  // under its own uuid. A confirmed move releases the migration's claim; a reverted or
  // failed one releases the instance's and gives the migration's back to the instance.

  /**
   * Hands the claim of consumer `from` to consumer `to` on the same host, unchanged
   * (Placement's move of allocations). A claim `to` held before is released first. False,
   * with nothing changed, when `from` holds no claim.
   */
  moveClaim(from: string, to: string): boolean {
    const claim = this.claims.get(from);
    if (!claim) return false;
    if (from === to) return true;
    this.releaseClaim(to);
    this.claims.delete(from);
    this.claims.set(to, claim);
    const record = this.byName.get(claim.host);
    if (record) {
      record.instances.delete(from);
      record.instances.add(to);
    }
    return true;
  }

  /**
   * Starts a move: the instance's claim becomes the migration's, and the instance claims
   * on a destination. With `requestedHost` only that host is tried, through every filter
   * (Nova's requested_destination); a spec with a forcedHost skips the filters as at boot.
   * The spec should ignore the source host. Null, with the claims as they were, when no
   * host fits.
   */
  selectMoveDestination(spec: RequestSpec, migrationId: string, requestedHost: string | null = null): string | null {
    const moved = this.moveClaim(spec.instanceUuid, migrationId);
    const host =
      requestedHost !== null && spec.forcedHost === null
        ? this.claimAlternate(spec, [requestedHost])
        : (this.selectDestinations(spec, 0)?.host ?? null);
    if (host === null && moved) this.moveClaim(migrationId, spec.instanceUuid);
    return host;
  }

  /**
   * Undoes a move's claims: the instance's claim (on the destination) goes and the
   * migration's (on the source) is the instance's again. False, with nothing changed, when
   * the migration holds no claim (already reverted or confirmed).
   */
  revertMove(instanceUuid: string, migrationId: string): boolean {
    return this.moveClaim(migrationId, instanceUuid);
  }

  // --- internals ----------------------------------------------------------------------

  /**
   * Runs the filters over every host, and the weighers over each that passes while it is
   * at hand: positions go to `passed`, raw weights to `raw` (a row per weigher).
   * Returns how many passed.
   */
  private scan(rs: ResolvedSpec): number {
    const hosts = this.hosts;
    if (this.passed.length < hosts.length) this.grow(hosts.length);
    const { passed, raw, active } = this;
    for (let q = 0; q < WEIGHERS.length; q++) {
      const weigher = WEIGHERS[q]!;
      active[q] = this.multipliers[weigher.multiplier] !== 0 && weigher.applies(rs) ? 1 : 0;
    }
    let n = 0;
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i]!;
      if (!hostPasses(host, rs)) continue;
      weighHost(host, rs, active, raw, n);
      passed[n++] = i;
    }
    return n;
  }

  /**
   * Sums each of the `n` hosts' weights as Nova's weight handler does (normalised to 0..1,
   * times the multiplier) and puts the positions of the `k` best in `top`, best first; on
   * equal weight the earlier name comes first. Returns how many it put there.
   */
  private rank(n: number, k: number): number {
    const { passed, raw, active, total } = this;
    total.fill(0, 0, n);
    // "If all the values are equal, they are normalized to 0": such a weigher adds
    // nothing, and with one host no weigher does.
    for (let q = 0; n > 1 && q < WEIGHERS.length; q++) {
      if (!active[q]) continue;
      const weigher = WEIGHERS[q]!;
      const row = raw[q]!;
      // "don't let the weight go beyond the defined max/min"; the floor, when there is
      // one, is also where normalisation starts.
      const minval = weigher.minval ?? -Infinity;
      let lo = Infinity;
      let hi = -Infinity;
      for (let j = 0; j < n; j++) {
        let w = row[j]!;
        if (w < minval) row[j] = w = minval;
        if (w < lo) lo = w;
        if (w > hi) hi = w;
      }
      if (weigher.minval !== undefined) lo = weigher.minval;
      if (hi === lo) continue;
      const multiplier = this.multipliers[weigher.multiplier];
      const range = hi - lo;
      for (let j = 0; j < n; j++) total[j]! += multiplier * ((row[j]! - lo) / range);
    }
    if (this.top.length < k) {
      this.top = new Int32Array(k);
      this.topWeight = new Float64Array(k);
    }
    const { top, topWeight } = this;
    let count = 0;
    for (let j = 0; j < n; j++) {
      const w = total[j]!;
      if (count === k && !(w > topWeight[k - 1]!)) continue;
      // Insertion into a short sorted list; a strict comparison keeps earlier names first.
      let p = count < k ? count++ : k - 1;
      while (p > 0 && topWeight[p - 1]! < w) {
        top[p] = top[p - 1]!;
        topWeight[p] = topWeight[p - 1]!;
        p--;
      }
      top[p] = passed[j]!;
      topWeight[p] = w;
    }
    return count;
  }

  private claim(record: HostRecord, rs: ResolvedSpec): void {
    this.take(record, rs.instanceUuid, rs.vcpus, rs.memoryMb, rs.diskGb);
  }

  private take(record: HostRecord, instanceUuid: string, vcpus: number, memoryMb: number, diskGb: number): void {
    record.usedVcpus += vcpus;
    record.usedMemoryMb += memoryMb;
    record.usedDiskGb += diskGb;
    record.instances.add(instanceUuid);
    refresh(record);
    this.claims.set(instanceUuid, { host: record.host, vcpus, memoryMb, diskGb });
  }

  private grow(size: number): void {
    const capacity = Math.max(size, this.passed.length * 2, 64);
    this.passed = new Int32Array(capacity);
    this.raw = WEIGHERS.map(() => new Float64Array(capacity));
    this.total = new Float64Array(capacity);
  }

  private insertionPoint(host: string): number {
    let lo = 0;
    let hi = this.hosts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.hosts[mid]!.host < host) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** Nova's Selection: the host with its node (hypervisor_hostname) and zone, and the alternates. */
function selection(record: HostRecord, alternates: string[]): Selection {
  return { host: record.host, node: record.inventory.hypervisorHostname, zone: record.inventory.availabilityZone, alternates };
}

function applyStatus(record: HostRecord, status: HostStatusUpdate): void {
  if (status.enabled !== undefined) record.enabled = status.enabled;
  if (status.disabledReason !== undefined) record.disabledReason = status.disabledReason;
  if (status.forcedDown !== undefined) record.forcedDown = status.forcedDown;
  if (status.up !== undefined) record.up = status.up;
}

/** Works out what the filters may still claim on a host, after any change to it. */
function refresh(record: HostRecord): void {
  const inv = record.inventory;
  record.usableRamMb = inv.memoryMb * inv.ramAllocationRatio - inv.reservedHostMemoryMb - record.usedMemoryMb;
  record.usableVcpus = inv.vcpus * inv.cpuAllocationRatio - inv.reservedHostCpus - record.usedVcpus;
  record.usableDiskMb = inv.localGb * 1024 * inv.diskAllocationRatio - inv.reservedHostDiskMb - record.usedDiskGb * 1024;
}
