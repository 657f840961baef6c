// The metric self-test's pieces: degradations do what they say, and the verdict fails an extractor
// that cannot see a degradation (a colour-blind one) while passing one that sees every pixel.
import { describe, expect, it } from 'vitest';
import { blurImages, metricSelfTest, noiseImages, quantizeImages } from '../../engine/metrics/self-test';
import { Rng } from '../../engine/rng';

const shape = { n: 400, h: 8, w: 8, c: 1 };
function images(): Float32Array {
  const rng = new Rng(3);
  const x = new Float32Array(shape.n * 64);
  for (let b = 0; b < shape.n; b++) {
    const cx = rng.int(8), cy = rng.int(8), v = rng.uniform() * 1.6 - 0.8;
    for (let y = 0; y < 8; y++) for (let i = 0; i < 8; i++) x[b * 64 + y * 8 + i] = Math.abs(i - cx) + Math.abs(y - cy) < 3 ? v : -v;
  }
  return x;
}

describe('metric self-test', () => {
  it('blur keeps a constant image and spreads a single pixel symmetrically; quantize hits exactly `levels` values; noise is seeded', () => {
    const c = new Float32Array(64).fill(0.3);
    for (const v of blurImages(c, { n: 1, h: 8, w: 8, c: 1 }, 1.5)) expect(v).toBeCloseTo(0.3, 6);
    const dot = new Float32Array(81);
    dot[40] = 1;
    const b = blurImages(dot, { n: 1, h: 9, w: 9, c: 1 }, 1);
    expect(b[39]).toBeCloseTo(b[41], 7);
    expect(b[31]).toBeCloseTo(b[49], 7);
    expect(b[40]).toBeLessThan(1);
    const q = quantizeImages(Float32Array.from({ length: 200 }, (_, i) => i / 100 - 1), 4);
    expect(new Set(Array.from(q, (v) => v.toFixed(4))).size).toBe(4);
    expect(noiseImages(c, 0.1, 7)).toEqual(noiseImages(c, 0.1, 7));
    expect(noiseImages(c, 0.1, 7)).not.toEqual(noiseImages(c, 0.1, 8));
  });

  it('passes an extractor that sees the pixels, fails one blind to degradations', () => {
    const x = images();
    // pixel features (d = 16 block means): every degradation changes them more as it grows
    const seeing = (im: Float32Array, n: number): Float32Array => {
      const f = new Float32Array(n * 16);
      for (let b = 0; b < n; b++) for (let p = 0; p < 64; p++) {
        const y = p >> 3, i = p & 7;
        f[b * 16 + (y >> 1) * 4 + (i >> 1)] += im[b * 64 + p] * im[b * 64 + p] / 4 + im[b * 64 + p] / 4;
      }
      return f;
    };
    const good = metricSelfTest(x, shape, 16, seeing, 0);
    for (const f of good.families) expect(f.monotone, `${f.kind} ${f.fid.join(' → ')}`).toBe(true);
    expect(good.passed, good.reason).toBe(true);
    // a "label-only" extractor: the sign of the mean pixel, identical for most degraded copies
    const blind = (im: Float32Array, n: number): Float32Array => {
      const f = new Float32Array(n * 2);
      for (let b = 0; b < n; b++) {
        let s = 0;
        for (let p = 0; p < 64; p++) s += im[b * 64 + p];
        f[b * 2] = s > 0 ? 1 : 0;
        f[b * 2 + 1] = b % 2;
      }
      return f;
    };
    const bad = metricSelfTest(x, shape, 2, blind, 0);
    expect(bad.passed).toBe(false);
    expect(bad.reason).toMatch(/does not rise|not well below/);
  });
});

describe('feature-network augmentation', () => {
  it('degradeImages is seeded, keeps values in [-1, 1], leaves some images untouched and changes others', async () => {
    const { degradeImages } = await import('../../engine/jobs/train-feature-net');
    const x = images().subarray(0, 40 * 64);
    const a = degradeImages(x, 40, 8, 1, new Rng(1));
    expect(degradeImages(x, 40, 8, 1, new Rng(1))).toEqual(a);
    for (const v of a) expect(Math.abs(v)).toBeLessThanOrEqual(1);
    let same = 0;
    for (let b = 0; b < 40; b++) if (a.subarray(b * 64, (b + 1) * 64).every((v, i) => v === x[b * 64 + i])) same++;
    expect(same).toBeGreaterThan(0); // (1/2)·(1/2) of the images get neither blur nor noise
    expect(same).toBeLessThan(40);
  });
});
