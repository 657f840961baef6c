// VQ tokenizer training (METHOD §1–2) on any batch source, driven by the shared loop: LP on the
// decoder input, EMA, dead-code restart, recon grids + token-flip maps, final PSNR/SSIM/usage scores.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import type { JobContext } from '../context';
import type { JsonObject } from '../protocol';
import type { Batch, BatchOptions } from '../data/types';
import { writeImageGrid } from '../data/png';
import { psnr, ssim } from '../metrics/psnr-ssim';
import { createTokenizer, resolveTokenizerConfig, type TokenizerRunConfig, type VqTokenizer } from '../models/vq-tokenizer';
import { codebookStats, restartDeadCodes } from '../models/quantizer';
import { annealKnobs, expectedFlipRate, perturbTokens, lpDecoderInput, planPerturbation, resolveDelta, slicePlan, type DrawResult, type LpKnobs } from '../perturb';
import type { TrainTokenizerSpec } from '../specs/train-tokenizer';
import { Ema } from './ema';
import { Optimizer, computeGrads, type GradMap } from './optim';
import { Replicas, shardRanges } from './replicas';
import { AUTO_MIN_SIZE, resolveWorkers } from '../workers';
import { snapshotTraining, restoreTraining } from './checkpoint';
import { runTrainingLoop } from './loop';
import { lrAt } from './schedules';

export interface SplitSource {
  n: number;
  batches(opts: BatchOptions): Iterable<Batch>;
  batchCount(opts: BatchOptions): number;
}

export interface TokenizerData {
  train: SplitSource;
  val: SplitSource | null;
  imageSize: number;
  channels: number;
  /** Dataset name/path for config.json and provenance. */
  label: string;
}

/** Knobs the recon grid's third column uses when the run trains without LP. */
const PROBE_LP: LpKnobs = { alpha: 0.5, beta: 1, delta: 0.05, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };
const GRID_IMAGES = 8;

function toTensor(b: Batch, s: number, c: number): tf.Tensor4D {
  return tf.tensor4d(b.x, [b.n, s, s, c]);
}

/** Run `fn` with EMA weights swapped in when there is an EMA. */
function withEval<T>(ema: Ema | null, fn: () => T): T {
  if (!ema) return fn();
  ema.swap();
  try {
    return fn();
  } finally {
    ema.swap();
  }
}

