// Fréchet distance between Gaussian fits of two feature sets (METHOD.md §6), in float64 with the
// eigenvalue form Tr√(Σ₁Σ₂) = Σ √λᵢ(S Σ₂ S), S = √Σ₁; never a complex sqrtm.
import { gemmABt, meanCov, mirrorUpper, symEig, type Features } from './linalg';

export interface FeatureStats {
  mu: Float64Array;
  /** [d,d] row-major, N−1 normalisation. */
  sigma: Float64Array;
  /** Sample count; null when the statistics came from a file that does not record it. */
  n: number | null;
  d: number;
}

export interface FidResult {
  fid: number;
  warnings: string[];
}

/** Mean and covariance of feats [n,d] (row-major). */
export function featureStats(feats: Features, n: number, d: number): FeatureStats {
  const { mean, cov } = meanCov(feats, n, d);
  return { mu: mean, sigma: cov, n, d };
}

function trace(a: Float64Array, d: number): number {
  let t = 0;
  for (let i = 0; i < d; i++) t += a[i * d + i];
  return t;
}

/** Σ √max(λ,0) over the eigenvalues of S·Σ₂·S with S = √Σ₁, plus the most negative λ seen (for warnings). */
export function traceSqrtProduct(sigma1: Float64Array, sigma2: Float64Array, d: number): { value: number; minEig: number; maxEig: number } {
  const eig = symEig(sigma1, d, { vectors: true });
  const v = eig.vectors as Float64Array; // row i = eigenvector i, i.e. Vᵀ
  const root = new Float64Array(d);
  for (let i = 0; i < d; i++) root[i] = Math.sqrt(Math.max(eig.values[i], 0));
  // S Σ₂ S = V (D Vᵀ Σ₂ V D) Vᵀ with D = diag(√λ): same eigenvalues, one product fewer than forming S.
  const t = gemmABt(v, sigma2, d, d, d, new Float64Array(d * d)); // Vᵀ Σ₂ (Σ₂ symmetric) [d,d]
  const m = gemmABt(t, v, d, d, d, new Float64Array(d * d), { upper: true }); // Vᵀ Σ₂ V [d,d]
  mirrorUpper(m, d);
  for (let i = 0; i < d; i++) {
    const ri = root[i];
    for (let j = 0; j < d; j++) m[i * d + j] *= ri * root[j];
  }
  const mu = symEig(m, d, { vectors: false }).values;
  let value = 0;
  for (let i = 0; i < d; i++) value += Math.sqrt(Math.max(mu[i], 0));
  return { value, minEig: d > 0 ? mu[0] : 0, maxEig: d > 0 ? mu[d - 1] : 0 };
}

/** FID = ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr√(Σ₁Σ₂). Warns when either N is below d or the product is clearly indefinite. */
export function fidFromStats(a: FeatureStats, b: FeatureStats): FidResult {
  if (a.d !== b.d) throw new Error(`cannot compute FID between ${a.d}-d and ${b.d}-d features: the feature dimensions differ`);
  const d = a.d;
  if (a.mu.length !== d || b.mu.length !== d || a.sigma.length !== d * d || b.sigma.length !== d * d) {
    throw new Error(`FID statistics do not match their declared dimension ${d}`);
  }
  const warnings: string[] = [];
  for (const [name, s] of [['A', a], ['B', b]] as const) {
    if (s.n !== null && s.n < d) {
      warnings.push(`set ${name} has N = ${s.n} samples, below the feature dimension ${d}: its covariance is singular and FID is biased upward; use N ≥ ${d}`);
    }
  }
  let diff = 0;
  for (let i = 0; i < d; i++) {
    const x = a.mu[i] - b.mu[i];
    diff += x * x;
  }
  const tr = traceSqrtProduct(a.sigma, b.sigma, d);
  if (tr.minEig < -1e-6 * Math.max(tr.maxEig, 1e-300)) {
    warnings.push(`S·Σ₂·S has a negative eigenvalue ${tr.minEig.toExponential(3)} (largest ${tr.maxEig.toExponential(3)}): a covariance is not positive semi-definite; negative eigenvalues were clamped to 0`);
  }
  const fid = diff + trace(a.sigma, d) + trace(b.sigma, d) - 2 * tr.value;
  return { fid, warnings };
}
