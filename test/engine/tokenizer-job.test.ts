// train-tokenizer and extract-tokens jobs end to end on a tiny packed dataset: metrics, artifacts,
// annealed LP knobs, scores, cancel + resume to the same step count and weights, token cache.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import { writePackedDataset } from '../../engine/data/packed';
import { readTokenCache } from '../../engine/data/token-cache';
import { trainTokenizer } from '../../engine/jobs/train-tokenizer';
import { extractTokens } from '../../engine/jobs/extract-tokens';
import { latestCheckpoint, loadCheckpoint } from '../../engine/train/checkpoint';
import { loadTokenizer } from '../../engine/models/vq-tokenizer';
import { validateTrainTokenizerSpec } from '../../engine/specs/train-tokenizer';
import { JobCancelled, type JobContext } from '../../engine/jobs/types';
import type { JsonObject, MetricPoint, ScoreRecord } from '../../engine/protocol';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-tokjob-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
  // 8×8 RGB squares, 16 train / 4 val
  const rng = new Rng(1);
  const make = (n: number) => {
    const x = new Uint8Array(n * 8 * 8 * 3).fill(20);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      y[i] = i % 2;
      const col = [rng.int(256), rng.int(256), rng.int(256)];
      const x0 = rng.int(5), y0 = rng.int(5);
      for (let r = y0; r < y0 + 3; r++) for (let c = x0; c < x0 + 3; c++) for (let k = 0; k < 3; k++) x[((i * 8 + r) * 8 + c) * 3 + k] = col[k];
    }
    return { x, y };
  };
  writePackedDataset(path.join(home, 'datasets', 'sq'), { name: 'sq', kind: 'shapes', source: 'test', resolution: 8, channels: 3, classes: ['a', 'b'], seed: 1, valShare: 0.2, skipped: [], resize: 'none', createdAt: '2024-01-01T00:00:00Z' }, { train: make(16), val: make(4) });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

function ctxFor(name: string, abortAtStep?: number) {
  const runDir = path.join(home, 'runs', name);
  fs.mkdirSync(runDir, { recursive: true });
  const ctrl = new AbortController();
  const rec = { metrics: [] as MetricPoint[], scores: [] as ScoreRecord[], artifacts: [] as { kind: string; path: string; meta?: JsonObject }[], progress: [] as number[] };
  const ctx: JobContext = {
    home,
    runDir,
    runId: 1,
    signal: ctrl.signal,
    progress: (d) => {
      rec.progress.push(d);
      if (abortAtStep !== undefined && d === abortAtStep) ctrl.abort();
    },
    metrics: (p) => rec.metrics.push(...p),
    score: (s) => rec.scores.push(s),
    artifact: (kind, p, meta) => rec.artifacts.push({ kind, path: p, meta }),
    log: () => {},
  };
  return { ctx, rec, runDir };
}

const spec = {
  datasetPath: 'datasets/sq',
  preset: 'vq-f4-k64',
  overrides: { K: 16, D: 4, widths: [8, 8, 8], resBlocks: [0, 1, 0], groups: 4 },
  epochs: 3,
  batchSize: 8,
  lr: 3e-3,
  warmup: 2,
  emaDecay: 0.9,
  seed: 7,
  lp: { alpha: 1, beta: 0.5, delta: 4, deltaMode: 'abs' },
  anneal: { start: 0, end: 1, endRatio: 0.5, unit: 'epoch' },
  checkpointEvery: 4,
  logEvery: 1,
};

