// eval-tokenizer end to end on a quickly trained tiny tokenizer and feature network: rFID ≤ pFID, pFID
// rising with α, α = 0 cells equal to rFID, fixed seed per cell, full provenance, warnings, no leaks.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { loadFeatureNet, readFeatureNetMeta } from '../../engine/features';
import { openPackedDataset } from '../../engine/data/packed';
import { loadTokenizer } from '../../engine/models/vq-tokenizer';
import { trainFeatureNet } from '../../engine/jobs/train-feature-net';
import { trainTokenizer } from '../../engine/jobs/train-tokenizer';
import { evalTokenizer, toImageGrid, top1Hits } from '../../engine/jobs/eval-tokenizer';
import { validateEvalTokenizerSpec } from '../../engine/specs/eval-tokenizer';
import { JobCancelled, type JobContext } from '../../engine/jobs/types';
import type { JsonObject, MetricPoint, ScoreRecord } from '../../engine/protocol';
import { writeShapes } from './feature-net-data';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-evaltok-'));

function ctxFor(name: string, abortAt?: number) {
  const runDir = path.join(home, 'runs', name);
  fs.mkdirSync(runDir, { recursive: true });
  const ctrl = new AbortController();
  const rec = { metrics: [] as MetricPoint[], scores: [] as ScoreRecord[], logs: [] as { level: string; message: string }[], progress: [] as [number, number][] };
  const ctx: JobContext = {
    home,
    runDir,
    runId: 1,
    signal: ctrl.signal,
    progress: (d, t) => {
      rec.progress.push([d, t]);
      if (abortAt !== undefined && d >= abortAt) ctrl.abort();
    },
    metrics: (p) => rec.metrics.push(...p),
    score: (s) => rec.scores.push(s),
    artifact: () => {},
    log: (level, message) => rec.logs.push({ level, message }),
  };
  return { ctx, rec };
}

const BASE_KEYS = ['extractorId', 'n', 'seed', 'split', 'tokenizerRun', 'ema'];
const LP_KEYS = ['alpha', 'deltaAbs', 'deltaShare', 'includeSelf', 'selection', 'anchor', 'K'];
// a feature net trained for seconds is far below the default accuracy floor 0.9: lowered explicitly
const gridSpec = { tokenizerRunDir: 'runs/tok', alphas: [0, 0.5, 1], deltas: [8, 32], deltaMode: 'abs', seed: 5, minExtractorAccuracy: 0 };

beforeAll(async () => {
  await initBackend({ prefer: 'wasm' });
  // grayscale: a tokenizer trained for seconds reconstructs it well enough (PSNR ≈ 24 dB) that
  // perturbed tokens clearly hurt; on blurry reconstructions, noise can lower FID instead
  writeShapes(path.join(home, 'datasets', 'shapes16'), 600, 200, 1);
  writeShapes(path.join(home, 'datasets', 'bare'), 20, 10);
  await trainFeatureNet({ datasetPath: 'datasets/shapes16', minSteps: 0, maxSteps: 60, evalEvery: 30, batchSize: 32, lr: 3e-3, seed: 0, selfTest: false }, ctxFor('featnet').ctx);
  await trainTokenizer(
    {
      datasetPath: 'datasets/shapes16',
      preset: 'vq-f2-k256',
      overrides: { K: 32, D: 8, widths: [16, 32], resBlocks: [0, 1], groups: 4 },
      epochs: 6,
      batchSize: 16,
      lr: 1e-2,
      warmup: 5,
      emaDecay: 0.9,
      seed: 1,
      checkpointEvery: 0,
    },
    ctxFor('tok').ctx,
  );
});
afterAll(async () => {
  fs.rmSync(home, { recursive: true, force: true });
  await initBackend({ prefer: 'cpu' });
});

