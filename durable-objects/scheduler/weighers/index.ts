// The enabled weighers, and the multipliers that "spread" and "pack" stand for.
import { cpuWeigher } from './cpu';
import { diskWeigher } from './disk';
import { ramWeigher } from './ram';
import { softAffinityWeigher } from './soft-affinity';
import { softAntiAffinityWeigher } from './soft-anti-affinity';
import type { HostWeigher, WeightMultipliers } from './weigher';

export type { HostWeigher, WeightMultipliers } from './weigher';

export const WEIGHERS: readonly HostWeigher[] = [ramWeigher, cpuWeigher, diskWeigher, softAffinityWeigher, softAntiAffinityWeigher];

/** Nova's defaults: every multiplier 1.0, so hosts with the most room win. */
export const SPREAD: WeightMultipliers = { ram: 1, cpu: 1, disk: 1, softAffinity: 1, softAntiAffinity: 1 };

/**
 * Stacking, as Nova's docs advise: negative RAM, CPU and disk multipliers, so the fullest
 * host that still fits wins. All three turn, or the CPU and disk weighers would keep
 * spreading against the RAM weigher.
 */
export const PACK: WeightMultipliers = { ram: -1, cpu: -1, disk: -1, softAffinity: 1, softAntiAffinity: 1 };
