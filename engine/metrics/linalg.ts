// Float64 dense linear algebra for the metrics: blocked A·Bᵀ products, covariance (N−1) and a
// symmetric eigensolver (Householder tridiagonalization + implicit QL, ported from the public-domain
// JAMA EigenvalueDecomposition tred2/tql2, itself from EISPACK). All matrices are row-major Float64Array.

export type Features = Float32Array | Float64Array;

/** Symmetric eigendecomposition: values ascending; row i of `vectors` ([n,n]) is the unit eigenvector of values[i]. */
export interface SymEig {
  values: Float64Array;
  vectors: Float64Array | null;
}

const K_BLOCK = 256;
const J_BLOCK = 64;


/**
 * C[i,j] (+)= Σ_p A[i,p]·B[j,p] with A [m,k], B [n,k], C [m,n]. Tiled over p and j so a tile of B stays
 * in cache, 4×2 register blocks inside. `upper`: only blocks with j ≥ i are computed (square symmetric
 * results; call `mirrorUpper` afterwards). `accumulate`: add to C instead of overwriting it.
 */
export function gemmABt(
  a: Float64Array,
  b: Float64Array,
  m: number,
  n: number,
  k: number,
  c: Float64Array,
  opts: { upper?: boolean; accumulate?: boolean } = {},
): Float64Array {
  if (a.length < m * k || b.length < n * k || c.length < m * n) throw new Error(`gemmABt: buffers too small for [${m},${k}]·[${n},${k}]ᵀ`);
  const upper = opts.upper ?? false;
  if (!opts.accumulate) c.fill(0, 0, m * n);
  for (let p0 = 0; p0 < k; p0 += K_BLOCK) {
    const p1 = Math.min(k, p0 + K_BLOCK);
    for (let j0 = 0; j0 < n; j0 += J_BLOCK) {
      const j1 = Math.min(n, j0 + J_BLOCK);
      const iEnd = upper ? Math.min(m, j1) : m;
      for (let i = 0; i < iEnd; i += 4) {
        const full = i + 3 < m;
        const a0 = i * k, a1 = a0 + k, a2 = a1 + k, a3 = a2 + k;
        const jStart = upper && i > j0 ? i : j0;
        for (let j = jStart; j < j1; j += 2) {
          if (full && j + 1 < j1) {
            const b0 = j * k, b1 = b0 + k;
            let s00 = 0, s01 = 0, s10 = 0, s11 = 0, s20 = 0, s21 = 0, s30 = 0, s31 = 0;
            for (let p = p0; p < p1; p++) {
              const y0 = b[b0 + p], y1 = b[b1 + p];
              const x0 = a[a0 + p], x1 = a[a1 + p], x2 = a[a2 + p], x3 = a[a3 + p];
              s00 += x0 * y0;
              s01 += x0 * y1;
              s10 += x1 * y0;
              s11 += x1 * y1;
              s20 += x2 * y0;
              s21 += x2 * y1;
              s30 += x3 * y0;
              s31 += x3 * y1;
            }
            const ci = i * n + j;
            c[ci] += s00;
            c[ci + 1] += s01;
            c[ci + n] += s10;
            c[ci + n + 1] += s11;
            c[ci + 2 * n] += s20;
            c[ci + 2 * n + 1] += s21;
            c[ci + 3 * n] += s30;
            c[ci + 3 * n + 1] += s31;
          } else {
            const iiEnd = Math.min(i + 4, m), jjEnd = Math.min(j + 2, j1);
            for (let ii = i; ii < iiEnd; ii++) {
              for (let jj = j; jj < jjEnd; jj++) {
                let s = 0;
                for (let p = p0; p < p1; p++) s += a[ii * k + p] * b[jj * k + p];
                c[ii * n + jj] += s;
              }
            }
          }
        }
      }
    }
  }
  return c;
}

/** Copy the upper triangle of a square [n,n] matrix onto its lower triangle. */
export function mirrorUpper(c: Float64Array, n: number): Float64Array {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i];
  return c;
}

/** [m,n] → [n,m] as float64. */
export function transpose(a: Features, m: number, n: number): Float64Array {
  const t = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) t[j * m + i] = a[i * n + j];
  return t;
}

/** Plain product C = A·B, A [m,k], B [k,n] → C [m,n]. */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  return gemmABt(a, transpose(b, k, n), m, n, k, new Float64Array(m * n));
}

