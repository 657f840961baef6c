// Generator trainer: AdamW, warmup + cosine, global-norm clipping, class dropout, RAR permutation
// annealing, validation NLL against the uniform baseline ln K, checkpoints and resume through the
// shared training loop. The train-generator job feeds it a tokenizer run's token cache.
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import type { JsonObject } from '../protocol';
import type { JobContext } from '../context';
import { Generator, generatorConfig, type GeneratorConfig, rarPermuteProb, rasterInput, trainingInput, type SeqInput } from '../models/transformer';
import { writeGeneratorMeta } from '../models/generator-store';
import type { TrainGeneratorSpec } from '../specs/train-generator';
import { Optimizer, computeGrads, type GradMap, type VarMap } from './optim';
import { Ema } from './ema';
import { lrAt } from './schedules';
import { runTrainingLoop } from './loop';
import { restoreTraining, snapshotTraining } from './checkpoint';
import { Replicas, shardSeqInput } from './replicas';
import { AUTO_MIN_DMODEL, resolveWorkers } from '../workers';

/** Token grids of one split: tokens [n·h·w] raster order, labels [n]. */
export interface TokenSet {
  tokens: Int32Array;
  labels: Int32Array;
  n: number;
  h: number;
  w: number;
  K: number;
}

export interface GeneratorData {
  train: TokenSet;
  val: TokenSet | null;
  numClasses: number;
}

interface TokenBatch {
  tokens: Int32Array;
  labels: Int32Array;
}

/** One step's gradients (tensors the caller disposes) and mean loss from the replicas, by rows of the input. */
export async function generatorGradsOnReplicas(dp: Replicas, weights: VarMap, input: SeqInput, targets: Int32Array): Promise<{ grads: GradMap; loss: number }> {
  const results = await dp.stepGenerator(weights, shardSeqInput(input, targets, dp.count));
  return { grads: dp.meanGrads(results), loss: results.reduce((a, r) => a + (r.n / input.batch) * r.loss, 0) };
}

