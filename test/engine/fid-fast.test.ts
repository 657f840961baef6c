// FID's fast path (onnxruntime's float64 GEMM, the blocked eigensolver, divide and conquer on the
// tridiagonal): the same numbers as the TypeScript path and as SciPy's fixtures, on the shapes that
// exercise every branch (panels and the unblocked rest, deflation of zero, repeated and close
// eigenvalues, both signs of the coupling, N below d).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { featureStats, featureStatsAsync, fidFromStats, fidFromStatsAsync } from '../../engine/metrics/fid';
import { onnxDgemm, dgemmUnavailableReason, type Dgemm } from '../../engine/metrics/dgemm';
import { symEigBlocked } from '../../engine/metrics/eigen-blocked';
import { tridiagEig } from '../../engine/metrics/tridiag-dc';
import { matmul, symEig, transpose } from '../../engine/metrics/linalg';
import { oneNodeModel, ONNX_DOUBLE } from '../../engine/onnx/graph';

const dir = join(__dirname, '../fixtures/metrics');
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { fid: { case: string; a: string; b: string; na: number; nb: number; dim: number; fid_eig: number }[] };

function readF32(name: string): Float32Array {
  const buf = readFileSync(join(dir, name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

async function gemm(): Promise<Dgemm> {
  const dg = await onnxDgemm();
  if (!dg) throw new Error(`onnxruntime's GEMM did not start: ${dgemmUnavailableReason()}`);
  return dg;
}

function wishart(n: number, rng: Rng, rank = n): Float64Array {
  const b = new Float64Array(n * rank).map(() => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    let s = 0;
    for (let k = 0; k < rank; k++) s += b[i * rank + k] * b[j * rank + k];
    a[i * n + j] = a[j * n + i] = s / rank;
  }
  return a;
}

/** Largest entry of A·v − λ·v over the eigenpairs (A given as y = A·x) and of VᵀV − I. */
function eigenErrors(apply: (x: Float64Array, y: Float64Array) => void, values: Float64Array, v: Float64Array, n: number): { res: number; orth: number } {
  let res = 0, orth = 0;
  const y = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    const x = v.subarray(j * n, j * n + n);
    apply(x, y);
    for (let r = 0; r < n; r++) res = Math.max(res, Math.abs(y[r] - values[j] * x[r]));
    for (let i = j; i < n; i++) {
      let s = 0;
      for (let c = 0; c < n; c++) s += v[i * n + c] * x[c];
      orth = Math.max(orth, Math.abs(s - (i === j ? 1 : 0)));
    }
  }
  return { res, orth };
}

describe('onnxruntime float64 GEMM', () => {
  it('writes a one-node model onnxruntime accepts, and every transpose combination matches the TypeScript product', async () => {
    const bytes = oneNodeModel({ op: 'Gemm', inputs: [{ name: 'A', elemType: ONNX_DOUBLE, dims: ['a', 'b'] }], outputs: [{ name: 'Y', elemType: ONNX_DOUBLE, dims: ['m'] }] });
    expect(Array.from(bytes.subarray(0, 2))).toEqual([0x08, 0x08]); // field 1 (ir_version), varint 8
    const dg = await gemm();
    expect(dg.label).toMatch(/onnxruntime float64 GEMM, \d+ thread/);
    const rng = new Rng(3);
    const [m, k, n] = [7, 5, 6];
    const a = new Float64Array(m * k).map(() => rng.normal());
    const b = new Float64Array(k * n).map(() => rng.normal());
    const ref = matmul(a, b, m, k, n);
    const at = transpose(a, m, k), bt = transpose(b, k, n);
    for (const [x, xr, xc, y, yr, yc, ta, tb] of [
      [a, m, k, b, k, n, false, false],
      [at, k, m, b, k, n, true, false],
      [a, m, k, bt, n, k, false, true],
      [at, k, m, bt, n, k, true, true],
    ] as const) {
      const got = await dg.gemm(x, xr, xc, y, yr, yc, ta, tb);
      expect(got.length).toBe(m * n);
      for (let i = 0; i < m * n; i++) expect(Math.abs(got[i] - ref[i])).toBeLessThan(1e-12);
    }
    await expect(dg.gemm(a, m, k, a, m, k, false, false)).rejects.toThrow(/inner dimensions differ/);
  });
});

describe('blocked eigensolver', () => {
  for (const [n, label] of [[200, 'two panels and the unblocked rest'], [60, 'unblocked only']] as const) {
    it(`${label} (n = ${n}): the eigenvalues of symEig, orthonormal eigenvectors, A·v = λ·v`, async () => {
      const dg = await gemm();
      const a = wishart(n, new Rng(n), Math.floor(n / 2)); // rank n/2: half the eigenvalues are 0
      const ref = symEig(a, n);
      const got = await symEigBlocked(a, n, dg);
      const scale = ref.values[n - 1];
      for (let i = 0; i < n; i++) expect(Math.abs(got.values[i] - ref.values[i])).toBeLessThan(1e-12 * scale);
      const dense = (x: Float64Array, y: Float64Array): void => {
        for (let r = 0; r < n; r++) {
          let s = 0;
          for (let c = 0; c < n; c++) s += a[r * n + c] * x[c];
          y[r] = s;
        }
      };
      const { res, orth } = eigenErrors(dense, got.values, got.vectors as Float64Array, n);
      expect(res).toBeLessThan(1e-12 * scale);
      expect(orth).toBeLessThan(1e-12);
      const valuesOnly = await symEigBlocked(a, n, dg, { vectors: false });
      expect(valuesOnly.vectors).toBeNull();
      // values alone come from QL, with vectors from divide and conquer: the same to round-off
      for (let i = 0; i < n; i++) expect(Math.abs(valuesOnly.values[i] - got.values[i])).toBeLessThan(1e-12 * scale);
    });
  }

  for (const [kind, make] of [
    ['random', (i: number, rng: Rng) => [rng.normal(), rng.normal()]],
    // Wilkinson's W⁺: pairs of eigenvalues equal to many digits (close-pole deflation)
    ['Wilkinson', (i: number, _r: Rng, n: number) => [Math.abs(i - (n - 1) / 2), 1]],
    // many exact repeats and a split tridiagonal (zero couplings: ρ = 0 merges)
    ['repeated, split', (i: number) => [i % 3 === 0 ? 0 : 1, i % 5 === 0 ? 0 : 1e-3]],
    // entries over 17 decades, couplings of both signs
    ['graded', (i: number) => [10 ** -(i % 17), (i % 2 ? -1 : 1) * 10 ** (-(i % 13) - 1)]],
  ] as const) {
    it(`divide and conquer on a ${kind} tridiagonal (n = 300): the QL eigenvalues, orthonormal vectors, T·v = λ·v`, async () => {
      const dg = await gemm();
      const n = 300;
      const rng = new Rng(5);
      const d = new Float64Array(n), e = new Float64Array(n);
      for (let i = 0; i < n; i++) [d[i], e[i]] = make(i, rng, n);
      const full = new Float64Array(n * n);
      for (let i = 0; i < n; i++) {
        full[i * n + i] = d[i];
        if (i + 1 < n) full[i * n + i + 1] = full[(i + 1) * n + i] = e[i];
      }
      const ref = symEig(full, n);
      const got = await tridiagEig(d, e, n, dg);
      let scale = 0;
      for (let i = 0; i < n; i++) scale = Math.max(scale, Math.abs(ref.values[i]));
      let dv = 0;
      for (let j = 0; j < n; j++) dv = Math.max(dv, Math.abs(got.values[j] - ref.values[j]));
      const tri = (x: Float64Array, y: Float64Array): void => {
        for (let r = 0; r < n; r++) y[r] = d[r] * x[r] + (r > 0 ? e[r - 1] * x[r - 1] : 0) + (r + 1 < n ? e[r] * x[r + 1] : 0);
      };
      const { res, orth } = eigenErrors(tri, got.values, got.vectors, n);
      expect(dv).toBeLessThan(1e-12 * scale);
      expect(res).toBeLessThan(1e-12 * scale);
      expect(orth).toBeLessThan(1e-12);
    });
  }

  it('a diagonal matrix with repeated and zero eigenvalues (reflectors of τ = 0)', async () => {
    const dg = await gemm();
    const n = 140;
    const a = new Float64Array(n * n);
    for (let i = 0; i < n; i++) a[i * n + i] = i % 3 === 0 ? 0 : 2;
    const got = await symEigBlocked(a, n, dg);
    const zeros = Math.ceil(n / 3);
    expect(Array.from(got.values)).toEqual([...Array(zeros).fill(0), ...Array(n - zeros).fill(2)]);
  });
});

describe('FID through the fast path', () => {
  for (const c of manifest.fid) {
    // N < d: Σ₁ is singular, and √λ of its round-off-sized eigenvalues (≈1e-16) turns the two paths'
    // different summation orders into ≈1e-8 of each other; with N ≥ d they agree to 1e-9 or better
    const tol = c.na < c.dim || c.nb < c.dim ? 1e-7 : 1e-9;
    it(`${c.case}: SciPy's value, and the TypeScript path's within ${tol}`, async () => {
      const a = readF32(c.a), b = readF32(c.b);
      const sa = await featureStatsAsync(a, c.na, c.dim, { minWork: 0 });
      const sb = await featureStatsAsync(b, c.nb, c.dim, { minWork: 0 });
      const ja = featureStats(a, c.na, c.dim), jb = featureStats(b, c.nb, c.dim);
      for (let i = 0; i < c.dim * c.dim; i++) expect(Math.abs(sa.sigma[i] - ja.sigma[i])).toBeLessThan(1e-12 * (1 + Math.abs(ja.sigma[i])));
      const fast = await fidFromStatsAsync(sa, sb, { minWork: 0 });
      const slow = fidFromStats(ja, jb);
      expect(Math.abs(fast.fid - c.fid_eig) / c.fid_eig).toBeLessThan(1e-6);
      expect(Math.abs(fast.fid - slow.fid) / slow.fid).toBeLessThan(tol);
      expect(fast.warnings).toEqual(slow.warnings);
    });
  }

  it('covariance in column blocks (d = 800: two blocks of 400): the TypeScript covariance, exactly symmetric', async () => {
    const n = 850, d = 800;
    const rng = new Rng(8);
    const base = new Float32Array(n * d).map(() => rng.normal());
    // correlated columns, so the off-diagonal blocks are far from zero
    const x = base.map((v, i) => v + 0.5 * base[i - (i % d)]);
    const fast = await featureStatsAsync(x, n, d, { minWork: 0 });
    const ref = featureStats(x, n, d);
    let worst = 0;
    for (let i = 0; i < d * d; i++) worst = Math.max(worst, Math.abs(fast.sigma[i] - ref.sigma[i]) / (1 + Math.abs(ref.sigma[i])));
    expect(worst).toBeLessThan(1e-12);
    expect(Math.abs(fast.sigma[3 * d + 700])).toBeGreaterThan(0.1); // an off-diagonal block entry
    for (let i = 0; i < d; i += 7) for (let j = 0; j < d; j += 11) expect(fast.sigma[i * d + j]).toBe(fast.sigma[j * d + i]);
  });

  it('refuses statistics of different dimensions, as the TypeScript path', async () => {
    const rng = new Rng(1);
    const x = new Float32Array(40 * 4).map(() => rng.normal());
    const y = new Float32Array(40 * 3).map(() => rng.normal());
    await expect(fidFromStatsAsync(featureStats(x, 40, 4), featureStats(y, 40, 3), { minWork: 0 })).rejects.toThrow(/feature dimensions differ/);
  });
});
