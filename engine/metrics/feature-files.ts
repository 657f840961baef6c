// Feature files for `toklab fid A B`: a .npy of features [N,d] or a .npz of statistics (mu.npy, sigma.npy,
// as pytorch-fid / clean-fid save them). Computes FID, and KID when both sides are features.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { featureStats, fidFromStats, type FeatureStats } from './fid';
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

/** Parse a feature or statistics file image; `name` appears in every error. */
export function parseFeatureFile(buf: Uint8Array, name: string): FeatureFile {
  if (isNpy(buf)) {
    const arr = parseNpy(buf, name);
    if (arr.shape.length !== 2) throw new Error(`${name}: features must be a 2-D array [N, d], got shape [${arr.shape.join(', ')}]`);
    const [n, d] = arr.shape;
    if (n < 2 || d < 1) throw new Error(`${name}: need at least 2 feature rows of dimension ≥ 1, got [${n}, ${d}]`);
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
    return { kind: 'stats', d, mu: Float64Array.from(mu.data), sigma: Float64Array.from(sigma.data) };
  }
  throw new Error(`${name}: neither a .npy (features) nor a .npz (mu/sigma statistics) file`);
}

export function readFeatureFile(path: string): FeatureFile {
  return parseFeatureFile(readFileSync(path), path);
}

function toStats(f: FeatureFile): FeatureStats {
  return f.kind === 'features' ? featureStats(f.data, f.n, f.d) : { mu: f.mu, sigma: f.sigma, n: null, d: f.d };
}

/** FID between two files (KID too when both hold features). */
export function computeFidFromFiles(pathA: string, pathB: string, opts: { kid?: KidOptions } = {}): FidFromFiles {
  const a = readFeatureFile(pathA), b = readFeatureFile(pathB);
  if (a.d !== b.d) {
    throw new Error(`feature dimensions differ: ${basename(pathA)} has d = ${a.d}, ${basename(pathB)} has d = ${b.d}; both must come from the same feature extractor`);
  }
  const { fid, warnings } = fidFromStats(toStats(a), toStats(b));
  const result: FidFromFiles = { fid, warnings, nA: a.kind === 'features' ? a.n : null, nB: b.kind === 'features' ? b.n : null, d: a.d };
  if (a.kind === 'features' && b.kind === 'features') result.kid = kid(a.data, a.n, b.data, b.n, a.d, { subsets: 10, ...opts.kid });
  else warnings.push('KID needs features on both sides; a statistics file was given, so only FID was computed');
  return result;
}
