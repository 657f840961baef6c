// KID subsets smaller than N: with subset = N every subset is the whole set and the spread is rounding
// noise (~1e-13); the default min(1000, ⌊N/2⌋) gives a real spread, and an explicit size ≥ N is clamped.
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { defaultKidSubsetSize, kid, kidSubsetSize, mmd2Unbiased } from '../../engine/metrics/kid';

function gauss(n: number, d: number, seed: number, shift = 0): Float32Array {
  const rng = new Rng(seed);
  return new Float32Array(n * d).map(() => rng.normal() + shift);
}

describe('KID subset size', () => {
  const n = 100, d = 16;
  const x = gauss(n, d, 1), y = gauss(n, d, 2, 0.3);

  it('default is min(1000, ⌊N/2⌋), at least 2', () => {
    expect(defaultKidSubsetSize(100, 100)).toBe(50);
    expect(defaultKidSubsetSize(100, 7)).toBe(3);
    expect(defaultKidSubsetSize(5000, 3000)).toBe(1000);
    expect(defaultKidSubsetSize(3, 3)).toBe(2);
    expect(kidSubsetSize(0, 100, 100)).toEqual({ size: 50, warning: null });
    expect(kidSubsetSize(30, 100, 100)).toEqual({ size: 30, warning: null });
  });

  it('at N = 100 the spread over subsets is real (it was ~1e-13 with subset = N)', () => {
    const k = kid(x, n, y, n, d, { subsets: 20, seed: 4 });
    expect(k.subsetSize).toBe(50);
    expect(k.std).toBeGreaterThan(1e-6);
    expect(k.std).toBeGreaterThan(1e-3 * Math.abs(k.kid));
    expect(k.warnings).toEqual([]);
    // the mean still estimates the all-sample MMD²
    expect(Math.abs(k.kid - mmd2Unbiased(x, n, y, n, d))).toBeLessThan(4 * k.std + 1e-9);
  });

  it('an explicit size ≥ N is clamped to ⌊N/2⌋ with a warning that says why', () => {
    const k = kid(x, n, y, n, d, { subsets: 10, subsetSize: 100, seed: 4 });
    expect(k.subsetSize).toBe(50);
    expect(k.std).toBeGreaterThan(1e-6);
    expect(k.warnings).toHaveLength(1);
    expect(k.warnings[0]).toMatch(/subset size 100 is not below N = 100.*spread 0.*⌊N\/2⌋ = 50/);
    expect(kid(x, n, y, 60, d, { subsets: 3, subsetSize: 1000 }).subsetSize).toBe(30);
  });
});
