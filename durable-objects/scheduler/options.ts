// How the scheduler weighs and chooses, and how the Scheduler object's bindings set it.
import { PACK, SPREAD, type WeightMultipliers } from './weighers';

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