/** Column means of x [n,d], in float64. */
export function columnMeans(x: Features, n: number, d: number): Float64Array {
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) mean[j] += x[o + j];
  }
  for (let j = 0; j < d; j++) mean[j] /= n;
  return mean;
}

/** Column means and the unbiased (N−1) covariance of x [n,d]; two-pass (centred) for accuracy. */
export function meanCov(x: Features, n: number, d: number): { mean: Float64Array; cov: Float64Array } {
  if (!Number.isInteger(n) || !Number.isInteger(d) || n < 1 || d < 1) throw new Error(`meanCov: bad shape [${n},${d}]`);
  if (x.length !== n * d) throw new Error(`meanCov: got ${x.length} values for shape [${n},${d}] (${n * d} expected)`);
  if (n < 2) throw new Error('meanCov: need at least 2 samples for a covariance with N−1');
  const mean = columnMeans(x, n, d);
  const cov = new Float64Array(d * d);
  const chunk = 256;
  const xt = new Float64Array(d * chunk);
  for (let s0 = 0; s0 < n; s0 += chunk) {
    const b = Math.min(chunk, n - s0);
    // [b,d] rows of x, centred → [d,b] so each feature's samples are contiguous for the dot products.
    for (let s = 0; s < b; s++) {
      const o = (s0 + s) * d;
      for (let j = 0; j < d; j++) xt[j * b + s] = x[o + j] - mean[j];
    }
    gemmABt(xt, xt, d, d, b, cov, { upper: true, accumulate: true });
  }
  mirrorUpper(cov, d);
  const inv = 1 / (n - 1);
  for (let i = 0; i < d * d; i++) cov[i] *= inv;
  return { mean, cov };
}

function hypot(a: number, b: number): number {
  const x = Math.abs(a), y = Math.abs(b);
  if (x > y) {
    const r = y / x;
    return x * Math.sqrt(1 + r * r);
  }
  if (y === 0) return 0;
  const r = x / y;
  return y * Math.sqrt(1 + r * r);
}

/**
 * Eigenvalues (ascending) and, if asked, eigenvectors of a symmetric [n,n] matrix (only read, never
 * changed). JAMA's V[r][c] is kept column-major here (w[c·n + r]) so every inner loop runs over
 * contiguous memory; that also makes row i of the result eigenvector i.
 */
export function symEig(a: Float64Array, n: number, opts: { vectors?: boolean } = {}): SymEig {
  if (a.length !== n * n) throw new Error(`symEig: got ${a.length} values for [${n},${n}]`);
  const wantVectors = opts.vectors ?? true;
  for (let i = 0; i < n * n; i++) if (!Number.isFinite(a[i])) throw new Error('symEig: matrix has non-finite entries');
  const w = Float64Array.from(a);
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, vectors: wantVectors ? w : null };
  tred2(w, n, d, e, wantVectors);
  tql2(w, n, d, e, wantVectors);
  return { values: d, vectors: wantVectors ? w : null };
}

// Householder reduction to tridiagonal form; V[r][c] ≡ w[c*n + r].
function tred2(w: Float64Array, n: number, d: Float64Array, e: Float64Array, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = w[j * n + n - 1];
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]);
    if (scale === 0) {
      e[i] = d[i - 1];
      for (let j = 0; j < i; j++) {
        d[j] = w[j * n + i - 1];
        w[j * n + i] = 0;
        w[i * n + j] = 0;
      }
    } else {
      for (let k = 0; k < i; k++) {
        d[k] /= scale;
        h += d[k] * d[k];
      }
      let f = d[i - 1];
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        w[i * n + j] = f;
        g = e[j] + w[cj + j] * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const v = w[cj + k];
          g += v * d[k];
          e[k] += v * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] /= h;
        f += e[j] * d[j];
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] -= hh * d[j];
      for (let j = 0; j < i; j++) {
        const cj = j * n;
        f = d[j];
        g = e[j];
        for (let k = j; k <= i - 1; k++) w[cj + k] -= f * e[k] + g * d[k];
        d[j] = w[cj + i - 1];
        w[cj + i] = 0;
      }
    }
    d[i] = h;
  }
  if (!accumulate) {
    // Without vectors the diagonal of the reduced matrix is all tql2 needs (JAMA reads it back from V).
    for (let j = 0; j < n; j++) d[j] = w[j * n + j];
    e[0] = 0;
    return;
  }
  accumulateReflectors(w, n, d);
  e[0] = 0;
}