export async function trainTokenizerOn(data: TokenizerData, spec: TrainTokenizerSpec, ctx: JobContext): Promise<JsonObject> {
  const cfg = resolveTokenizerConfig(spec.preset, data.imageSize, data.channels, spec.overrides);
  const runConfig: TokenizerRunConfig = { kind: 'vq-tokenizer', model: cfg, seed: spec.seed, dataset: data.label, spec: spec as unknown as JsonObject };
  fs.writeFileSync(path.join(ctx.runDir, 'config.json'), JSON.stringify(runConfig, null, 2));
  const tok = createTokenizer(cfg, spec.seed);
  const opt = new Optimizer(tok.params, { kind: spec.optimizer, weightDecay: spec.weightDecay, clipNorm: spec.clip });
  const ema = spec.emaDecay > 0 ? new Ema(tok.params, spec.emaDecay) : null;
  const S = data.imageSize;
  const C = data.channels;
  const limit = spec.trainLimit > 0 ? spec.trainLimit : undefined;
  const nTrain = Math.min(data.train.n, limit ?? Infinity);
  const batchOpts = (epoch: number): BatchOptions => ({ batchSize: spec.batchSize, seed: deriveSeed(spec.seed, `epoch-${epoch}`), shuffle: true, flip: spec.flip, dropLast: nTrain >= spec.batchSize, limit });
  const stepsPerEpoch = data.train.batchCount(batchOpts(0));
  if (stepsPerEpoch === 0) throw new Error('the training split is empty');
  const totalSteps = spec.epochs * stepsPerEpoch;
  const lrSched = { base: spec.lr, warmup: spec.warmup, total: totalSteps, min: spec.minLr };
  const knobsAt = (epoch: number): LpKnobs | null => (spec.lp ? annealKnobs(spec.lp, epoch, spec.epochs, spec.anneal, cfg.K) : null);
  ctx.log('info', `tokenizer ${spec.preset}: ${tok.numParams()} parameters, ${stepsPerEpoch} steps/epoch, ${totalSteps} steps`);

  // per-epoch accumulators, checkpointed so a resumed epoch ends exactly like an uninterrupted one
  // code histogram of the epoch, kept on the backend so a step without LP needs no read-back
  const countsVar = tf.tidy(() => tf.variable(tf.zeros([cfg.K]), false));
  const readCounts = (): Float32Array => countsVar.dataSync() as Float32Array;
  let lpSums = { flip: 0, n: 0 };
  let lastZ: Float32Array = new Float32Array(0);
  const gridBatch = firstBatch(data.val ?? data.train, Math.min(GRID_IMAGES, spec.batchSize));
  const workers = resolveWorkers(spec.workers, spec.batchSize, tf.getBackend(), data.imageSize >= AUTO_MIN_SIZE);
  let replicas: Replicas | null = null;

  try {
    if (workers > 1) {
      replicas = await Replicas.start(workers, { kind: 'tokenizer', config: cfg }, spec.seed, tok.params, tf.getBackend());
      ctx.log('info', `data-parallel: ${workers} workers, each on ${replicas.device}; shards of ${shardRanges(spec.batchSize, workers).map(([a, b]) => b - a).join('/')} images`);
    }
    const dp = replicas;
    const loop = await runTrainingLoop<Batch>({
      ctx,
      runDir: ctx.runDir,
      epochs: spec.epochs,
      stepsPerEpoch,
      checkpointEvery: spec.checkpointEvery,
      logEvery: spec.logEvery,
      batches: (epoch) => data.train.batches(batchOpts(epoch)),
      step: async (batch, info) => {
        const lr = lrAt(info.step, lrSched);
        const knobs = knobsAt(info.epoch);
        const isLast = info.stepInEpoch === stepsPerEpoch - 1;
        if (dp) {
          const r = await dataParallelStep(dp, tok, batch, knobs, deriveSeed(spec.seed, `lp-${info.step}`), isLast);
          const norm = opt.apply(r.grads, lr);
          norm.dispose();
          tf.dispose(Object.values(r.grads));
          ema?.update();
          tf.tidy(() => countsVar.assign(tf.add(countsVar, tf.tensor1d(r.counts))));
          if (isLast && r.z) lastZ = r.z;
          if (knobs) {
            lpSums.flip += r.flip;
            lpSums.n += 1;
          }
          return { loss: r.loss, recon: r.recon, codebook: r.codebook, commit: r.commit, lr };
        }
        const lp = knobs ? { knobs, rng: new Rng(deriveSeed(spec.seed, `lp-${info.step}`)) } : undefined;
        const x = toTensor(batch, S, C);
        let aux: tf.Tensor[] = [];
        let flip = 0;
        const { value, grads } = computeGrads(tok.params, () => {
          const l = tok.losses(x, lp);
          aux = [l.recon, l.codebook, l.commit, l.counts, ...(isLast ? [l.z] : [])].map((t) => tf.keep(t));
          flip = l.draw ? l.draw.flipRate : 0;
          return l.loss;
        });
        opt.apply(grads, lr).dispose();
        ema?.update();
        tf.tidy(() => countsVar.assign(tf.add(countsVar, aux[3])));
        if (isLast) lastZ = aux[4].dataSync() as Float32Array;
        if (knobs) {
          lpSums.flip += flip;
          lpSums.n += 1;
        }
        tf.dispose([x, ...Object.values(grads), aux[3], ...(isLast ? [aux[4]] : [])]);
        return { loss: value, recon: aux[0] as tf.Scalar, codebook: aux[1] as tf.Scalar, commit: aux[2] as tf.Scalar, lr };
      },
      snapshot: (step, epoch) => {
        const ck = snapshotTraining(tok.params, opt, ema, step, { epoch, seed: spec.seed, lpFlipSum: lpSums.flip, lpSteps: lpSums.n });
        ck.tensors['aux/counts'] = { shape: [cfg.K], data: readCounts().slice() };
        return ck;
      },
      restore: (ck) => {
        restoreTraining(ck, tok.params, opt, ema);
        const saved = ck.tensors['aux/counts'];
        if (saved) tf.tidy(() => countsVar.assign(tf.tensor1d(saved.data)));
        lpSums = { flip: Number(ck.state.lpFlipSum ?? 0), n: Number(ck.state.lpSteps ?? 0) };
      },
      onEpochEnd: async (epoch, _means, step) => {
        const counts = readCounts();
        const st = codebookStats(counts);
        const points = [
          { name: 'train/usage', step, value: st.usage },
          { name: 'train/perplexity', step, value: st.perplexity },
          { name: 'train/dead_codes', step, value: st.deadCodes },
        ];
        const knobs = knobsAt(epoch);
        if (knobs) {
          points.push(
            { name: 'lp/alpha', step, value: knobs.alpha },
            { name: 'lp/delta', step, value: knobs.delta },
            { name: 'lp/flip_rate', step, value: lpSums.n ? lpSums.flip / lpSums.n : 0 },
            { name: 'lp/expected_flip_rate', step, value: expectedFlipRate(knobs) },
          );
        }
        ctx.metrics(points);
        if (spec.deadCodeRestart && st.deadCodes > 0 && epoch < spec.epochs - 1) {
          const rows = restartDeadCodes(tok.params, counts, lastZ, cfg.D, new Rng(deriveSeed(spec.seed, `restart-${epoch}`)));
          opt.resetRows('quant.codebook', rows);
          ctx.log('info', `epoch ${epoch + 1}: restarted ${rows.length} dead codes`);
        }
        tf.tidy(() => countsVar.assign(tf.zeros([cfg.K])));
        lpSums = { flip: 0, n: 0 };
        const last = epoch === spec.epochs - 1;
        if (gridBatch && (last || (spec.sampleEvery > 0 && (epoch + 1) % spec.sampleEvery === 0))) {
          await writeReconGrid(tok, ema, gridBatch, knobsAt(epoch) ?? PROBE_LP, epoch, ctx, spec.seed);
        }
      },
    });

    const result = withEval(ema, () => evaluate(tok, data, spec));
    const prov: JsonObject = { split: data.val ? 'val' : 'train', n: result.n, ema: ema !== null, seed: spec.seed, step: loop.step, preset: spec.preset, K: cfg.K, dataset: data.label, workers };
    ctx.score({ metric: 'tokenizer/psnr', value: result.psnr, provenance: prov });
    if (result.ssim !== null) ctx.score({ metric: 'tokenizer/ssim', value: result.ssim, provenance: prov });
    else ctx.log('warn', `SSIM skipped: ${data.imageSize}×${data.imageSize} images are smaller than its 11-pixel window`);
    ctx.score({ metric: 'tokenizer/usage', value: result.usage, provenance: prov });
    ctx.score({ metric: 'tokenizer/perplexity', value: result.perplexity, provenance: prov });
    const out: JsonObject = { steps: loop.step, epochs: spec.epochs, params: tok.numParams(), workers, resumedFrom: loop.resumedFrom, ...result, lastEpoch: loop.lastEpochMeans };
    return out;
  } finally {
    await replicas?.close();
    countsVar.dispose();
    opt.dispose();
    ema?.dispose();
    tok.dispose();
  }
}

