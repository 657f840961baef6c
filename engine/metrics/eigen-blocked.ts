// The symmetric eigensolver of linalg.ts with its O(n³) parts moved onto a fast float64 GEMM
// (onnxruntime's, engine/metrics/dgemm.ts), for FID at d = 2,048:
// - tridiagonalization by LAPACK's blocked scheme (DSYTRD / DLATRD, lower): each panel of NB columns
//   is reduced with one pass of a symmetric matrix-vector product per column, and the trailing
//   matrix gets the panel's rank-2·NB update A −= V·Wᵀ + W·Vᵀ as one GEMM instead of NB rank-2 loops;
// - the orthogonal Q by blocked reflectors (DLARFT's compact WY form, I − V·T·Vᵀ per block), two GEMMs
//   per block instead of one pass over Q per reflector;
// - the tridiagonal's eigenvectors by divide and conquer (tridiag-dc.ts), one GEMM per merge where QL
//   would apply millions of rotations, then V = Q·Z as one more GEMM. Eigenvalues alone still come
//   from linalg.ts's implicit QL, which needs no vectors and takes a fraction of a second.
// Matrices here are column-major views: X(r, c) = x[c·n + r]. For the symmetric input that is the same
// array; Q in this layout is what tql2 rotates (row c of the array = column c of Q).
import { qlSweeps, sortEigen, type SymEig } from './linalg';
import { tridiagEig } from './tridiag-dc';
import type { Dgemm } from './dgemm';

/** Panel width of the blocked reduction and of the WY blocks. */
const NB = 48;
/** Below this many trailing columns the unblocked reduction finishes (GEMM set-up would dominate). */
const NX = 128;

/** Householder vector of [alpha; x] (DLARFG): returns beta and tau, scales x in place to v(1:). */
function householder(alpha: number, x: Float64Array, off: number, len: number): { beta: number; tau: number } {
  if (len <= 0) return { beta: alpha, tau: 0 };
  let ss = 0;
  for (let k = 0; k < len; k++) ss += x[off + k] * x[off + k];
  if (ss === 0) return { beta: alpha, tau: 0 };
  const norm = Math.hypot(alpha, Math.sqrt(ss));
  const beta = alpha >= 0 ? -norm : norm;
  const tau = (beta - alpha) / beta;
  const scale = 1 / (alpha - beta);
  for (let k = 0; k < len; k++) x[off + k] *= scale;
  return { beta, tau };
}

/**
 * y = A(s:s+m, s:s+m)·v from the lower triangle, one pass over it (DSYMV 'L'), four columns at a time
 * so y is read once per four columns and four sums run side by side (memory-bound at d = 2,048).
 */
function symvLower(a: Float64Array, n: number, s: number, m: number, v: Float64Array, vo: number, y: Float64Array, yo: number): void {
  for (let k = 0; k < m; k++) y[yo + k] = 0;
  let c = 0;
  for (; c + 4 <= m; c += 4) {
    const o0 = (s + c) * n + s, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    const v0 = v[vo + c], v1 = v[vo + c + 1], v2 = v[vo + c + 2], v3 = v[vo + c + 3];
    // the 4×4 diagonal block, from its lower triangle
    const a10 = a[o0 + c + 1], a20 = a[o0 + c + 2], a30 = a[o0 + c + 3], a21 = a[o1 + c + 2], a31 = a[o1 + c + 3], a32 = a[o2 + c + 3];
    let s0 = a[o0 + c] * v0 + a10 * v1 + a20 * v2 + a30 * v3;
    let s1 = a10 * v0 + a[o1 + c + 1] * v1 + a21 * v2 + a31 * v3;
    let s2 = a20 * v0 + a21 * v1 + a[o2 + c + 2] * v2 + a32 * v3;
    let s3 = a30 * v0 + a31 * v1 + a32 * v2 + a[o3 + c + 3] * v3;
    for (let r = c + 4; r < m; r++) {
      const x0 = a[o0 + r], x1 = a[o1 + r], x2 = a[o2 + r], x3 = a[o3 + r];
      const vr = v[vo + r];
      y[yo + r] += x0 * v0 + x1 * v1 + x2 * v2 + x3 * v3;
      s0 += x0 * vr;
      s1 += x1 * vr;
      s2 += x2 * vr;
      s3 += x3 * vr;
    }
    y[yo + c] += s0;
    y[yo + c + 1] += s1;
    y[yo + c + 2] += s2;
    y[yo + c + 3] += s3;
  }
  for (; c < m; c++) {
    const col = (s + c) * n + s;
    const vc = v[vo + c];
    let acc = a[col + c] * vc;
    for (let r = c + 1; r < m; r++) {
      const x = a[col + r];
      y[yo + r] += x * vc;
      acc += x * v[vo + r];
    }
    y[yo + c] += acc;
  }
}

/**
 * Reduce a (overwritten, column-major, symmetric; the lower triangle is used) to tridiagonal form
 * T = Qᵀ A Q. d gets T's diagonal, sub[j] = T(j+1, j), tau[j] the reflector scales; reflector j is
 * v = (0…0, 1, a(j+2:n, j)) with its 1 at row j+1.
 */
