// Correlation across tokenizers (METHOD.md §6): Pearson, Spearman (average ranks for ties) and
// Kendall tau-b (as scipy.stats), each with a seeded percentile-bootstrap CI and leave-one-out influence.
import { Rng } from '../rng';

export type CorrelationMethod = 'pearson' | 'spearman' | 'kendall';

export interface CorrelationOptions {
  /** Bootstrap resamples. Default 2000; 0 skips the interval. */
  resamples?: number;
  /** Two-sided confidence level. Default 0.95. */
  level?: number;
  seed?: number;
}

export interface Correlation {
  method: CorrelationMethod;
  n: number;
  r: number;
  /** Percentile bootstrap interval; null when resamples = 0 or every resample was degenerate. */
  ci: [number, number] | null;
  level: number;
  resamples: number;
  /** Resamples with a defined coefficient (a resample with constant x or y has none). */
  validResamples: number;
  /** Coefficient with point i removed, and its change from r. */
  loo: number[];
  looDelta: number[];
}

function check(x: ArrayLike<number>, y: ArrayLike<number>): void {
  if (x.length !== y.length) throw new Error(`correlation needs paired values: got ${x.length} x and ${y.length} y`);
  if (x.length < 3) throw new Error(`correlation needs at least 3 points, got ${x.length}`);
  for (let i = 0; i < x.length; i++) {
    if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) throw new Error(`correlation: point ${i} is not finite (${x[i]}, ${y[i]})`);
  }
}

function pearsonRaw(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let mx = 0, my = 0;
  for (let i = 0; i < n; i++) {
    mx += x[i];
    my += y[i];
  }
  mx /= n;
  my /= n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] - mx, b = y[i] - my;
    sxy += a * b;
    sxx += a * a;
    syy += b * b;
  }
  if (sxx === 0 || syy === 0) return NaN;
  return Math.max(-1, Math.min(1, sxy / Math.sqrt(sxx * syy)));
}

/** 1-based ranks, ties get the average of the ranks they span. */
export function averageRanks(x: ArrayLike<number>): Float64Array {
  const n = x.length;
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i;
    while (j + 1 < n && x[order[j + 1]] === x[order[i]]) j++;
    const r = (i + j) / 2 + 1;
    for (let t = i; t <= j; t++) ranks[order[t]] = r;
    i = j + 1;
  }
  return ranks;
}

function spearmanRaw(x: ArrayLike<number>, y: ArrayLike<number>): number {
  return pearsonRaw(averageRanks(x), averageRanks(y));
}

/** tau-b = (P − Q) / √((P+Q+Tx)(P+Q+Ty)), Tx/Ty pairs tied only in x/y; O(n²), n is small here. */
function kendallRaw(x: ArrayLike<number>, y: ArrayLike<number>): number {
  const n = x.length;
  let concordant = 0, discordant = 0, tieX = 0, tieY = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const dx = Math.sign(x[i] - x[j]);
      const dy = Math.sign(y[i] - y[j]);
      if (dx === 0 && dy === 0) continue;
      if (dx === 0) tieX++;
      else if (dy === 0) tieY++;
      else if (dx === dy) concordant++;
      else discordant++;
    }
  }
  const denom = Math.sqrt((concordant + discordant + tieX) * (concordant + discordant + tieY));
  return denom === 0 ? NaN : (concordant - discordant) / denom;
}

const RAW: Record<CorrelationMethod, (x: ArrayLike<number>, y: ArrayLike<number>) => number> = {
  pearson: pearsonRaw,
  spearman: spearmanRaw,
  kendall: kendallRaw,
};

/** The bare coefficient (NaN when x or y is constant). Refuses n < 3. */
export function coefficient(method: CorrelationMethod, x: ArrayLike<number>, y: ArrayLike<number>): number {
  check(x, y);
  return RAW[method](x, y);
}

export const pearson = (x: ArrayLike<number>, y: ArrayLike<number>): number => coefficient('pearson', x, y);
export const spearman = (x: ArrayLike<number>, y: ArrayLike<number>): number => coefficient('spearman', x, y);
export const kendallTauB = (x: ArrayLike<number>, y: ArrayLike<number>): number => coefficient('kendall', x, y);

