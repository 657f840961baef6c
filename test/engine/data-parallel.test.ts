// Data-parallel tokenizer training (engine/train/replicas.ts): the same global batch and seed give the
// one-worker weights on 2 and 3 workers (3 makes uneven shards), with LP; shards and plans split the
// batch exactly; replicas leak no tensors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { Rng } from '../../engine/rng';
import { writePackedDataset } from '../../engine/data/packed';
import { trainTokenizer } from '../../engine/jobs/train-tokenizer';
import { latestCheckpoint, loadCheckpoint } from '../../engine/train/checkpoint';
import { Replicas, combineShards, shardRanges, type ShardResult } from '../../engine/train/replicas';
import { resolveWorkers } from '../../engine/workers';
import { applyPlan, drawPerturbation, planPerturbation, slicePlan, type LpKnobs } from '../../engine/perturb';
import { createTokenizer, resolveTokenizerConfig } from '../../engine/models/vq-tokenizer';
import { trainGeneratorOn, type TokenSet } from '../../engine/train/generator-trainer';
import { validateTrainGeneratorSpec } from '../../engine/specs/train-generator';
import { recordingContext } from './job-context';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-dp-'));

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  const rng = new Rng(4);
  const make = (n: number) => {
    const x = new Uint8Array(n * 8 * 8 * 3).fill(30);
    const y = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const col = [rng.int(256), rng.int(256), rng.int(256)];
      const x0 = rng.int(5), y0 = rng.int(5);
      for (let r = y0; r < y0 + 3; r++) for (let c = x0; c < x0 + 3; c++) for (let k = 0; k < 3; k++) x[((i * 8 + r) * 8 + c) * 3 + k] = col[k];
    }
    return { x, y };
  };
  writePackedDataset(path.join(home, 'datasets', 'sq'), { name: 'sq', kind: 'shapes', source: 'test', resolution: 8, channels: 3, classes: ['a'], seed: 1, valShare: 0.2, skipped: [], resize: 'none', createdAt: '2024-01-01T00:00:00Z' }, { train: make(24), val: make(4) });
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

