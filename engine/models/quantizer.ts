// Vector quantizer (METHOD §1): K×D codebook, L2-normalized by default (nearest = max cosine),
// straight-through estimator, codebook + commitment losses on the clean assignment.
// Follows LlamaGen tokenizer/tokenizer_image/vq_model.py (VectorQuantizer, l2_norm option).
import { tf } from '../tf';
import type { Rng } from '../rng';
import { addParam, stopGradient, type Params } from './layers';

export interface QuantizerConfig {
  K: number;
  D: number;
  /** 'l2': normalize z and codes (default); 'none': plain Euclidean nearest code. */
  codebookNorm: 'l2' | 'none';
  /** Commitment weight β (0.25). */
  betaCommit: number;
}

export interface QuantizeOutput {
  /** Clean nearest-code indices. [B,h,w] int32 */
  indices: tf.Tensor3D;
  /** The same indices as numbers (already read back; no second dataSync needed). [B·h·w] */
  indexValues: Int32Array;
  /** Decoder input z + sg(e − z). [B,h,w,D] */
  zq: tf.Tensor4D;
  /** The chosen (normalized) codes e. [B,h,w,D] */
  e: tf.Tensor4D;
  /** mean((e − sg(z))²) */
  codebookLoss: tf.Scalar;
  /** mean((sg(e) − z)²) (unweighted; the trainer applies betaCommit) */
  commitLoss: tf.Scalar;
  /** How often each code was chosen in this batch. [K] */
  counts: tf.Tensor1D;
}

export function initCodebook(p: Params, scope: string, cfg: QuantizerConfig, rng: Rng): void {
  const a = new Float32Array(cfg.K * cfg.D);
  // random directions; the Euclidean book starts at the scale of unit-variance latents per dim / √D
  const s = cfg.codebookNorm === 'l2' ? 1 : 1 / Math.sqrt(cfg.D);
  for (let i = 0; i < a.length; i++) a[i] = rng.normal() * s;
  addParam(p, scope, 'quant.codebook', [cfg.K, cfg.D], a);
}

/** x / max(‖x‖, 1e-12) over the last axis, as torch.nn.functional.normalize. */
export function l2Normalize<T extends tf.Tensor>(x: T): T {
  return tf.div(x, tf.maximum(tf.norm(x, 'euclidean', -1, true), 1e-12)) as T;
}

/** The codebook as the decoder sees it (normalized rows when cfg says so). [K,D] */
export function codeVectors(p: Params, cfg: QuantizerConfig): tf.Tensor2D {
  const cb = p['quant.codebook'] as tf.Tensor2D;
  return cfg.codebookNorm === 'l2' ? l2Normalize(cb) : (cb as tf.Tensor2D);
}

/** Closeness of each latent to each code, larger = nearer: cosine for l2, −‖z − e‖² (up to a per-row constant) otherwise. [N,D]×[K,D] → [N,K] */
export function similarity(zFlat: tf.Tensor2D, codes: tf.Tensor2D, cfg: QuantizerConfig): tf.Tensor2D {
  const dot = tf.matMul(zFlat, tf.transpose(codes)) as tf.Tensor2D;
  if (cfg.codebookNorm === 'l2') return dot;
  return tf.sub(tf.mul(dot, 2), tf.reshape(tf.sum(tf.square(codes), 1), [1, -1])) as tf.Tensor2D;
}

/** One-hot rows as float32. tfjs-backend-wasm 4.22's OneHot ignores a float32 dtype (writes int32 bits), so cast. [N] → [N,K] */
export function oneHotF32(indices: tf.Tensor1D, K: number): tf.Tensor2D {
  return tf.cast(tf.oneHot(indices, K), 'float32') as tf.Tensor2D;
}

/**
 * Codes for given indices: a gather, O(N·D), whose gradient into the codebook is UnsortedSegmentSum
 * (engine/kernels registers it where the backend lacks it). A one-hot product did the same in O(N·K·D)
 * forward and again backward. [...] → [..., D]
 */
export function lookup(codes: tf.Tensor2D, indices: tf.Tensor): tf.Tensor {
  const D = codes.shape[1];
  const e = tf.gather(codes, tf.reshape(indices, [-1]) as tf.Tensor1D);
  return tf.reshape(e, [...indices.shape, D]);
}

