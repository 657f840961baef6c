// Latent perturbation (METHOD §2): flip rates, uniform rank draws, exact mode, image share, annealing.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import { annealKnobs, drawPerturbation, exactCandidates, expectedFlipRate, lpDecoderInput, nearestRanks, perturbTokens, perturbedCount, resolveDelta, type LpKnobs } from '../../engine/perturb';
import { annealRatio, annealRatioExact, exactDecimal } from '../../engine/train/schedules';
import type { QuantizerConfig } from '../../engine/models/quantizer';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

const knobs = (o: Partial<LpKnobs>): LpKnobs => ({ alpha: 1, beta: 1, delta: 4, deltaMode: 'abs', includeSelf: true, selection: 'bernoulli', anchor: 'z', ...o });

/** Synthetic rank lists: token i's clean code is i % K, its rank-r neighbour is (clean + r) % K. */
function synth(B: number, T: number, delta: number, K = 1000) {
  const clean = new Int32Array(B * T).map((_, i) => i % K);
  const ranks = new Int32Array(B * T * delta);
  for (let i = 0; i < B * T; i++) for (let r = 0; r < delta; r++) ranks[i * delta + r] = (clean[i] + r) % K;
  return { clean, ranks };
}

describe('knob helpers', () => {
  it('resolveDelta and expectedFlipRate', () => {
    expect(resolveDelta({ delta: 100, deltaMode: 'abs' }, 4096)).toBe(100);
    expect(resolveDelta({ delta: 0.024, deltaMode: 'share' }, 4096)).toBe(98);
    expect(resolveDelta({ delta: 0.0001, deltaMode: 'share' }, 64)).toBe(1);
    expect(resolveDelta({ delta: 500, deltaMode: 'abs' }, 64)).toBe(64);
    expect(expectedFlipRate({ alpha: 0.8, delta: 5, includeSelf: true })).toBeCloseTo(0.64, 12);
    expect(expectedFlipRate({ alpha: 0.8, delta: 5, includeSelf: false })).toBeCloseTo(0.8, 12);
    expect(expectedFlipRate({ alpha: 0.8, delta: 1, includeSelf: false })).toBe(0);
  });
  it('annealKnobs at start, middle and end epochs (β constant, δ floored, ≥ 1)', () => {
    const k = knobs({ alpha: 1, beta: 0.1, delta: 100 });
    const a = { start: 0.2, end: 0.6, endRatio: 0.5 };
    expect(annealKnobs(k, 0, 10, a)).toMatchObject({ alpha: 1, delta: 100, beta: 0.1 });
    expect(annealKnobs(k, 2, 10, a)).toMatchObject({ alpha: 1, delta: 100 });
    const mid = annealKnobs(k, 4, 10, a);
    expect(mid.alpha).toBeCloseTo(0.75, 12);
    expect(mid.delta).toBe(75);
    expect(annealKnobs(k, 6, 10, a)).toMatchObject({ alpha: 0.5, delta: 50, beta: 0.1 });
    expect(annealKnobs(k, 9, 10, a)).toMatchObject({ alpha: 0.5, delta: 50 });
    expect(annealKnobs(knobs({ delta: 3 }), 9, 10, { start: 0, end: 0.5, endRatio: 0.1 }).delta).toBe(1);
    expect(annealKnobs(knobs({ delta: 0.024, deltaMode: 'share' }), 0, 10, null, 4096)).toMatchObject({ delta: 98, deltaMode: 'abs' });
    expect(() => annealKnobs(knobs({ deltaMode: 'share', delta: 0.1 }), 0, 10, a)).toThrow(/K/);
  });
});

