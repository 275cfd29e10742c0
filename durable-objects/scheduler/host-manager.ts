// Nova's scheduler in memory: every host's state and every instance's claim, and
// select_destinations over them (filters, then weighers, then a claim on the best host).
// No Workers APIs: the Scheduler object persists what changes; tests and the benchmark
// run this in Node.
//
// A claim is also the usage Placement would hold: an instance keeps its claim until it
// is released (deleted, or its build failed), and the filters count it.
import type { HostInventory } from '../../lib/connector-protocol';
import { FILTERS, FORCED_HOST_FILTERS, filtersFor, type HostFilter } from './filters';
import { resolveSpec } from './resolve-spec';
import type { HostState, HostStatusUpdate, HypervisorView, RequestSpec, ResolvedSpec, Selection } from './types';
import { PACK, SPREAD, WEIGHERS, type HostWeigher, type WeightMultipliers } from './weighers';

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

export interface SchedulerOptions {
  /** Nova's *_weight_multiplier options; SPREAD unless given. */
  multipliers?: WeightMultipliers;
  /**
   * Nova's host_subset_size: the chosen host is drawn at random from this many best.
   * 1 (the default, as in Nova) always takes the best, the earliest host name on a tie.
   */
  hostSubsetSize?: number;
  /** For tests: a source of numbers in [0, 1). */
  random?: () => number;
}

/** The options the Scheduler's bindings ask for; fails loudly on a value it does not know. */
export function schedulerOptions(env: { SCHEDULER_WEIGHER?: string; SCHEDULER_HOST_SUBSET_SIZE?: string }): SchedulerOptions {
  const weigher = env.SCHEDULER_WEIGHER || 'spread';
  if (weigher !== 'spread' && weigher !== 'pack') throw new Error(`SCHEDULER_WEIGHER must be "spread" or "pack", not "${weigher}"`);
  const subset = Number(env.SCHEDULER_HOST_SUBSET_SIZE || '1');
  if (!Number.isInteger(subset) || subset < 1) throw new Error(`SCHEDULER_HOST_SUBSET_SIZE must be a whole number >= 1, not "${env.SCHEDULER_HOST_SUBSET_SIZE}"`);
  return { multipliers: weigher === 'pack' ? PACK : SPREAD, hostSubsetSize: subset };
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
  /** Per weigher in use for the request: how its weights are normalised and multiplied. */
  private readonly weight = {
    multiplier: new Float64Array(WEIGHERS.length),
    minval: new Float64Array(WEIGHERS.length),
    lo: new Float64Array(WEIGHERS.length),
    hi: new Float64Array(WEIGHERS.length),
    range: new Float64Array(WEIGHERS.length),
  };
  private weighersUsed = 0;
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
    // A copy made beside the record: a request reads both, and memory close together reads fast.
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
      if (!record || !passes(record, rs, FORCED_HOST_FILTERS)) return null;
      this.claim(record, rs);
      return { host: record.host, alternates: [] };
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
    return { host: record.host, alternates: others };
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
      const ok = spec.forcedHost !== null ? name === spec.forcedHost && passes(record, rs, FORCED_HOST_FILTERS) : passes(record, rs, FILTERS);
      if (!ok) continue;
      this.claim(record, rs);
      return record.host;
    }
    return null;
  }

  // --- internals ----------------------------------------------------------------------

  /**
   * Runs the filters over every host, and the weighers over each that passes while it is
   * at hand: positions go to `passed`, raw weights to `raw`, one row per weigher in use.
   * Returns how many passed.
   */
  private scan(rs: ResolvedSpec): number {
    const hosts = this.hosts;
    if (this.passed.length < hosts.length) this.grow(hosts.length);
    const { passed, raw, weight } = this;
    const filters = filtersFor(rs);
    const weighers: HostWeigher[] = [];
    for (const weigher of WEIGHERS) {
      const multiplier = this.multipliers[weigher.multiplier];
      if (multiplier === 0 || !weigher.applies(rs)) continue;
      weight.multiplier[weighers.length] = multiplier;
      weight.minval[weighers.length] = weigher.minval ?? -Infinity;
      weight.lo[weighers.length] = Infinity;
      weight.hi[weighers.length] = -Infinity;
      weighers.push(weigher);
    }
    this.weighersUsed = weighers.length;
    const { minval, lo, hi } = weight;
    let n = 0;
    for (let i = 0; i < hosts.length; i++) {
      const host = hosts[i]!;
      if (!passes(host, rs, filters)) continue;
      for (let q = 0; q < weighers.length; q++) {
        let w = weighers[q]!.weigh(host, rs);
        // "don't let the weight go beyond the defined max/min"
        if (w < minval[q]!) w = minval[q]!;
        raw[q]![n] = w;
        if (w < lo[q]!) lo[q] = w;
        if (w > hi[q]!) hi[q] = w;
      }
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
    const { passed, raw, weight } = this;
    const { multiplier, minval, lo, hi, range } = weight;
    // "If all the values are equal, they are normalized to 0": such a weigher drops out,
    // and with one host every weigher does.
    let used = 0;
    for (let q = 0; n > 1 && q < this.weighersUsed; q++) {
      const low = minval[q] !== -Infinity ? minval[q]! : lo[q]!;
      if (hi[q] === low) continue;
      const row = raw[used]!;
      raw[used] = raw[q]!;
      raw[q] = row;
      multiplier[used] = multiplier[q]!;
      lo[used] = low;
      range[used] = hi[q]! - low;
      used++;
    }
    if (this.top.length < k) {
      this.top = new Int32Array(k);
      this.topWeight = new Float64Array(k);
    }
    const { top, topWeight } = this;
    let count = 0;
    for (let j = 0; j < n; j++) {
      let w = 0;
      for (let q = 0; q < used; q++) w += multiplier[q]! * ((raw[q]![j]! - lo[q]!) / range[q]!);
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

function passes(host: HostState, rs: ResolvedSpec, filters: readonly HostFilter[]): boolean {
  for (let f = 0; f < filters.length; f++) if (!filters[f]!(host, rs)) return false;
  return true;
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
