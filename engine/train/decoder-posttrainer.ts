// Decoder post-training (METHOD §5, arXiv 2509.12474): real images → clean tokens (frozen encoder),
// AR generation on the true label with teacher forcing σ, then fine-tune ONLY the decoder so the
// decoded generator tokens match the real images (reconstruction MSE; encoder and codebook frozen).
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import type { JobContext } from '../context';
import type { JsonObject } from '../protocol';
import type { Batch, BatchOptions } from '../data/types';
import { tokenizeImages, type ImageSource, type VqTokenizer } from '../models/vq-tokenizer';

export type { ImageSource };
import type { Generator } from '../models/transformer';
import { sampleTokens } from '../sample';
import { psnr, ssim } from '../metrics/psnr-ssim';
import type { PosttrainSpec } from '../specs/posttrain';
import { Optimizer, computeGrads, type VarMap } from './optim';
import { restoreTraining, snapshotTraining } from './checkpoint';
import { runTrainingLoop } from './loop';

/** Images at most in the fixed probe set scored before and after (generator tokens, teacher forcing σ). */
export const PROBE_MAX = 256;

/** The decoder's variables (names 'dec.*'); everything else (encoder, codebook) stays frozen. */
export function decoderVars(tok: VqTokenizer): VarMap {
  const out: VarMap = {};
  for (const [k, v] of Object.entries(tok.params)) if (k.startsWith('dec.')) out[k] = v as tf.Variable;
  if (Object.keys(out).length === 0) throw new Error('the tokenizer has no decoder variables (dec.*)');
  return out;
}

/** Generator tokens for rows of true tokens: true label, teacher-forced with probability σ per position. */
export async function teacherForcedTokens(gen: Generator, trueTokens: Int32Array, labels: Int32Array, sigma: number, rngs: Rng[]): Promise<Int32Array> {
  return sampleTokens({ gen, labels, rngs, cfg: null, temperature: 1, teacher: { tokens: trueTokens, sigma } });
}

/** Mean squared error between decoded tokens and images. tokens [n·h·w], images [n,H,W,C] */
export function decodedMse(tok: VqTokenizer, tokens: Int32Array, images: Float32Array, n: number, batchSize: number): number {
  const S = tok.config.imageSize;
  const C = tok.config.channels;
  const L = tok.h * tok.h;
  const per = S * S * C;
  let sum = 0;
  for (let s = 0; s < n; s += batchSize) {
    const e = Math.min(n, s + batchSize);
    sum += tf.tidy(() => {
      const xr = tok.decodeIndices(tf.tensor3d(tokens.subarray(s * L, e * L), [e - s, tok.h, tok.h], 'int32'));
      return tf.sum(tf.square(tf.sub(xr, tf.tensor4d(images.subarray(s * per, e * per), [e - s, S, S, C])))).dataSync()[0];
    });
  }
  return sum / (n * per);
}

/** PSNR and SSIM of clean reconstructions (clipped) over a split. */
export function reconQuality(tok: VqTokenizer, src: ImageSource, batchSize: number): { psnr: number; ssim: number | null; n: number } {
  const S = tok.config.imageSize;
  const C = tok.config.channels;
  let ps = 0;
  let ss = 0;
  let n = 0;
  for (const b of src.batches({ batchSize, seed: 0, shuffle: false, flip: false })) {
    const xr = tf.tidy(() => tf.clipByValue(tok.decodeLatent(tok.quantize(tok.encode(tf.tensor4d(b.x, [b.n, S, S, C]))).e), -1, 1).dataSync() as Float32Array);
    const shape = { n: b.n, h: S, w: S, c: C };
    ps += psnr(b.x, xr, shape).mean * b.n;
    // SSIM's 11-px window needs images of at least 11×11
    if (S >= 11) ss += ssim(b.x, xr, shape).mean * b.n;
    n += b.n;
  }
  return { psnr: ps / n, ssim: S >= 11 ? ss / n : null, n };
}

export interface PosttrainInputs {
  tok: VqTokenizer;
  gen: Generator;
  train: ImageSource;
  /** Held-out images for PSNR/SSIM and the probe set (null = use train). */
  val: ImageSource | null;
  /** Provenance: parent tokenizer and generator runs, relative to the lab home. */
  runs: { parentTokenizerRun: string; generatorRun: string };
}

