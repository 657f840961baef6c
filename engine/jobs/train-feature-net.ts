// Job: train the lab feature network of a dataset (METHOD §6) with a fixed seed on its training split,
// then write weights, meta.json (id, test accuracy) and real-image statistics of both splits into
// <dataset>/feature-net/, assembled in a temporary folder and swapped in at the end.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { deriveSeed } from '../rng';
import type { JsonObject } from '../protocol';
import { throwIfCancelled, type Job, type JobContext } from './types';
import { openPackedDataset, type PackedSplit } from '../data/packed';
import type { Batch, DatasetKind } from '../data/types';
import { u8ToUnit } from '../data/packed';
import { SHAPE_CLASSES, generateShapes } from '../data/shapes';
import { Rng } from '../rng';
import { blurImages, metricSelfTest, type SelfTestResult } from '../metrics/self-test';
import { FEATURE_NET_DIR, embedSplit, embedWith, writeSplitStats, type FeatureNetMeta } from '../features';
import { FeatureNet, featureNetArch, featureNetId, type FeatureNetArch } from '../models/feature-net';
import { validateTrainFeatureNetSpec, type TrainFeatureNetSpec } from '../specs/train-feature-net';
import { computeGrads, Optimizer } from '../train/optim';
import { restoreTraining, saveCheckpoint, snapshotTraining, varsToArrays } from '../train/checkpoint';
import { runTrainingLoop } from '../train/loop';
import { resolveWorkers } from '../workers';
import { EvalPool, forEachOrdered } from '../eval/pool';
import { lrAt } from '../train/schedules';

export interface FeatureNetData {
  train: PackedSplit;
  val: PackedSplit;
  imageSize: number;
  channels: number;
  numClasses: number;
  /** Dataset folder (absolute): the network goes to its feature-net/. */
  datasetDir: string;
  /** Dataset path as recorded in meta.json. */
  label: string;
  /** The dataset's kind: built-in shapes can train on fresh procedural images. */
  kind: DatasetKind;
}

/** Top-1 accuracy of n images in [-1,1], 256 at a time. */
function accuracyOf(net: FeatureNet, x: Float32Array, y: Int32Array, n: number): number {
  const { imageSize: S, channels: C } = net.arch;
  const per = S * S * C;
  let correct = 0;
  for (let i = 0; i < n; i += 256) {
    const b = Math.min(256, n - i);
    correct += tf.tidy(() => net.loss(tf.tensor4d(x.subarray(i * per, (i + b) * per), [b, S, S, C]), tf.tensor1d(y.subarray(i, i + b), 'int32')).correct.dataSync()[0]);
  }
  return n > 0 ? correct / n : 0;
}

/** Shifts each image by up to ±m pixels in x and y (edge pixels repeat), in place of a copy. */
export function shiftImages(x: Float32Array, n: number, S: number, C: number, m: number, rng: Rng): Float32Array {
  const out = new Float32Array(x.length);
  const per = S * S * C;
  for (let b = 0; b < n; b++) {
    const dx = rng.int(2 * m + 1) - m, dy = rng.int(2 * m + 1) - m;
    for (let yy = 0; yy < S; yy++) {
      const sy = Math.min(S - 1, Math.max(0, yy - dy));
      for (let xx = 0; xx < S; xx++) {
        const sx = Math.min(S - 1, Math.max(0, xx - dx));
        const o = b * per + (yy * S + xx) * C, i = b * per + (sy * S + sx) * C;
        for (let c = 0; c < C; c++) out[o + c] = x[i + c];
      }
    }
  }
  return out;
}

/**
 * Mild degradations, each with chance ½ per image: Gaussian blur σ ∈ [0.3, 1.2] px and noise σ ∈ [0, 0.12].
 * Optional (augment 'degrade'): measured on the 16 px shapes it made the classifier more robust to blur
 * (σ 0.75: 52 % → 75 %) but cost clean accuracy (0.96 → 0.85 in 1,200 steps), failed the metric self-test,
 * and raised reconstruction class accuracy only 0.47 → 0.51, so it is not the default.
 */
