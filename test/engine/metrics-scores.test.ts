// IS, precision/recall, codebook stats, PSNR and SSIM (the last two against scikit-image fixtures).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { codebookStats } from '../../engine/metrics/codebook';
import { inceptionScore } from '../../engine/metrics/inception-score';
import { precisionRecall } from '../../engine/metrics/precision-recall';
import { psnr, ssim } from '../../engine/metrics/psnr-ssim';

const dir = join(__dirname, '../fixtures/metrics');

function readF32(name: string): Float32Array {
  const buf = readFileSync(join(dir, name));
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

describe('inception score', () => {
  const p = new Float64Array([0.9, 0.1, 0.2, 0.8, 0.6, 0.4, 0.5, 0.5]);
  it('matches scipy.stats.entropy-based reference values', () => {
    expect(inceptionScore(p, 4, 2, 1).mean).toBeCloseTo(1.1505358065281668, 12);
    const two = inceptionScore(p, 4, 2, 2);
    expect(two.mean).toBeCloseTo(1.161062243148892, 12);
    expect(two.std).toBeCloseTo(0.1559900328947884, 12);
  });
  it('is 1 for identical predictions and C for confident balanced ones', () => {
    const c = 5;
    const same = new Float32Array(20 * c).map((_, i) => [0.1, 0.2, 0.3, 0.15, 0.25][i % c]);
    expect(inceptionScore(same, 20, c, 2).mean).toBeCloseTo(1, 6);
    const onehot = new Float32Array(20 * c).map((_, i) => (Math.floor(i / c) % c === i % c ? 1 : 0));
    expect(inceptionScore(onehot, 20, c, 2).mean).toBeCloseTo(c, 5);
  });
  it('refuses logits', () => {
    expect(() => inceptionScore(new Float32Array([2, -1, 0.5, 3]), 2, 2, 1)).toThrow(/softmax/);
  });
});

describe('precision and recall (k = 3)', () => {
  const rng = new Rng(11);
  const n = 120, d = 8;
  const real = new Float32Array(n * d).map(() => rng.normal());
  it('identical sets give 1 / 1', () => {
    const r = precisionRecall(real, n, real, n, d);
    expect(r.precision).toBe(1);
    expect(r.recall).toBe(1);
  });
  it('disjoint far sets give 0 / 0', () => {
    const far = real.map((v) => v + 100);
    const r = precisionRecall(real, n, far, n, d);
    expect(r).toMatchObject({ precision: 0, recall: 0 });
  });
  it('a collapsed generator has high precision but low recall', () => {
    // all generated samples are small jitters around one real point: inside the real manifold, covering little of it
    const fake = new Float32Array(n * d).map((_, i) => real[i % d] + 0.01 * rng.normal());
    const r = precisionRecall(real, n, fake, n, d);
    expect(r.precision).toBeGreaterThan(0.9);
    expect(r.recall).toBeLessThan(0.2);
  });
  it('matches a SciPy transcription of the NVlabs reference on random data', () => {
    const ref = JSON.parse(readFileSync(join(dir, 'pr.json'), 'utf8')) as { n_real: number; n_fake: number; d: number; precision: number; recall: number };
    const r = precisionRecall(readF32('pr.real.f32'), ref.n_real, readF32('pr.fake.f32'), ref.n_fake, ref.d);
    expect(r.precision).toBeCloseTo(ref.precision, 12);
    expect(r.recall).toBeCloseTo(ref.recall, 12);
  });
  it('refuses too few samples', () => {
    expect(() => precisionRecall(real.subarray(0, 3 * d), 3, real, n, d)).toThrow(/more than 3/);
  });
});

describe('codebook stats', () => {
  it('usage, perplexity and dead codes', () => {
    const s = codebookStats([0, 0, 1, 1, 2, 2, 3, 3], 8);
    expect(s.usage).toBe(0.5);
    expect(s.dead).toBe(4);
    expect(s.perplexity).toBeCloseTo(4, 12);
    const skew = codebookStats([0, 0, 0, 1], 4);
    expect(skew.perplexity).toBeCloseTo(Math.exp(-(0.75 * Math.log(0.75) + 0.25 * Math.log(0.25))), 12);
    expect(Array.from(skew.counts)).toEqual([3, 1, 0, 0]);
  });
  it('refuses tokens outside the codebook', () => {
    expect(() => codebookStats([0, 4], 4)).toThrow(/outside the codebook/);
  });
});

describe('PSNR and SSIM against scikit-image', () => {
  const ref = JSON.parse(readFileSync(join(dir, 'images.json'), 'utf8')) as { shape: number[]; psnr: number[]; ssim: number[] };
  const [n, h, w, c] = ref.shape;
  const shape = { n, h, w, c };
  const a = readF32('images.a.f32'), b = readF32('images.b.f32');
  it('per-image PSNR on [-1,1] inputs mapped to [0,1]', () => {
    const r = psnr(a, b, shape);
    r.perImage.forEach((v, i) => expect(Math.abs(v - ref.psnr[i])).toBeLessThan(1e-6));
    expect(psnr(a, a, shape).mean).toBe(Infinity);
  });
  it('per-image SSIM (Gaussian 11, σ 1.5, valid window)', () => {
    const r = ssim(a, b, shape);
    r.perImage.forEach((v, i) => expect(Math.abs(v - ref.ssim[i])).toBeLessThan(1e-6));
    expect(ssim(a, a, shape).mean).toBeCloseTo(1, 12);
  });
  it("range 'unit' on pre-mapped values gives the same numbers", () => {
    const a01 = a.map((v) => (v + 1) / 2), b01 = b.map((v) => (v + 1) / 2);
    expect(ssim(a01, b01, shape, { range: 'unit' }).mean).toBeCloseTo(ssim(a, b, shape).mean, 6);
  });
  it('refuses images smaller than the window', () => {
    const small = new Float32Array(10 * 10);
    expect(() => ssim(small, small, { n: 1, h: 10, w: 10, c: 1 })).toThrow(/at least 11/);
  });
});