describe('exact floors of METHOD §2 (no binary rounding)', () => {
  it('⌊B·β⌋ of B = 100, β = 0.29 is 29 (floats say 28), and the draw perturbs exactly that many images', () => {
    expect(Math.floor(100 * 0.29)).toBe(28); // the float trap this guards against
    expect(perturbedCount(100, 0.29)).toBe(29);
    const T = 4, delta = 3;
    const { clean, ranks } = synth(100, T, delta);
    const res = drawPerturbation(clean, ranks, 100, T, knobs({ alpha: 1, beta: 0.29, delta, includeSelf: false }), new Rng(3));
    expect(res.perturbedImages).toBe(29);
    // includeSelf false, α = 1: every token of the 29 images changes, none of the others
    for (let b = 0; b < 100; b++) expect(res.mask.subarray(b * T, (b + 1) * T).reduce((a, v) => a + v, 0), `image ${b}`).toBe(b < 29 ? T : 0);
  });

  it('annealed δ of the reference recipe (40 → 120, end ratio 0.5, 200 epochs) at epoch 88 is ⌊0.7·360⌋ = 252 (floats say 251)', () => {
    const epochs = { start: 40, end: 120, endRatio: 0.5, unit: 'epoch' as const };
    const fraction = { start: 0.2, end: 0.6, endRatio: 0.5 };
    const floatR = 1 + ((88 - 40) / (120 - 40)) * (0.5 - 1);
    expect(Math.floor(floatR * 360)).toBe(251); // the float trap
    for (const a of [epochs, fraction]) {
      expect(annealRatioExact(88, 200, a)).toEqual({ n: 7n, d: 10n });
      expect(annealKnobs(knobs({ delta: 360 }), 88, 200, a)).toMatchObject({ delta: 252, alpha: 0.7 });
    }
    // share of K: 360 of K = 16384 written as a share resolves to 360 first, then anneals the same way
    expect(annealKnobs(knobs({ delta: 360 / 16384, deltaMode: 'share' }), 88, 200, fraction, 16384).delta).toBe(252);
  });

  it('⌊B·β⌋ matches an integer reference for every β = i/100 and B ≤ 256', () => {
    for (let i = 0; i <= 100; i++) {
      const beta = i / 100;
      for (let B = 1; B <= 256; B++) expect(perturbedCount(B, beta), `B ${B} β ${beta}`).toBe(Number((BigInt(B) * BigInt(i)) / 100n));
    }
    // three-decimal shares against the same kind of reference
    for (let i = 0; i <= 1000; i += 7) for (const B of [1, 3, 64, 1000, 4096]) expect(perturbedCount(B, i / 1000)).toBe(Number((BigInt(B) * BigInt(i)) / 1000n));
  });

  it('annealed δ matches a rational reference over every epoch, δ and end ratio of a sweep', () => {
    // integer epochs e, start s, end t, end ratio p/100: r = 1 − (e−s)/(t−s)·(1 − p/100)
    // ⌊r·δ⌋ = ⌊δ·(100(t−s) − (e−s)(100 − p)) / (100(t−s))⌋ inside the ramp
    for (const [s, t, total] of [[40, 120, 200], [3, 10, 12], [20, 60, 100]]) {
      for (const p of [0, 10, 25, 50, 70, 99]) {
        const a = { start: s, end: t, endRatio: p / 100, unit: 'epoch' as const };
        for (let e = 0; e < total; e++) {
          for (const delta of [2, 7, 100, 360, 4096]) {
            const num = e <= s ? 100n : e >= t ? BigInt(p) : BigInt(100 * (t - s) - (e - s) * (100 - p));
            const den = e <= s || e >= t ? 100n : BigInt(100 * (t - s));
            const want = Math.max(1, Number((BigInt(delta) * num) / den));
            expect(annealKnobs(knobs({ delta }), e, total, a).delta, `s ${s} t ${t} p ${p} e ${e} δ ${delta}`).toBe(want);
          }
        }
      }
    }
  });

  it('round(α·T) of exact selection and round(share·K) are exact too', () => {
    // 0.5·…: halves go up like Math.round; 0.145·200 = 29 exactly (floats: 28.999999999999996)
    expect(0.145 * 200).toBeLessThan(29);
    expect(exactCandidates(0.145, 200)).toBe(29);
    expect(resolveDelta({ delta: 0.145, deltaMode: 'share' }, 200)).toBe(29);
    for (let i = 0; i <= 1000; i += 3) for (const T of [16, 49, 64, 200]) expect(exactCandidates(i / 1000, T)).toBe(Number((BigInt(T) * BigInt(i) * 2n + 1000n) / 2000n));
  });

  it('exactDecimal reads the printed decimal, exponents included; annealRatio is its nearest double', () => {
    expect(exactDecimal(0.29)).toEqual({ n: 29n, d: 100n });
    expect(exactDecimal(1e-7)).toEqual({ n: 1n, d: 10000000n });
    expect(exactDecimal(2.5e21)).toEqual({ n: 2500000000000000000000n, d: 1n });
    expect(exactDecimal(-1.25)).toEqual({ n: -5n, d: 4n });
    expect(annealRatio(88, 200, { start: 0.2, end: 0.6, endRatio: 0.5 })).toBe(0.7);
  });
});

