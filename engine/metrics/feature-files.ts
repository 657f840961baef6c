// Feature files for `toklab fid A B`: a .npy of features [N,d] or a .npz of statistics (mu.npy, sigma.npy,
// as pytorch-fid / clean-fid save them). Computes FID, and KID when both sides are features.
import { readFileSync } from 'node:fs';
import { freemem } from 'node:os';
import { basename } from 'node:path';
import { featureStatsAsync, fidFromStatsAsync, type FeatureStats } from './fid';
import { kid, type KidOptions, type KidResult } from './kid';
import { isNpy, isZip, parseNpy, readZip } from './npy';

export type FeatureFile =
  | { kind: 'features'; n: number; d: number; data: Float32Array | Float64Array }
  | { kind: 'stats'; d: number; mu: Float64Array; sigma: Float64Array };

export interface FidFromFiles {
  fid: number;
  kid?: KidResult;
  warnings: string[];
  /** Samples per side; null for a statistics file (it does not record N). */
  nA: number | null;
  nB: number | null;
  d: number;
}

/** Largest feature dimension FID accepts: two d×d float64 covariances and the eigen work fit in a few GB. */
export const MAX_FID_DIM = 8192;

/** Bytes FID needs at dimension d: both covariances, their product and the eigensolver's work (float64). */
export function fidBytes(d: number): number {
  return 5 * d * d * 8;
}

/** Refuses a dimension above the limit or beyond free memory, before anything d×d is allocated. */
export function checkFidDim(d: number, name: string, free = freemem()): void {
  if (d > MAX_FID_DIM) {
    throw new Error(`${name}: feature dimension d = ${d} is above the limit of ${MAX_FID_DIM} (FID needs d×d covariances: ${(fidBytes(d) / 2 ** 30).toFixed(1)} GiB here). Check the array is [N, d] and not transposed, or reduce the features' dimension first.`);
  }
  if (fidBytes(d) > 0.8 * free) {
    throw new Error(`${name}: FID at d = ${d} needs about ${(fidBytes(d) / 2 ** 30).toFixed(1)} GiB and only ${(free / 2 ** 30).toFixed(1)} GiB is free; close other programs or reduce the features' dimension.`);
  }
}

/** The first non-finite entry of a row-major [rows, cols] array, or null. */
function firstNonFinite(data: ArrayLike<number>, cols: number): { row: number; col: number; value: number } | null {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return { row: Math.floor(i / cols), col: i % cols, value: data[i] };
  return null;
}

/**
 * Why a d×d matrix cannot be a covariance, from checks that cost O(d²): symmetry, a non-negative
 * diagonal, and |σᵢⱼ| ≤ √(σᵢᵢσⱼⱼ) (every 2×2 principal minor ≥ 0), each to float rounding. null when
 * they hold. (Positive semi-definiteness in full needs O(d³); these catch −I, a transposed or shuffled file.)
 */
export function covarianceProblem(s: ArrayLike<number>, d: number): string | null {
  let scale = 0;
  for (let i = 0; i < d; i++) scale = Math.max(scale, Math.abs(s[i * d + i]));
  const tol = 1e-6 * Math.max(scale, 1e-30);
  for (let i = 0; i < d; i++) if (s[i * d + i] < -tol) return `sigma[${i}, ${i}] = ${s[i * d + i]} is a negative variance`;
  for (let i = 0; i < d; i++)
    for (let j = i + 1; j < d; j++) {
      const a = s[i * d + j], b = s[j * d + i];
      if (Math.abs(a - b) > tol + 1e-6 * Math.max(Math.abs(a), Math.abs(b))) return `sigma[${i}, ${j}] = ${a} but sigma[${j}, ${i}] = ${b} (not symmetric)`;
      const bound = Math.sqrt(Math.max(0, s[i * d + i]) * Math.max(0, s[j * d + j]));
      if (Math.abs(a) > bound * (1 + 1e-6) + tol) return `|sigma[${i}, ${j}]| = ${Math.abs(a)} exceeds √(sigma[${i}, ${i}]·sigma[${j}, ${j}]) = ${bound}`;
    }
  return null;
}

