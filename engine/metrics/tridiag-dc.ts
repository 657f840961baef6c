// Eigenvalues and eigenvectors of a symmetric tridiagonal matrix by divide and conquer (Cuppen's
// method, with Gu and Eisenstat's eigenvectors, the scheme of LAPACK's DSTEDC/DLAED0–3): split T in
// two halves and a rank-one correction, solve the halves, then solve the rank-one update D + ρ·z·zᵀ
// through its secular equation. The eigenvector work of each merge is one matrix product, which
// runs on the fast GEMM, where QL would apply millions of Givens rotations one by one.
//
// Layout: eigenvectors are rows (row j = eigenvector j), as everywhere in linalg.ts.
import { qlSweeps, sortEigen } from './linalg';
import type { Dgemm } from './dgemm';

/** Subproblems this small are solved by QL directly. */
const LEAF = 32;
/** Merges whose product has fewer multiply-adds than this run in TypeScript. */
const GEMM_MIN = 1 << 21;
const EPS = 2 ** -52;

export interface TridiagEig {
  /** Ascending. */
  values: Float64Array;
  /** [n, n], row j = unit eigenvector of values[j]. */
  vectors: Float64Array;
}

/** QL on a small tridiagonal (diag d, sub e: e[i] = T(i+1, i)), eigenvectors from the identity. */
function leaf(d: Float64Array, e: Float64Array, n: number): TridiagEig {
  const dd = Float64Array.from(d);
  const ee = new Float64Array(n);
  for (let i = 1; i < n; i++) ee[i] = e[i - 1]; // qlSweeps reads e[i] = T(i, i−1)
  const w = new Float64Array(n * n);
  for (let i = 0; i < n; i++) w[i * n + i] = 1;
  const log = qlSweeps(n, dd, ee, true);
  log?.applyTo(w, n);
  sortEigen(w, n, dd, true);
  return { values: dd, vectors: w };
}

/**
 * Root i of the secular equation 1 + ρ·Σ w_j²/(d_j − λ) = 0 (d ascending, ρ > 0, w_j ≠ 0), as an
 * origin index o and a shift τ with λ = d_o + τ, found by bisection in τ so that the differences
 * d_j − λ = (d_j − d_o) − τ keep their accuracy next to the poles.
 */
function secularRoot(d: Float64Array, w2: Float64Array, K: number, rho: number, i: number, wsum: number): { o: number; tau: number } {
  const f = (o: number, tau: number): number => {
    let s = 0;
    const dOrigin = d[o];
    for (let j = 0; j < K; j++) s += w2[j] / (d[j] - dOrigin - tau);
    return 1 + rho * s;
  };
  let o: number;
  let lo: number, hi: number;
  if (i < K - 1) {
    const gap = d[i + 1] - d[i];
    // which pole is nearer: f is increasing on (d_i, d_{i+1})
    if (f(i, gap / 2) >= 0) {
      o = i;
      lo = 0;
      hi = gap / 2;
    } else {
      o = i + 1;
      lo = -gap / 2;
      hi = 0;
    }
  } else {
    o = K - 1;
    lo = 0;
    hi = rho * wsum; // λ_max ≤ d_max + ρ‖w‖²
  }
  for (let it = 0; it < 400; it++) {
    const mid = 0.5 * (lo + hi);
    if (mid === lo || mid === hi) break;
    if (f(o, mid) < 0) lo = mid;
    else hi = mid;
    if (hi - lo <= 2 * EPS * Math.max(Math.abs(lo), Math.abs(hi))) break;
  }
  return { o, tau: 0.5 * (lo + hi) };
}

/** Eigen-decomposition of the symmetric tridiagonal with diagonal d[0..n) and subdiagonal e[0..n−1). */
export async function tridiagEig(d: Float64Array, e: Float64Array, n: number, dg: Dgemm | null): Promise<TridiagEig> {
  if (n <= LEAF) return leaf(d, e, n);
  const k = n >> 1;
  const beta = e[k - 1];
  // T = diag(T1, T2) + β·u·uᵀ with u = e_{k−1} + e_k
  const d1 = d.slice(0, k);
  const d2 = d.slice(k);
  d1[k - 1] -= beta;
  d2[0] -= beta;
  const left = await tridiagEig(d1, e.subarray(0, k - 1), k, dg);
  const right = await tridiagEig(d2, e.subarray(k), n - k, dg);
  return merge(left, right, k, n, beta, dg);
}