export function degradeImages(x: Float32Array, n: number, S: number, C: number, rng: Rng): Float32Array {
  const per = S * S * C;
  const out = x.slice();
  for (let b = 0; b < n; b++) {
    let img = out.subarray(b * per, (b + 1) * per);
    if (rng.uniform() < 0.5) img.set(blurImages(img, { n: 1, h: S, w: S, c: C }, 0.3 + 0.9 * rng.uniform()));
    if (rng.uniform() < 0.5) {
      const sigma = 0.12 * rng.uniform();
      img = out.subarray(b * per, (b + 1) * per);
      for (let i = 0; i < per; i++) {
        const v = img[i] + sigma * rng.normal();
        img[i] = v < -1 ? -1 : v > 1 ? 1 : v;
      }
    }
  }
  return out;
}

/** Replaces `dest` by `tmp` with two renames, so readers never see a half-written folder. */
function swapIn(tmp: string, dest: string): void {
  const old = `${dest}.old-${process.pid}-${Date.now()}`;
  if (fs.existsSync(dest)) fs.renameSync(dest, old);
  fs.renameSync(tmp, dest);
  fs.rmSync(old, { recursive: true, force: true });
}

interface StepBatch {
  x: Float32Array;
  y: Int32Array;
  n: number;
}

/** Where training images come from: fresh procedural shapes, or the training split minus a held-out share. */
interface TrainSource {
  kind: 'fresh' | 'split';
  augment: Augment;
  /** Images the plateau test measures (never the evaluation split). */
  heldOut: { x: Float32Array; y: Int32Array; n: number };
  trainN: number;
  batch(step: number): StepBatch;
}

const HELD_OUT_FRESH = 500;

type Augment = TrainFeatureNetSpec['augment'] & ('none' | 'shift' | 'degrade' | 'shift+degrade');

function augmentImages(x: Float32Array, n: number, S: number, C: number, augment: Augment, seed: number, step: number): Float32Array {
  let out = x;
  if (augment === 'shift' || augment === 'shift+degrade') out = shiftImages(out, n, S, C, 2, new Rng(deriveSeed(seed, `featnet-shift-${step}`)));
  if (augment === 'degrade' || augment === 'shift+degrade') out = degradeImages(out, n, S, C, new Rng(deriveSeed(seed, `featnet-degrade-${step}`)));
  return out;
}

function trainSource(data: FeatureNetData, spec: TrainFeatureNetSpec): TrainSource {
  const S = data.imageSize, C = data.channels, B = spec.batchSize;
  const fresh = spec.data === 'fresh' || (spec.data === 'auto' && data.kind === 'shapes' && data.numClasses === SHAPE_CLASSES.length);
  if (fresh) {
    if (data.kind !== 'shapes' || data.numClasses !== SHAPE_CLASSES.length) throw new Error(`data 'fresh' needs a built-in shapes dataset (this one is ${data.kind}); use data 'split'`);
    const draw = (count: number, seed: number): StepBatch => {
      const d = generateShapes({ count, seed, resolution: S, channels: C as 1 | 3 });
      return { x: u8ToUnit(d.x), y: d.y, n: count };
    };
    const augment: Augment = spec.augment === 'auto' ? 'none' : spec.augment;
    return {
      kind: 'fresh',
      augment,
      heldOut: draw(HELD_OUT_FRESH, deriveSeed(spec.seed, 'featnet-heldout')),
      trainN: 0,
      batch: (step) => {
        const b = draw(B, deriveSeed(spec.seed, `featnet-fresh-${step}`));
        return { ...b, x: augmentImages(b.x, b.n, S, C, augment, spec.seed, step) };
      },
    };
  }
  const limit = spec.trainLimit > 0 ? Math.min(spec.trainLimit, data.train.n) : data.train.n;
  const order = new Int32Array(limit);
  for (let i = 0; i < limit; i++) order[i] = i;
  new Rng(deriveSeed(spec.seed, 'featnet-holdout-split')).shuffle(order);
  const nHeld = limit >= 20 ? Math.max(10, Math.round(limit * spec.holdout)) : 0;
  const held = order.subarray(0, nHeld);
  const train = order.slice(nHeld);
  if (train.length < 2) throw new Error(`the training split has ${train.length} images after the held-out share; the feature network needs more`);
  const h = data.train.read(held);
  const augment: Augment = spec.augment === 'auto' ? 'shift' : spec.augment;
  const perEpoch = Math.max(1, Math.floor(train.length / B));
  let permEpoch = -1;
  let perm = train;
  return {
    kind: 'split',
    augment,
    heldOut: nHeld > 0 ? { x: u8ToUnit(h.x), y: h.y, n: nHeld } : { x: new Float32Array(0), y: new Int32Array(0), n: 0 },
    trainN: train.length,
    batch: (step) => {
      const e = Math.floor(step / perEpoch);
      if (e !== permEpoch) {
        perm = train.slice();
        new Rng(deriveSeed(spec.seed, `featnet-epoch-${e}`)).shuffle(perm);
        permEpoch = e;
      }
      const k = step % perEpoch;
      const idx = perm.subarray(k * B, Math.min(perm.length, (k + 1) * B));
      const r = data.train.read(idx);
      return { x: augmentImages(u8ToUnit(r.x), idx.length, S, C, augment, spec.seed, step), y: r.y, n: idx.length };
    },
  };
}

