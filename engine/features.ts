// The trained lab feature network of a dataset (METHOD §6) and its cached real-image statistics.
// Layout of <dataset>/feature-net/: meta.json, checkpoints/ckpt-*.bin (weights), and per split
// stats-<split>.json, stats-<split>.mu.npy [d] f8, stats-<split>.sigma.npy [d,d] f8,
// stats-<split>.features.npy [n,d] f4 (readable by `toklab fid`).
import fs from 'node:fs';
import path from 'node:path';
import { tf } from './tf';
import type { JsonObject } from './protocol';
import type { PackedSplit } from './data/packed';
import type { SplitName } from './data/types';
import { featureStats } from './metrics/fid';
import { encodeNpy, parseNpy } from './metrics/npy';
import { evalWeights, latestCheckpoint, loadCheckpoint } from './train/checkpoint';
import { FeatureNet, featureNetId, type FeatureNetArch } from './models/feature-net';

export const FEATURE_NET_DIR = 'feature-net';

export interface FeatureNetMeta {
  id: string;
  arch: FeatureNetArch;
  featureDim: number;
  numClasses: number;
  /** Top-1 accuracy on the dataset's val split. */
  testAccuracy: number;
  /** Accuracy on the held-out training images the plateau test used (null: none). */
  heldOutAccuracy?: number | null;
  /** n: training images seen (fresh) or used (split). */
  trainedOn: { dataset: string; split: 'train'; n: number; source?: 'fresh' | 'split'; augment?: string };
  seed: number;
  steps?: number;
  /** Legacy field of networks trained for a fixed number of epochs. */
  epochs?: number;
  stoppedBy?: 'plateau' | 'budget';
  /** The metric self-test (engine/metrics/self-test.ts SelfTestResult), null when skipped. */
  selfTest?: JsonObject | null;
}

export interface Embedding {
  /** [n,d] row-major */
  feats: Float32Array;
  /** Softmax class probabilities. [n,C] */
  probs: Float32Array;
}

export interface LoadedFeatureNet {
  id: string;
  meta: FeatureNetMeta;
  /** Images NHWC in [-1,1] (n of them) → features and class probabilities; batched and tidy'd. */
  embed(x: Float32Array, n: number): Embedding;
  dispose(): void;
}

export interface RealStats {
  mu: Float64Array;
  /** [d,d] row-major, N−1 normalisation. */
  sigma: Float64Array;
  n: number;
  d: number;
  /** Raw features of the split in split order. [n,d] */
  feats: Float32Array;
  extractorId: string;
}

const EMBED_BATCH = 128;

export function featureNetDir(datasetDir: string): string {
  return path.join(datasetDir, FEATURE_NET_DIR);
}

function missing(dir: string, what: string): Error {
  return new Error(`train the feature network first: ${what} in ${dir} (run a train-feature-net job on this dataset)`);
}

/** Features and probabilities of n images [n,H,W,C], EMBED_BATCH at a time. */
export function embedWith(net: FeatureNet, x: Float32Array, n: number): Embedding {
  const { imageSize: S, channels: C, featureDim: d, numClasses: K } = net.arch;
  const per = S * S * C;
  if (x.length !== n * per) throw new Error(`embed: got ${x.length} values for ${n} images of ${S}×${S}×${C}`);
  const feats = new Float32Array(n * d);
  const probs = new Float32Array(n * K);
  for (let i = 0; i < n; i += EMBED_BATCH) {
    const b = Math.min(EMBED_BATCH, n - i);
    const [f, p] = tf.tidy(() => {
      const out = net.forward(tf.tensor4d(x.subarray(i * per, (i + b) * per), [b, S, S, C]));
      return [out.feats.dataSync() as Float32Array, tf.softmax(out.logits).dataSync() as Float32Array];
    });
    feats.set(f, i * d);
    probs.set(p, i * K);
  }
  return { feats, probs };
}

export function readFeatureNetMeta(datasetDir: string): FeatureNetMeta {
  return readMetaIn(featureNetDir(datasetDir));
}

function readMetaIn(dir: string): FeatureNetMeta {
  const file = path.join(dir, 'meta.json');
  if (!fs.existsSync(file)) throw missing(dir, 'no meta.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')) as FeatureNetMeta;
}

