// Tiny lab home for the gFID and post-training tests: an 8×8 grey 3-class dataset, an (untrained)
// VQ tokenizer run with EMA weights, a generator run on its 2×2 token grid, and a stub feature net.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import type { JobContext } from '../../engine/jobs/types';
import type { JsonObject, MetricPoint, ScoreRecord } from '../../engine/protocol';
import { writePackedDataset, openPackedDataset } from '../../engine/data/packed';
import { Generator, type GeneratorConfig } from '../../engine/models/transformer';
import { writeGeneratorMeta } from '../../engine/models/generator-store';
import { createTokenizer, resolveTokenizerConfig } from '../../engine/models/vq-tokenizer';
import { saveCheckpoint, snapshotTraining } from '../../engine/train/checkpoint';
import { Ema } from '../../engine/train/ema';
import { featureStats } from '../../engine/metrics/fid';
import type { FeatureLoader, GenFeatureNet } from '../../engine/jobs/eval-generator';

export const S = 8;
export const CLASSES = 3;

/** Class c: a bright 4×4 block in quadrant c plus noise. [n,8,8,1] uint8 */
function images(n: number, seed: number): { x: Uint8Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Uint8Array(n * S * S);
  const y = Int32Array.from({ length: n }, (_, i) => i % CLASSES);
  for (let i = 0; i < n; i++) {
    const qy = y[i] >= 2 ? 4 : 0;
    const qx = y[i] % 2 ? 4 : 0;
    for (let r = 0; r < S; r++) {
      for (let c = 0; c < S; c++) {
        const on = r >= qy && r < qy + 4 && c >= qx && c < qx + 4;
        x[i * S * S + r * S + c] = Math.min(255, (on ? 200 : 30) + rng.int(40));
      }
    }
  }
  return { x, y };
}

export interface Home {
  home: string;
  datasetRel: string;
  tokRel: string;
  genRel: string;
}

/** Writes dataset (runs/../datasets/d), tokenizer run runs/1 (EMA ≠ live weights) and generator run runs/2. */
export function makeHome(home: string, opts: { nTrain?: number; nVal?: number } = {}): Home {
  const datasetRel = 'datasets/d';
  const dsDir = path.join(home, datasetRel);
  fs.mkdirSync(dsDir, { recursive: true });
  writePackedDataset(
    dsDir,
    { name: 'tiny', kind: 'shapes', source: 'test', resolution: S, channels: 1, classes: ['a', 'b', 'c'], seed: 0, valShare: 0.2, skipped: [], resize: 'none', createdAt: '2024-01-01T00:00:00Z' },
    { train: images(opts.nTrain ?? 30, 1), val: images(opts.nVal ?? 9, 2) },
  );

  const tokRel = 'runs/1';
  const tokDir = path.join(home, tokRel);
  fs.mkdirSync(tokDir, { recursive: true });
  const model = resolveTokenizerConfig('vq-f4-k64', S, 1, { D: 4, widths: [8, 8, 8], resBlocks: [0, 1, 0], groups: 4 });
  const tok = createTokenizer(model, 1);
  const ema = new Ema(tok.params, 0.9);
  // live weights move away from the EMA copy, so a loader that ignores EMA would be caught
  tf.tidy(() => {
    for (const v of Object.values(tok.params)) v.assign(tf.add(v, tf.mul(tf.onesLike(v), 0.01)));
  });
  fs.writeFileSync(path.join(tokDir, 'config.json'), JSON.stringify({ kind: 'vq-tokenizer', model, seed: 1, dataset: datasetRel }));
  saveCheckpoint(tokDir, snapshotTraining(tok.params, null, ema, 10, {}));
  ema.dispose();
  tok.dispose();

  const genRel = 'runs/2';
  const genDir = path.join(home, genRel);
  fs.mkdirSync(genDir, { recursive: true });
  const cfg: GeneratorConfig = { arch: 'raster', vocabSize: 64, seqLen: 4, numClasses: CLASSES, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2, norm: 'layer' };
  const gen = new Generator(cfg, 2);
  writeGeneratorMeta(genDir, { format: 'toklab-generator-v1', config: cfg, tokenizerRunDir: tokRel, grid: { h: 2, w: 2 }, seed: 2, spec: {} });
  saveCheckpoint(genDir, snapshotTraining(gen.weights, null, null, 7, {}));
  gen.dispose();
  return { home, datasetRel, tokRel, genRel };
}

/** Stub extractor: 2×2 average pools (4) and their squares (4) → d = 8; probs = softmax of a fixed map. */
export function stubEmbed(x: Float32Array, n: number): { feats: Float32Array; probs: Float32Array } {
  const d = 8;
  const feats = new Float32Array(n * d);
  const probs = new Float32Array(n * CLASSES);
  for (let i = 0; i < n; i++) {
    for (let q = 0; q < 4; q++) {
      const qy = q >= 2 ? 4 : 0;
      const qx = q % 2 ? 4 : 0;
      let s = 0;
      for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) s += x[i * S * S + (qy + r) * S + qx + c];
      feats[i * d + q] = s / 16;
      feats[i * d + 4 + q] = (s / 16) ** 2;
    }
    const logits = [0, 1, 2].map((k) => 3 * feats[i * d + k]);
    const m = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - m));
    const z = e.reduce((a, b) => a + b, 0);
    for (let k = 0; k < CLASSES; k++) probs[i * CLASSES + k] = e[k] / z;
  }
  return { feats, probs };
}

/** A FeatureLoader with the stub net; counts embed calls and images. */
export function stubLoader(log: { calls: number; images: number; disposed: number }): FeatureLoader {
  return async (datasetDir) => {
    const ds = openPackedDataset(datasetDir);
    const train = ds.split('train');
    const { x } = train.read(Int32Array.from({ length: train.n }, (_, i) => i));
    ds.close();
    const xf = Float32Array.from(x, (v) => v / 127.5 - 1);
    const real = stubEmbed(xf, train.n);
    const st = featureStats(real.feats, train.n, 8);
    const net: GenFeatureNet = {
      id: 'stub-extractor',
      embed: (imgs, n) => {
        log.calls++;
        log.images += n;
        return stubEmbed(imgs, n);
      },
      dispose: () => {
        log.disposed++;
      },
    };
    return { net, real: { mu: st.mu, sigma: st.sigma, n: train.n, d: 8, feats: real.feats } };
  };
}

export interface Recorder {
  ctx: JobContext;
  scores: ScoreRecord[];
  metrics: MetricPoint[];
  artifacts: { kind: string; path: string; meta?: JsonObject }[];
  progress: { done: number; total: number }[];
  logs: string[];
  abort: AbortController;
}

export function recorder(home: string, runRel: string): Recorder {
  const runDir = path.join(home, runRel);
  fs.mkdirSync(runDir, { recursive: true });
  const abort = new AbortController();
  const r: Recorder = {
    scores: [],
    metrics: [],
    artifacts: [],
    progress: [],
    logs: [],
    abort,
    ctx: {
      home,
      runDir,
      runId: 99,
      signal: abort.signal,
      progress: (done, total) => r.progress.push({ done, total }),
      metrics: (p) => r.metrics.push(...p),
      score: (s) => r.scores.push(s),
      artifact: (kind, p, meta) => r.artifacts.push({ kind, path: p, meta }),
      log: (level, m) => r.logs.push(`${level}: ${m}`),
    },
  };
  return r;
}
