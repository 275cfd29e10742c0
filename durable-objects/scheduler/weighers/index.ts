// The enabled weighers, and the multipliers that "spread" and "pack" stand for.
import type { HostState, ResolvedSpec } from '../types';
import { cpuWeigher } from './cpu';
import { diskWeigher } from './disk';
import { ramWeigher } from './ram';
import { softAffinityWeigher } from './soft-affinity';
import { softAntiAffinityWeigher } from './soft-anti-affinity';
import type { HostWeigher, WeightMultipliers } from './weigher';

export type { HostWeigher, WeightMultipliers } from './weigher';

/** In the order of the rows weighHost fills. */
export const WEIGHERS: readonly HostWeigher[] = [ramWeigher, cpuWeigher, diskWeigher, softAffinityWeigher, softAntiAffinityWeigher];

/**
 * Puts a host's raw weights in column `j` of `raw`, one row per weigher (WEIGHERS order),
 * for the weighers `active` marks. Each weigher is called from its own line so that the
 * engine can inline it (see filters/index.ts).
 */
export function weighHost(host: HostState, spec: ResolvedSpec, active: Uint8Array, raw: readonly Float64Array[], j: number): void {
  if (active[0]) raw[0]![j] = ramWeigher.weigh(host, spec);
  if (active[1]) raw[1]![j] = cpuWeigher.weigh(host, spec);
  if (active[2]) raw[2]![j] = diskWeigher.weigh(host, spec);
  if (active[3]) raw[3]![j] = softAffinityWeigher.weigh(host, spec);
  if (active[4]) raw[4]![j] = softAntiAffinityWeigher.weigh(host, spec);
}

/** Nova's defaults: every multiplier 1.0, so hosts with the most room win. */
export const SPREAD: WeightMultipliers = { ram: 1, cpu: 1, disk: 1, softAffinity: 1, softAntiAffinity: 1 };

/**
 * Stacking, as Nova's docs advise: negative RAM, CPU and disk multipliers, so the fullest
 * host that still fits wins. All three turn, or the CPU and disk weighers would keep
 * spreading against the RAM weigher.
 */
export const PACK: WeightMultipliers = { ram: -1, cpu: -1, disk: -1, softAffinity: 1, softAntiAffinity: 1 };
