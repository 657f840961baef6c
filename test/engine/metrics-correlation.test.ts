// Pearson / Spearman / Kendall tau-b against scipy.stats (manifest.json), bootstrap CI, LOO, the
// interval that is not shown when it collapses to a point, the provenance guard and protocol keys.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { averageRanks, correlate, correlateAll, kendallTauB, pearson, percentileSorted, shownInterval, spearman } from '../../engine/metrics/correlation';
import { assertComparable, describeProtocol, protocolDiff, protocolKey, protocolOf } from '../../engine/metrics/provenance';

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

describe('intervals that are not shown', () => {
  it('a bootstrap interval that collapses to a point is replaced by a note saying why', () => {
    // 4 points on a line: every resample with a defined Pearson r has r = 1, so the "interval" is [1, 1]
    const c = correlate('pearson', [1, 2, 3, 4], [2, 4, 6, 8], { resamples: 300, seed: 2 });
    expect(c.ci).toEqual([1, 1]);
    const s = shownInterval(c);
    expect(s.ci).toBeNull();
    expect(s.ciNote).toMatch(/collapsed to the single value 1\.00.*n = 4/);
  });

  it('a real interval is passed through, bootstrap off and all-degenerate resamples get their own notes', () => {
    const c = manifest.correlation[0];
    const r = correlate('spearman', c.x, c.y, { resamples: 300, seed: 1 });
    expect(shownInterval(r)).toEqual({ ci: r.ci, ciNote: null });
    expect(shownInterval(correlate('pearson', c.x, c.y, { resamples: 0 })).ciNote).toMatch(/bootstrap off/);
    expect(shownInterval({ ci: null, n: 3, resamples: 100, validResamples: 0 }).ciNote).toMatch(/no bootstrap resample .* defined/);
  });
});

