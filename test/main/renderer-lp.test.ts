// The Tokenizers page's LP arithmetic (renderer/src/lib/lp.ts): hand-worked values from METHOD §2,
// and agreement with the engine's own schedule and presets so the renderer's copy cannot drift.
import { describe, expect, it } from 'vitest';
import { annealRatio as engineRatio } from '../../engine/train/schedules';
import { TOKENIZER_PRESETS as ENGINE_PRESETS } from '../../engine/models/tokenizer-presets';
import { validateTrainTokenizerSpec } from '../../engine/specs/train-tokenizer';
import { DEFAULT_ANNEAL, DEFAULT_LP, TOKENIZER_PRESETS, annealProblem, annealRatio, annealSchedule, deltaCodes, flipRate, presetK } from '../../renderer/src/lib/lp';
import { datasetBuildSpec, DEFAULT_DATASET_FORM, trainTokenizerSpec, type TokenizerFormValues } from '../../renderer/src/lib/job-forms';

describe('δ and the effective flip rate', () => {
  it('turns a share of K into codes: round, at least 1, at most K', () => {
    expect(deltaCodes(0.024, 'share', 4096)).toBe(98); // 98.3
    expect(deltaCodes(0.024, 'share', 256)).toBe(6); // 6.144
    expect(deltaCodes(0.024, 'share', 64)).toBe(2); // 1.536 rounds up
    expect(deltaCodes(0.001, 'share', 64)).toBe(1); // 0.064 → at least 1
    expect(deltaCodes(1, 'share', 64)).toBe(64);
    expect(deltaCodes(100, 'abs', 4096)).toBe(100);
    expect(deltaCodes(100, 'abs', 64)).toBe(64);
  });

  it('is α(δ−1)/δ with self, α without, 0 at δ = 1', () => {
    expect(flipRate(1, 6, true)).toBeCloseTo(5 / 6, 12);
    expect(flipRate(0.7, 100, true)).toBeCloseTo(0.693, 12);
    expect(flipRate(0.7, 100, false)).toBe(0.7);
    expect(flipRate(0.5, 2, true)).toBe(0.25);
    expect(flipRate(1, 1, true)).toBe(0);
    expect(flipRate(1, 1, false)).toBe(0);
  });
});

describe('annealing', () => {
  const a = { start: 0.2, end: 0.6, endRatio: 0.5, unit: 'fraction' as const };

  it('follows the hand-worked schedule of 10 epochs (start 2, end 6)', () => {
    const rows = annealSchedule({ ...DEFAULT_LP, alpha: 1, delta: 100, deltaMode: 'abs' }, a, 10, 4096);
    expect(rows.map((r) => r.ratio)).toEqual([1, 1, 1, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5, 0.5]);
    expect(rows.map((r) => r.alpha)).toEqual([1, 1, 1, 0.875, 0.75, 0.625, 0.5, 0.5, 0.5, 0.5]);
    expect(rows.map((r) => r.delta)).toEqual([100, 100, 100, 87, 75, 62, 50, 50, 50, 50]);
    expect(rows[3].flip).toBeCloseTo((0.875 * 86) / 87, 12);
  });

  it('keeps δ_e at least 1 and r constant without a schedule', () => {
    const rows = annealSchedule({ ...DEFAULT_LP, delta: 2, deltaMode: 'abs' }, { ...a, endRatio: 0 }, 5, 64);
    expect(rows[4].delta).toBe(1);
    expect(rows[4].flip).toBe(0);
    const flat = annealSchedule({ ...DEFAULT_LP, alpha: 0.8, delta: 0.024, deltaMode: 'share' }, null, 4, 256);
    expect(flat.map((r) => [r.ratio, r.alpha, r.delta])).toEqual(Array(4).fill([1, 0.8, 6]));
  });

  it('accepts absolute epoch bounds', () => {
    const e = { start: 40, end: 120, endRatio: 0.5, unit: 'epoch' as const };
    expect(annealRatio(40, 200, e)).toBe(1);
    expect(annealRatio(80, 200, e)).toBeCloseTo(0.75, 12);
    expect(annealRatio(150, 200, e)).toBe(0.5);
  });

  it('agrees with engine/train/schedules.ts everywhere', () => {
    for (const unit of ['fraction', 'epoch'] as const) {
      for (const epochs of [1, 3, 10, 37]) {
        const sched = unit === 'fraction' ? { start: 0.13, end: 0.71, endRatio: 0.3, unit } : { start: 1, end: Math.max(2, epochs - 1), endRatio: 0.25, unit };
        for (let e = 0; e < epochs; e += 0.5) expect(annealRatio(e, epochs, sched)).toBeCloseTo(engineRatio(e, epochs, sched), 12);
      }
    }
  });

  it('names the problems the validator would refuse', () => {
    expect(annealProblem(DEFAULT_ANNEAL, 10)).toBeNull();
    expect(annealProblem({ ...DEFAULT_ANNEAL, end: 0.2 }, 10)).toMatch(/after start/);
    expect(annealProblem({ ...DEFAULT_ANNEAL, end: 1.5 }, 10)).toMatch(/\[0, 1\]/);
    expect(annealProblem({ ...DEFAULT_ANNEAL, unit: 'epoch', start: 2, end: 8 }, 10)).toBeNull();
  });
});