describe('spec validation', () => {
  it('fills defaults and names the field on errors', () => {
    const s = validateTrainTokenizerSpec({ datasetPath: 'd', lp: {} });
    expect(s.lp).toMatchObject({ alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' });
    expect(s.anneal).toBeNull();
    expect(() => validateTrainTokenizerSpec({ datasetPath: 'd', preset: 'vq-f5' })).toThrow(/preset/);
    expect(() => validateTrainTokenizerSpec({ datasetPath: 'd', lp: { alpha: 2 } })).toThrow(/lp\.alpha/);
    expect(() => validateTrainTokenizerSpec({ datasetPath: 'd', anneal: {} })).toThrow(/lp is off/);
    expect(() => validateTrainTokenizerSpec({ datasetPath: 'd', overrides: { widths: [8, 8] } })).toThrow(/overrides\.widths/);
    expect(() => validateTrainTokenizerSpec({ datasetPath: 'd', overrides: { colour: 1 } })).toThrow(/overrides\.colour/);
  });
});

describe('train-tokenizer job', () => {
  const weightsA: Record<string, Float32Array> = {};
  it('trains, logs every metric, anneals α/δ per epoch, writes grids, flip maps, scores and config', async () => {
    const { ctx, rec, runDir } = ctxFor('a');
    const before = tf.memory().numTensors;
    const res = await trainTokenizer(spec, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.steps).toBe(6);
    const names = new Set(rec.metrics.map((m) => m.name));
    for (const n of ['train/loss', 'train/recon', 'train/codebook', 'train/commit', 'train/lr', 'train/usage', 'train/perplexity', 'lp/alpha', 'lp/delta', 'lp/flip_rate']) expect(names).toContain(n);
    const alpha = rec.metrics.filter((m) => m.name === 'lp/alpha').map((m) => m.value);
    const delta = rec.metrics.filter((m) => m.name === 'lp/delta').map((m) => m.value);
    expect(alpha).toEqual([1, 0.5, 0.5]);
    expect(delta).toEqual([4, 2, 2]);
    const flip = rec.metrics.filter((m) => m.name === 'lp/flip_rate').map((m) => m.value);
    expect(flip[0]).toBeGreaterThan(0.3); // α 1, δ 4: 0.75 expected on perturbed images
    expect(rec.metrics.filter((m) => m.name === 'lp/expected_flip_rate').map((m) => m.value)).toEqual([0.75, 0.25, 0.25]);
    const grids = rec.artifacts.filter((a) => a.kind === 'recon-grid');
    expect(grids.length).toBe(3);
    expect(fs.existsSync(path.join(home, grids[2].path))).toBe(true);
    const flipMap = JSON.parse(fs.readFileSync(path.join(home, rec.artifacts.find((a) => a.kind === 'token-flip-map')!.path), 'utf8'));
    expect(flipMap.masks.length).toBe(4);
    expect(flipMap.masks[0].length).toBe(4);
    expect(rec.scores.map((s) => s.metric).sort()).toEqual(['tokenizer/perplexity', 'tokenizer/psnr', 'tokenizer/usage']); // SSIM needs ≥ 11 px
    expect(rec.scores[0].provenance).toMatchObject({ split: 'val', n: 4, ema: true, seed: 7 });
    expect(Number(res.psnr)).toBeGreaterThan(5);
    expect(JSON.parse(fs.readFileSync(path.join(runDir, 'config.json'), 'utf8')).model.K).toBe(16);
    const ck = loadCheckpoint(latestCheckpoint(runDir)!);
    expect(ck.step).toBe(6);
    for (const [k, a] of Object.entries(ck.tensors)) if (k.startsWith('model/') || k.startsWith('ema/')) weightsA[k] = a.data;
  });

  it('a cancelled run resumes to the same step count and the same weights', async () => {
    const first = ctxFor('b', 3);
    const before = tf.memory().numTensors;
    await expect(trainTokenizer(spec, first.ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(tf.memory().numTensors).toBe(before);
    expect(loadCheckpoint(latestCheckpoint(first.runDir)!).step).toBe(3);
    const second = ctxFor('b');
    const res = await trainTokenizer(spec, second.ctx);
    expect(res.resumedFrom).toBe(3);
    expect(res.steps).toBe(6);
    const ck = loadCheckpoint(latestCheckpoint(second.runDir)!);
    let maxDiff = 0;
    for (const [k, a] of Object.entries(weightsA)) {
      const b = ck.tensors[k].data;
      for (let i = 0; i < a.length; i++) maxDiff = Math.max(maxDiff, Math.abs(a[i] - b[i]));
    }
    expect(maxDiff).toBeLessThan(1e-5);
  });

  it('extract-tokens writes a cache the generator can read, equal to the tokenizer’s own encoding', async () => {
    const { ctx, rec } = ctxFor('x');
    const res = await extractTokens({ tokenizerRunDir: 'runs/a' }, ctx);
    expect(res).toMatchObject({ h: 2, w: 2, K: 16, train: { n: 16 }, val: { n: 4 } });
    const train = readTokenCache(path.join(home, 'runs', 'a'), 'train');
    expect([train.n, train.h, train.w, train.K]).toEqual([16, 2, 2, 16]);
    expect(Array.from(train.labels.slice(0, 4))).toEqual([0, 1, 0, 1]);
    const tok = loadTokenizer(path.join(home, 'runs', 'a'));
    const { openPackedDataset } = await import('../../engine/data/packed');
    const ds = openPackedDataset(path.join(home, 'datasets', 'sq'));
    const val = ds.split('val');
    const b = [...val.batches({ batchSize: 4, seed: 0, shuffle: false })][0];
    const idx = tf.tidy(() => Array.from(tok.tokenize(tf.tensor4d(b.x, [4, 8, 8, 3])).dataSync()));
    expect(Array.from(readTokenCache(path.join(home, 'runs', 'a'), 'val').tokens)).toEqual(idx);
    ds.close();
    tok.dispose();
    expect(rec.scores.some((s) => s.metric === 'tokens/usage')).toBe(true);
  });
});