describe('drawPerturbation', () => {
  it('empirical flip rate is within 3σ of α(δ−1)/δ (and α when excluding self)', () => {
    const B = 64, T = 64;
    for (const [alpha, delta, self] of [[0.5, 2, true], [0.8, 5, true], [1, 10, true], [0.3, 100, true], [0.6, 3, false]] as const) {
      const { clean, ranks } = synth(B, T, delta);
      const res = drawPerturbation(clean, ranks, B, T, knobs({ alpha, delta, includeSelf: self }), new Rng(11));
      const p = expectedFlipRate({ alpha, delta, includeSelf: self });
      expect(res.expected).toBeCloseTo(p, 12);
      const sigma = Math.sqrt((p * (1 - p)) / (B * T));
      expect(Math.abs(res.flipRate - p)).toBeLessThan(3 * sigma + 1e-9);
      let m = 0;
      for (let i = 0; i < clean.length; i++) {
        m += res.mask[i];
        expect(res.mask[i] === 1).toBe(res.indices[i] !== clean[i]);
      }
      expect(m).toBe(res.changed);
    }
  });
  it('draws ranks uniformly over 0..δ−1 (chi-square), and 1..δ−1 without self, every candidate flipping', () => {
    const B = 32, T = 256, delta = 8;
    const { clean, ranks } = synth(B, T, delta);
    const res = drawPerturbation(clean, ranks, B, T, knobs({ alpha: 1, delta }), new Rng(5));
    const hist = new Array(delta).fill(0);
    for (const r of res.rank) hist[r]++;
    const e = (B * T) / delta;
    const chi2 = hist.reduce((a, o) => a + (o - e) ** 2 / e, 0);
    expect(chi2).toBeLessThan(24.32); // χ²(7) at p = 0.001
    const ex = drawPerturbation(clean, ranks, B, T, knobs({ alpha: 0.7, delta, includeSelf: false }), new Rng(6));
    expect(ex.candidates).toBeGreaterThan(0);
    expect(ex.changed).toBe(ex.candidates);
    const h2 = new Array(delta).fill(0);
    for (const r of ex.rank) if (r >= 0) h2[r]++;
    expect(h2[0]).toBe(0);
    const e2 = ex.candidates / (delta - 1);
    expect(h2.slice(1).reduce((a, o) => a + (o - e2) ** 2 / e2, 0)).toBeLessThan(22.46); // χ²(6)
  });
  it("'exact' makes exactly round(α·h·w) candidates per image; only the first ⌊B·β⌋ images change", () => {
    const B = 10, T = 49, delta = 6;
    const { clean, ranks } = synth(B, T, delta);
    const res = drawPerturbation(clean, ranks, B, T, knobs({ alpha: 0.3, delta, beta: 0.35, selection: 'exact', includeSelf: false }), new Rng(9));
    expect(res.perturbedImages).toBe(3);
    for (let b = 0; b < B; b++) {
      let c = 0;
      for (let t = 0; t < T; t++) c += res.mask[b * T + t];
      expect(c).toBe(b < 3 ? Math.round(0.3 * T) : 0);
    }
    expect(res.flipRate).toBeCloseTo(Math.round(0.3 * T) / T, 12);
  });
  it('is reproducible from the seed', () => {
    const { clean, ranks } = synth(8, 16, 4);
    const a = drawPerturbation(clean, ranks, 8, 16, knobs({ alpha: 0.5 }), new Rng(1));
    const b = drawPerturbation(clean, ranks, 8, 16, knobs({ alpha: 0.5 }), new Rng(1));
    const c = drawPerturbation(clean, ranks, 8, 16, knobs({ alpha: 0.5 }), new Rng(2));
    expect(Array.from(a.indices)).toEqual(Array.from(b.indices));
    expect(Array.from(a.indices)).not.toEqual(Array.from(c.indices));
  });
});