/** The dataset's trained feature network; checks its weights against the recorded id. */
export function loadFeatureNet(datasetDir: string): LoadedFeatureNet {
  return loadFeatureNetIn(featureNetDir(datasetDir));
}

/** A feature network from its own folder (meta.json and weights): the dataset's, or one being written. */
export function loadFeatureNetIn(dir: string): LoadedFeatureNet {
  const meta = readMetaIn(dir);
  const file = latestCheckpoint(dir);
  if (!file) throw missing(dir, 'no weights');
  const weights = evalWeights(loadCheckpoint(file), false);
  const id = featureNetId(meta.arch, weights);
  if (id !== meta.id) throw new Error(`feature network in ${dir}: weights hash to ${id} but meta.json says ${meta.id}; the folder is damaged, retrain the feature network`);
  const net = new FeatureNet(meta.arch, meta.seed);
  try {
    tf.tidy(() => {
      for (const [k, v] of Object.entries(net.params)) {
        const a = weights[k];
        if (!a) throw new Error(`feature network weights ${file} lack ${k}`);
        v.assign(tf.tensor(a.data, v.shape, 'float32'));
      }
    });
  } catch (e) {
    net.dispose();
    throw e;
  }
  return { id, meta, embed: (x, n) => embedWith(net, x, n), dispose: () => net.dispose() };
}

/** Features of a whole split in split order, batch by batch. [n,d] */
export function embedSplit(embed: (x: Float32Array, n: number) => Embedding, split: PackedSplit, d: number, onBatch?: (done: number) => void, batchSize = 256): Float32Array {
  const feats = new Float32Array(split.n * d);
  let done = 0;
  for (const b of split.batches({ batchSize, seed: 0, shuffle: false })) {
    feats.set(embed(b.x, b.n).feats, done * d);
    done += b.n;
    onBatch?.(done);
  }
  return feats;
}

function statFiles(dir: string, split: SplitName) {
  const base = path.join(dir, `stats-${split}`);
  return { json: `${base}.json`, mu: `${base}.mu.npy`, sigma: `${base}.sigma.npy`, feats: `${base}.features.npy` };
}

/** Writes mean, covariance (float64) and raw features of a split into a feature-net folder. */
export function writeSplitStats(dir: string, split: SplitName, feats: Float32Array, n: number, d: number, extractorId: string, extra: JsonObject = {}): void {
  if (n < 2) throw new Error(`the ${split} split has ${n} images; statistics need at least 2`);
  const st = featureStats(feats, n, d);
  const f = statFiles(dir, split);
  fs.writeFileSync(f.mu, encodeNpy(st.mu, [d]));
  fs.writeFileSync(f.sigma, encodeNpy(st.sigma, [d, d]));
  fs.writeFileSync(f.feats, encodeNpy(feats, [n, d]));
  fs.writeFileSync(f.json, JSON.stringify({ split, n, d, extractorId, ...extra }, null, 2));
}

/** Cached statistics of real images of a split, as the feature-net job wrote them. */
export function realStats(datasetDir: string, split: SplitName): RealStats {
  const dir = featureNetDir(datasetDir);
  const meta = readFeatureNetMeta(datasetDir);
  const f = statFiles(dir, split);
  if (!fs.existsSync(f.json)) throw missing(dir, `no ${split} statistics`);
  const info = JSON.parse(fs.readFileSync(f.json, 'utf8')) as { n: number; d: number; extractorId: string };
  if (info.extractorId !== meta.id) throw new Error(`${f.json} belongs to feature network ${info.extractorId}, not ${meta.id}; retrain the feature network`);
  const mu = parseNpy(fs.readFileSync(f.mu), f.mu);
  const sigma = parseNpy(fs.readFileSync(f.sigma), f.sigma);
  const feats = parseNpy(fs.readFileSync(f.feats), f.feats);
  const { n, d } = info;
  if (mu.data.length !== d || sigma.data.length !== d * d || feats.data.length !== n * d) throw new Error(`statistics in ${dir} do not match n = ${n}, d = ${d}; retrain the feature network`);
  return {
    mu: Float64Array.from(mu.data),
    sigma: Float64Array.from(sigma.data),
    n,
    d,
    feats: feats.data instanceof Float32Array ? feats.data : Float32Array.from(feats.data),
    extractorId: meta.id,
  };
}
