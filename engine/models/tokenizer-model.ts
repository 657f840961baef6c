// What evaluation needs of a tokenizer, whoever trained it: an encoder to continuous latents, toklab's
// own quantizer and latent perturbation over a codebook (METHOD §1–2), and a decoder of the chosen
// code vectors. The lab's VqTokenizer and an imported ONNX tokenizer (engine/models/onnx-tokenizer.ts)
// both implement it, so rFID and pFID mean the same thing for every tokenizer.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import type { JsonObject } from '../protocol';
import type { QuantizerConfig } from './quantizer';
import { loadTokenizer, type VqTokenizer } from './vq-tokenizer';

export interface TokenizerModel {
  readonly kind: 'vq' | 'onnx';
  /** Image side and channels the model takes and makes (NHWC in [-1,1] on toklab's side). */
  readonly imageSize: number;
  readonly channels: number;
  /** Token grid h × w. */
  readonly h: number;
  readonly w: number;
  /** K, D and the nearest-code rule (l2: cosine on normalized vectors; none: Euclidean). */
  readonly quant: QuantizerConfig;
  /** What every score of this model records about it (ONNX: the files' hashes). */
  readonly identity: JsonObject;
  /** Images NHWC in [-1,1] → latents [n,h,w,D], L2-normalized when quant.codebookNorm is 'l2'. */
  encode(x: Float32Array, n: number): Promise<Float32Array>;
  /** Decoder input [n,h,w,D] (the chosen code vectors) → images NHWC on the [-1,1] scale, not clipped. */
  decode(e: Float32Array, n: number): Promise<Float32Array>;
  /** The code vectors the decoder sees (normalized when l2). [K,D]; the caller disposes it. */
  codes(): tf.Tensor2D;
  dispose(): Promise<void>;
}

/** The lab's own tokenizer behind the evaluation interface (tfjs on the engine's backend). */
export function vqTokenizerModel(tok: VqTokenizer): TokenizerModel {
  const c = tok.config;
  const S = c.imageSize, C = c.channels, h = tok.h, D = c.D;
  return {
    kind: 'vq',
    imageSize: S,
    channels: C,
    h,
    w: h,
    quant: { K: c.K, D, codebookNorm: c.codebookNorm, betaCommit: c.betaCommit },
    identity: { tokenizerKind: 'vq' },
    encode: async (x, n) => tf.tidy(() => tok.encode(tf.tensor4d(x, [n, S, S, C])).dataSync() as Float32Array),
    decode: async (e, n) => tf.tidy(() => tok.decodeLatent(tf.tensor4d(e, [n, h, h, D])).dataSync() as Float32Array),
    codes: () => tok.codes(),
    dispose: async () => tok.dispose(),
  };
}

/** The `kind` a run folder's config.json names: 'vq-tokenizer' (trained here) or 'onnx-tokenizer' (imported). */
export function tokenizerRunKind(runDir: string): string {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir} has no config.json; is it a tokenizer run?`);
  const kind = (JSON.parse(fs.readFileSync(file, 'utf8')) as { kind?: unknown }).kind;
  return typeof kind === 'string' ? kind : '';
}

/** A tokenizer run of either kind, ready to evaluate. */
export async function loadTokenizerModel(runDir: string, opts: { ema?: boolean } = {}): Promise<TokenizerModel> {
  const kind = tokenizerRunKind(runDir);
  if (kind === 'onnx-tokenizer') {
    const { loadOnnxTokenizer } = await import('./onnx-tokenizer');
    return loadOnnxTokenizer(runDir);
  }
  return vqTokenizerModel(loadTokenizer(runDir, opts));
}
