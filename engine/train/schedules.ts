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

/** start/end of an anneal schedule in epochs, exactly (a fraction 0.2 of 200 epochs is 40, not 40.000000000000004). */
export function annealBoundsExact(totalEpochs: number, a: AnnealSchedule): { start: Ratio; end: Ratio } {
  const scale = (a.unit ?? 'fraction') === 'fraction' ? exactDecimal(totalEpochs) : ratio(1);
  return { start: rMul(exactDecimal(a.start), scale), end: rMul(exactDecimal(a.end), scale) };
}

/** start/end of an anneal schedule in epochs (possibly fractional). */
export function annealBounds(totalEpochs: number, a: AnnealSchedule): { start: number; end: number } {
  const b = annealBoundsExact(totalEpochs, a);
  return { start: rToNumber(b.start), end: rToNumber(b.end) };
}

/**
 * METHOD §2 annealing ratio r(e) as an exact rational of the decimals the epoch numbers print as:
 * 1 up to `start`, linear down to `endRatio` at `end`, `endRatio` after. The floors of δ_e = ⌊r·δ⌋
 * use this (reference recipe 40/120/0.5 of 200 epochs at epoch 88: r = 7/10, ⌊0.7·360⌋ = 252).
 */
export function annealRatioExact(epoch: number, totalEpochs: number, a: AnnealSchedule): Ratio {
  const { start, end } = annealBoundsExact(totalEpochs, a);
  const e = exactDecimal(epoch);
  const endRatio = exactDecimal(a.endRatio);
  if (rCmp(e, start) <= 0) return ratio(1);
  if (rCmp(e, end) >= 0) return endRatio;
  const t = rDiv(rSub(e, start), rSub(end, start));
  return rAdd(ratio(1), rMul(t, rSub(endRatio, ratio(1))));
}

/**
 * METHOD §2 annealing ratio r(e) for 0-based epoch e (fractional epochs allowed): 1 up to `start`,
 * linear down to `endRatio` at `end`, `endRatio` after. Continuous at both ends (unlike the
 * reference code's formula, which jumps at `end` unless endRatio = 0.5). The nearest double to
 * annealRatioExact.
 */
export function annealRatio(epoch: number, totalEpochs: number, a: AnnealSchedule): number {
  return rToNumber(annealRatioExact(epoch, totalEpochs, a));
}

// ---- exact arithmetic for the floors of METHOD §2 -------------------------------------------------
// ⌊B·β⌋ and ⌊r·δ⌋ must not depend on binary rounding (100·0.29 = 28.999… in floats, 0.7·360 = 251.99…).
// A float knob is taken as the decimal it prints as (String(x), the shortest round-tripping form),
// products and the anneal ratio are exact rationals of BigInts, and only the final floor/round leaves.

/** An exact rational n/d with d > 0. */
export interface Ratio {
  n: bigint;
  d: bigint;
}

const DEC = /^(-?)(\d+)(?:\.(\d*))?(?:e([+-]?\d+))?$/i;

/** The number as the decimal it prints as: 0.29 → 29/100, 1e-7 → 1/10⁷. */
export function exactDecimal(x: number): Ratio {
  if (!Number.isFinite(x)) throw new Error(`exactDecimal: ${x} is not a finite number`);
  const m = DEC.exec(String(x));
  if (!m) throw new Error(`exactDecimal: cannot read "${String(x)}" as a decimal`);
  const frac = m[3] ?? '';
  const exp = Number(m[4] ?? 0) - frac.length;
  let n = BigInt(m[2] + frac);
  let d = 1n;
  if (exp >= 0) n *= 10n ** BigInt(exp);
  else d = 10n ** BigInt(-exp);
  return reduce({ n: m[1] ? -n : n, d });
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b) [a, b] = [b, a % b];
  return a;
}

function reduce(r: Ratio): Ratio {
  if (r.d === 0n) throw new Error('ratio with a zero denominator');
  const s = r.d < 0n ? -1n : 1n;
  const g = gcd(r.n, r.d) || 1n;
  return { n: (s * r.n) / g, d: (s * r.d) / g };
}

export const ratio = (n: bigint | number, d: bigint | number = 1n): Ratio => reduce({ n: BigInt(n), d: BigInt(d) });
export const rAdd = (a: Ratio, b: Ratio): Ratio => reduce({ n: a.n * b.d + b.n * a.d, d: a.d * b.d });
export const rSub = (a: Ratio, b: Ratio): Ratio => reduce({ n: a.n * b.d - b.n * a.d, d: a.d * b.d });
export const rMul = (a: Ratio, b: Ratio): Ratio => reduce({ n: a.n * b.n, d: a.d * b.d });
export const rDiv = (a: Ratio, b: Ratio): Ratio => reduce({ n: a.n * b.d, d: a.d * b.n });
export const rCmp = (a: Ratio, b: Ratio): number => {
  const v = a.n * b.d - b.n * a.d;
  return v < 0n ? -1 : v > 0n ? 1 : 0;
};

/** ⌊n/d⌋ (towards −∞). */
export function rFloor(r: Ratio): number {
  const q = r.n / r.d;
  return Number(r.n < 0n && q * r.d !== r.n ? q - 1n : q);
}

/** Math.round semantics (halves go up): ⌊r + ½⌋. */
export function rRound(r: Ratio): number {
  return rFloor(rAdd(r, { n: 1n, d: 2n }));
}

/** The nearest double to n/d when both are below 2^53 (one correctly rounded division), else close to it. */
export function rToNumber(r: Ratio): number {
  return Number(r.n) / Number(r.d);
}

/** ⌊k·x⌋ for a whole k and a float knob x read as its decimal (⌊100·0.29⌋ = 29). */
export function floorTimes(k: number, x: number): number {
  return rFloor(rMul(ratio(k), exactDecimal(x)));
}

/** round(k·x) the same way (Math.round semantics). */
export function roundTimes(k: number, x: number): number {
  return rRound(rMul(ratio(k), exactDecimal(x)));
}
