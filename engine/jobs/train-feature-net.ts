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
import type { Batch, BatchOptions } from '../data/types';
import { FEATURE_NET_DIR, embedSplit, embedWith, writeSplitStats, type FeatureNetMeta } from '../features';
import { FeatureNet, featureNetArch, featureNetId, type FeatureNetArch } from '../models/feature-net';
import { validateTrainFeatureNetSpec, type TrainFeatureNetSpec } from '../specs/train-feature-net';
import { computeGrads, Optimizer } from '../train/optim';
import { restoreTraining, saveCheckpoint, snapshotTraining, varsToArrays } from '../train/checkpoint';
import { runTrainingLoop } from '../train/loop';
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
}

/** Top-1 accuracy on a whole split. */
function accuracy(net: FeatureNet, split: PackedSplit): number {
  const { imageSize: S, channels: C } = net.arch;
  let correct = 0;
  for (const b of split.batches({ batchSize: 256, seed: 0, shuffle: false })) {
    correct += tf.tidy(() => {
      const { correct: c } = net.loss(tf.tensor4d(b.x, [b.n, S, S, C]), tf.tensor1d(b.y, 'int32'));
      return c.dataSync()[0];
    });
  }
  return split.n > 0 ? correct / split.n : 0;
}

/** Replaces `dest` by `tmp` with two renames, so readers never see a half-written folder. */
function swapIn(tmp: string, dest: string): void {
  const old = `${dest}.old-${process.pid}-${Date.now()}`;
  if (fs.existsSync(dest)) fs.renameSync(dest, old);
  fs.renameSync(tmp, dest);
  fs.rmSync(old, { recursive: true, force: true });
}

/**
 * Trains and writes the feature network; `arch` overrides the default architecture (tests use a
 * narrower net). Training checkpoints (for resume after cancel) live in ctx.runDir.
 */
export async function trainFeatureNetOn(data: FeatureNetData, spec: TrainFeatureNetSpec, ctx: JobContext, arch?: Partial<Omit<FeatureNetArch, 'kind' | 'imageSize' | 'channels' | 'numClasses'>>): Promise<JsonObject> {
  if (data.val.n === 0) throw new Error('the dataset has no validation images; rebuild it with a val share above 0 (the feature network reports its test accuracy on them and evaluations use them)');
  const a = featureNetArch(data.imageSize, data.channels, data.numClasses, arch);
  const net = new FeatureNet(a, spec.seed);
  const opt = new Optimizer(net.params, { kind: 'adam' });
  const S = a.imageSize, C = a.channels;
  const limit = spec.trainLimit > 0 ? spec.trainLimit : undefined;
  const nTrain = Math.min(data.train.n, limit ?? Infinity);
  if (nTrain < 2) throw new Error(`the training split has ${nTrain} images; the feature network needs more`);
  const batchOpts = (epoch: number): BatchOptions => ({ batchSize: spec.batchSize, seed: deriveSeed(spec.seed, `featnet-epoch-${epoch}`), shuffle: true, dropLast: nTrain >= spec.batchSize, limit });
  const stepsPerEpoch = data.train.batchCount(batchOpts(0));
  const epochs = Math.max(spec.epochs, Math.ceil((spec.minSteps ?? 0) / stepsPerEpoch));
  const total = epochs * stepsPerEpoch;
  const sched = { base: spec.lr, warmup: Math.min(20, Math.floor(total / 10)), total, min: spec.lr / 20 };
  ctx.log('info', `feature network: ${net.numParams()} parameters, d = ${a.featureDim}, ${stepsPerEpoch} steps/epoch × ${epochs} epochs`);
  let valAcc = 0;
  try {
    const loop = await runTrainingLoop<Batch>({
      ctx,
      runDir: ctx.runDir,
      epochs,
      stepsPerEpoch,
      checkpointEvery: 0,
      logEvery: 10,
      metricPrefix: 'featnet/',
      batches: (epoch) => data.train.batches(batchOpts(epoch)),
      step: (b, info) => {
        const lr = lrAt(info.step, sched);
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
      snapshot: (step, epoch) => snapshotTraining(net.params, opt, null, step, { epoch, seed: spec.seed }),
      restore: (ck) => restoreTraining(ck, net.params, opt, null),
      onEpochEnd: (_epoch, _means, step) => {
        valAcc = accuracy(net, data.val);
        ctx.metrics([{ name: 'featnet/val_acc', step, value: valAcc }]);
      },
    });
    // a resumed run that had already finished skips onEpochEnd: measure again
    if (loop.resumedFrom === total) valAcc = accuracy(net, data.val);
    throwIfCancelled(ctx.signal);

    const weights = varsToArrays(net.params);
    const id = featureNetId(a, weights);
    const dest = path.join(data.datasetDir, FEATURE_NET_DIR);
    const tmp = `${dest}.tmp-${process.pid}-${ctx.runId}`;
    fs.rmSync(tmp, { recursive: true, force: true });
    fs.mkdirSync(tmp, { recursive: true });
    try {
      saveCheckpoint(tmp, { step: loop.step, tensors: varsToArrays(net.params, 'model/'), state: { seed: spec.seed, id } });
      const splits = [data.train, data.val];
      const totalImages = splits.reduce((s, p) => s + p.n, 0);
      let base = 0;
      for (const split of splits) {
        const feats = embedSplit((x, n) => {
          throwIfCancelled(ctx.signal);
          return embedWith(net, x, n);
        }, split, a.featureDim, (done) => ctx.progress(base + done, totalImages, `statistics of ${split.name}`));
        base += split.n;
        writeSplitStats(tmp, split.name, feats, split.n, a.featureDim, id, { dataset: data.label });
      }
      const meta: FeatureNetMeta = {
        id,
        arch: a,
        featureDim: a.featureDim,
        numClasses: a.numClasses,
        testAccuracy: valAcc,
        trainedOn: { dataset: data.label, split: 'train', n: nTrain },
        seed: spec.seed,
        epochs,
      };
      fs.writeFileSync(path.join(tmp, 'meta.json'), JSON.stringify(meta, null, 2));
      swapIn(tmp, dest);
      fs.writeFileSync(path.join(ctx.runDir, 'feature-net.json'), JSON.stringify(meta, null, 2));
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      throw e;
    }
    ctx.score({ metric: 'featnet/test_accuracy', value: valAcc, provenance: { extractorId: id, n: data.val.n, split: 'val', seed: spec.seed, dataset: data.label } });
    ctx.artifact('feature-net', path.relative(ctx.home, path.join(dest, 'meta.json')), { extractorId: id, featureDim: a.featureDim });
    return { extractorId: id, testAccuracy: valAcc, featureDim: a.featureDim, numClasses: a.numClasses, steps: loop.step };
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
    return await trainFeatureNetOn({ train: ds.split('train'), val: ds.split('val'), imageSize: H, channels: C, numClasses: ds.manifest.classes.length, datasetDir, label: spec.datasetPath }, spec, ctx);
  } finally {
    ds.close();
  }
};