describe('the renderer copies of engine facts', () => {
  it('lists every engine preset with its K', () => {
    expect(TOKENIZER_PRESETS.map((p) => p.name).sort()).toEqual(Object.keys(ENGINE_PRESETS).sort());
    for (const p of TOKENIZER_PRESETS) expect([p.K, p.f]).toEqual([ENGINE_PRESETS[p.name].K, ENGINE_PRESETS[p.name].f]);
    expect(presetK('vq-f4-k64')).toBe(64);
    expect(presetK('nope')).toBeNull();
  });

  it('builds a train-tokenizer spec the engine validator accepts with the same knobs', () => {
    const v: TokenizerFormValues = {
      dataset: 3, preset: 'vq-f4-k64', epochs: 2, batchSize: 16, lr: 2e-3, seed: 7, trainLimit: 64, workers: 2,
      lpOn: true, lp: { ...DEFAULT_LP, alpha: 0.7, includeSelf: false }, annealOn: true, anneal: { ...DEFAULT_ANNEAL },
    };
    const spec = trainTokenizerSpec(v);
    expect(spec.dataset).toBe(3);
    const { dataset: _d, ...rest } = spec;
    const s = validateTrainTokenizerSpec({ ...rest, datasetPath: 'datasets/x' });
    expect(s.lp).toEqual({ ...DEFAULT_LP, alpha: 0.7, includeSelf: false });
    expect(s.anneal).toEqual(DEFAULT_ANNEAL);
    expect([s.epochs, s.batchSize, s.lr, s.seed, s.trainLimit, s.workers]).toEqual([2, 16, 2e-3, 7, 64, 2]);
    // annealing is never sent without LP (the validator would refuse it)
    const off = trainTokenizerSpec({ ...v, lpOn: false, trainLimit: 0, workers: 0 });
    expect([off.lp, off.anneal, 'trainLimit' in off, 'workers' in off]).toEqual([null, null, false, false]);
    // auto workers reach the engine as 0
    expect(validateTrainTokenizerSpec({ datasetPath: 'datasets/x' }).workers).toBe(0);
  });

  it('sends only the dataset fields of the chosen source', () => {
    expect(datasetBuildSpec({ ...DEFAULT_DATASET_FORM, source: 'shapes', resolution: 16, trainCount: 200, valCount: 40 })).toEqual({ source: 'shapes', resolution: 16, seed: 0, trainCount: 200, valCount: 40 });
    expect(datasetBuildSpec({ ...DEFAULT_DATASET_FORM, source: 'folder', folder: ' /tmp/x ', name: ' mine ', valShare: 0.2 })).toEqual({ source: 'folder', folder: '/tmp/x', name: 'mine', resolution: 32, seed: 0, valShare: 0.2 });
    expect(datasetBuildSpec({ ...DEFAULT_DATASET_FORM, source: 'mnist', channels: 3 })).toMatchObject({ source: 'mnist', channels: 3, valShare: 0.1 });
  });
});