/** Trains on tokens already in memory (the job reads them from the token cache; tests use synthetic grids). */
export async function trainGeneratorOn(
  data: GeneratorData,
  spec: TrainGeneratorSpec,
  ctx: JobContext,
  /** Overrides of the preset's sizes (tests use smaller-than-nano models). */
  sizes: Partial<Pick<GeneratorConfig, 'dModel' | 'nLayers' | 'nHeads' | 'mlpRatio'>> = {},
): Promise<JsonObject> {
  const { train, val } = data;
  const { h, w, K } = train;
  const L = h * w;
  const base = generatorConfig(spec.preset, { vocabSize: K, seqLen: L, numClasses: data.numClasses, arch: spec.arch });
  const cfg: GeneratorConfig = { ...base, ...sizes, norm: spec.norm };
  let batchSize = spec.batchSize;
  if (train.n < batchSize) {
    ctx.log('warn', `only ${train.n} training grids: batch size lowered from ${batchSize} to ${train.n}`);
    batchSize = train.n;
  }
  const stepsPerEpoch = Math.floor(train.n / batchSize);
  const total = spec.epochs * stepsPerEpoch;
  const rarWindow = { start: spec.rar.start * total, end: spec.rar.end * total };
  const uniformLoss = Math.log(K);

  writeGeneratorMeta(ctx.runDir, {
    format: 'toklab-generator-v1',
    config: cfg,
    tokenizerRunDir: spec.tokenizerRunDir,
    grid: { h, w },
    seed: spec.seed,
    spec: spec as unknown as JsonObject,
  });
  const gen = new Generator(cfg, deriveSeed(spec.seed, 'init'));
  const opt = new Optimizer(gen.weights, { kind: 'adamw', weightDecay: spec.weightDecay, clipNorm: spec.clip, beta2: 0.95 });
  const ema = spec.ema > 0 ? new Ema(gen.weights, spec.ema) : null;
  ctx.log('info', `generator ${spec.preset}/${spec.arch}: ${gen.paramCount()} parameters, L ${L}, K ${K}, ${data.numClasses} classes, ${total} steps`);

  // Epoch order depends only on (seed, epoch), so a resumed run sees the same batches.
  function* batches(epoch: number): Iterable<TokenBatch> {
    const order = new Rng(deriveSeed(spec.seed, `epoch/${epoch}`)).shuffle(Int32Array.from({ length: train.n }, (_, i) => i));
    for (let s = 0; s < stepsPerEpoch; s++) {
      const tokens = new Int32Array(batchSize * L);
      const labels = new Int32Array(batchSize);
      for (let b = 0; b < batchSize; b++) {
        const i = order[s * batchSize + b];
        tokens.set(train.tokens.subarray(i * L, (i + 1) * L), b * L);
        labels[b] = train.labels[i];
      }
      yield { tokens, labels };
    }
  }

  const evaluate = (): number | null => {
    if (!val || val.n === 0) return null;
    const n = spec.valLimit > 0 ? Math.min(val.n, spec.valLimit) : val.n;
    let sum = 0;
    for (let s = 0; s < n; s += batchSize) {
      const e = Math.min(n, s + batchSize);
      const { input, targets } = rasterInput(cfg, val.tokens.slice(s * L, e * L), val.labels.slice(s, e));
      const loss = gen.loss(input, targets);
      sum += loss.dataSync()[0] * (e - s);
      loss.dispose();
    }
    return sum / n;
  };

  let lastVal: number | null = null;
  const workers = resolveWorkers(spec.workers, batchSize, tf.getBackend(), cfg.dModel >= AUTO_MIN_DMODEL);
  let dp: Replicas | null = null;
  try {
    if (workers > 1) {
      dp = await Replicas.start(workers, { kind: 'generator', config: cfg }, deriveSeed(spec.seed, 'init'), gen.weights, tf.getBackend());
      ctx.log('info', `data-parallel: ${workers} workers, each on ${dp.device}`);
    }
    const replicas = dp;
    const res = await runTrainingLoop<TokenBatch>({
      ctx,
      runDir: ctx.runDir,
      epochs: spec.epochs,
      stepsPerEpoch,
      checkpointEvery: spec.checkpointEvery,
      batches,
      step: async (batch, info) => {
        const permuteProb = spec.arch === 'rar' ? rarPermuteProb(info.step, rarWindow) : 0;
        const rng = new Rng(deriveSeed(spec.seed, `step/${info.step}`));
        // drawn for the global batch (class dropout, RAR orders), then split by rows for the replicas
        const { input, targets } = trainingInput(cfg, batch.tokens, batch.labels, rng, { classDropout: spec.classDropout, permuteProb });
        const lr = lrAt(info.step, { base: spec.lr, warmup: spec.warmup, total });
        if (replicas) {
          const { grads, loss } = await generatorGradsOnReplicas(replicas, gen.weights, input, targets);
          const gradNorm = opt.apply(grads, lr);
          tf.dispose(Object.values(grads));
          ema?.update();
          if (spec.arch === 'rar' && info.step % 10 === 0) ctx.metrics([{ name: 'rar/permute_prob', step: info.step + 1, value: permuteProb }]);
          return { loss, nll_bits: loss / Math.LN2, lr, grad_norm: gradNorm };
        }
        const { value, grads } = computeGrads(gen.weights, () => gen.loss(input, targets));
        const gradNorm = opt.apply(grads, lr);
        tf.dispose(Object.values(grads));
        ema?.update();
        if (spec.arch === 'rar' && info.step % 10 === 0) ctx.metrics([{ name: 'rar/permute_prob', step: info.step + 1, value: permuteProb }]);
        const nllBits = tf.div(value, Math.LN2) as tf.Scalar;
        return { loss: value, nll_bits: nllBits, lr, grad_norm: gradNorm };
      },
      snapshot: (step, epoch) => snapshotTraining(gen.weights, opt, ema, step, { epoch, seed: spec.seed }),
      restore: (ck) => restoreTraining(ck, gen.weights, opt, ema),
      onEpochEnd: async (_epoch, _means, step) => {
        lastVal = ema ? await ema.withEma(evaluate) : evaluate();
        const points = [{ name: 'val/uniform_loss', step, value: uniformLoss }];
        if (lastVal !== null) {
          points.push({ name: 'val/loss', step, value: lastVal }, { name: 'val/nll_bits', step, value: lastVal / Math.LN2 });
        }
        ctx.metrics(points);
      },
    });
    return {
      steps: res.step,
      resumedFrom: res.resumedFrom,
      params: gen.paramCount(),
      trainLoss: res.lastEpochMeans['loss'] ?? null,
      valLoss: lastVal,
      uniformLoss,
      config: cfg as unknown as JsonObject,
      workers,
    };
  } finally {
    await dp?.close();
    ema?.dispose();
    opt.dispose();
    gen.dispose();
  }
}