/**
 * Trains and writes the feature network; `arch` overrides the default architecture (tests use a
 * narrower net). Trains until held-out accuracy plateaus (or the step budget ends), then measures
 * test accuracy on the val split, runs the metric self-test there, and writes statistics of both
 * splits. Training checkpoints (for resume after cancel) live in ctx.runDir.
 */
/** Images per batch of the split statistics. */
const STATS_BATCH = 256;

/** embedSplit's features, batch by batch on the pool's workers, in split order. */
async function embedSplitOnPool(pool: EvalPool, split: PackedSplit, d: number, signal: AbortSignal, onBatch: (done: number) => void): Promise<Float32Array> {
  const feats = new Float32Array(split.n * d);
  const batches = split.batches({ batchSize: STATS_BATCH, seed: 0, shuffle: false })[Symbol.iterator]();
  let done = 0;
  await forEachOrdered(
    split.batchCount({ batchSize: STATS_BATCH, seed: 0, shuffle: false }),
    pool.count,
    // run(i) is called for i = 0, 1, … in order: the i-th call takes the i-th batch
    async (_i, slot) => {
      throwIfCancelled(signal);
      const b = batches.next().value as Batch;
      return (await pool.run(slot, { type: 'embed-batch', x: b.x, n: b.n })).embedding as { feats: Float32Array };
    },
    (_i, e) => {
      feats.set(e.feats, done * d);
      done += e.feats.length / d;
      onBatch(done);
    },
  );
  return feats;
}