describe('eval-tokenizer spec', () => {
  it('fills the documented defaults and refuses bad values by name', () => {
    expect(validateEvalTokenizerSpec({ tokenizerRunDir: 'runs/1' })).toEqual({
      tokenizerRunDir: 'runs/1',
      datasetPath: '',
      extractorRunDir: '',
      alphas: [0.1, 0.3, 0.5, 0.7, 0.9],
      deltas: [0.03, 0.05, 0.1],
      deltaMode: 'share',
      includeSelf: true,
      selection: 'bernoulli',
      anchor: 'z',
      n: 0,
      seed: 0,
      ema: true,
      kidSubsets: 10,
      kidSubsetSize: 0,
      minExtractorAccuracy: 0.9,
      workers: 0,
    });
    // δ = 1 code perturbs nothing: refused by name with the fix
    expect(() => validateEvalTokenizerSpec({ tokenizerRunDir: 'r', deltaMode: 'abs', deltas: [4, 1] })).toThrow(/deltas\[1\]: is 1 code.*perturbs nothing\. Use δ ≥ 2 codes/);
    expect(() => validateEvalTokenizerSpec({ tokenizerRunDir: 'r', minExtractorAccuracy: -0.1 })).toThrow(/minExtractorAccuracy/);
    expect(() => validateEvalTokenizerSpec({})).toThrow(/tokenizerRunDir/);
    expect(() => validateEvalTokenizerSpec({ tokenizerRunDir: 'r', alphas: [1.5] })).toThrow(/alphas\[0\]/);
    expect(() => validateEvalTokenizerSpec({ tokenizerRunDir: 'r', deltaMode: 'abs', deltas: [2.5] })).toThrow(/deltas\[0\]/);
    expect(() => validateEvalTokenizerSpec({ tokenizerRunDir: 'r', anchor: 'latent' })).toThrow(/anchor/);
  });
});