async function merge(left: TridiagEig, right: TridiagEig, k: number, n: number, rho0: number, dg: Dgemm | null): Promise<TridiagEig> {
  const m2 = n - k;
  // z = Qᵀu: the last component of every left eigenvector, the first of every right one
  const dAll = new Float64Array(n);
  const z = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    dAll[i] = left.values[i];
    z[i] = left.vectors[i * k + k - 1];
  }
  for (let i = 0; i < m2; i++) {
    dAll[k + i] = right.values[i];
    z[k + i] = right.vectors[i * m2];
  }
  // old eigenvector i as a full row of length n (left ones padded right, right ones padded left)
  const rowOf = (i: number, out: Float64Array, o: number): void => {
    if (i < k) out.set(left.vectors.subarray(i * k, i * k + k), o);
    else out.set(right.vectors.subarray((i - k) * m2, (i - k) * m2 + m2), o + k);
  };
  // ρ < 0: solve −D + |ρ|·z·zᵀ and negate the eigenvalues back
  const sign = rho0 < 0 ? -1 : 1;
  let zn2 = 0;
  for (let i = 0; i < n; i++) zn2 += z[i] * z[i];
  const rho = Math.abs(rho0) * zn2;
  const zs = Math.sqrt(zn2);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => sign * dAll[a] - sign * dAll[b]);
  const ds = new Float64Array(n);
  const zz = new Float64Array(n);
  for (let p = 0; p < n; p++) {
    ds[p] = sign * dAll[order[p]];
    zz[p] = zs > 0 ? z[order[p]] / zs : 0;
  }
  // the old eigenvectors in sorted order, rotated along with any deflating Givens rotation
  const q = new Float64Array(n * n);
  for (let p = 0; p < n; p++) rowOf(order[p], q, p * n);
  let dmax = 0;
  for (let p = 0; p < n; p++) dmax = Math.max(dmax, Math.abs(ds[p]));
  const tol = 8 * EPS * Math.max(dmax, rho);
  // deflation (DLAED2): tiny z components, and pairs of close poles merged by a rotation
  const keep: number[] = [];
  const deflated: number[] = [];
  let pending = -1;
  for (let p = 0; p < n; p++) {
    if (rho * Math.abs(zz[p]) <= tol) {
      deflated.push(p);
      continue;
    }
    if (pending >= 0) {
      let s = zz[pending];
      let c = zz[p];
      const tau = Math.hypot(c, s);
      const t = ds[p] - ds[pending];
      c /= tau;
      s = -s / tau;
      if (Math.abs(t * c * s) <= tol) {
        zz[p] = tau;
        zz[pending] = 0;
        const a = pending * n, b = p * n;
        for (let r = 0; r < n; r++) {
          const x = q[a + r], y = q[b + r];
          q[a + r] = c * x + s * y;
          q[b + r] = c * y - s * x;
        }
        const dp = ds[pending], dq = ds[p];
        ds[pending] = dp * c * c + dq * s * s;
        ds[p] = dp * s * s + dq * c * c;
        deflated.push(pending);
        pending = p;
        continue;
      }
      keep.push(pending);
    }
    pending = p;
  }
  if (pending >= 0) keep.push(pending);

  const K = keep.length;
  const values: number[] = [];
  const rows: Float64Array[] = [];
  if (K > 0) {
    const dk = new Float64Array(K);
    const w2 = new Float64Array(K);
    const wk = new Float64Array(K);
    for (let a = 0; a < K; a++) {
      dk[a] = ds[keep[a]];
      wk[a] = zz[keep[a]];
      w2[a] = wk[a] * wk[a];
    }
    let wsum = 0;
    for (let a = 0; a < K; a++) wsum += w2[a];
    const roots = Array.from({ length: K }, (_, i) => secularRoot(dk, w2, K, rho, i, wsum));
    // λ_j − d_i from the shifted roots, accurate next to the poles
    const diff = (j: number, i: number): number => dk[roots[j].o] - dk[i] + roots[j].tau;
    // Gu–Eisenstat: the ẑ for which the computed roots are exact, then orthogonal eigenvectors
    const zh = new Float64Array(K);
    for (let i = 0; i < K; i++) {
      let prod = diff(K - 1, i) / rho;
      for (let j = 0; j < i; j++) prod *= diff(j, i) / (dk[j] - dk[i]);
      for (let j = i; j < K - 1; j++) prod *= diff(j, i) / (dk[j + 1] - dk[i]);
      zh[i] = Math.sign(wk[i]) * Math.sqrt(Math.abs(prod));
    }
    // U [K, K] row-major, U[i][j] = component i of eigenvector j
    const u = new Float64Array(K * K);
    for (let j = 0; j < K; j++) {
      let norm = 0;
      for (let i = 0; i < K; i++) {
        const x = zh[i] / -diff(j, i);
        u[i * K + j] = x;
        norm += x * x;
      }
      const inv = 1 / Math.sqrt(norm);
      for (let i = 0; i < K; i++) u[i * K + j] *= inv;
    }
    // new eigenvector j = Σ_i U[i][j]·q_keep[i]: Uᵀ·Qkeep
    const qk = new Float64Array(K * n);
    for (let a = 0; a < K; a++) qk.set(q.subarray(keep[a] * n, keep[a] * n + n), a * n);
    let nz: Float64Array;
    if (dg && K * K * n >= GEMM_MIN) nz = await dg.gemm(u, K, K, qk, K, n, true, false);
    else {
      nz = new Float64Array(K * n);
      for (let i = 0; i < K; i++) {
        const qi = i * n;
        for (let j = 0; j < K; j++) {
          const uij = u[i * K + j];
          if (uij === 0) continue;
          const o = j * n;
          for (let r = 0; r < n; r++) nz[o + r] += uij * qk[qi + r];
        }
      }
    }
    for (let j = 0; j < K; j++) {
      values.push(sign * (dk[roots[j].o] + roots[j].tau));
      rows.push(nz.subarray(j * n, j * n + n));
    }
  }
  for (const p of deflated) {
    values.push(sign * ds[p]);
    rows.push(q.subarray(p * n, p * n + n));
  }
  // ascending, eigenvectors along
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  const outValues = new Float64Array(n);
  const outVectors = new Float64Array(n * n);
  for (let t = 0; t < n; t++) {
    outValues[t] = values[idx[t]];
    outVectors.set(rows[idx[t]], t * n);
  }
  return { values: outValues, vectors: outVectors };
}
