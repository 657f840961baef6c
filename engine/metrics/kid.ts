// Kernel Inception Distance (Bińkowski et al. 2018): unbiased MMD² with the polynomial kernel
// k(x,y) = (xᵀy/d + 1)³, mean ± std over random subsets (follows torch-fidelity / clean-fid).
import { Rng } from '../rng';
import { gemmABt, type Features } from './linalg';

export interface KidOptions {
  /**
   * Samples drawn (without replacement) from each side per subset. Default min(1000, ⌊N/2⌋) (at least 2),
   * N = the smaller side: a subset as large as the set is the set itself every time, and the spread over
   * subsets collapses to rounding noise. An explicit size ≥ N is clamped to ⌊N/2⌋ with a warning.
   */
  subsetSize?: number;
  /** Number of subsets. Default 100. */
  subsets?: number;
  /** Seed for the subset draws. Default 0. */
  seed?: number;
  /** One "subset" holding every sample of both sides (sizes may differ); ignores subsetSize/subsets. */
  allSamples?: boolean;
}

export interface KidResult {
  /** Mean MMD² over subsets. */
  kid: number;
  /** Population standard deviation over subsets (0 for a single subset). */
  std: number;
  subsets: number;
  subsetSize: number;
  values: number[];
  /** What was adjusted (a subset size clamped below N), for the job's log. */
  warnings: string[];
}

/** Default KID subset size for sets of nx and ny rows: min(1000, ⌊N/2⌋), at least 2, N = min(nx, ny). */
export function defaultKidSubsetSize(nx: number, ny: number): number {
  return Math.max(2, Math.min(1000, Math.floor(Math.min(nx, ny) / 2)));
}

/** The subset size KID uses for a requested one (undefined or 0 = default), with the warning when it was clamped. */
export function kidSubsetSize(requested: number | undefined, nx: number, ny: number): { size: number; warning: string | null } {
  const N = Math.min(nx, ny);
  if (requested === undefined || requested === 0) return { size: defaultKidSubsetSize(nx, ny), warning: null };
  if (requested >= N && N >= 4) {
    const size = Math.floor(N / 2);
    return { size, warning: `KID subset size ${requested} is not below N = ${N}: every subset would be the whole set and the spread 0; using ⌊N/2⌋ = ${size}` };
  }
  return { size: Math.min(requested, N), warning: null };
}

const ROW_BLOCK = 256;

function toF64(x: Features): Float64Array {
  return x instanceof Float64Array ? x : Float64Array.from(x);
}

/** Σ_{i,j} k(x_i, y_j) over [nx, ny] in row blocks. */
function crossKernelSum(x: Float64Array, nx: number, y: Float64Array, ny: number, d: number): number {
  const g = new Float64Array(ROW_BLOCK * ny);
  let total = 0;
  for (let r0 = 0; r0 < nx; r0 += ROW_BLOCK) {
    const rb = Math.min(ROW_BLOCK, nx - r0);
    // x rows [r0, r0+rb) against all of y → gram block [rb, ny]
    gemmABt(x.subarray(r0 * d, (r0 + rb) * d), y, rb, ny, d, g);
    for (let t = 0; t < rb * ny; t++) {
      const v = g[t] / d + 1;
      total += v * v * v;
    }
  }
  return total;
}

/** Σ_{i≠j} k(x_i, x_j) = 2·Σ_{i<j}: each row block only meets the rows from its own start on. */
function selfKernelSum(x: Float64Array, n: number, d: number): number {
  const g = new Float64Array(ROW_BLOCK * n);
  let total = 0;
  for (let r0 = 0; r0 < n; r0 += ROW_BLOCK) {
    const rb = Math.min(ROW_BLOCK, n - r0);
    const cols = n - r0;
    // rows [r0, r0+rb) against rows [r0, n) → [rb, cols]; keep column j > row i
    gemmABt(x.subarray(r0 * d, (r0 + rb) * d), x.subarray(r0 * d), rb, cols, d, g);
    for (let i = 0; i < rb; i++) {
      for (let j = i + 1; j < cols; j++) {
        const v = g[i * cols + j] / d + 1;
        total += v * v * v;
      }
    }
  }
  return 2 * total;
}

/** Unbiased MMD² between x [nx,d] and y [ny,d]; sizes may differ (each needs ≥ 2 samples). */
export function mmd2Unbiased(x: Features, nx: number, y: Features, ny: number, d: number): number {
  if (nx < 2 || ny < 2) throw new Error(`KID needs at least 2 samples per side, got ${nx} and ${ny}`);
  if (x.length !== nx * d || y.length !== ny * d) throw new Error(`KID: feature buffers do not match shapes [${nx},${d}] and [${ny},${d}]`);
  const xf = toF64(x), yf = toF64(y);
  const kxx = selfKernelSum(xf, nx, d);
  const kyy = selfKernelSum(yf, ny, d);
  const kxy = crossKernelSum(xf, nx, yf, ny, d);
  return kxx / (nx * (nx - 1)) + kyy / (ny * (ny - 1)) - (2 * kxy) / (nx * ny);
}

/** m distinct rows of x [n,d], chosen by a partial Fisher–Yates shuffle → [m,d] float64. */
function sampleRows(x: Features, n: number, d: number, m: number, rng: Rng): Float64Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  for (let i = 0; i < m; i++) {
    const j = i + rng.int(n - i);
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const out = new Float64Array(m * d);
  for (let i = 0; i < m; i++) {
    const src = idx[i] * d;
    for (let k = 0; k < d; k++) out[i * d + k] = x[src + k];
  }
  return out;
}

/** KID between feature sets x [nx,d] and y [ny,d]. */
export function kid(x: Features, nx: number, y: Features, ny: number, d: number, opts: KidOptions = {}): KidResult {
  if (opts.allSamples) {
    const v = mmd2Unbiased(x, nx, y, ny, d);
    return { kid: v, std: 0, subsets: 1, subsetSize: Math.min(nx, ny), values: [v], warnings: [] };
  }
  const subsets = opts.subsets ?? 100;
  if (!Number.isInteger(subsets) || subsets < 1) throw new Error(`KID: subsets must be a positive integer, got ${subsets}`);
  const { size: m, warning } = kidSubsetSize(opts.subsetSize, nx, ny);
  if (m < 2) throw new Error(`KID: subset size ${m} is too small (need ≥ 2 samples per side)`);
  const rng = new Rng(opts.seed ?? 0);
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const xs = sampleRows(x, nx, d, m, rng);
    const ys = sampleRows(y, ny, d, m, rng);
    values.push(mmd2Unbiased(xs, m, ys, m, d));
  }
  const mean = values.reduce((p, v) => p + v, 0) / subsets;
  const std = Math.sqrt(values.reduce((p, v) => p + (v - mean) * (v - mean), 0) / subsets);
  return { kid: mean, std, subsets, subsetSize: m, values, warnings: warning ? [warning] : [] };
}