interface DataParallelStep {
  grads: GradMap;
  loss: number;
  recon: number;
  codebook: number;
  commit: number;
  counts: Float32Array;
  /** changed tokens / tokens of the perturbed images, over the global batch. */
  flip: number;
  z: Float32Array | null;
}

/**
 * One step's gradients from the replicas: the perturbation plan is drawn for the global batch from
 * the step's seed (exactly the draws the one-worker step makes) and sliced per shard.
 */
export async function dataParallelStep(dp: Replicas, tok: VqTokenizer, batch: Batch, knobs: LpKnobs | null, lpSeed: number, wantZ: boolean): Promise<DataParallelStep> {
  const c = tok.config;
  const per = c.imageSize * c.imageSize * c.channels;
  const T = tok.h * tok.h;
  const ranges = shardRanges(batch.n, dp.count);
  let plan = null;
  let lpKnobs: LpKnobs | null = null;
  if (knobs) {
    const delta = resolveDelta(knobs, c.K);
    lpKnobs = { ...knobs, delta, deltaMode: 'abs' };
    // as perturbTokens: knobs that perturb nothing draw nothing
    const draws = lpKnobs.alpha > 0 && delta > 1 ? lpKnobs : { ...lpKnobs, alpha: 0 };
    plan = planPerturbation(batch.n, T, draws, new Rng(lpSeed));
  }
  const results = await dp.step(
    tok.params,
    ranges.map(([b0, b1]) => ({
      x: batch.x.slice(b0 * per, b1 * per),
      n: b1 - b0,
      lp: lpKnobs && plan ? { knobs: lpKnobs, plan: slicePlan(plan, b0, b1) } : null,
      wantZ,
    })),
  );
  const grads = dp.meanGrads(results);
  const B = batch.n;
  const mean = (f: (r: (typeof results)[number]) => number): number => results.reduce((a, r) => a + (r.n / B) * f(r), 0);
  const counts = new Float32Array(c.K);
  for (const r of results) for (let k = 0; k < c.K; k++) counts[k] += r.reply.counts?.[k] ?? 0;
  const changed = results.reduce((a, r) => a + (r.reply.changed ?? 0), 0);
  let z: Float32Array | null = null;
  if (wantZ) {
    const parts = results.map((r) => r.reply.z ?? new Float32Array(0));
    z = new Float32Array(parts.reduce((a, p) => a + p.length, 0));
    let o = 0;
    for (const p of parts) {
      z.set(p, o);
      o += p.length;
    }
  }
  return {
    grads,
    loss: mean((r) => r.loss),
    recon: mean((r) => r.reply.recon ?? NaN),
    codebook: mean((r) => r.reply.codebook ?? NaN),
    commit: mean((r) => r.reply.commit ?? NaN),
    counts,
    flip: plan && plan.nSel > 0 ? changed / (plan.nSel * T) : 0,
    z,
  };
}