describe('perturbTokens on tensors', () => {
  const cfg: QuantizerConfig = { K: 16, D: 4, codebookNorm: 'l2', betaCommit: 0.25 };
  function setup() {
    const rng = new Rng(3);
    const norm = (a: number[]) => { const n = Math.hypot(...a); return a.map((x) => x / n); };
    const codesArr = Array.from({ length: 16 }, () => norm([rng.normal(), rng.normal(), rng.normal(), rng.normal()]));
    const zArr = Array.from({ length: 2 * 3 * 3 }, () => norm([rng.normal(), rng.normal(), rng.normal(), rng.normal()]));
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    const clean = new Int32Array(zArr.map((z) => codesArr.map((c) => dot(z, c)).reduce((bi, v, i, arr) => (v > arr[bi] ? i : bi), 0)));
    return { codesArr, zArr, clean, dot };
  }
  it('α = 0 or δ = 1 is the identity; ranks follow the anchor', () => {
    const { codesArr, zArr, clean, dot } = setup();
    const before = tf.memory().numTensors;
    const codes = tf.tensor2d(codesArr);
    const z = tf.tensor4d(zArr.flat(), [2, 3, 3, 4]);
    for (const k of [knobs({ alpha: 0 }), knobs({ delta: 1 }), knobs({ beta: 0.4 })]) {
      const r = perturbTokens(z, codes, clean, k, new Rng(1), cfg);
      expect(Array.from(r.indices)).toEqual(Array.from(clean));
      expect(r.changed).toBe(0);
    }
    const ranksZ = nearestRanks(z, codes, clean, 2, 5, 'z', cfg);
    const ranksE = nearestRanks(z, codes, clean, 2, 5, 'code', cfg);
    for (let i = 0; i < 18; i++) {
      const byZ = codesArr.map((c, k) => [dot(zArr[i], c), k]).sort((a, b) => b[0] - a[0]).map((x) => x[1]);
      const byE = codesArr.map((c, k) => [dot(codesArr[clean[i]], c), k]).sort((a, b) => b[0] - a[0]).map((x) => x[1]);
      expect(Array.from(ranksZ.subarray(i * 5, i * 5 + 5))).toEqual(byZ.slice(0, 5));
      expect(Array.from(ranksE.subarray(i * 5, i * 5 + 5))).toEqual(byE.slice(0, 5));
    }
    const full = perturbTokens(z, codes, clean, knobs({ alpha: 1, delta: 5, includeSelf: false }), new Rng(1), cfg);
    expect(full.changed).toBe(18);
    for (let i = 0; i < 18; i++) expect(Array.from(ranksZ.subarray(i * 5 + 1, i * 5 + 5))).toContain(full.indices[i]);
    tf.dispose([codes, z]);
    expect(tf.memory().numTensors).toBe(before);
  });
  it('decoder input is the new code forward, identity gradient into z', () => {
    const { codesArr, zArr } = setup();
    const codes = tf.tensor2d(codesArr);
    const z = tf.tensor4d(zArr.flat(), [2, 3, 3, 4]);
    const idx = new Int32Array(18).map((_, i) => (i * 5) % 16);
    const out = lpDecoderInput(z, codes, idx);
    const got = out.arraySync() as number[][][][];
    expect(got[1][2][1][3]).toBeCloseTo(codesArr[idx[9 + 7]][3], 6);
    const wts = tf.randomNormal([2, 3, 3, 4], 0, 1, 'float32', 4);
    const g = tf.grad((zz: tf.Tensor) => tf.sum(tf.mul(lpDecoderInput(zz as tf.Tensor4D, codes, idx), wts)))(z);
    expect(Array.from(g.dataSync()).map((x) => +x.toFixed(5))).toEqual(Array.from(wts.dataSync()).map((x) => +x.toFixed(5)));
    tf.dispose([codes, z, out, wts, g]);
  });
});