/** Fine-tunes tok's decoder in place, checkpointing into ctx.runDir; emits metrics and scores. */
export async function posttrainDecoder(inp: PosttrainInputs, spec: PosttrainSpec, ctx: JobContext): Promise<JsonObject> {
  const { tok, gen } = inp;
  const S = tok.config.imageSize;
  const C = tok.config.channels;
  const L = tok.h * tok.h;
  const limit = spec.trainLimit > 0 ? spec.trainLimit : undefined;
  ctx.progress(0, 1, 'encoding training images');
  const enc = tokenizeImages(tok, inp.train, spec.batchSize, limit, ctx.signal);
  const nTrain = enc.n;
  const batchOpts = (epoch: number): BatchOptions => ({ batchSize: spec.batchSize, seed: deriveSeed(spec.seed, `posttrain-epoch-${epoch}`), shuffle: true, flip: false, dropLast: nTrain >= spec.batchSize, limit });
  const stepsPerEpoch = inp.train.batchCount(batchOpts(0));
  if (stepsPerEpoch === 0) throw new Error('the training split is empty');

  // fixed probe: held-out images, their generator tokens drawn once, scored before and after
  const evalSrc = inp.val && inp.val.n > 0 ? inp.val : inp.train;
  const evalSplit = evalSrc === inp.train ? 'train' : 'val';
  const probe = makeProbe(evalSrc, Math.min(evalSrc.n, PROBE_MAX));
  const probeEnc = tokenizeImages(tok, probe, spec.batchSize, undefined, ctx.signal);
  const probeRngs = Array.from({ length: probeEnc.n }, (_, i) => new Rng(deriveSeed(spec.seed, `posttrain-probe/${i}`)));
  const probeGen = await teacherForcedTokens(gen, probeEnc.tokens, probeEnc.labels, spec.sigma, probeRngs);
  const genMseBefore = decodedMse(tok, probeGen, probe.x, probe.n, spec.batchSize);
  const before = reconQuality(tok, evalSrc, spec.batchSize);

  const dec = decoderVars(tok);
  const opt = new Optimizer(dec, { kind: 'adam' });
  try {
    const loop = await runTrainingLoop<Batch>({
      ctx,
      runDir: ctx.runDir,
      epochs: spec.epochs,
      stepsPerEpoch,
      checkpointEvery: 0,
      logEvery: 5,
      metricPrefix: 'posttrain/',
      batches: (epoch) => inp.train.batches(batchOpts(epoch)),
      step: async (b, info) => {
        const trueTokens = new Int32Array(b.n * L);
        for (let i = 0; i < b.n; i++) trueTokens.set(enc.tokens.subarray(b.indices[i] * L, (b.indices[i] + 1) * L), i * L);
        const rngs = Array.from(b.indices, (i) => new Rng(deriveSeed(spec.seed, `posttrain/${info.epoch}/${i}`)));
        const genTokens = await teacherForcedTokens(gen, trueTokens, b.y, spec.sigma, rngs);
        let wrong = 0;
        for (let i = 0; i < genTokens.length; i++) if (genTokens[i] !== trueTokens[i]) wrong++;
        const x = tf.tensor4d(b.x, [b.n, S, S, C]);
        const gt = tf.tensor3d(genTokens, [b.n, tok.h, tok.h], 'int32');
        const tt = tf.tensor3d(trueTokens, [b.n, tok.h, tok.h], 'int32');
        // main-training reconstruction loss; codebook/commit terms are constant with the encoder frozen
        const { value, grads } = computeGrads(dec, () => tf.mean(tf.square(tf.sub(tok.decodeIndices(gt), x))) as tf.Scalar);
        opt.apply(grads, spec.lr).dispose();
        const recon = tf.tidy(() => tf.mean(tf.square(tf.sub(tok.decodeIndices(tt), x))) as tf.Scalar);
        tf.dispose([x, gt, tt, ...Object.values(grads)]);
        return { loss: value, recon, token_error: wrong / genTokens.length };
      },
      snapshot: (step, epoch) => snapshotTraining(tok.params, opt, null, step, { epoch, seed: spec.seed, posttrain: true }),
      restore: (ck) => restoreTraining(ck, tok.params, opt, null),
    });

    const after = reconQuality(tok, evalSrc, spec.batchSize);
    const genMseAfter = decodedMse(tok, probeGen, probe.x, probe.n, spec.batchSize);
    const prov: JsonObject = { split: evalSplit, n: before.n, seed: spec.seed, sigma: spec.sigma, epochs: spec.epochs, lr: spec.lr, steps: loop.step, ...inp.runs };
    const probeProv: JsonObject = { ...prov, n: probe.n, teacherForcing: spec.sigma };
    ctx.score({ metric: 'posttrain/psnr_before', value: before.psnr, provenance: { ...prov, weights: 'parent' } });
    ctx.score({ metric: 'posttrain/psnr_after', value: after.psnr, provenance: { ...prov, weights: 'post-trained' } });
    if (before.ssim !== null && after.ssim !== null) {
      ctx.score({ metric: 'posttrain/ssim_before', value: before.ssim, provenance: { ...prov, weights: 'parent' } });
      ctx.score({ metric: 'posttrain/ssim_after', value: after.ssim, provenance: { ...prov, weights: 'post-trained' } });
    }
    ctx.score({ metric: 'posttrain/gen_mse_before', value: genMseBefore, provenance: { ...probeProv, weights: 'parent' } });
    ctx.score({ metric: 'posttrain/gen_mse_after', value: genMseAfter, provenance: { ...probeProv, weights: 'post-trained' } });
    return {
      ...inp.runs,
      sigma: spec.sigma,
      steps: loop.step,
      resumedFrom: loop.resumedFrom,
      nTrain,
      psnrBefore: before.psnr,
      psnrAfter: after.psnr,
      ssimBefore: before.ssim,
      ssimAfter: after.ssim,
      genMseBefore,
      genMseAfter,
      lastEpoch: loop.lastEpochMeans,
    };
  } finally {
    opt.dispose();
  }
}

/** The first n images of a source as one in-memory source (x kept for the probe MSE). */
function makeProbe(src: ImageSource, n: number): ImageSource & { x: Float32Array } {
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  for (const b of src.batches({ batchSize: Math.max(1, n), seed: 0, shuffle: false, flip: false, limit: n })) {
    xs.push(b.x);
    ys.push(b.y);
  }
  const x = xs[0] ?? new Float32Array(0);
  const y = ys[0] ?? new Int32Array(0);
  const per = n > 0 ? x.length / n : 0;
  return {
    n,
    x,
    batchCount: (o) => Math.ceil(n / o.batchSize),
    *batches(o) {
      for (let s = 0; s < n; s += o.batchSize) {
        const e = Math.min(n, s + o.batchSize);
        yield { x: x.subarray(s * per, e * per), y: y.subarray(s, e), n: e - s, indices: Int32Array.from({ length: e - s }, (_, i) => s + i) };
      }
    },
  };
}