/** Parse a feature or statistics file image; `name` appears in every error. */
export function parseFeatureFile(buf: Uint8Array, name: string): FeatureFile {
  if (isNpy(buf)) {
    const arr = parseNpy(buf, name);
    if (arr.shape.length !== 2) throw new Error(`${name}: features must be a 2-D array [N, d], got shape [${arr.shape.join(', ')}]`);
    const [n, d] = arr.shape;
    if (n < 2 || d < 1) throw new Error(`${name}: need at least 2 feature rows of dimension ≥ 1, got [${n}, ${d}]`);
    checkFidDim(d, name);
    const bad = firstNonFinite(arr.data, d);
    if (bad) throw new Error(`${name}: feature [${bad.row}, ${bad.col}] is ${bad.value}; FID needs finite features (NaN or Inf usually means the extractor diverged or the file is corrupt).`);
    return { kind: 'features', n, d, data: arr.data };
  }
  if (isZip(buf)) {
    const entries = readZip(buf, name);
    const muBytes = entries.get('mu.npy'), sigmaBytes = entries.get('sigma.npy');
    if (!muBytes || !sigmaBytes) {
      throw new Error(`${name}: a statistics .npz needs entries mu.npy and sigma.npy, found ${[...entries.keys()].join(', ') || 'none'}`);
    }
    const mu = parseNpy(muBytes, `${name}:mu.npy`);
    const sigma = parseNpy(sigmaBytes, `${name}:sigma.npy`);
    if (mu.shape.length !== 1) throw new Error(`${name}: mu must be 1-D [d], got shape [${mu.shape.join(', ')}]`);
    const d = mu.shape[0];
    if (sigma.shape.length !== 2 || sigma.shape[0] !== d || sigma.shape[1] !== d) {
      throw new Error(`${name}: sigma must be [${d}, ${d}] to match mu, got shape [${sigma.shape.join(', ')}]`);
    }
    checkFidDim(d, name);
    const badMu = firstNonFinite(mu.data, d);
    if (badMu) throw new Error(`${name}: mu[${badMu.col}] is ${badMu.value}; FID needs finite statistics.`);
    const badSigma = firstNonFinite(sigma.data, d);
    if (badSigma) throw new Error(`${name}: sigma[${badSigma.row}, ${badSigma.col}] is ${badSigma.value}; FID needs finite statistics.`);
    const notCov = covarianceProblem(sigma.data, d);
    if (notCov) throw new Error(`${name}: sigma is not a covariance matrix: ${notCov}. Give the features' covariance (numpy.cov(features, rowvar=False)), which is symmetric with a non-negative diagonal.`);
    return { kind: 'stats', d, mu: Float64Array.from(mu.data), sigma: Float64Array.from(sigma.data) };
  }
  throw new Error(`${name}: neither a .npy (features) nor a .npz (mu/sigma statistics) file`);
}

export function readFeatureFile(path: string): FeatureFile {
  return parseFeatureFile(readFileSync(path), path);
}

async function toStats(f: FeatureFile): Promise<FeatureStats> {
  return f.kind === 'features' ? featureStatsAsync(f.data, f.n, f.d) : { mu: f.mu, sigma: f.sigma, n: null, d: f.d };
}

/** FID between two files (KID too when both hold features); large d runs on onnxruntime's GEMM. */
export async function computeFidFromFiles(pathA: string, pathB: string, opts: { kid?: KidOptions } = {}): Promise<FidFromFiles> {
  const a = readFeatureFile(pathA), b = readFeatureFile(pathB);
  if (a.d !== b.d) {
    throw new Error(`feature dimensions differ: ${basename(pathA)} has d = ${a.d}, ${basename(pathB)} has d = ${b.d}; both must come from the same feature extractor`);
  }
  const { fid, warnings } = await fidFromStatsAsync(await toStats(a), await toStats(b));
  const result: FidFromFiles = { fid, warnings, nA: a.kind === 'features' ? a.n : null, nB: b.kind === 'features' ? b.n : null, d: a.d };
  if (a.kind === 'features' && b.kind === 'features') result.kid = kid(a.data, a.n, b.data, b.n, a.d, { subsets: 10, ...opts.kid });
  else warnings.push('KID needs features on both sides; a statistics file was given, so only FID was computed');
  return result;
}