/** z + sg(e − z): forward e, backward identity into z. */
export function straightThrough(z: tf.Tensor4D, e: tf.Tensor4D): tf.Tensor4D {
  return tf.add(z, stopGradient(tf.sub(e, z))) as tf.Tensor4D;
}

/**
 * Nearest-code indices of latents (already normalized when the codebook is), read out of the graph: the
 * tensor made from them has no link to the gradient tape, so the [N,K] similarity and its argmax get no
 * backward pass. [B,h,w,D] → values [B·h·w] and the same as an int32 [B,h,w] tensor
 */
export function nearestCodes(z: tf.Tensor4D, codes: tf.Tensor2D, cfg: QuantizerConfig): { values: Int32Array; indices: tf.Tensor3D } {
  const [B, h, w, D] = z.shape;
  const values = tf.tidy(() => tf.argMax(similarity(tf.reshape(z, [-1, D]) as tf.Tensor2D, codes, cfg), 1).dataSync() as Int32Array);
  return { values, indices: tf.tensor3d(values, [B, h, w], 'int32') };
}

/** Nearest-code indices of latents. [B,h,w,D] → [B,h,w] */
export function nearestIndices(z: tf.Tensor4D, codes: tf.Tensor2D, cfg: QuantizerConfig): tf.Tensor3D {
  return nearestCodes(z, codes, cfg).indices;
}

/** Quantize latents z (normalized when cfg.codebookNorm is 'l2'). [B,h,w,D] */
export function quantizeLatent(p: Params, z: tf.Tensor4D, cfg: QuantizerConfig): QuantizeOutput {
  const codes = codeVectors(p, cfg);
  const { values, indices } = nearestCodes(z, codes, cfg);
  const e = lookup(codes, indices) as tf.Tensor4D;
  const codebookLoss = tf.mean(tf.square(tf.sub(e, stopGradient(z)))) as tf.Scalar;
  const commitLoss = tf.mean(tf.square(tf.sub(stopGradient(e), z))) as tf.Scalar;
  const counts = tf.tensor1d(codeCounts(values, cfg.K), 'float32');
  return { indices, indexValues: values, zq: straightThrough(z, e), e, codebookLoss, commitLoss, counts };
}

/** How often each of K codes occurs in idx. */
export function codeCounts(idx: ArrayLike<number>, K: number): Float32Array {
  const c = new Float32Array(K);
  for (let i = 0; i < idx.length; i++) c[idx[i]] += 1;
  return c;
}

export interface CodebookStats {
  /** Share of codes used at least once. */
  usage: number;
  /** exp(entropy) of the code histogram. */
  perplexity: number;
  deadCodes: number;
  used: number;
}

export function codebookStats(counts: ArrayLike<number>): CodebookStats {
  let total = 0;
  let used = 0;
  for (let i = 0; i < counts.length; i++) {
    total += counts[i];
    if (counts[i] > 0) used++;
  }
  let h = 0;
  for (let i = 0; i < counts.length; i++) {
    if (counts[i] > 0) {
      const q = counts[i] / total;
      h -= q * Math.log(q);
    }
  }
  return { usage: used / counts.length, perplexity: total > 0 ? Math.exp(h) : 0, deadCodes: counts.length - used, used };
}

/**
 * Dead-code restart: every code with zero count takes a randomly drawn encoder output from `samples`
 * ([M,D] row-major latents of recent batches). Returns the restarted rows.
 */
export function restartDeadCodes(p: Params, counts: ArrayLike<number>, samples: Float32Array, D: number, rng: Rng): number[] {
  const M = samples.length / D;
  const dead: number[] = [];
  for (let k = 0; k < counts.length; k++) if (counts[k] === 0) dead.push(k);
  if (dead.length === 0 || M === 0) return [];
  const cb = p['quant.codebook'];
  const data = cb.dataSync().slice() as Float32Array;
  for (const k of dead) {
    const m = rng.int(M);
    data.set(samples.subarray(m * D, (m + 1) * D), k * D);
  }
  tf.tidy(() => cb.assign(tf.tensor(data, cb.shape, 'float32')));
  return dead;
}