/** numpy's default (linear) percentile of sorted values, q in [0,1]. */
export function percentileSorted(sorted: ArrayLike<number>, q: number): number {
  const pos = q * (sorted.length - 1);
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export function correlate(method: CorrelationMethod, x: ArrayLike<number>, y: ArrayLike<number>, opts: CorrelationOptions = {}): Correlation {
  check(x, y);
  const n = x.length;
  const resamples = opts.resamples ?? 2000;
  const level = opts.level ?? 0.95;
  if (!(level > 0 && level < 1)) throw new Error(`correlation: level must be in (0, 1), got ${level}`);
  if (!Number.isInteger(resamples) || resamples < 0) throw new Error(`correlation: resamples must be a non-negative integer, got ${resamples}`);
  const f = RAW[method];
  const r = f(x, y);
  const rng = new Rng(opts.seed ?? 0);
  const bx = new Float64Array(n), by = new Float64Array(n);
  const boot: number[] = [];
  for (let b = 0; b < resamples; b++) {
    for (let i = 0; i < n; i++) {
      const j = rng.int(n);
      bx[i] = x[j];
      by[i] = y[j];
    }
    const v = f(bx, by);
    if (!Number.isNaN(v)) boot.push(v);
  }
  boot.sort((a, b) => a - b);
  const tail = (1 - level) / 2;
  const ci: [number, number] | null = boot.length > 0 ? [percentileSorted(boot, tail), percentileSorted(boot, 1 - tail)] : null;
  const loo: number[] = [];
  const lx = new Float64Array(n - 1), ly = new Float64Array(n - 1);
  for (let skip = 0; skip < n; skip++) {
    for (let i = 0, t = 0; i < n; i++) {
      if (i === skip) continue;
      lx[t] = x[i];
      ly[t++] = y[i];
    }
    loo.push(f(lx, ly));
  }
  return { method, n, r, ci, level, resamples, validResamples: boot.length, loo, looDelta: loo.map((v) => v - r) };
}

/** All three coefficients on the same data; one seed, so all three see the same bootstrap resamples. */
export function correlateAll(x: ArrayLike<number>, y: ArrayLike<number>, opts: CorrelationOptions = {}): Record<CorrelationMethod, Correlation> {
  const seed = opts.seed ?? 0;
  return {
    pearson: correlate('pearson', x, y, { ...opts, seed }),
    spearman: correlate('spearman', x, y, { ...opts, seed }),
    kendall: correlate('kendall', x, y, { ...opts, seed }),
  };
}

/** Below this many points a correlation across tokenizers is printed with a warning (METHOD §6). */
export const FEW_POINTS = 6;

/**
 * The interval to show for a coefficient, or null with the reason it is not shown: bootstrap off,
 * no resample with a defined coefficient, or an interval that collapsed to a point (lo == hi; at
 * n = 3–5 most resamples repeat points, so e.g. every defined Pearson r is ±1 and the "interval"
 * [1.00, 1.00] says nothing about the uncertainty).
 */
export function shownInterval(c: Pick<Correlation, 'ci' | 'n' | 'resamples' | 'validResamples'>): { ci: [number, number] | null; ciNote: string | null } {
  if (c.resamples === 0) return { ci: null, ciNote: 'bootstrap off (0 resamples)' };
  if (!c.ci) return { ci: null, ciNote: `no bootstrap resample of the ${c.n} points had a defined coefficient (every resample had constant x or y)` };
  const [lo, hi] = c.ci;
  if (Math.abs(hi - lo) <= 1e-12 * Math.max(1, Math.abs(lo)))
    return {
      ci: null,
      ciNote: `the bootstrap interval collapsed to the single value ${lo.toFixed(2)} (${c.validResamples} of ${c.resamples} resamples defined): with n = ${c.n} the resamples repeat the same few points, so it measures nothing; add tokenizers`,
    };
  return { ci: c.ci, ciNote: null };
}
