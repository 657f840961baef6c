// One batch of a gFID evaluation (METHOD §4, §6): samples [from, to) of the class-balanced set at one
// guidance scale, decoded to images and embedded by the feature network. Sample i always draws from
// sampleRng(seed, i), so a batch's numbers do not depend on which thread or worker computed it.
import { tf } from '../tf';
import type { Rng } from '../rng';
import type { Generator } from '../models/transformer';
import type { VqTokenizer } from '../models/vq-tokenizer';
import { sampleRng, sampleTokens, type CfgOptions } from '../sample';

/** A CFG schedule after 'auto' was resolved from the generator's architecture. */
export type ResolvedSchedule = { schedule: 'constant' | 'cosine-power'; power: number };

/** How every sample of an evaluation is drawn. */
export interface SamplingOptions extends ResolvedSchedule {
  temperature: number;
  topK: number;
  topP: number;
  seed: number;
}

/** Token grids [n·h·w] → images [n,H,W,C] clipped to [-1, 1]. */
export type TokenDecoder = (tokens: Int32Array, n: number) => Promise<Float32Array>;

/** Images [n,H,W,C] in [-1,1] → penultimate features [n,d] and softmax [n,classes]. */
export type ImageEmbedder = (x: Float32Array, n: number) => { feats: Float32Array; probs: Float32Array } | Promise<{ feats: Float32Array; probs: Float32Array }>;

/** Sampler guidance of a scale: 0 = without CFG (conditional logits alone), else CFG at g. */
export function settingCfg(scale: number, spec: ResolvedSchedule): CfgOptions | null {
  return scale === 0 ? null : { scale, schedule: spec.schedule, power: spec.power };
}

/** Samples [from, to) of the class-balanced set at one guidance scale; sample i always uses sampleRng(seed, i). */
export async function sampleSetting(gen: Generator, labels: Int32Array, from: number, to: number, scale: number, spec: SamplingOptions, signal?: AbortSignal): Promise<Int32Array> {
  const rngs: Rng[] = [];
  for (let i = from; i < to; i++) rngs.push(sampleRng(spec.seed, i));
  return sampleTokens({ gen, labels: labels.slice(from, to), rngs, cfg: settingCfg(scale, spec), temperature: spec.temperature, topK: spec.topK, topP: spec.topP, signal });
}

/** Decoder of a tokenizer: [n·h·w] tokens → clipped images [n,H,W,C]. */
export function tokenizerDecoder(tok: VqTokenizer): TokenDecoder {
  return async (tokens, n) => {
    const h = tok.h;
    const x = tf.tidy(() => tf.clipByValue(tok.decodeIndices(tf.tensor3d(tokens, [n, h, h], 'int32')), -1, 1)); // [n,h,w] → [n,H,W,C]
    const data = (await x.data()) as Float32Array;
    x.dispose();
    return data;
  };
}

export interface GeneratorBatchOut {
  /** [n,H,W,C] clipped to [-1,1] */
  images: Float32Array;
  /** [n,d] */
  feats: Float32Array;
  /** [n,c] */
  probs: Float32Array;
}

/** Samples [from, to) at `scale`: sampled, decoded and embedded. */
export async function generatorBatch(
  env: { gen: Generator; decode: TokenDecoder; embed: ImageEmbedder; labels: Int32Array; sampling: SamplingOptions },
  from: number,
  to: number,
  scale: number,
  signal?: AbortSignal,
): Promise<GeneratorBatchOut> {
  const tokens = await sampleSetting(env.gen, env.labels, from, to, scale, env.sampling, signal);
  const images = await env.decode(tokens, to - from);
  const emb = await env.embed(images, to - from);
  return { images, feats: emb.feats, probs: emb.probs };
}
