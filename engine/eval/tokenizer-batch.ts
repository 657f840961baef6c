// One batch of a tokenizer evaluation (METHOD §3, §6): encode once, quantize, decode the clean tokens
// and every live (α, δ) cell's perturbed tokens, embed every reconstruction (and the real images when
// asked). The evaluation job runs it on its own thread or hands batches to evaluation workers
// (engine/eval/pool.ts); a batch depends only on its images, its index and the seed, so the numbers
// do not depend on who computed it.
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import { throwIfCancelled } from '../context';
import { lookup, nearestCodes } from '../models/quantizer';
import type { TokenizerModel } from '../models/tokenizer-model';
import type { Extractor } from '../models/extractor';
import { perturbTokens, type LpKnobs } from '../perturb';
import { psnr, ssim } from '../metrics/psnr-ssim';

/** A grid cell that perturbs: where its features go and how its draws are seeded. */
export interface LiveCell {
  stream: string;
  /** Seeds the cell's draws, batch by batch: deriveSeed(seed, `${seedKey}/batch=${i}`). */
  seedKey: string;
  knobs: LpKnobs;
}

/** Everything a batch needs besides its images. */
export interface TokenizerBatchEnv {
  model: TokenizerModel;
  extractor: Extractor;
  /** The code vectors [K,D] the decoder sees (model.codes()); the env's owner disposes them. */
  codes: tf.Tensor2D;
  cells: LiveCell[];
  seed: number;
  /** Embed the real images too (no cached real features). */
  needReal: boolean;
}

/** One stream's output for a batch. */
export interface StreamOut {
  stream: string;
  /** [bn,d] */
  feats: Float32Array;
  /** Class probabilities [bn,c], or null when the extractor has no classes. */
  probs: Float32Array | null;
  /** Tokens that changed (perturbed cells; 0 otherwise). */
  changed: number;
}

export interface TokenizerBatchOut {
  /** 'real' (when asked), 'clean', then the live cells in their order. */
  streams: StreamOut[];
  /** Clean token indices [bn·h·w] (codebook use). */
  clean: Int32Array;
  /** Σ over the batch's images of PSNR and SSIM (SSIM 0 below its 11-pixel window). */
  psnrSum: number;
  ssimSum: number;
}

/** Clip to [-1,1] and snap to the 8-bit grid the real images live on (u8 / 127.5 − 1), in place. */
export function toImageGrid(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] < -1 ? -1 : x[i] > 1 ? 1 : x[i];
    x[i] = Math.round((v + 1) * 127.5) / 127.5 - 1;
  }
  return x;
}

/** Batch `batchIndex` of images x [bn,S,S,C] in [-1,1] through every stream. */
export async function evalTokenizerBatch(env: TokenizerBatchEnv, x: Float32Array, bn: number, batchIndex: number, signal?: AbortSignal): Promise<TokenizerBatchOut> {
  const { model, extractor: ex, codes } = env;
  const S = model.imageSize, C = model.channels, h = model.h, w = model.w, D = model.quant.D;
  const streams: StreamOut[] = [];
  const embed = async (stream: string, img: Float32Array, changed: number): Promise<void> => {
    const e = await ex.embed(img, bn, S, C);
    streams.push({ stream, feats: e.feats, probs: e.probs, changed });
  };
  if (env.needReal) await embed('real', x, 0);
  const z = await model.encode(x, bn);
  const zt = tf.tensor4d(z, [bn, h, w, D]);
  try {
    const [clean, e] = tf.tidy(() => {
      const q = nearestCodes(zt, codes, model.quant);
      return [q.values, lookup(codes, q.indices).dataSync() as Float32Array];
    });
    const rec = toImageGrid(await model.decode(e, bn));
    await embed('clean', rec, 0);
    const shape = { n: bn, h: S, w: S, c: C };
    const psnrSum = psnr(x, rec, shape).mean * bn;
    const ssimSum = S >= 11 ? ssim(x, rec, shape).mean * bn : 0;
    for (const cell of env.cells) {
      if (signal) throwIfCancelled(signal);
      const rng = new Rng(deriveSeed(env.seed, `${cell.seedKey}/batch=${batchIndex}`));
      const draw = perturbTokens(zt, codes, clean, cell.knobs, rng, model.quant);
      const ep = tf.tidy(() => lookup(codes, tf.tensor3d(draw.indices, [bn, h, w], 'int32')).dataSync() as Float32Array);
      await embed(cell.stream, toImageGrid(await model.decode(ep, bn)), draw.changed);
    }
    return { streams, clean, psnrSum, ssimSum };
  } finally {
    zt.dispose();
  }
}