async function tridiagonalize(a: Float64Array, n: number, dg: Dgemm, d: Float64Array, sub: Float64Array, tau: Float64Array): Promise<void> {
  const w = new Float64Array(n * NB); // W of a panel, column-major [m, NB] with leading dimension m
  const t1 = new Float64Array(NB);
  const t2 = new Float64Array(NB);
  let i = 0;
  for (; i < n - NX; i += NB) {
    const m = n - i;
    // DLATRD on the trailing block B(r, c) = A(i + r, i + c)
    for (let j = 0; j < NB; j++) {
      const colJ = (i + j) * n + i; // B(:, j)
      if (j > 0) {
        // B(j:m, j) −= B(j:m, 0:j)·W(j, 0:j)ᵀ + W(j:m, 0:j)·B(j, 0:j)ᵀ
        for (let p = 0; p < j; p++) {
          const colP = (i + p) * n + i;
          const wjp = w[p * m + j];
          const bjp = a[colP + j];
          const wp = p * m;
          for (let r = j; r < m; r++) a[colJ + r] -= a[colP + r] * wjp + w[wp + r] * bjp;
        }
      }
      const { beta, tau: tj } = householder(a[colJ + j + 1], a, colJ + j + 2, m - j - 2);
      sub[i + j] = beta;
      tau[i + j] = tj;
      a[colJ + j + 1] = 1;
      const len = m - j - 1;
      const wj = j * m; // W(:, j)
      // W(j+1:m, j) = τ·(B(j+1:, j+1:)·v − B(j+1:, 0:j)·(W(j+1:, 0:j)ᵀv) − W(j+1:, 0:j)·(B(j+1:, 0:j)ᵀv)), then the α·v correction
      symvLower(a, n, i + j + 1, len, a, colJ + j + 1, w, wj + j + 1);
      for (let p = 0; p < j; p++) {
        const colP = (i + p) * n + i;
        const wp = p * m;
        let s1 = 0, s2 = 0;
        for (let r = j + 1; r < m; r++) {
          const vr = a[colJ + r];
          s1 += w[wp + r] * vr;
          s2 += a[colP + r] * vr;
        }
        t1[p] = s1;
        t2[p] = s2;
      }
      for (let p = 0; p < j; p++) {
        const colP = (i + p) * n + i;
        const wp = p * m;
        const c1 = t1[p], c2 = t2[p];
        for (let r = j + 1; r < m; r++) w[wj + r] -= a[colP + r] * c1 + w[wp + r] * c2;
      }
      let dot = 0;
      for (let r = j + 1; r < m; r++) {
        w[wj + r] *= tj;
        dot += w[wj + r] * a[colJ + r];
      }
      const alpha = -0.5 * tj * dot;
      for (let r = j + 1; r < m; r++) w[wj + r] += alpha * a[colJ + r];
    }
    // A(i+NB:, i+NB:) −= V·Wᵀ + W·Vᵀ as one product [V W]·[W V]ᵀ (row-major [m2, 2·NB] operands)
    const m2 = m - NB;
    const vw = new Float64Array(m2 * 2 * NB);
    const wv = new Float64Array(m2 * 2 * NB);
    for (let r = 0; r < m2; r++) {
      const o = r * 2 * NB;
      for (let p = 0; p < NB; p++) {
        const vrp = a[(i + p) * n + i + NB + r];
        const wrp = w[p * m + NB + r];
        vw[o + p] = vrp;
        vw[o + NB + p] = wrp;
        wv[o + p] = wrp;
        wv[o + NB + p] = vrp;
      }
    }
    const u = await dg.gemm(vw, m2, 2 * NB, wv, m2, 2 * NB, false, true);
    const s = i + NB;
    for (let c = 0; c < m2; c++) {
      const col = (s + c) * n + s;
      const uo = c * m2; // U is symmetric: row c = column c
      for (let r = c; r < m2; r++) a[col + r] -= u[uo + r];
    }
    for (let j = 0; j < NB; j++) d[i + j] = a[(i + j) * n + i + j];
  }
  // DSYTD2 on what is left
  const y = new Float64Array(n);
  for (; i < n - 1; i++) {
    const colI = i * n;
    const { beta, tau: ti } = householder(a[colI + i + 1], a, colI + i + 2, n - i - 2);
    sub[i] = beta;
    tau[i] = ti;
    if (ti !== 0) {
      a[colI + i + 1] = 1;
      const len = n - i - 1;
      symvLower(a, n, i + 1, len, a, colI + i + 1, y, 0);
      let dot = 0;
      for (let k = 0; k < len; k++) {
        y[k] *= ti;
        dot += y[k] * a[colI + i + 1 + k];
      }
      const alpha = -0.5 * ti * dot;
      for (let k = 0; k < len; k++) y[k] += alpha * a[colI + i + 1 + k];
      // rank-2 update of the lower triangle: A −= v·yᵀ + y·vᵀ
      for (let c = 0; c < len; c++) {
        const col = (i + 1 + c) * n + i + 1;
        const vc = a[colI + i + 1 + c], yc = y[c];
        for (let r = c; r < len; r++) a[col + r] -= a[colI + i + 1 + r] * yc + y[r] * vc;
      }
    }
    d[i] = a[colI + i];
  }
  if (n > 0) d[n - 1] = a[(n - 1) * n + n - 1];
  // reflectors j ≥ i (none when the loop ran to n − 1) are identities
  for (let j = Math.max(0, n - 1); j < n; j++) tau[j] = 0;
}

