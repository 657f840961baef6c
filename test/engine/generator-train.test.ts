// Generator trainer on tiny synthetic token grids with class-dependent structure: beats the uniform
// baseline ln K, logs the documented metrics, anneals RAR, resumes exactly, leaks no tensors.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import type { MetricPoint } from '../../engine/protocol';
import { JobCancelled, type JobContext } from '../../engine/jobs/types';
import { trainGeneratorOn, type TokenSet } from '../../engine/train/generator-trainer';
import { loadGenerator } from '../../engine/models/generator-store';
import { GENERATOR_PRESETS } from '../../engine/models/transformer';
import { GENERATOR_PRESET_NAMES, validateTrainGeneratorSpec } from '../../engine/specs/train-generator';
import { sampleRng, sampleTokens } from '../../engine/sample';

const K = 16;
const side = 4;
const L = side * side;

/** Class c puts token (3c + p) mod K at position p; 10% of tokens are uniform noise. */
function synthetic(n: number, seed: number): TokenSet {
  const rng = new Rng(seed);
  const tokens = new Int32Array(n * L);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 3;
    labels[i] = c;
    for (let p = 0; p < L; p++) tokens[i * L + p] = rng.uniform() < 0.1 ? rng.int(K) : (3 * c + p) % K;
  }
  return { tokens, labels, n, h: side, w: side, K };
}

const tmp: string[] = [];
function makeCtx(signal = new AbortController().signal) {
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-gen-'));
  tmp.push(runDir);
  const points: MetricPoint[] = [];
  const ctx: JobContext = {
    home: runDir,
    runDir,
    runId: 1,
    signal,
    progress: () => {},
    metrics: (p) => points.push(...p),
    score: () => {},
    artifact: () => {},
    log: () => {},
  };
  return { ctx, points, runDir };
}
const series = (points: MetricPoint[], name: string) => points.filter((p) => p.name === name).map((p) => p.value);

// smaller than gpt-nano: the cpu backend on a shared 2-core machine is slow
const tiny = { dModel: 32, nLayers: 2, nHeads: 2, mlpRatio: 2 };
const data = { train: synthetic(96, 1), val: synthetic(48, 2), numClasses: 3 };
const baseSpec = { tokenizerRunDir: 'runs/0', preset: 'gpt-nano', batchSize: 8, lr: 3e-3, warmup: 4, weightDecay: 0.01, seed: 5, valLimit: 0 };

beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => {
  for (const d of tmp) fs.rmSync(d, { recursive: true, force: true });
});

describe('generator training', () => {
  it('spec: defaults, presets match the model, bad values name the field', () => {
    const s = validateTrainGeneratorSpec({ tokenizerRunDir: 'runs/3' });
    expect(s.classDropout).toBe(0.1);
    expect(s.rar).toEqual({ start: 0.5, end: 0.75 });
    expect([...GENERATOR_PRESET_NAMES].sort()).toEqual(Object.keys(GENERATOR_PRESETS).sort());
    expect(() => validateTrainGeneratorSpec({ tokenizerRunDir: 'x', rar: { start: 0.8, end: 0.2 } })).toThrow(/rar\.end/);
    expect(() => validateTrainGeneratorSpec({ tokenizerRunDir: 'x', preset: 'gpt-huge' })).toThrow(/preset/);
    expect(() => validateTrainGeneratorSpec({})).toThrow(/tokenizerRunDir/);
  });

  it('raster GPT learns class-dependent structure well below ln K, logs metrics, leaks nothing', async () => {
    const { ctx, points, runDir } = makeCtx();
    const before = tf.memory().numTensors;
    const spec = validateTrainGeneratorSpec({ ...baseSpec, arch: 'raster', epochs: 3 });
    const res = await trainGeneratorOn(data, spec, ctx, tiny);
    expect(tf.memory().numTensors).toBe(before);
    const uniform = Math.log(K);
    expect(res.uniformLoss).toBeCloseTo(uniform, 12);
    expect(res.steps).toBe(36);
    const val = series(points, 'val/loss');
    expect(val.length).toBe(3);
    expect(val[2]).toBeLessThan(0.6 * uniform);
    expect(val[2]).toBeLessThan(val[0]);
    const train = series(points, 'train/loss');
    expect(train.at(-1)).toBeLessThan(train[0]);
    expect(series(points, 'train/nll_bits').at(-1)).toBeCloseTo(train.at(-1)! / Math.LN2, 4);
    expect(series(points, 'val/uniform_loss')[0]).toBeCloseTo(uniform, 6);
    expect(series(points, 'train/lr').length).toBeGreaterThan(0);
    // the trained model, reloaded from its run, samples the class pattern more often than chance
    const { gen } = loadGenerator(runDir);
    const labels = Int32Array.from([0, 1, 2]);
    const tokens = await sampleTokens({ gen, labels, rngs: [0, 1, 2].map((i) => sampleRng(7, i)), temperature: 0 });
    let hits = 0;
    for (let b = 0; b < 3; b++) for (let p = 0; p < L; p++) if (tokens[b * L + p] === (3 * b + p) % K) hits++;
    expect(hits).toBeGreaterThan(0.5 * 3 * L);
    gen.dispose();
  });

  it('RAR anneals the permutation probability 1 → 0 and still beats ln K', async () => {
    const { ctx, points } = makeCtx();
    const spec = validateTrainGeneratorSpec({ ...baseSpec, arch: 'rar', epochs: 2, rar: { start: 0.25, end: 0.5 } });
    await trainGeneratorOn(data, spec, ctx, tiny);
    const p = points.filter((q) => q.name === 'rar/permute_prob');
    // logged at steps 1, 11, 21 of 24; window 6 → 12
    expect(p.map((q) => q.step)).toEqual([1, 11, 21]);
    expect(p[0].value).toBe(1);
    expect(p[1].value).toBeCloseTo(1 - (10 - 6) / 6, 12);
    expect(p[2].value).toBe(0);
    expect(series(points, 'val/loss').at(-1)).toBeLessThan(0.8 * Math.log(K));
  });

  it('resumes after a cancel to exactly the uninterrupted result', async () => {
    const spec = validateTrainGeneratorSpec({ ...baseSpec, arch: 'raster', epochs: 1, checkpointEvery: 4 });
    const straight = makeCtx();
    const full = await trainGeneratorOn(data, spec, straight.ctx, tiny);

    const ac = new AbortController();
    const cut = makeCtx(ac.signal);
    cut.ctx.progress = (done) => {
      if (done === 7) ac.abort();
    };
    await expect(trainGeneratorOn(data, spec, cut.ctx, tiny)).rejects.toBeInstanceOf(JobCancelled);
    const again = { ...cut.ctx, signal: new AbortController().signal, progress: () => {} };
    const resumed = await trainGeneratorOn(data, spec, again, tiny);
    expect(resumed.resumedFrom).toBe(7);
    expect(resumed.steps).toBe(12);
    expect(resumed.valLoss as number).toBeCloseTo(full.valLoss as number, 5);
  });
});