/**
 * JAMA's "accumulate transformations" step, reorganised by columns: column j of V starts as e_j and
 * receives reflectors i = j..n−2 (u_i = V[0..i][i+1], h_i = d[i+1]) in order. Columns are independent,
 * so strips of STRIP columns take each reflector once while it is in cache, four columns per pass.
 * On return d holds the tridiagonal's diagonal and w the orthogonal Q (column-major as above).
 */
function accumulateReflectors(w: Float64Array, n: number, d: Float64Array): void {
  const STRIP = 32;
  const h = new Float64Array(n);
  for (let i = 0; i < n - 1; i++) h[i] = d[i + 1];
  for (let j = 0; j < n; j++) d[j] = w[j * n + j];
  const saved = new Float64Array(STRIP * n);
  const buf = new Float64Array(STRIP * n);
  for (let j0 = 0; j0 < n; j0 += STRIP) {
    const j1 = Math.min(n, j0 + STRIP);
    const width = j1 - j0;
    // rows j0..j1-1 of w hold reflectors u_{j0-1}..u_{j1-2}; keep them, the strip's result goes there
    saved.set(w.subarray(j0 * n, j1 * n));
    buf.fill(0);
    for (let c = 0; c < width; c++) buf[c * n + j0 + c] = 1;
    for (let i = j0; i < n - 1; i++) {
      const hi = h[i];
      if (hi === 0) continue;
      const u = i + 1 < j1 ? saved : w;
      const uo = i + 1 < j1 ? (i + 1 - j0) * n : (i + 1) * n;
      const len = i + 1;
      const cEnd = Math.min(width, i - j0 + 1); // columns j0+c ≤ i
      let c = 0;
      for (; c + 4 <= cEnd; c += 4) {
        const o0 = c * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        let g0 = 0, g1 = 0, g2 = 0, g3 = 0;
        for (let k = 0; k < len; k++) {
          const uk = u[uo + k];
          g0 += uk * buf[o0 + k];
          g1 += uk * buf[o1 + k];
          g2 += uk * buf[o2 + k];
          g3 += uk * buf[o3 + k];
        }
        g0 /= hi;
        g1 /= hi;
        g2 /= hi;
        g3 /= hi;
        for (let k = 0; k < len; k++) {
          const uk = u[uo + k];
          buf[o0 + k] -= g0 * uk;
          buf[o1 + k] -= g1 * uk;
          buf[o2 + k] -= g2 * uk;
          buf[o3 + k] -= g3 * uk;
        }
      }
      for (; c < cEnd; c++) {
        const o = c * n;
        let g = 0;
        for (let k = 0; k < len; k++) g += u[uo + k] * buf[o + k];
        g /= hi;
        for (let k = 0; k < len; k++) buf[o + k] -= g * u[uo + k];
      }
    }
    w.set(buf.subarray(0, width * n), j0 * n);
  }
}

// Implicit QL on the tridiagonal (d, e[i] = T(i, i−1)), rotating the columns of V (contiguous rows of w)
// when asked. Also used by eigen-blocked.ts after its own reduction.
export function tql2(w: Float64Array, n: number, d: Float64Array, e: Float64Array, vectors: boolean): void {
  const rotations = qlSweeps(n, d, e, vectors);
  if (rotations) rotations.applyTo(w, n);
  sortEigen(w, n, d, vectors);
}

/**
 * The QL iterations of tql2 on (d, e): d becomes the (unsorted) eigenvalues; with `vectors`, the
 * Givens rotations are recorded for the eigenvectors (RotationLog.applyTo) instead of applied.
 */
export function qlSweeps(n: number, d: Float64Array, e: Float64Array, vectors: boolean): RotationLog | null {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  const rotations = vectors ? new RotationLog() : null;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= eps * tst1) break;
      m++;
    }
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 100) throw new Error(`symEig: QL iteration did not converge for eigenvalue ${l}`);
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hypot(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (rotations) rotations.push(i, c, s);
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > eps * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  return rotations;
}

/** Selection sort of the eigenvalues, ascending, swapping eigenvectors (contiguous rows of w) along. */
export function sortEigen(w: Float64Array, n: number, d: Float64Array, vectors: boolean): void {
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      if (vectors) {
        const ci = i * n, ck = k * n;
        for (let j = 0; j < n; j++) {
          const t = w[ci + j];
          w[ci + j] = w[ck + j];
          w[ck + j] = t;
        }
      }
    }
  }
}

