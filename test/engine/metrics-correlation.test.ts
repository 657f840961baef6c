// Pearson / Spearman / Kendall tau-b against scipy.stats (manifest.json), bootstrap CI, LOO, provenance guard.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { averageRanks, correlate, correlateAll, kendallTauB, pearson, percentileSorted, spearman } from '../../engine/metrics/correlation';
import { assertComparable } from '../../engine/metrics/provenance';

interface CorrCase {
  case: string;
  x: number[];
  y: number[];
  pearson: number;
  spearman: number;
  kendall_tau_b: number;
}
const manifest = JSON.parse(readFileSync(join(__dirname, '../fixtures/metrics/manifest.json'), 'utf8')) as { correlation: CorrCase[] };

describe('correlation coefficients against scipy.stats', () => {
  for (const c of manifest.correlation) {
    it(c.case, () => {
      expect(Math.abs(pearson(c.x, c.y) - c.pearson)).toBeLessThan(1e-9);
      expect(Math.abs(spearman(c.x, c.y) - c.spearman)).toBeLessThan(1e-9);
      expect(Math.abs(kendallTauB(c.x, c.y) - c.kendall_tau_b)).toBeLessThan(1e-9);
    });
  }

  it('average ranks for ties', () => {
    expect(Array.from(averageRanks([3, 1, 3, 2, 3]))).toEqual([4, 1, 4, 2, 4]);
  });

  it('refuses n < 3 and unpaired input', () => {
    expect(() => pearson([1, 2], [2, 1])).toThrow(/at least 3 points/);
    expect(() => correlate('kendall', [1, 2], [2, 1])).toThrow(/at least 3 points/);
    expect(() => spearman([1, 2, 3], [1, 2])).toThrow(/paired/);
  });

  it('numpy-style linear percentiles', () => {
    expect(percentileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
    expect(percentileSorted([0, 10], 0.025)).toBeCloseTo(0.25, 12);
  });
});

describe('bootstrap CI and leave-one-out influence', () => {
  const c = manifest.correlation[0];
  it('CI contains the point estimate, is seeded, and LOO has one entry per point', () => {
    const all = correlateAll(c.x, c.y, { resamples: 500, seed: 4 });
    for (const r of Object.values(all)) {
      const ci = r.ci as [number, number];
      expect(ci[0]).toBeLessThan(r.r);
      expect(ci[1]).toBeGreaterThan(r.r);
      expect(ci[1] - ci[0]).toBeLessThan(1);
      expect(r.loo).toHaveLength(c.x.length);
      expect(r.looDelta).toHaveLength(c.x.length);
    }
    const again = correlate('spearman', c.x, c.y, { resamples: 500, seed: 4 });
    expect(again.ci).toEqual(all.spearman.ci);
    const other = correlate('spearman', c.x, c.y, { resamples: 500, seed: 5 });
    expect(other.ci).not.toEqual(all.spearman.ci);
  });

  it('LOO values equal the coefficient recomputed without each point', () => {
    const r = correlate('pearson', c.x, c.y, { resamples: 0 });
    expect(r.ci).toBeNull();
    for (const i of [0, 7, 19]) {
      const x = c.x.filter((_, j) => j !== i), y = c.y.filter((_, j) => j !== i);
      expect(r.loo[i]).toBeCloseTo(pearson(x, y), 14);
      expect(r.looDelta[i]).toBeCloseTo(pearson(x, y) - c.pearson, 14);
    }
  });

  it('an outlier has the largest influence', () => {
    const x = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    const y = [2, 1, 4, 3, 6, 5, 8, 7, 10, -30];
    const r = correlate('pearson', x, y, { resamples: 0 });
    const top = r.looDelta.map(Math.abs).reduce((best, v, i, arr) => (v > arr[best] ? i : best), 0);
    expect(top).toBe(9);
  });

  it('degenerate resamples (constant x) are skipped, not averaged in', () => {
    const r = correlate('pearson', [0, 0, 0, 1], [1, 2, 3, 4], { resamples: 300, seed: 1 });
    expect(r.validResamples).toBeLessThan(300);
    expect(r.validResamples).toBeGreaterThan(100);
    expect(r.ci?.every(Number.isFinite)).toBe(true);
  });
});

describe('provenance', () => {
  it('refuses scores from different extractors with the documented message', () => {
    expect(() => assertComparable([{ extractorId: 'lab-a1' }, { extractorId: 'lab-a1' }])).not.toThrow();
    expect(() => assertComparable([{ extractorId: 'lab-a1' }, { extractorId: 'inc-9f' }])).toThrow(
      'cannot compare scores from different feature extractors (ids lab-a1 and inc-9f): recompute both with the same extractor',
    );
  });
});
