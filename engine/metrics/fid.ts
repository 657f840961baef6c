// Fréchet distance between Gaussian fits of two feature sets (METHOD.md §6), in float64 with the
// eigenvalue form Tr√(Σ₁Σ₂) = Σ √λᵢ(S Σ₂ S), S = √Σ₁; never a complex sqrtm.
import { columnMeans, gemmABt, meanCov, mirrorUpper, symEig, type Features } from './linalg';
import { onnxDgemm, type Dgemm } from './dgemm';
import { symEigBlocked } from './eigen-blocked';

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
  // S Σ₂ S = V (D Vᵀ Σ₂ V D) Vᵀ with D = diag(√λ): same eigenvalues, one product fewer than forming S.
  const t = gemmABt(v, sigma2, d, d, d, new Float64Array(d * d)); // Vᵀ Σ₂ (Σ₂ symmetric) [d,d]
  const m = gemmABt(t, v, d, d, d, new Float64Array(d * d), { upper: true }); // Vᵀ Σ₂ V [d,d]
  mirrorUpper(m, d);
  scaleBoth(eig.values, m, d);
  return sqrtSum(symEig(m, d, { vectors: false }).values, d);
}

/** traceSqrtProduct with its d³ work on a fast GEMM: the same eigen form, the blocked eigensolver of eigen-blocked.ts. */
export async function traceSqrtProductWith(dg: Dgemm, sigma1: Float64Array, sigma2: Float64Array, d: number): Promise<{ value: number; minEig: number; maxEig: number }> {
  const eig = await symEigBlocked(sigma1, d, dg, { vectors: true });
  const v = eig.vectors as Float64Array;
  const t = await dg.gemm(v, d, d, sigma2, d, d, false, false); // Vᵀ Σ₂
  const m = await dg.gemm(t, d, d, v, d, d, false, true); // Vᵀ Σ₂ V
  // exactly symmetric for the eigensolver: the mean of the two triangles
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const x = 0.5 * (m[i * d + j] + m[j * d + i]);
      m[i * d + j] = x;
      m[j * d + i] = x;
    }
  }
  scaleBoth(eig.values, m, d);
  return sqrtSum((await symEigBlocked(m, d, dg, { vectors: false })).values, d);
}

/** D Vᵀ Σ₂ V D in place (m holds Vᵀ Σ₂ V), D = diag(√max(λ, 0)). */
function scaleBoth(lambda: Float64Array, m: Float64Array, d: number): void {
  const root = new Float64Array(d);
  for (let i = 0; i < d; i++) root[i] = Math.sqrt(Math.max(lambda[i], 0));
  for (let i = 0; i < d; i++) {
    const ri = root[i];
    for (let j = 0; j < d; j++) m[i * d + j] *= ri * root[j];
  }
}

/** Σ √max(μ,0) over the eigenvalues μ (ascending), with the smallest and largest. */
function sqrtSum(mu: Float64Array, d: number): { value: number; minEig: number; maxEig: number } {
  let value = 0;
  for (let i = 0; i < d; i++) value += Math.sqrt(Math.max(mu[i], 0));
  return { value, minEig: d > 0 ? mu[0] : 0, maxEig: d > 0 ? mu[d - 1] : 0 };
}

/**
 * Products of at least this many multiply-adds go to onnxruntime's GEMM when it loads: below it the
 * TypeScript loops take under a second and onnxruntime's start-up is not worth paying.
 */
export const FAST_GEMM_MIN_WORK = 2 ** 30;