export async function trainFeatureNetOn(data: FeatureNetData, spec: TrainFeatureNetSpec, ctx: JobContext, arch?: Partial<Omit<FeatureNetArch, 'kind' | 'imageSize' | 'channels' | 'numClasses'>>): Promise<JsonObject> {
  if (data.val.n === 0) throw new Error('the dataset has no validation images; rebuild it with a val share above 0 (the feature network reports its test accuracy on them and evaluations use them)');
  const a = featureNetArch(data.imageSize, data.channels, data.numClasses, arch);
  const S = a.imageSize, C = a.channels;
  const src = trainSource(data, spec);
  const net = new FeatureNet(a, spec.seed);
  const opt = new Optimizer(net.params, { kind: 'adam' });
  const every = Math.min(spec.evalEvery, spec.maxSteps);
  const checks = Math.ceil(spec.maxSteps / every);
  const total = checks * every;
  const sched = { base: spec.lr, warmup: Math.min(50, Math.floor(total / 10)), total, min: spec.lr / 20 };
  ctx.log('info', `feature network: ${net.numParams()} parameters, d = ${a.featureDim}; ${src.kind === 'fresh' ? 'fresh procedural images every step' : `${src.trainN} training images (${src.augment} augmentation)`}, plateau test on ${src.heldOut.n} held-out images every ${every} steps, budget ${total} steps`);
  const history: { step: number; acc: number }[] = [];
  let best = -1, sinceBest = 0;
  let bestWeights: Record<string, { shape: number[]; data: Float32Array }> | null = null;
  let stoppedBy: 'plateau' | 'budget' = 'budget';
  try {
    const loop = await runTrainingLoop<number>({
      ctx,
      runDir: ctx.runDir,
      epochs: checks,
      stepsPerEpoch: every,
      checkpointEvery: 0,
      logEvery: 10,
      metricPrefix: 'featnet/',
      batches: (epoch) => Array.from({ length: every }, (_, i) => epoch * every + i),
      step: (s) => {
        const lr = lrAt(s, sched);
        const b = src.batch(s);
        const x = tf.tensor4d(b.x, [b.n, S, S, C]);
        const y = tf.tensor1d(b.y, 'int32');
        const kept: { acc?: tf.Scalar } = {};
        const { value, grads } = computeGrads(net.params, () => {
          const l = net.loss(x, y);
          kept.acc = tf.keep(tf.div(l.correct, b.n)) as tf.Scalar;
          return l.loss;
        });
        opt.apply(grads, lr).dispose();
        tf.dispose([x, y, ...Object.values(grads)]);
        return { loss: value, train_acc: kept.acc ?? 0, lr };
      },
      snapshot: (step, epoch) => snapshotTraining(net.params, opt, null, step, { epoch, seed: spec.seed, best, sinceBest, history: history.map((h) => [h.step, h.acc]) }),
      restore: (ck) => {
        restoreTraining(ck, net.params, opt, null);
        best = Number(ck.state.best ?? -1);
        sinceBest = Number(ck.state.sinceBest ?? 0);
        for (const [st, acc] of (ck.state.history as [number, number][] | undefined) ?? []) history.push({ step: st, acc });
      },
      onEpochEnd: (_epoch, _means, step) => {
        if (src.heldOut.n === 0) return;
        const acc = accuracyOf(net, src.heldOut.x, src.heldOut.y, src.heldOut.n);
        history.push({ step, acc });
        ctx.metrics([{ name: 'featnet/heldout_acc', step, value: acc }]);
        if (acc >= best + spec.minGain) {
          best = acc;
          sinceBest = 0;
          bestWeights = varsToArrays(net.params);
        } else sinceBest++;
      },
      stopAfterEpoch: (_epoch, step) => {
        if (src.heldOut.n === 0 || step < spec.minSteps || sinceBest < spec.patience) return false;
        stoppedBy = 'plateau';
        return true;
      },
    });
    throwIfCancelled(ctx.signal);
    if (bestWeights && loop.step > 0) {
      const bw: Record<string, { shape: number[]; data: Float32Array }> = bestWeights;
      tf.tidy(() => {
        for (const [k, v] of Object.entries(net.params)) v.assign(tf.tensor(bw[k].data, v.shape, 'float32'));
      });
    }
    if (stoppedBy === 'budget' && src.heldOut.n > 0) ctx.log('warn', `feature network: held-out accuracy was still rising at the step budget (${total} steps, best ${best.toFixed(3)}); a larger maxSteps may give a better extractor`);
    else ctx.log('info', `feature network: held-out accuracy plateaued at ${best.toFixed(3)} after ${loop.step} steps`);
    // the val split, read once: test accuracy and the metric self-test (measures the extractor; trains nothing on it)
    const val = data.val.read(Array.from({ length: data.val.n }, (_, i) => i));
    const valX = u8ToUnit(val.x);
    const valAcc = accuracyOf(net, valX, val.y, data.val.n);
    ctx.metrics([{ name: 'featnet/val_acc', step: loop.step, value: valAcc }]);

    let selfTest: SelfTestResult | null = null;
    if (spec.selfTest && data.val.n >= 4) {
      ctx.progress(0, 1, 'metric self-test');
      const n = Math.min(data.val.n, 1000);
      selfTest = metricSelfTest(valX.subarray(0, n * S * S * C), { n, h: S, w: S, c: C }, a.featureDim, (x, m) => embedWith(net, x, m).feats, spec.seed);
      ctx.log(selfTest.passed ? 'info' : 'warn', `metric self-test ${selfTest.passed ? 'passed' : `FAILED: ${selfTest.reason}`} (split-half FID ${selfTest.splitHalfFid.toFixed(2)}; ${selfTest.families.map((f) => `${f.kind} ${f.fid.map((v) => v.toFixed(1)).join('→')}`).join('; ')})`);
    }

    const weights = varsToArrays(net.params);
    const id = featureNetId(a, weights);
    const dest = path.join(data.datasetDir, FEATURE_NET_DIR);
    const tmp = `${dest}.tmp-${process.pid}-${ctx.runId}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
      saveCheckpoint(tmp, { step: loop.step, tensors: varsToArrays(net.params, 'model/'), state: { seed: spec.seed, id } });
      const meta: FeatureNetMeta = {
        id,
        arch: a,
        featureDim: a.featureDim,
        numClasses: a.numClasses,
        testAccuracy: valAcc,
        heldOutAccuracy: best >= 0 ? best : null,
        trainedOn: { dataset: data.label, split: 'train', n: src.kind === 'fresh' ? loop.step * spec.batchSize : src.trainN, source: src.kind, augment: src.augment },
        seed: spec.seed,
        steps: loop.step,
        stoppedBy,
        selfTest: selfTest as unknown as JsonObject | null,
      };
      // written before the statistics: evaluation workers load the network from this folder
      fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
      const splits = [data.train, data.val];
      const totalImages = splits.reduce((s, p) => s + p.n, 0);
      const workers = resolveWorkers(spec.workers, Math.ceil(totalImages / STATS_BATCH), tf.getBackend(), true);
      const pool = workers > 1 ? await EvalPool.start(workers, { job: 'embed', featureNetDir: tmp }, tf.getBackend()) : null;
      try {
        if (pool?.ready.some((r) => r.loaded?.extractorId !== id)) throw new Error(`an evaluation worker loaded another feature network from ${tmp}; train again`);
        let base = 0;
        for (const split of splits) {
          const onBatch = (done: number): void => ctx.progress(base + done, totalImages, `statistics of ${split.name}${pool ? ` on ${pool.count} workers` : ''}`);
          const feats = pool
            ? await embedSplitOnPool(pool, split, a.featureDim, ctx.signal, onBatch)
            : embedSplit(
                (x, n) => {
                  throwIfCancelled(ctx.signal);
                  return embedWith(net, x, n);
                },
                split,
                a.featureDim,
                onBatch,
                STATS_BATCH,
              );
          base += split.n;
          writeSplitStats(tmp, split.name, feats, split.n, a.featureDim, id, { dataset: data.label });
        }
      } finally {
        await pool?.close();
      }
      swapIn(tmp, dest);
      fs.writeFileSync(path.join(ctx.runDir, 'feature-net.json'), JSON.stringify(meta, null, 2));
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    const prov = { extractorId: id, n: data.val.n, split: 'val', seed: spec.seed, dataset: data.label };
    ctx.score({ metric: 'featnet/test_accuracy', value: valAcc, provenance: prov });
    if (selfTest) {
      ctx.score({ metric: 'featnet/selftest_passed', value: selfTest.passed ? 1 : 0, provenance: { ...prov, n: selfTest.n, selfTest: selfTest as unknown as JsonObject } });
      ctx.score({ metric: 'featnet/split_half_fid', value: selfTest.splitHalfFid, provenance: { ...prov, n: Math.floor(selfTest.n / 2) } });
    }
    ctx.artifact('feature-net', path.relative(ctx.home, path.join(dest, 'meta.json')), { extractorId: id, featureDim: a.featureDim });
    return { extractorId: id, testAccuracy: valAcc, heldOutAccuracy: best >= 0 ? best : null, featureDim: a.featureDim, numClasses: a.numClasses, steps: loop.step, stoppedBy, selfTest: selfTest as unknown as JsonObject | null };
  } finally {
    opt.dispose();
    net.dispose();
  }
}

export const trainFeatureNet: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateTrainFeatureNetSpec(rawSpec);
  const datasetDir = path.resolve(ctx.home, spec.datasetPath);
  const ds = openPackedDataset(datasetDir);
  try {
    const [H, , C] = ds.imageShape;
    return await trainFeatureNetOn({ train: ds.split('train'), val: ds.split('val'), imageSize: H, channels: C, numClasses: ds.manifest.classes.length, datasetDir, label: spec.datasetPath, kind: ds.manifest.kind }, spec, ctx);
  } finally {
    ds.close();
  }
};
