// FID, KID and the eigensolver against SciPy reference values (test/fixtures/metrics/manifest.json).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { featureStats, fidFromStats } from '../../engine/metrics/fid';
import { kid, mmd2Unbiased } from '../../engine/metrics/kid';
import { gemmABt, matmul, meanCov, symEig, transpose } from '../../engine/metrics/linalg';

const dir = join(__dirname, '../fixtures/metrics');

interface FidCase {
  case: string;
  a: string;
  b: string;
  na: number;
  nb: number;
  dim: number;
  fid_eig: number;
  fid_self: number;
  kid_all: number;
}
const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as { fid: FidCase[] };

function readF32(name: string): Float32Array {
  const buf = readFileSync(join(dir, name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

function randomSymmetric(n: number, rng: Rng): Float64Array {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) a[i * n + j] = a[j * n + i] = rng.normal();
  return a;
}

function frob(a: Float64Array): number {
  return Math.sqrt(a.reduce((s, v) => s + v * v, 0));
}

describe('symEig', () => {
  for (const n of [5, 50, 200]) {
    it(`reconstructs a random symmetric ${n}×${n} matrix with orthogonal eigenvectors`, () => {
      const a = randomSymmetric(n, new Rng(n));
      const before = Float64Array.from(a);
      const { values, vectors } = symEig(a, n);
      expect(a).toEqual(before); // input untouched
      const vt = vectors as Float64Array; // rows are eigenvectors
      for (let i = 1; i < n; i++) expect(values[i]).toBeGreaterThanOrEqual(values[i - 1]);
      // V Λ Vᵀ: (Vᵀ)ᵀ Λ Vᵀ
      const lv = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) lv[i * n + j] = values[i] * vt[i * n + j];
      const rec = matmul(transpose(vt, n, n), lv, n, n, n);
      const err = new Float64Array(n * n).map((_, i) => rec[i] - a[i]);
      expect(frob(err) / frob(a)).toBeLessThan(1e-9);
      const gram = gemmABt(vt, vt, n, n, n, new Float64Array(n * n)); // VᵀV
      let orth = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(gram[i * n + j] - (i === j ? 1 : 0)));
      expect(orth).toBeLessThan(1e-10);
      const valuesOnly = symEig(a, n, { vectors: false });
      expect(valuesOnly.vectors).toBeNull();
      for (let i = 0; i < n; i++) expect(valuesOnly.values[i]).toBeCloseTo(values[i], 9);
    });
  }

  it('handles a diagonal matrix with repeated and zero eigenvalues', () => {
    const a = new Float64Array([2, 0, 0, 0, 0, 0, 0, 0, 2]);
    expect(Array.from(symEig(a, 3).values)).toEqual([0, 2, 2]);
  });
});

describe('meanCov', () => {
  it('matches a direct two-pass covariance with N−1 on odd shapes', () => {
    const rng = new Rng(7);
    const n = 301, d = 67;
    const x = new Float32Array(n * d).map(() => rng.normal() * 3 + 10);
    const { mean, cov } = meanCov(x, n, d);
    for (const [i, j] of [[0, 0], [3, 66], [66, 3], [40, 41], [66, 66]]) {
      let s = 0;
      for (let r = 0; r < n; r++) s += (x[r * d + i] - mean[i]) * (x[r * d + j] - mean[j]);
      expect(cov[i * d + j]).toBeCloseTo(s / (n - 1), 10);
    }
  });
});

describe('FID and KID against SciPy', () => {
  for (const c of manifest.fid) {
    it(`${c.case}: FID (eigen form), FID(a,a) and KID over all samples`, () => {
      const a = readF32(c.a), b = readF32(c.b);
      expect(a.length).toBe(c.na * c.dim);
      const sa = featureStats(a, c.na, c.dim), sb = featureStats(b, c.nb, c.dim);
      const r = fidFromStats(sa, sb);
      expect(Math.abs(r.fid - c.fid_eig) / c.fid_eig).toBeLessThan(1e-6);
      const self = fidFromStats(sa, sa).fid;
      let scale = 0;
      for (let i = 0; i < c.dim; i++) scale += sa.sigma[i * c.dim + i];
      expect(Math.abs(self)).toBeLessThan(1e-6 * scale);
      const k = kid(a, c.na, b, c.nb, c.dim, { allSamples: true });
      expect(Math.abs(k.kid - c.kid_all) / Math.abs(c.kid_all)).toBeLessThan(1e-6);
      if (c.na < c.dim) expect(r.warnings.join(' ')).toMatch(/below the feature dimension/);
      else expect(r.warnings).toEqual([]);
    });
  }

  it('closed form for diagonal covariances: Σ(μ₁−μ₂)² + Σ(√v₁ − √v₂)², also at d = 1', () => {
    const stats = (mu: number[], v: number[]) => {
      const d = mu.length;
      const sigma = new Float64Array(d * d);
      v.forEach((x, i) => (sigma[i * d + i] = x));
      return { mu: Float64Array.from(mu), sigma, n: 100, d };
    };
    const a = stats([1, -2, 0.5], [4, 0.25, 9]), b = stats([0, -2, 1.5], [1, 1, 0]);
    const expected = 1 + 0 + 1 + (2 - 1) ** 2 + (0.5 - 1) ** 2 + (3 - 0) ** 2;
    expect(fidFromStats(a, b).fid).toBeCloseTo(expected, 12);
    expect(fidFromStats(stats([3], [16]), stats([1], [9])).fid).toBeCloseTo(4 + 1, 12);
  });

  it('refuses statistics of different dimensions', () => {
    const rng = new Rng(1);
    const a = featureStats(new Float32Array(40).map(() => rng.normal()), 10, 4);
    const b = featureStats(new Float32Array(50).map(() => rng.normal()), 10, 5);
    expect(() => fidFromStats(a, b)).toThrow(/dimensions differ/);
  });

  it('KID subsets: deterministic per seed, mean near the all-sample value, positive for shifted sets', () => {
    const rng = new Rng(3);
    const n = 300, d = 16;
    const x = new Float32Array(n * d).map(() => rng.normal());
    const y = new Float32Array(n * d).map(() => rng.normal() + 0.5);
    const k1 = kid(x, n, y, n, d, { subsetSize: 100, subsets: 20, seed: 9 });
    const k2 = kid(x, n, y, n, d, { subsetSize: 100, subsets: 20, seed: 9 });
    expect(k1.values).toEqual(k2.values);
    expect(k1.subsetSize).toBe(100);
    expect(k1.std).toBeGreaterThan(0);
    const all = mmd2Unbiased(x, n, y, n, d);
    expect(all).toBeGreaterThan(0.1);
    expect(Math.abs(k1.kid - all)).toBeLessThan(4 * k1.std);
    const same = kid(x, n, x, n, d, { subsetSize: 100, subsets: 20, seed: 9 });
    expect(Math.abs(same.kid)).toBeLessThan(0.1 * all);
  });
});