function firstBatch(src: SplitSource, n: number): Batch | null {
  if (src.n === 0) return null;
  for (const b of src.batches({ batchSize: n, seed: 0, shuffle: false, limit: n })) return b;
  return null;
}

/** PSNR, SSIM and codebook use of clean reconstructions over the held-out split (or train). */
function evaluate(tok: VqTokenizer, data: TokenizerData, spec: TrainTokenizerSpec): { psnr: number; ssim: number | null; usage: number; perplexity: number; deadCodes: number; n: number } {
  const src = data.val && data.val.n > 0 ? data.val : data.train;
  const limit = (src === data.val ? spec.valLimit : spec.trainLimit) || undefined;
  const S = data.imageSize;
  const C = data.channels;
  const counts = new Float32Array(tok.config.K);
  let psum = 0;
  let ssum = 0;
  let n = 0;
  for (const b of src.batches({ batchSize: spec.batchSize, seed: 0, shuffle: false, limit })) {
    const [xr, idx] = tf.tidy(() => {
      const x = toTensor(b, S, C);
      const q = tok.quantize(tok.encode(x));
      return [tf.clipByValue(tok.decodeLatent(q.e), -1, 1).dataSync() as Float32Array, q.indexValues];
    });
    for (const t of idx as Int32Array) counts[t]++;
    const shape = { n: b.n, h: S, w: S, c: C };
    psum += psnr(b.x, xr as Float32Array, shape).mean * b.n;
    // SSIM's 11-px window needs images of at least 11×11
    if (S >= 11) ssum += ssim(b.x, xr as Float32Array, shape).mean * b.n;
    n += b.n;
  }
  const st = codebookStats(counts);
  return { psnr: psum / n, ssim: S >= 11 ? ssum / n : null, usage: st.usage, perplexity: st.perplexity, deadCodes: st.deadCodes, n };
}

/** original | reconstruction | perturbed reconstruction, one row per image, plus the token-flip map JSON. */
async function writeReconGrid(tok: VqTokenizer, ema: Ema | null, b: Batch, lp: LpKnobs, epoch: number, ctx: JobContext, seed: number): Promise<void> {
  const S = tok.config.imageSize;
  const C = tok.config.channels;
  const knobs = annealKnobs({ ...lp, beta: 1 }, 0, 1, null, tok.config.K);
  const { rec, pert, draw } = withEval(ema, () => {
    const out = {} as { rec: Float32Array; pert: Float32Array; draw: DrawResult };
    tf.tidy(() => {
      const x = toTensor(b, S, C);
      const z = tok.encode(x);
      const q = tok.quantize(z);
      const codes = tok.codes();
      const d = perturbTokens(z, codes, q.indexValues, knobs, new Rng(deriveSeed(seed, `grid-${epoch}`)), tok.config);
      out.rec = tf.clipByValue(tok.decodeLatent(q.e), -1, 1).dataSync() as Float32Array;
      out.pert = tf.clipByValue(tok.decodeLatent(lpDecoderInput(z, codes, d.indices)), -1, 1).dataSync() as Float32Array;
      out.draw = d;
    });
    return out;
  });
  const per = S * S * C;
  const tiles = new Float32Array(3 * b.n * per);
  for (let i = 0; i < b.n; i++) {
    tiles.set(b.x.subarray(i * per, (i + 1) * per), (3 * i) * per);
    tiles.set(rec.subarray(i * per, (i + 1) * per), (3 * i + 1) * per);
    tiles.set(pert.subarray(i * per, (i + 1) * per), (3 * i + 2) * per);
  }
  const name = `recon-e${String(epoch + 1).padStart(4, '0')}`;
  const png = path.join(ctx.runDir, 'samples', `${name}.png`);
  await writeImageGrid(png, tiles, 3 * b.n, S, S, C, 3, { pad: 1, scale: S <= 32 ? 2 : 1 });
  const meta: JsonObject = { epoch: epoch + 1, columns: ['original', 'reconstruction', 'perturbed'], alpha: knobs.alpha, delta: knobs.delta, includeSelf: knobs.includeSelf, selection: knobs.selection, anchor: knobs.anchor };
  ctx.artifact('recon-grid', path.relative(ctx.home, png), meta);
  const h = tok.h;
  const flipFile = path.join(ctx.runDir, 'samples', `flipmap-e${String(epoch + 1).padStart(4, '0')}.json`);
  const masks = Array.from({ length: b.n }, (_, i) => Array.from(draw.mask.subarray(i * h * h, (i + 1) * h * h)));
  fs.writeFileSync(flipFile, JSON.stringify({ ...meta, h, w: h, flipRate: draw.flipRate, expected: draw.expected, masks }));
  ctx.artifact('token-flip-map', path.relative(ctx.home, flipFile), { ...meta, flipRate: draw.flipRate, expected: draw.expected });
}
