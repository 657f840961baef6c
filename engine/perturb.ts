// Latent perturbation (METHOD §2): replace tokens by nearby codes to simulate AR sampling error.
// Shared by tokenizer training (LP) and evaluation (pFID). Follows RobusTok/ImageFolder's reference code;
// the paper-text variants (exact count, code anchor, exclude self) are options.
import { tf } from './tf';
import type { Rng } from './rng';
import { deltaCodes, type LpSpec } from './specs/train-tokenizer';
import { annealRatioExact, exactDecimal, floorTimes, rFloor, rMul, rToNumber, ratio, roundTimes, type AnnealSchedule } from './train/schedules';
import { lookup, similarity, straightThrough, type QuantizerConfig } from './models/quantizer';

/** The knobs of METHOD §2, as the training spec defines and documents them. */
export type LpKnobs = LpSpec;

export const DEFAULT_LP: LpKnobs = { alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

/** δ as a whole number of codes in [1, K]; a share maps to max(1, round(share·K)), computed exactly. */
export function resolveDelta(k: Pick<LpKnobs, 'delta' | 'deltaMode'>, K: number): number {
  return deltaCodes(k.delta, k.deltaMode, K);
}

/** ⌊B·β⌋: how many images of a batch of B are perturbed (exact: ⌊100·0.29⌋ = 29). */
export function perturbedCount(B: number, beta: number): number {
  return Math.min(B, Math.max(0, floorTimes(B, beta)));
}

/** round(α·T): the tokens per image of 'exact' selection (exact decimal product, halves up). */
export function exactCandidates(alpha: number, T: number): number {
  return Math.min(T, Math.max(0, roundTimes(T, alpha)));
}

/** Chance that a token of a perturbed image really changes: α(δ−1)/δ with self, α without (0 when δ = 1). */
export function expectedFlipRate(k: { alpha: number; delta: number; includeSelf: boolean }): number {
  if (k.delta <= 1) return 0;
  return k.includeSelf ? (k.alpha * (k.delta - 1)) / k.delta : k.alpha;
}

/**
 * Knobs for epoch `epoch` of `total`: α_e = r·α, δ_e = max(1, ⌊r·δ⌋), β constant (METHOD §2).
 * A share-of-K δ needs K; the result always carries an absolute δ.
 */
export function annealKnobs(k: LpKnobs, epoch: number, total: number, anneal: AnnealSchedule | null, K?: number): LpKnobs {
  if (k.deltaMode === 'share' && K === undefined) throw new Error('annealKnobs: δ is a share of K, pass K');
  const delta = k.deltaMode === 'share' ? resolveDelta(k, K as number) : Math.round(k.delta);
  // exact rational r: ⌊0.7·360⌋ is 252, the floats say 251
  const r = anneal ? annealRatioExact(epoch, total, anneal) : ratio(1);
  return { ...k, alpha: rToNumber(rMul(r, exactDecimal(k.alpha))), delta: Math.max(1, rFloor(rMul(r, ratio(delta)))), deltaMode: 'abs' };
}

export interface DrawResult {
  /** Token indices after perturbation, [B·h·w] row-major. */
  indices: Int32Array;
  /** 1 where the token changed. */
  mask: Uint8Array;
  /** Rank drawn for each candidate token, −1 elsewhere (for tests and the flip map). */
  rank: Int32Array;
  perturbedImages: number;
  candidates: number;
  changed: number;
  /** changed / tokens of the perturbed images (compare with `expected`). */
  flipRate: number;
  /** changed / all tokens of the batch. */
  flipRateBatch: number;
  expected: number;
}

/**
 * The random part of a draw, apart from the codes: which tokens of the first nSel images are
 * candidates, and the neighbour rank each one takes. It needs no latents, so a data-parallel step
 * draws it once for the global batch and hands every replica its slice (`slicePlan`).
 */
export interface LpPlan {
  /** Per token of the batch ([B·T]): the rank it takes among its δ nearest codes, −1 = unchanged. */
  rank: Int32Array;
  /** Images of the batch under perturbation: its first nSel. */
  nSel: number;
  /** Tokens per image. */
  T: number;
}

/** Draw the plan for a batch of B images of T tokens (δ absolute). The only consumer of `rng`. */
export function planPerturbation(B: number, T: number, k: LpKnobs, rng: Rng): LpPlan {
  const delta = Math.round(k.delta);
  const nSel = perturbedCount(B, k.beta);
  const rank = new Int32Array(B * T).fill(-1);
  const lo = k.includeSelf ? 0 : 1;
  const span = delta - lo;
  if (k.alpha > 0 && delta > 1 && span > 0) {
    const exactCount = exactCandidates(k.alpha, T);
    const order = new Int32Array(T);
    for (let b = 0; b < nSel; b++) {
      if (k.selection === 'exact') {
        // partial Fisher–Yates: the first exactCount of a random permutation
        for (let t = 0; t < T; t++) order[t] = t;
        for (let t = 0; t < Math.min(exactCount, T); t++) {
          const j = t + rng.int(T - t);
          const tmp = order[t];
          order[t] = order[j];
          order[j] = tmp;
          rank[b * T + order[t]] = lo + rng.int(span);
        }
      } else {
        for (let t = 0; t < T; t++) if (rng.uniform() < k.alpha) rank[b * T + t] = lo + rng.int(span);
      }
    }
  }
  return { rank, nSel, T };
}

/** Images [b0, b1) of a plan, as the plan of that shard. */
export function slicePlan(plan: LpPlan, b0: number, b1: number): LpPlan {
  return { rank: plan.rank.slice(b0 * plan.T, b1 * plan.T), nSel: Math.max(0, Math.min(plan.nSel, b1) - b0), T: plan.T };
}

/**
 * Apply a plan to clean indices. `ranks` holds, for every token of the first `plan.nSel` images, its δ
 * nearest codes with rank 0 = the clean code ([nSel·T, δ] row-major).
 */
export function applyPlan(clean: Int32Array, ranks: Int32Array, plan: LpPlan, k: LpKnobs): DrawResult {
  const delta = Math.round(k.delta);
  const { nSel, T } = plan;
  if (plan.rank.length !== clean.length) throw new Error(`the perturbation plan covers ${plan.rank.length} tokens, the batch has ${clean.length}`);
  const indices = clean.slice();
  const mask = new Uint8Array(clean.length);
  const rank = plan.rank.slice();
  let candidates = 0;
  let changed = 0;
  const n = nSel * T;
  for (let i = 0; i < n; i++) {
    const r = rank[i];
    if (r < 0) continue;
    if (ranks.length < n * delta) throw new Error(`ranks has ${ranks.length} entries, need ${n * delta}`);
    const code = ranks[i * delta + r];
    candidates++;
    indices[i] = code;
    if (code !== clean[i]) {
      mask[i] = 1;
      changed++;
    }
  }
  return {
    indices,
    mask,
    rank,
    perturbedImages: nSel,
    candidates,
    changed,
    flipRate: nSel > 0 ? changed / (nSel * T) : 0,
    flipRateBatch: clean.length > 0 ? changed / clean.length : 0,
    expected: expectedFlipRate({ alpha: k.alpha, delta, includeSelf: k.includeSelf }),
  };
}

/**
 * The random part, in plain JS. `ranks` holds, for every token of the first `nSel` images, its δ
 * nearest codes with rank 0 = the clean code ([nSel·T, δ] row-major).
 */
export function drawPerturbation(clean: Int32Array, ranks: Int32Array, B: number, T: number, k: LpKnobs, rng: Rng): DrawResult {
  return applyPlan(clean, ranks, planPerturbation(B, T, k, rng), k);
}

/**
 * δ nearest codes for each token of the first nSel images, rank 0 forced to the clean code
 * (ties in topk could otherwise put an equally near code first). [nSel·T, δ] row-major.
 */
export function nearestRanks(z: tf.Tensor4D, codes: tf.Tensor2D, clean: Int32Array, nSel: number, delta: number, anchor: 'z' | 'code', cfg: QuantizerConfig): Int32Array {
  const [, h, w, D] = z.shape;
  const T = h * w;
  const N = nSel * T;
  if (N === 0) return new Int32Array(0);
  const top = tf.tidy(() => {
    // [nSel,h,w,D] → [nSel·T, D]
    const zs = tf.reshape(tf.slice(z, [0, 0, 0, 0], [nSel, h, w, D]), [N, D]) as tf.Tensor2D;
    const anchorVec = anchor === 'z' ? zs : (lookup(codes, tf.tensor1d(clean.subarray(0, N), 'int32')) as tf.Tensor2D);
    return tf.topk(similarity(anchorVec, codes, cfg), delta).indices;
  });
  const raw = top.dataSync() as Int32Array;
  top.dispose();
  const out = new Int32Array(N * delta);
  for (let i = 0; i < N; i++) {
    const c = clean[i];
    out[i * delta] = c;
    let o = 1;
    for (let r = 0; r < delta && o < delta; r++) {
      const v = raw[i * delta + r];
      if (v !== c) out[i * delta + o++] = v;
    }
    // clean code was not in the top δ (only under exact ties): the last neighbour drops out
  }
  return out;
}

/**
 * Perturb a batch: z [B,h,w,D] (normalized when the codebook is), codes [K,D] as decoded, clean
 * indices [B·h·w]. A share-of-K δ is resolved against the codebook size here.
 */
export function perturbTokens(z: tf.Tensor4D, codes: tf.Tensor2D, clean: Int32Array, k: LpKnobs, source: Rng | LpPlan, cfg: QuantizerConfig): DrawResult {
  const [B, h, w] = z.shape;
  const T = h * w;
  const delta = resolveDelta(k, codes.shape[0]);
  const kk: LpKnobs = { ...k, delta, deltaMode: 'abs' };
  // a given plan (a shard of a data-parallel batch) decides which images are perturbed
  const nSel = 'rank' in source ? source.nSel : perturbedCount(B, k.beta);
  const active = k.alpha > 0 && delta > 1 && nSel > 0;
  const knobs = active ? kk : { ...kk, alpha: 0 };
  const plan = 'rank' in source ? source : planPerturbation(B, T, knobs, source);
  if (plan.T !== T || plan.rank.length !== B * T) throw new Error(`the perturbation plan is for ${plan.rank.length / plan.T} images of ${plan.T} tokens, the batch has ${B} of ${T}`);
  const ranks = active ? nearestRanks(z, codes, clean, plan.nSel, delta, k.anchor, cfg) : new Int32Array(0);
  return applyPlan(clean, ranks, plan, knobs);
}

/** Decoder input for (possibly) perturbed tokens: z_t + sg(e_new − z_t). [B,h,w,D] */
export function lpDecoderInput(z: tf.Tensor4D, codes: tf.Tensor2D, indices: Int32Array): tf.Tensor4D {
  return tf.tidy(() => {
    const [B, h, w] = z.shape;
    const e = lookup(codes, tf.tensor3d(indices, [B, h, w], 'int32')) as tf.Tensor4D;
    return straightThrough(z, e);
  });
}