/**
 * The Givens rotations of tql2, recorded in order and replayed on strips of V's rows afterwards (each
 * strip stays in cache across all rotations instead of the whole matrix streaming through per QL sweep).
 * A QL sweep rotates rows m−1, m−2, …, l in turn, so the row shared by consecutive rotations is carried
 * in a register: one load and one store per rotation and element instead of two each.
 */
export class RotationLog {
  private idx = new Int32Array(1 << 16);
  private cs = new Float64Array(2 << 16);
  private count = 0;

  push(i: number, c: number, s: number): void {
    if (this.count === this.idx.length) {
      const idx = new Int32Array(this.idx.length * 2);
      idx.set(this.idx);
      this.idx = idx;
      const cs = new Float64Array(this.cs.length * 2);
      cs.set(this.cs);
      this.cs = cs;
    }
    this.idx[this.count] = i;
    this.cs[2 * this.count] = c;
    this.cs[2 * this.count + 1] = s;
    this.count++;
  }

  /** Rotation (i, c, s) maps entries i, i+1 of every eigenvector column to (c·xᵢ − s·xᵢ₊₁, s·xᵢ + c·xᵢ₊₁). */
  applyTo(w: Float64Array, n: number): void {
    applyRotations(w, n, this.idx, this.cs, this.count);
  }
}

/** Rotations (idx, cs)[0..count) applied to every column of V (w as in symEig), in strips of components. */
function applyRotations(w: Float64Array, n: number, idx: Int32Array, cs: Float64Array, count: number): void {
  // sweeps: maximal runs of consecutive rotations on rows top, top−1, …
  const sweepStart: number[] = [];
  for (let q = 0; q < count; q++) if (q === 0 || idx[q] !== idx[q - 1] - 1) sweepStart.push(q);
  sweepStart.push(count);
  const width = 32;
  // strip[t·n + r] = w[r·n + k0 + t]: component k0+t of every column of V, contiguous over r
  const strip = new Float64Array(width * n);
  for (let k0 = 0; k0 < n; k0 += width) {
    const kw = Math.min(width, n - k0);
    for (let r = 0; r < n; r++) for (let t = 0; t < kw; t++) strip[t * n + r] = w[r * n + k0 + t];
    for (let sw = 0; sw + 1 < sweepStart.length; sw++) {
      const q0 = sweepStart[sw], q1 = sweepStart[sw + 1];
      const top = idx[q0];
      let t = 0;
      // four columns at once: independent carry chains hide the multiply-add latency
      for (; t + 4 <= kw; t += 4) {
        const o0 = t * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
        let a0 = strip[o0 + top + 1], a1 = strip[o1 + top + 1], a2 = strip[o2 + top + 1], a3 = strip[o3 + top + 1];
        let i = top;
        for (let q = q0; q < q1; q++, i--) {
          const c = cs[2 * q], s = cs[2 * q + 1];
          const v0 = strip[o0 + i], v1 = strip[o1 + i], v2 = strip[o2 + i], v3 = strip[o3 + i];
          strip[o0 + i + 1] = s * v0 + c * a0;
          strip[o1 + i + 1] = s * v1 + c * a1;
          strip[o2 + i + 1] = s * v2 + c * a2;
          strip[o3 + i + 1] = s * v3 + c * a3;
          a0 = c * v0 - s * a0;
          a1 = c * v1 - s * a1;
          a2 = c * v2 - s * a2;
          a3 = c * v3 - s * a3;
        }
        strip[o0 + i + 1] = a0;
        strip[o1 + i + 1] = a1;
        strip[o2 + i + 1] = a2;
        strip[o3 + i + 1] = a3;
      }
      for (; t < kw; t++) {
        const o = t * n;
        let carry = strip[o + top + 1];
        let i = top;
        for (let q = q0; q < q1; q++, i--) {
          const c = cs[2 * q], s = cs[2 * q + 1];
          const v = strip[o + i];
          strip[o + i + 1] = s * v + c * carry;
          carry = c * v - s * carry;
        }
        strip[o + i + 1] = carry;
      }
    }
    for (let r = 0; r < n; r++) for (let t = 0; t < kw; t++) w[r * n + k0 + t] = strip[t * n + r];
  }
}