describe('eval-tokenizer job', () => {
  let grid: JsonObject;

  it('rFID ≤ pFID, pFID rises with α at fixed δ, α = 0 equals rFID; scores carry full provenance; no leaks', async () => {
    const { ctx, rec } = ctxFor('eval');
    const before = tf.memory().numTensors;
    grid = await evalTokenizer(gridSpec, ctx);
    expect(tf.memory().numTensors).toBe(before);
    const id = readFeatureNetMeta(path.join(home, 'datasets', 'shapes16')).id;
    expect(grid).toMatchObject({ extractorId: id, alphas: [0, 0.5, 1], deltasAbs: [8, 32], deltasShare: [0.25, 1], n: 200, K: 32 });
    const rfid = grid.rfid as number;
    const pfid = grid.pfid as number[][];
    const pkid = grid.pkid as number[][];
    expect(pfid.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(rfid).toBeGreaterThan(0);
    for (let j = 0; j < 2; j++) {
      expect(pfid[0][j]).toBe(rfid);
      expect(pkid[0][j]).toBe(grid.rkid);
      expect(pfid[1][j]).toBeGreaterThan(rfid);
      expect(pfid[2][j]).toBeGreaterThan(pfid[1][j]);
    }
    // a wider neighbourhood hurts more at strong α
    expect(pfid[2][1]).toBeGreaterThan(pfid[2][0]);
    expect(grid.pfidMean).toBeCloseTo(pfid.flat().reduce((a, v) => a + v, 0) / 6, 10);
    const flips = grid.flipRates as number[][];
    expect(flips[0]).toEqual([0, 0]);
    expect(flips[2][1]).toBeGreaterThan(0.9); // α(δ−1)/δ = 31/32 expected

    const by = (m: string) => rec.scores.filter((s) => s.metric === m);
    for (const m of ['eval/rfid', 'eval/rkid', 'eval/psnr', 'eval/ssim', 'eval/usage', 'eval/perplexity', 'eval/pfid_mean', 'eval/recon_acc']) expect(by(m).length, m).toBe(1);
    expect(by('eval/pfid').length).toBe(6);
    expect(by('eval/pkid').length).toBe(6);
    expect(by('eval/rfid')[0].value).toBe(rfid);
    const acc = readFeatureNetMeta(path.join(home, 'datasets', 'shapes16')).testAccuracy;
    for (const s of rec.scores) {
      for (const k of BASE_KEYS) expect(s.provenance, `${s.metric} ${k}`).toHaveProperty(k);
      expect(s.provenance).toMatchObject({ extractorId: id, extractorAccuracy: acc, n: 200, seed: 5, split: 'val', tokenizerRun: 'runs/tok', ema: true });
    }
    expect(grid.extractorAccuracy).toBe(acc);
    // KID subsets are min(1000, ⌊N/2⌋), so the spread over subsets is real
    for (const s of [...by('eval/rkid'), ...by('eval/pkid')]) expect(s.provenance.kidSubsetSize).toBe(100);
    expect(by('eval/rkid')[0].provenance.kidStd as number).toBeGreaterThan(1e-6);
    // effective and expected flip rate per cell
    for (const s of by('eval/pfid')) {
      const { alpha, deltaAbs } = s.provenance as { alpha: number; deltaAbs: number };
      expect(s.provenance.expectedFlipRate).toBeCloseTo((alpha * (deltaAbs - 1)) / deltaAbs, 12);
    }
    expect(Math.abs((flips[2][1] as number) - 31 / 32)).toBeLessThan(0.02);
    // classifier accuracy on perturbed reconstructions: α = 0 cells are the clean reconstructions
    const paccs = grid.paccs as number[][];
    expect(paccs.map((r) => r.length)).toEqual([2, 2, 2]);
    expect(paccs[0]).toEqual([grid.reconAcc, grid.reconAcc]);
    for (const v of paccs.flat()) expect(v).toBeGreaterThanOrEqual(0);
    expect(by('eval/recon_acc')[0].value).toBe(grid.reconAcc);
    for (const s of [...by('eval/pfid'), ...by('eval/pkid')]) for (const k of LP_KEYS) expect(s.provenance, `${s.metric} ${k}`).toHaveProperty(k);
    const cell = by('eval/pfid').find((s) => s.provenance.alpha === 1 && s.provenance.deltaAbs === 32)!;
    expect(cell.value).toBe(pfid[2][1]);
    expect(cell.provenance).toMatchObject({ deltaShare: 1, includeSelf: true, selection: 'bernoulli', anchor: 'z', K: 32 });
    expect(by('eval/usage')[0].value).toBeGreaterThan(0);
    expect(by('eval/psnr')[0].value).toBeGreaterThan(20);
    // progress in images of N
    expect(rec.progress[rec.progress.length - 1]).toEqual([200, 200]);
    expect(rec.logs.filter((l) => l.level === 'warn')).toEqual([]); // N = 200 ≥ d = 128
  });

  it('eval/recon_acc is the lab classifier\'s top-1 accuracy on the clean reconstructions, computed directly', () => {
    const dsDir = path.join(home, 'datasets', 'shapes16');
    const tok = loadTokenizer(path.join(home, 'runs', 'tok'), { ema: true });
    const net = loadFeatureNet(dsDir);
    const ds = openPackedDataset(dsDir);
    try {
      const S = tok.config.imageSize, C = tok.config.channels;
      let hits = 0, realHits = 0, n = 0;
      for (const b of ds.split('val').batches({ batchSize: 64, seed: 0, shuffle: false })) {
        const rec = tf.tidy(() => tok.decodeLatent(tok.quantize(tok.encode(tf.tensor4d(b.x, [b.n, S, S, C]))).e).dataSync() as Float32Array);
        const probs = net.embed(toImageGrid(rec), b.n).probs;
        const realProbs = net.embed(b.x, b.n).probs;
        for (let i = 0; i < b.n; i++) {
          const row = Array.from(probs.subarray(i * 4, (i + 1) * 4));
          if (row.indexOf(Math.max(...row)) === b.y[i]) hits++;
          const rr = Array.from(realProbs.subarray(i * 4, (i + 1) * 4));
          if (rr.indexOf(Math.max(...rr)) === b.y[i]) realHits++;
        }
        n += b.n;
      }
      expect(net.meta.numClasses).toBe(4);
      expect(grid.reconAcc).toBe(hits / n);
      // the extractor's own accuracy on the real val images is the meta's testAccuracy; top1Hits agrees
      expect(realHits / n).toBeCloseTo(net.meta.testAccuracy, 2);
    } finally {
      ds.close();
      net.dispose();
      tok.dispose();
    }
  });

  it('top1Hits counts argmax = label, first maximum on ties', () => {
    const probs = Float32Array.from([0.1, 0.7, 0.2, 0.5, 0.5, 0, 0.2, 0.3, 0.5]);
    expect(top1Hits(probs, Int32Array.from([1, 0, 2]), 3)).toBe(3);
    expect(top1Hits(probs, Int32Array.from([0, 1, 1]), 3)).toBe(0);
  });

  it('refuses a feature net below the accuracy floor, and a share δ that is one code of K, before computing', async () => {
    const acc = readFeatureNetMeta(path.join(home, 'datasets', 'shapes16')).testAccuracy;
    const floor = Math.min(1, Math.ceil((acc + 0.01) * 100) / 100);
    const r = ctxFor('eval-floor');
    await expect(evalTokenizer({ ...gridSpec, minExtractorAccuracy: floor }, r.ctx)).rejects.toThrow(
      new RegExp(`the feature network of datasets/shapes16 has test accuracy ${acc.toFixed(2)}, below the floor ${floor.toFixed(2)}: FID in its feature space is not trustworthy\\. Retrain it \\(train-feature-net with more steps\\) or lower minExtractorAccuracy`),
    );
    expect(r.rec.scores).toEqual([]);
    // K = 32: 0.02·32 = 0.64 rounds to 1 code
    const d = ctxFor('eval-delta1');
    await expect(evalTokenizer({ ...gridSpec, deltaMode: 'share', deltas: [0.25, 0.02] }, d.ctx)).rejects.toThrow(/deltas\[1\]: is 0\.02 of K = 32, which is 1 code: a cell with one code perturbs nothing\. Use δ ≥ 2\/K/);
    expect(d.rec.scores).toEqual([]);
  });

  it('a cell depends only on its own (α, δ, seed): recomputed alone it is identical', async () => {
    const res = await evalTokenizer({ ...gridSpec, alphas: [1], deltas: [32] }, ctxFor('eval-one').ctx);
    expect((res.pfid as number[][])[0][0]).toBe((grid.pfid as number[][])[2][1]);
    expect(res.rfid).toBe(grid.rfid);
    const other = await evalTokenizer({ ...gridSpec, alphas: [1], deltas: [32], seed: 6 }, ctxFor('eval-seed').ctx);
    expect((other.pfid as number[][])[0][0]).not.toBe((grid.pfid as number[][])[2][1]);
  });

  it('on 2 evaluation workers gives the numbers of one thread, also when it resumes a one-thread state', async () => {
    expect(grid.workers).toBe(1);
    const same = (r: JsonObject): void => {
      for (const k of ['rfid', 'rkid', 'pfid', 'pkid', 'flipRates', 'paccs', 'reconAcc', 'psnr', 'ssim', 'usage', 'perplexity', 'pfidMean']) expect(r[k], k).toEqual(grid[k]);
    };
    const two = ctxFor('eval-2w');
    const before = tf.memory().numTensors;
    const r = await evalTokenizer({ ...gridSpec, workers: 2 }, two.ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(r.workers).toBe(2);
    same(r);
    expect(two.rec.logs.some((l) => /evaluating on 2 workers/.test(l.message))).toBe(true);
    expect(two.rec.progress[two.rec.progress.length - 1]).toEqual([200, 200]);
    // stopped after its first batch on one thread, finished on two workers from the saved state
    const part = ctxFor('eval-resume', 64);
    await expect(evalTokenizer({ ...gridSpec, workers: 1 }, part.ctx)).rejects.toBeInstanceOf(JobCancelled);
    const rest = { ...part.ctx, signal: new AbortController().signal, log: (level: string, message: string) => part.rec.logs.push({ level, message }) };
    const resumed = await evalTokenizer({ ...gridSpec, workers: 2 }, rest);
    expect(part.rec.logs.some((l) => /resuming the evaluation at image 64 of 200/.test(l.message))).toBe(true);
    same(resumed);
  });

  it('warns when N is below the feature dimension, and stops on cancel without leaking', async () => {
    const small = ctxFor('eval-small');
    await evalTokenizer({ ...gridSpec, alphas: [0.5], deltas: [8], n: 40 }, small.ctx);
    expect(small.rec.logs.some((l) => l.level === 'warn' && /below the feature dimension 128/.test(l.message))).toBe(true);
    expect(small.rec.scores.find((s) => s.metric === 'eval/rfid')!.provenance.n).toBe(40);
    const cancelled = ctxFor('eval-cancel', 64);
    const before = tf.memory().numTensors;
    await expect(evalTokenizer(gridSpec, cancelled.ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a dataset without a feature network, naming the fix', async () => {
    await expect(evalTokenizer({ ...gridSpec, datasetPath: 'datasets/bare' }, ctxFor('eval-bare').ctx)).rejects.toThrow(/train the feature network first/);
  });

  it('snaps reconstructions to the 8-bit grid of the real images', () => {
    const x = toImageGrid(Float32Array.from([-3, -1, 0.5, 0.5 + 1 / 255, 1, 7]));
    const back = Array.from(x, (v) => (v + 1) * 127.5);
    for (const v of back) expect(Math.abs(v - Math.round(v))).toBeLessThan(1e-4);
    expect(x[0]).toBe(-1);
    expect(x[5]).toBe(1);
  });
});