const lp: LpKnobs = { alpha: 0.8, beta: 0.5, delta: 4, deltaMode: 'abs', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

describe('shards and plans', () => {
  it('splits a batch into contiguous shards that differ by at most one image', () => {
    expect(shardRanges(8, 2)).toEqual([[0, 4], [4, 8]]);
    expect(shardRanges(8, 3)).toEqual([[0, 3], [3, 6], [6, 8]]);
    expect(shardRanges(2, 3)).toEqual([[0, 1], [1, 2]]);
  });

  it('auto workers follow TOKLAB_WORKERS, then TOKLAB_THREADS, on wasm where they pay off, never above the batch', () => {
    expect(resolveWorkers(0, 32, 'wasm', true, { TOKLAB_THREADS: '2' })).toBe(2);
    expect(resolveWorkers(0, 32, 'wasm', false, { TOKLAB_THREADS: '2' })).toBe(1);
    expect(resolveWorkers(0, 32, 'wasm', false, { TOKLAB_THREADS: '2', TOKLAB_WORKERS: '3' })).toBe(3);
    expect(resolveWorkers(0, 32, 'tensorflow', true, { TOKLAB_THREADS: '4' })).toBe(1);
    expect(resolveWorkers(4, 2, 'wasm', false, {})).toBe(2);
    expect(() => resolveWorkers(0, 32, 'wasm', true, { TOKLAB_WORKERS: 'many' })).toThrow(/TOKLAB_WORKERS is "many"/);
    expect(() => resolveWorkers(0, 32, 'wasm', true, { TOKLAB_THREADS: '0' })).toThrow(/TOKLAB_THREADS is "0"/);
    expect(resolveWorkers(0, 1, 'wasm', true, { TOKLAB_THREADS: '2' })).toBe(1);
  });

  it('a plan drawn for the whole batch and applied per shard gives the whole-batch draw', () => {
    const B = 6, T = 5, delta = 4;
    const rng = new Rng(2);
    const clean = Int32Array.from({ length: B * T }, () => rng.int(50));
    // neighbour lists for every token (rank 0 = the clean code)
    const ranks = new Int32Array(B * T * delta);
    for (let i = 0; i < B * T; i++) for (let r = 0; r < delta; r++) ranks[i * delta + r] = r === 0 ? clean[i] : 50 + ((i * 7 + r) % 13);
    for (const selection of ['bernoulli', 'exact'] as const) {
      const k = { ...lp, selection };
      const whole = drawPerturbation(clean, ranks, B, T, k, new Rng(9));
      const plan = planPerturbation(B, T, k, new Rng(9));
      expect(plan.nSel).toBe(3);
      const parts = [[0, 2], [2, 4], [4, 6]].map(([b0, b1]) => {
        const p = slicePlan(plan, b0, b1);
        return applyPlan(clean.slice(b0 * T, b1 * T), ranks.slice(b0 * T * delta, (b0 + p.nSel) * T * delta), p, k);
      });
      expect(Array.from(parts.flatMap((p) => Array.from(p.indices)))).toEqual(Array.from(whole.indices));
      expect(parts.reduce((a, p) => a + p.changed, 0)).toBe(whole.changed);
      expect(whole.changed).toBeGreaterThan(0);
    }
  });

  it('combines shard gradients as the size-weighted mean', () => {
    const layout = [{ key: 'w', offset: 0, size: 2, shape: [2] }, { key: 'b', offset: 2, size: 1, shape: [1] }];
    const shard = (n: number, g: number[], present: string[]): ShardResult => ({ n, present: new Set(present), grads: Float32Array.from(g), loss: 0, numTensors: 0, reply: { type: 'step' } });
    const out = combineShards([shard(3, [1, 2, 3], ['w', 'b']), shard(1, [5, 6, 0], ['w'])], layout);
    expect(Array.from(out.get('w')!)).toEqual([(3 * 1 + 5) / 4, (3 * 2 + 6) / 4]);
    expect(Array.from(out.get('b')!)).toEqual([(3 * 3) / 4]); // absent on shard 2: its weight still counts as zero gradient
  });
});

const spec = {
  datasetPath: 'datasets/sq',
  preset: 'vq-f4-k64',
  overrides: { K: 16, D: 4, widths: [8, 8, 8], resBlocks: [0, 1, 0], groups: 4 },
  epochs: 2,
  batchSize: 8,
  lr: 2e-3,
  warmup: 1,
  emaDecay: 0.9,
  seed: 3,
  lp: { alpha: 0.8, beta: 0.5, delta: 4, deltaMode: 'abs' },
  checkpointEvery: 0,
  sampleEvery: 0,
  logEvery: 1,
};

describe('data-parallel training', () => {
  it('1, 2 and 3 workers on the same global batches reach the same weights and losses', async () => {
    const runs: { weights: Record<string, Float32Array>; loss: number[]; flip: number[]; workers: number }[] = [];
    for (const workers of [1, 2, 3]) {
      const { ctx, rec, runDir } = recordingContext(home, `w${workers}`);
      const { metrics, logs } = rec;
      const before = tf.memory().numTensors;
      const res = await trainTokenizer({ ...spec, workers }, ctx);
      expect(tf.memory().numTensors).toBe(before);
      expect(res.steps).toBe(6);
      expect(res.workers).toBe(workers);
      // how each score was computed says how many workers trained the model
      expect(rec.scores.length).toBeGreaterThan(0);
      for (const sc of rec.scores) expect(sc.provenance.workers).toBe(workers);
      if (workers > 1) expect(logs.some((l) => l.startsWith(`data-parallel: ${workers} workers`))).toBe(true);
      const ck = loadCheckpoint(latestCheckpoint(runDir)!);
      const weights: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(ck.tensors)) if (k.startsWith('model/') || k.startsWith('ema/')) weights[k] = t.data;
      runs.push({ weights, workers, loss: metrics.filter((m) => m.name === 'train/loss').map((m) => m.value), flip: metrics.filter((m) => m.name === 'lp/flip_rate').map((m) => m.value) });
    }
    const [one, ...many] = runs;
    expect(one.loss.length).toBe(6);
    for (const r of many) {
      for (let i = 0; i < one.loss.length; i++) expect(Math.abs(r.loss[i] - one.loss[i]) / one.loss[i], `loss at step ${i + 1}, ${r.workers} workers`).toBeLessThan(1e-5);
      // the perturbation plan is the same draw whatever the sharding
      expect(r.flip).toEqual(one.flip);
      let worst = 0;
      let worstKey = '';
      for (const [k, a] of Object.entries(one.weights)) {
        const b = r.weights[k];
        expect(b, k).toBeDefined();
        let scale = 1e-3;
        let diff = 0;
        for (let i = 0; i < a.length; i++) {
          scale = Math.max(scale, Math.abs(a[i]));
          diff = Math.max(diff, Math.abs(a[i] - b[i]));
        }
        if (diff / scale > worst) [worst, worstKey] = [diff / scale, k];
      }
      expect(worst, `${worstKey}, ${r.workers} workers`).toBeLessThan(1e-4);
    }
    // and the weights did move: equality is not two untouched initialisations
    const init = createTokenizer(resolveTokenizerConfig('vq-f4-k64', 8, 3, spec.overrides), spec.seed);
    const w0 = init.params['dec.out.w'].dataSync();
    const w1 = one.weights['model/dec.out.w'];
    expect(w1).toBeDefined();
    let moved = 0;
    for (let i = 0; i < w0.length; i++) moved = Math.max(moved, Math.abs(w0[i] - w1[i]));
    expect(moved).toBeGreaterThan(1e-3);
    init.dispose();
  });

  it('a replica keeps no tensors from step to step', async () => {
    const cfg = resolveTokenizerConfig('vq-f4-k64', 8, 3, spec.overrides);
    const tok = createTokenizer(cfg, 1);
    const reps = await Replicas.start(2, { kind: 'tokenizer', config: cfg }, 1, tok.params, 'wasm');
    try {
      const rng = new Rng(5);
      const seen: number[] = [];
      for (let s = 0; s < 4; s++) {
        const plan = planPerturbation(4, tok.h * tok.h, lp, rng);
        const out = await reps.step(
          tok.params,
          [[0, 2], [2, 4]].map(([b0, b1]) => ({ x: Float32Array.from({ length: 2 * 8 * 8 * 3 }, () => rng.uniform() * 2 - 1), n: b1 - b0, lp: { knobs: lp, plan: slicePlan(plan, b0, b1) }, wantZ: s === 3 })),
        );
        expect(out[0].present.size).toBeGreaterThan(0);
        expect(Number.isFinite(out[0].loss)).toBe(true);
        expect(out[1].reply.counts?.length).toBe(cfg.K);
        expect(out[1].reply.z ? out[1].reply.z.length : 0).toBe(s === 3 ? 2 * tok.h * tok.h * cfg.D : 0);
        seen.push(out[0].numTensors, out[1].numTensors);
      }
      expect(new Set(seen.slice(2)).size).toBe(1);
    } finally {
      await reps.close();
      tok.dispose();
    }
  });

  it('a RAR generator with class dropout on 1 and 2 workers: the same weights, losses and validation loss', async () => {
    // 4×4 grids of 16 codes: class c writes (c + 5p) mod 16 at position p, one token in eight is noise
    const grids = (n: number, seed: number): TokenSet => {
      const rng = new Rng(seed);
      const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
      const tokens = Int32Array.from({ length: n * 16 }, (_, t) => (rng.int(8) === 0 ? rng.int(16) : (labels[Math.floor(t / 16)] + 5 * (t % 16)) % 16));
      return { tokens, labels, n, h: 4, w: 4, K: 16 };
    };
    const data = { train: grids(48, 1), val: grids(16, 2), numClasses: 4 };
    const spec = validateTrainGeneratorSpec({ tokenizerRunDir: 'runs/0', preset: 'gpt-nano', arch: 'rar', rar: { start: 0.3, end: 0.7 }, classDropout: 0.25, batchSize: 12, epochs: 2, lr: 3e-3, warmup: 2, seed: 4, valLimit: 0 });
    const sizes = { dModel: 32, nLayers: 2, nHeads: 2, mlpRatio: 2 };
    const runs = [];
    for (const workers of [1, 2]) {
      const { ctx, rec, runDir } = recordingContext(home, `gen-w${workers}`);
      const before = tf.memory().numTensors;
      const res = await trainGeneratorOn(data, { ...spec, workers }, ctx, sizes);
      expect(tf.memory().numTensors).toBe(before);
      expect(res.workers).toBe(workers);
      const ck = loadCheckpoint(latestCheckpoint(runDir)!);
      const weights: Record<string, Float32Array> = {};
      for (const [k, t] of Object.entries(ck.tensors)) if (k.startsWith('model/')) weights[k] = t.data;
      runs.push({ weights, valLoss: res.valLoss as number, loss: rec.metrics.filter((m) => m.name === 'train/loss').map((m) => m.value) });
    }
    const [one, two] = runs;
    expect(Object.keys(one.weights).length).toBeGreaterThan(4);
    expect(one.loss.length).toBe(2); // the window means, flushed at the end of each of the 2 epochs
    for (let i = 0; i < one.loss.length; i++) expect(Math.abs(two.loss[i] - one.loss[i]) / one.loss[i]).toBeLessThan(1e-5);
    expect(Math.abs(two.valLoss - one.valLoss) / one.valLoss).toBeLessThan(1e-5);
    let worst = 0;
    for (const [k, a] of Object.entries(one.weights)) {
      const b = two.weights[k];
      // the key bias (middle third of bqkv) adds the same q·b to every logit of a query, which softmax
      // ignores: its gradient is 0 up to round-off, and Adam turns that noise into ±lr steps of either
      // sign on either worker count
      const skip = k.endsWith('attn.bqkv') ? [sizes.dModel, 2 * sizes.dModel] : [0, 0];
      let scale = 1e-3, diff = 0;
      for (let i = 0; i < a.length; i++) {
        scale = Math.max(scale, Math.abs(a[i]));
        if (i >= skip[0] && i < skip[1]) continue;
        diff = Math.max(diff, Math.abs(a[i] - b[i]));
      }
      worst = Math.max(worst, diff / scale);
    }
    expect(worst).toBeLessThan(1e-4);
  });
});