/** Q = H(0)·H(1)···H(n−2) in column-major q, by blocks of NB reflectors from the last (DORGTR via DLARFT/DLARFB). */
async function formQ(a: Float64Array, n: number, tau: Float64Array, dg: Dgemm): Promise<Float64Array> {
  const q = new Float64Array(n * n);
  for (let k = 0; k < n; k++) q[k * n + k] = 1;
  const nRef = n - 1;
  const starts: number[] = [];
  for (let b = 0; b < nRef; b += NB) starts.push(b);
  const tmat = new Float64Array(NB * NB);
  for (let bi = starts.length - 1; bi >= 0; bi--) {
    const b0 = starts[bi];
    const k = Math.min(NB, nRef - b0);
    const r0 = b0 + 1; // the block touches rows and columns r0.. of Q
    const m = n - r0;
    // V [m, k] row-major: V(r, j) = v_{b0+j}(r0 + r), 1 at r = j, 0 above
    const v = new Float64Array(m * k);
    for (let j = 0; j < k; j++) {
      const col = (b0 + j) * n;
      v[j * k + j] = 1;
      for (let r = j + 1; r < m; r++) v[r * k + j] = a[col + r0 + r];
    }
    // T (upper triangular k×k): H_b0···H_{b0+k−1} = I − V·T·Vᵀ
    tmat.fill(0);
    for (let j = 0; j < k; j++) {
      const tj = tau[b0 + j];
      if (tj !== 0) {
        for (let p = 0; p < j; p++) {
          let s = 0;
          for (let r = j; r < m; r++) s += v[r * k + p] * v[r * k + j];
          tmat[p * NB + j] = -tj * s;
        }
        for (let p = 0; p < j; p++) {
          let s = 0;
          for (let l = p; l < j; l++) s += tmat[p * NB + l] * tmat[l * NB + j];
          tmat[p * NB + j] = s;
        }
      }
      tmat[j * NB + j] = tj;
    }
    // P = Q(r0:, r0:)ᵀ as row-major [m, m]; Q ← (I − V T Vᵀ) Q is P ← P − (P·V)·Tᵀ·Vᵀ
    const p = new Float64Array(m * m);
    for (let c = 0; c < m; c++) p.set(q.subarray((r0 + c) * n + r0, (r0 + c) * n + n), c * m);
    const pv = await dg.gemm(p, m, m, v, m, k, false, false); // [m, k]
    const y = new Float64Array(m * k); // (P·V)·Tᵀ
    for (let r = 0; r < m; r++) {
      for (let j = 0; j < k; j++) {
        let s = 0;
        for (let l = j; l < k; l++) s += pv[r * k + l] * tmat[j * NB + l];
        y[r * k + j] = s;
      }
    }
    const upd = await dg.gemm(y, m, k, v, m, k, false, true); // [m, m]
    for (let c = 0; c < m; c++) {
      const o = (r0 + c) * n + r0;
      const po = c * m;
      for (let r = 0; r < m; r++) q[o + r] = p[po + r] - upd[po + r];
    }
  }
  return q;
}

/**
 * Eigenvalues (ascending) and optionally eigenvectors of a symmetric [n,n] matrix, as symEig (same
 * layout), with the reduction, Q and the eigenvectors' products on `dg`. The input is not changed.
 */
export async function symEigBlocked(input: Float64Array, n: number, dg: Dgemm, opts: { vectors?: boolean } = {}): Promise<SymEig> {
  if (input.length !== n * n) throw new Error(`symEig: got ${input.length} values for [${n},${n}]`);
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(input[i])) throw new Error('symEig: matrix has non-finite entries');
  const wantVectors = opts.vectors ?? true;
  const a = Float64Array.from(input);
  const d = new Float64Array(n);
  const sub = new Float64Array(n);
  const tau = new Float64Array(n);
  if (n === 0) return { values: d, vectors: wantVectors ? a : null };
  await tridiagonalize(a, n, dg, d, sub, tau);
  if (!wantVectors) {
    // qlSweeps reads the subdiagonal as e[i] = T(i, i−1)
    const e = new Float64Array(n);
    for (let i = 1; i < n; i++) e[i] = sub[i - 1];
    qlSweeps(n, d, e, false);
    sortEigen(new Float64Array(0), n, d, false);
    return { values: d, vectors: null };
  }
  const q = await formQ(a, n, tau, dg); // column-major Q, i.e. Qᵀ row-major
  const t = await tridiagEig(d, sub, n, dg); // rows: eigenvectors z_j of T
  // eigenvector j of A is Q·z_j: row j of Z·Qᵀ
  const w = await dg.gemm(t.vectors, n, n, q, n, n, false, false);
  return { values: t.values, vectors: w };
}