/** featureStats, with the covariance's n·d² product on onnxruntime's GEMM for large inputs. */
export async function featureStatsAsync(feats: Features, n: number, d: number, opts: { minWork?: number } = {}): Promise<FeatureStats> {
  const dg = n * d * d >= (opts.minWork ?? FAST_GEMM_MIN_WORK) ? await onnxDgemm() : null;
  if (!dg) return featureStats(feats, n, d);
  if (n < 2 || feats.length !== n * d) return featureStats(feats, n, d); // its error messages
  const mean = columnMeans(feats, n, d);
  const cov = new Float64Array(d * d);
  // the upper block triangle only (syrk): column blocks of ≈512 give 10 products of 16 at d = 2,048
  const nb = Math.max(1, Math.round(d / 512));
  const cut = Array.from({ length: nb + 1 }, (_, p) => Math.round((p * d) / nb));
  const blockOf = new Int32Array(d);
  for (let p = 0; p < nb; p++) blockOf.fill(p, cut[p], cut[p + 1]);
  const rows = Math.max(1, Math.floor(2 ** 24 / d)); // 128 MB of centred rows per pass
  const slabs = Array.from({ length: nb }, (_, p) => new Float64Array(Math.min(rows, n) * (cut[p + 1] - cut[p])));
  for (let s0 = 0; s0 < n; s0 += rows) {
    const b = Math.min(rows, n - s0);
    // centred rows, split by column block: slab p is [b, w_p] row-major
    for (let p = 0; p < nb; p++) {
      const c0 = cut[p], w = cut[p + 1] - c0;
      const slab = slabs[p];
      for (let s = 0; s < b; s++) {
        const o = (s0 + s) * d + c0;
        for (let j = 0; j < w; j++) slab[s * w + j] = feats[o + j] - mean[c0 + j];
      }
    }
    for (let p = 0; p < nb; p++) {
      const wp = cut[p + 1] - cut[p];
      const sp = b * wp === slabs[p].length ? slabs[p] : slabs[p].subarray(0, b * wp);
      for (let q = p; q < nb; q++) {
        const wq = cut[q + 1] - cut[q];
        const sq = b * wq === slabs[q].length ? slabs[q] : slabs[q].subarray(0, b * wq);
        const g = await dg.gemm(sp, b, wp, sq, b, wq, true, false); // block (p, q) of (X−μ)ᵀ(X−μ)
        for (let i = 0; i < wp; i++) {
          const o = (cut[p] + i) * d + cut[q];
          for (let j = 0; j < wq; j++) cov[o + j] += g[i * wq + j];
        }
      }
    }
  }
  const inv = 1 / (n - 1);
  for (let i = 0; i < d; i++) {
    cov[i * d + i] *= inv;
    for (let j = i + 1; j < d; j++) {
      // diagonal blocks hold both triangles (their mean makes them equal); off-diagonal ones the upper
      const x = (blockOf[i] === blockOf[j] ? 0.5 * (cov[i * d + j] + cov[j * d + i]) : cov[i * d + j]) * inv;
      cov[i * d + j] = x;
      cov[j * d + i] = x;
    }
  }
  return { mu: mean, sigma: cov, n, d };
}

type TraceSqrt = { value: number; minEig: number; maxEig: number };

/** FID = ‖μ₁−μ₂‖² + Tr Σ₁ + Tr Σ₂ − 2 Tr√(Σ₁Σ₂). Warns when either N is below d or the product is clearly indefinite. */
export function fidFromStats(a: FeatureStats, b: FeatureStats): FidResult {
  return fidParts(a, b, (d) => traceSqrtProduct(a.sigma, b.sigma, d));
}

/** fidFromStats with the d³ products on onnxruntime's GEMM when d is large and it loads. */
export async function fidFromStatsAsync(a: FeatureStats, b: FeatureStats, opts: { minWork?: number } = {}): Promise<FidResult> {
  const d = a.d;
  const dg = d * d * d >= (opts.minWork ?? FAST_GEMM_MIN_WORK) && a.d === b.d ? await onnxDgemm() : null;
  if (!dg) return fidFromStats(a, b);
  checkStats(a, b);
  const tr = await traceSqrtProductWith(dg, a.sigma, b.sigma, d);
  return fidParts(a, b, () => tr);
}

function checkStats(a: FeatureStats, b: FeatureStats): void {
  if (a.d !== b.d) throw new Error(`cannot compute FID between ${a.d}-d and ${b.d}-d features: the feature dimensions differ`);
  const d = a.d;
  if (a.mu.length !== d || b.mu.length !== d || a.sigma.length !== d * d || b.sigma.length !== d * d) {
    throw new Error(`FID statistics do not match their declared dimension ${d}`);
  }
}

function fidParts(a: FeatureStats, b: FeatureStats, traceSqrt: (d: number) => TraceSqrt): FidResult {
  checkStats(a, b);
  const d = a.d;
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
  const tr = traceSqrt(d);
  if (tr.minEig < -1e-6 * Math.max(tr.maxEig, 1e-300)) {
    warnings.push(`S·Σ₂·S has a negative eigenvalue ${tr.minEig.toExponential(3)} (largest ${tr.maxEig.toExponential(3)}): a covariance is not positive semi-definite; negative eigenvalues were clamped to 0`);
  }
  const fid = diff + trace(a.sigma, d) + trace(b.sigma, d) - 2 * tr.value;
  return { fid, warnings };
}
