// What a weigher is: Nova's BaseHostWeigher. Each gives a host a raw number (higher wins);
// the raw numbers of all the hosts that passed are normalised to 0..1 and multiplied by
// the weigher's multiplier, and the sums decide.
import type { HostState, ResolvedSpec } from '../types';

/** Nova's [filter_scheduler] *_weight_multiplier options. */
export interface WeightMultipliers {
  ram: number;
  cpu: number;
  disk: number;
  softAffinity: number;
  softAntiAffinity: number;
}

export interface HostWeigher {
  /** Which multiplier applies. */
  multiplier: keyof WeightMultipliers;
  /** Raw weights below it are raised to it, and normalisation starts from it (BaseWeigher.minval). */
  minval?: number;
  /** False when every host would weigh the same for this request (they normalise to 0). */
  applies(spec: ResolvedSpec): boolean;
  weigh(host: HostState, spec: ResolvedSpec): number;
}
