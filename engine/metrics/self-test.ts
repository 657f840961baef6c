// The metric self-test (issue "Trustworthy numbers"): before a feature extractor measures anything, FID
// between held-out real images and copies degraded in steps (blur, noise, colour quantization) must rise
// with every step, and FID between two disjoint halves of the real images must stay well below the
// strongest degradations. Pure TypeScript over NHWC float images in [-1, 1]; the embedding is passed in.
import { Rng } from '../rng';
import { featureStats, fidFromStats } from './fid';

export interface ImageShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

export type Degradation = 'blur' | 'noise' | 'quantize';

/** The levels, mildest first: Gaussian σ in pixels, noise σ in [-1,1] units, levels per channel. */
export const SELF_TEST_LEVELS: Record<Degradation, number[]> = {
  blur: [0.5, 1, 1.5, 2.5],
  noise: [0.05, 0.1, 0.2, 0.4],
  quantize: [16, 8, 4, 3],
};

function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let s = 0;
  for (let i = -r; i <= r; i++) s += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i] /= s;
  return k;
}

/** Separable Gaussian blur with edge clamping. */
export function blurImages(x: Float32Array, s: ImageShape, sigma: number): Float32Array {
  const k = gaussianKernel(sigma);
  const r = (k.length - 1) / 2;
  const { n, h, w, c } = s;
  const tmp = new Float32Array(x.length);
  const out = new Float32Array(x.length);
  const clampI = (v: number, hi: number): number => (v < 0 ? 0 : v > hi ? hi : v);
  for (let b = 0; b < n; b++) {
    const base = b * h * w * c;
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = -r; t <= r; t++) acc += k[t + r] * x[base + (y * w + clampI(xx + t, w - 1)) * c + ch];
          tmp[base + (y * w + xx) * c + ch] = acc;
        }
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++)
        for (let ch = 0; ch < c; ch++) {
          let acc = 0;
          for (let t = -r; t <= r; t++) acc += k[t + r] * tmp[base + (clampI(y + t, h - 1) * w + xx) * c + ch];
          out[base + (y * w + xx) * c + ch] = acc;
        }
  }
  return out;
}

/** Additive Gaussian noise, clipped to [-1, 1], from a seeded stream. */
export function noiseImages(x: Float32Array, sigma: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const v = x[i] + sigma * rng.normal();
    out[i] = v < -1 ? -1 : v > 1 ? 1 : v;
  }
  return out;
}

/** Uniform quantization to `levels` values per channel. */
export function quantizeImages(x: Float32Array, levels: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (Math.round(((x[i] + 1) / 2) * (levels - 1)) / (levels - 1)) * 2 - 1;
  return out;
}

export function degrade(x: Float32Array, s: ImageShape, kind: Degradation, level: number, seed: number): Float32Array {
  if (kind === 'blur') return blurImages(x, s, level);
  if (kind === 'noise') return noiseImages(x, level, seed);
  return quantizeImages(x, level);
}

export interface SelfTestResult {
  /** FID of real vs degraded copies per family, in SELF_TEST_LEVELS order. */
  families: { kind: Degradation; levels: number[]; fid: number[]; monotone: boolean }[];
  /** FID between the first and the second half of the real images. */
  splitHalfFid: number;
  /**
   * Smallest over the families of the strongest level's FID measured like splitHalfFid: the degraded first
   * half against the real second half, so both carry the same sampling noise at n/2.
   */
  strongestMin: number;
  /** Every family rises strictly and splitHalfFid < strongestMin / 2. */
  passed: boolean;
  n: number;
  d: number;
  /** Why it failed, for the log and the report ('' when passed). */
  reason: string;
}

/**
 * Runs the self-test on n real images: `embed(images, n)` gives features [n, d] (row-major).
 * Needs n ≥ 4 (two halves of at least 2).
 */
export function metricSelfTest(x: Float32Array, s: ImageShape, d: number, embed: (x: Float32Array, n: number) => Float32Array, seed = 0): SelfTestResult {
  if (s.n < 4) throw new Error(`the metric self-test needs at least 4 images, got ${s.n}`);
  const real = featureStats(embed(x, s.n), s.n, d);
  const families: SelfTestResult['families'] = [];
  for (const kind of ['blur', 'noise', 'quantize'] as const) {
    const levels = SELF_TEST_LEVELS[kind];
    const fid = levels.map((lv, i) => fidFromStats(real, featureStats(embed(degrade(x, s, kind, lv, seed + i), s.n), s.n, d)).fid);
    const monotone = fid.every((v, i) => i === 0 || v > fid[i - 1]);
    families.push({ kind, levels, fid, monotone });
  }
  const half = Math.floor(s.n / 2);
  const per = s.h * s.w * s.c;
  const fa = embed(x.subarray(0, half * per), half);
  const fb = embed(x.subarray(half * per, 2 * half * per), half);
  const realB = featureStats(fb, half, d);
  const splitHalfFid = fidFromStats(featureStats(fa, half, d), realB).fid;
  // The ladders compare each image with its own degraded copy, so they carry no sampling noise; the
  // split half does (two disjoint sets of n/2). Compare like with like: the strongest level of each
  // family on the first half, against the real second half.
  const firstHalf = { ...s, n: half };
  const strongestMin = Math.min(
    ...families.map((f) => fidFromStats(realB, featureStats(embed(degrade(x.subarray(0, half * per), firstHalf, f.kind, f.levels[f.levels.length - 1], seed + 100), half), half, d)).fid),
  );
  const reasons: string[] = [];
  for (const f of families) if (!f.monotone) reasons.push(`FID does not rise with ${f.kind} (${f.fid.map((v) => v.toFixed(2)).join(' → ')})`);
  if (!(splitHalfFid < strongestMin / 2)) reasons.push(`FID between two real halves (${splitHalfFid.toFixed(2)}) is not well below the strongest degradation of one half against the other (${strongestMin.toFixed(2)})`);
  return { families, splitHalfFid, strongestMin, passed: reasons.length === 0, n: s.n, d, reason: reasons.join('; ') };
}
