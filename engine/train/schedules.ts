// Learning-rate and latent-perturbation schedules shared by the tokenizer and generator trainers.
// Pure numbers, no tfjs: the trainers evaluate them once per step / epoch.

export interface LrSchedule {
  /** Peak learning rate, reached at the end of warmup. */
  base: number;
  /** Linear warmup length in steps (0 = none). */
  warmup: number;
  /** Total optimizer steps of the run; the cosine ends here. */
  total: number;
  /** Floor of the cosine (default 0). */
  min?: number;
}

/**
 * Linear warmup then cosine decay. Step s (0-based) in warmup gets base·(s+1)/warmup, so the first
 * step already moves; after warmup the rate follows min + ½(base − min)(1 + cos(π·p)),
 * p = (s − warmup)/(total − warmup) clamped to [0, 1].
 */
export function lrAt(step: number, sched: LrSchedule): number {
  const min = sched.min ?? 0;
  if (sched.warmup > 0 && step < sched.warmup) return (sched.base * (step + 1)) / sched.warmup;
  const span = Math.max(1, sched.total - sched.warmup);
  const p = Math.min(1, Math.max(0, (step - sched.warmup) / span));
  return min + 0.5 * (sched.base - min) * (1 + Math.cos(Math.PI * p));
}

export interface AnnealSchedule {
  /** Where the ratio starts to fall. */
  start: number;
  /** Where it reaches endRatio. */
  end: number;
  /** Ratio kept from `end` on (reference recipe: 0.5). */
  endRatio: number;
  /**
   * How start/end are given: 'fraction' of the total epochs (0.2 / 0.6 scales the reference
   * 40/120 of 200) or absolute 'epoch' numbers. Default 'fraction'.
   */
  unit?: 'fraction' | 'epoch';
}

/** start/end of an anneal schedule in epochs (possibly fractional). */
export function annealBounds(totalEpochs: number, a: AnnealSchedule): { start: number; end: number } {
  const scale = (a.unit ?? 'fraction') === 'fraction' ? totalEpochs : 1;
  return { start: a.start * scale, end: a.end * scale };
}

/**
 * METHOD §2 annealing ratio r(e) for 0-based epoch e (fractional epochs allowed): 1 up to `start`,
 * linear down to `endRatio` at `end`, `endRatio` after. Continuous at both ends (unlike the
 * reference code's formula, which jumps at `end` unless endRatio = 0.5).
 */
export function annealRatio(epoch: number, totalEpochs: number, a: AnnealSchedule): number {
  const { start, end } = annealBounds(totalEpochs, a);
  if (epoch <= start) return 1;
  if (epoch >= end) return a.endRatio;
  const t = (epoch - start) / (end - start);
  return 1 + t * (a.endRatio - 1);
}