describe('protocol keys', () => {
  const pfidMean = {
    extractorId: 'lab-a1', n: 400, seed: 0, split: 'val', alphas: [0.5, 0.9], deltasAbs: [20, 40], deltasShare: [0.3125, 0.625], includeSelf: false, selection: 'bernoulli', anchor: 'z', K: 64,
    tokenizerRun: 'runs/3', dataset: 'datasets/1', ema: true, extractorAccuracy: 0.97,
  };
  const cell = { ...pfidMean, alphas: undefined, deltasAbs: undefined, alpha: 0.5, deltaAbs: 20, deltaShare: 0.3125, flipRate: 0.21, kidStd: 0.01 };
  const gen = {
    extractorId: 'lab-a1', n: 100, nPerClass: 10, nReal: 200, nRealSubsample: 200, seed: 0, split: 'train', cfg: { scale: 1.5, schedule: 'cosine-power', power: 1.15 }, temperature: 1, topK: 0, topP: 1, arch: 'rar',
    generatorRun: 'runs/5', tokenizerRun: 'runs/3', decoderRun: 'runs/3', generatorStep: 800, kidStd: 0.02, extractorAccuracy: 0.97,
  };
  const key = protocolKey;
  const cases: [string, Record<string, unknown>, Record<string, unknown>[], Record<string, unknown>[]][] = [
    [
      'eval/pfid_mean',
      pfidMean,
      [{ extractorId: 'lab-b2' }, { n: 200 }, { seed: 1 }, { split: 'train' }, { alphas: [0.5, 0.8] }, { deltasAbs: [20, 41] }, { includeSelf: true }, { selection: 'exact' }, { anchor: 'code' }, { deltaMode: 'abs' }],
      [{ tokenizerRun: 'runs/9' }, { dataset: 'datasets/2' }, { extractorAccuracy: 0.5 }, { deltasShare: [0.1, 0.2] }, { K: 128 }, { somethingNew: 1 }],
    ],
    [
      'eval/pfid',
      cell,
      [{ alpha: 0.6 }, { deltaAbs: 21 }, { n: 200 }, { anchor: 'code' }],
      [{ flipRate: 0.5 }, { kidStd: 0.5 }, { deltaShare: 0.9 }, { tokenizerRun: 'runs/1' }],
    ],
    [
      'gen/gfid',
      gen,
      [{ arch: 'raster' }, { cfg: { ...gen.cfg, scale: 2 } }, { cfg: { ...gen.cfg, schedule: 'constant' } }, { cfg: { ...gen.cfg, power: 1.01 } }, { temperature: 0.9 }, { topK: 8 }, { topP: 0.9 }, { nPerClass: 20 }, { n: 200 }, { seed: 3 }, { extractorId: 'x' }],
      [{ generatorRun: 'runs/7' }, { decoderRun: 'runs/8' }, { tokenizerRun: 'runs/9' }, { kidStd: 1 }, { extractorAccuracy: 0.1 }, { generatorStep: 5 }],
    ],
  ];
  for (const [metric, base, protocolChanges, otherChanges] of cases) {
    it(`${metric}: every protocol field changes the key, nothing else does`, () => {
      const k0 = key(metric, base);
      for (const ch of protocolChanges) {
        const changed = { ...base, ...ch };
        expect(key(metric, changed), JSON.stringify(ch)).not.toBe(k0);
        const field = Object.keys(ch)[0];
        expect(protocolDiff(protocolOf(metric, base), protocolOf(metric, changed)).map((d) => d.field)).toEqual([field]);
      }
      for (const ch of otherChanges) expect(key(metric, { ...base, ...ch }), JSON.stringify(ch)).toBe(k0);
    });
  }

  it('δ is compared as the grid gave it: shares of K in a share grid (tokenizers of different K compare), codes otherwise', () => {
    const share = { ...pfidMean, deltaMode: 'share' };
    expect(key('eval/pfid_mean', { ...share, deltasAbs: [80, 160], K: 256 })).toBe(key('eval/pfid_mean', share));
    expect(key('eval/pfid_mean', { ...share, deltasShare: [0.3125, 0.7] })).not.toBe(key('eval/pfid_mean', share));
    const abs = { ...pfidMean, deltaMode: 'abs' };
    expect(key('eval/pfid_mean', { ...abs, deltasShare: [0.1, 0.2], K: 200 })).toBe(key('eval/pfid_mean', abs));
    expect(key('eval/pfid_mean', abs)).not.toBe(key('eval/pfid_mean', share));
    // a mode not recorded is unknown: not the same protocol as either
    expect(key('eval/pfid_mean', pfidMean)).not.toBe(key('eval/pfid_mean', abs));
    const cellShare = { ...cell, deltaMode: 'share' };
    expect(key('eval/pfid', { ...cellShare, deltaAbs: 80 })).toBe(key('eval/pfid', cellShare));
    expect(key('eval/pfid', { ...cellShare, deltaShare: 0.5 })).not.toBe(key('eval/pfid', cellShare));
    expect(describeProtocol(protocolOf('eval/pfid_mean', share))).toContain('δ (share of K) = {0.3125, 0.625}');
  });

  it('the grid’s order, a constant schedule’s unused power and field order do not matter; a missing field is unknown, not a default', () => {
    expect(key('eval/pfid_mean', { ...pfidMean, alphas: [0.9, 0.5] })).toBe(key('eval/pfid_mean', pfidMean));
    const constant = { ...gen, cfg: { scale: 1.5, schedule: 'constant', power: 1 } };
    expect(key('gen/gfid', { ...constant, cfg: { ...constant.cfg, power: 3 } })).toBe(key('gen/gfid', constant));
    const reversed = Object.fromEntries(Object.entries(gen).reverse());
    expect(key('gen/gfid', reversed)).toBe(key('gen/gfid', gen));
    const old = { ...gen, nPerClass: undefined };
    expect(protocolOf('gen/gfid', old).nPerClass).toBeNull();
    expect(key('gen/gfid', old)).not.toBe(key('gen/gfid', gen));
    expect(protocolDiff(protocolOf('gen/gfid', old), protocolOf('gen/gfid', gen))).toEqual([{ field: 'nPerClass', a: null, b: 10 }]);
    expect(describeProtocol(protocolOf('gen/gfid', old))).toMatch(/samples per class = unknown/);
  });

  it('describes a protocol in a line', () => {
    const d = describeProtocol(protocolOf('eval/pfid_mean', pfidMean));
    expect(d).toContain('N = 400');
    expect(d).toContain('α = {0.5, 0.9}');
    expect(d).toContain('δ (codes) = {20, 40}');
    expect(d).toContain('extractor lab-a1');
    expect(describeProtocol(protocolOf('gen/gfid', gen))).toContain('CFG = 1.5 cosine-power p 1.15');
  });
});
