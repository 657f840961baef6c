// Latent-perturbation arithmetic the Tokenizers page shows live (METHOD §2): δ as a count of codes,
// the effective flip rate and the α/δ annealing schedule. Mirrors engine/perturb.ts and
// engine/train/schedules.ts, which the renderer may not import; test/main/renderer-lp.test.ts pins both together.

/** Tokenizer presets of engine/models/tokenizer-presets.ts: name, downsampling factor f, codebook size K. */
export const TOKENIZER_PRESETS = [
  { name: 'vq-f4-k64', f: 4, K: 64 },
  { name: 'vq-f4-k256', f: 4, K: 256 },
  { name: 'vq-f4-k1024', f: 4, K: 1024 },
  { name: 'vq-f2-k64', f: 2, K: 64 },
  { name: 'vq-f2-k256', f: 2, K: 256 },
  { name: 'vq-f2-k1024', f: 2, K: 1024 },
  { name: 'vq-f2w-k64', f: 2, K: 64 },
  { name: 'vq-f2w-k256', f: 2, K: 256 },
  { name: 'vq-f2w-k1024', f: 2, K: 1024 },
  { name: 'vq-f2w-k4096', f: 2, K: 4096 },
  { name: 'vq-f8-k256', f: 8, K: 256 },
] as const;

export type PresetName = (typeof TOKENIZER_PRESETS)[number]['name'];

export function presetK(name: string): number | null {
  return TOKENIZER_PRESETS.find((p) => p.name === name)?.K ?? null;
}

export interface LpForm {
  alpha: number;
  beta: number;
  /** A share of K in [0, 1] ('share') or a count of codes ('abs'). */
  delta: number;
  deltaMode: 'abs' | 'share';
  includeSelf: boolean;
  selection: 'bernoulli' | 'exact';
  anchor: 'z' | 'code';
}

export interface AnnealForm {
  start: number;
  end: number;
  endRatio: number;
  /** start/end as a fraction of the epochs or as epoch numbers. */
  unit: 'fraction' | 'epoch';
}

/** The reference recipe scaled to any length (METHOD §2): δ = 2.4% of K, start 20%, end 60%, end ratio 0.5. */
export const DEFAULT_LP: LpForm = { alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };
export const DEFAULT_ANNEAL: AnnealForm = { start: 0.2, end: 0.6, endRatio: 0.5, unit: 'fraction' };

/** δ as a whole number of codes in [1, K]: a share maps to round(share·K), at least 1. */
export function deltaCodes(delta: number, mode: 'abs' | 'share', K: number): number {
  const d = mode === 'share' ? Math.round(delta * K) : Math.round(delta);
  return Math.min(K, Math.max(1, d));
}

/**
 * Chance that a token of a perturbed image really changes: α·(δ−1)/δ when the draw includes the
 * clean code (rank 0), α when it excludes it; 0 when δ = 1 (there is no other code to draw).
 */
export function flipRate(alpha: number, deltaAbs: number, includeSelf: boolean): number {
  if (deltaAbs <= 1) return 0;
  return includeSelf ? (alpha * (deltaAbs - 1)) / deltaAbs : alpha;
}

/** start/end of the schedule in (0-based, possibly fractional) epochs. */
export function annealBounds(epochs: number, a: AnnealForm): { start: number; end: number } {
  const scale = a.unit === 'fraction' ? epochs : 1;
  return { start: a.start * scale, end: a.end * scale };
}

/** r(e): 1 up to start, linear to endRatio at end, endRatio after (e is the 0-based epoch). */
export function annealRatio(epoch: number, epochs: number, a: AnnealForm): number {
  const { start, end } = annealBounds(epochs, a);
  if (epoch <= start) return 1;
  if (epoch >= end) return a.endRatio;
  return 1 + ((epoch - start) / (end - start)) * (a.endRatio - 1);
}

export interface ScheduleRow {
  /** 0-based epoch, as the engine counts it. */
  epoch: number;
  ratio: number;
  alpha: number;
  /** δ_e in codes. */
  delta: number;
  /** Effective flip rate per token of a perturbed image at this epoch. */
  flip: number;
}

/** α_e = r·α, δ_e = max(1, ⌊r·δ⌋) per epoch; r = 1 throughout without annealing. */
export function annealSchedule(lp: LpForm, anneal: AnnealForm | null, epochs: number, K: number): ScheduleRow[] {
  const delta = deltaCodes(lp.delta, lp.deltaMode, K);
  const rows: ScheduleRow[] = [];
  for (let e = 0; e < Math.max(0, Math.floor(epochs)); e++) {
    const ratio = anneal ? annealRatio(e, epochs, anneal) : 1;
    const alpha = ratio * lp.alpha;
    const d = Math.max(1, Math.floor(ratio * delta));
    rows.push({ epoch: e, ratio, alpha, delta: d, flip: flipRate(alpha, d, lp.includeSelf) });
  }
  return rows;
}

/** Problems the engine's validator would refuse, said before the request goes out. */
export function annealProblem(a: AnnealForm, epochs: number): string | null {
  const max = a.unit === 'fraction' ? 1 : epochs;
  if (a.start < 0 || a.start > max || a.end < 0 || a.end > max) return `start and end must lie in [0, ${max}]`;
  if (a.end <= a.start) return 'end must come after start';
  if (a.endRatio < 0 || a.endRatio > 1) return 'end ratio must lie in [0, 1]';
  return null;
}
