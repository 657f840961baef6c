// Class-conditional decoder-only transformer over a raster token grid (METHOD §4): the raster GPT
// (LlamaGen-style, learned positions instead of RoPE) and the RAR-style variant with a target-aware
// positional embedding (follows bytedance/1d-tokenizer modeling/rar.py). One code path serves
// teacher forcing (empty cache) and incremental decoding with a KV cache.
import { tf } from '../tf';
import type { Tensor, Tensor2D, Tensor3D, Variable } from '../tf';
import { Rng } from '../rng';

export type GeneratorArch = 'raster' | 'rar';
export type GeneratorPreset = 'gpt-nano' | 'gpt-micro' | 'gpt-mini';
export type NormKind = 'layer' | 'rms';

export interface GeneratorConfig {
  arch: GeneratorArch;
  /** Codebook size K (token vocabulary). */
  vocabSize: number;
  /** Tokens per image L = h·w. */
  seqLen: number;
  /** Real classes; one more embedding row is the learned null class (id = numClasses). */
  numClasses: number;
  dModel: number;
  nLayers: number;
  nHeads: number;
  /** MLP hidden width = mlpRatio · dModel. */
  mlpRatio: number;
  norm: NormKind;
}

type SizeFields = Pick<GeneratorConfig, 'dModel' | 'nLayers' | 'nHeads' | 'mlpRatio' | 'norm'>;

/** Sized for the single-threaded wasm backend (measured: 4 layers, d 256, T 64, K 512, batch 32 ≈ 3 s/step). */
export const GENERATOR_PRESETS: Record<GeneratorPreset, SizeFields> = {
  'gpt-nano': { dModel: 64, nLayers: 2, nHeads: 2, mlpRatio: 4, norm: 'layer' },
  'gpt-micro': { dModel: 128, nLayers: 4, nHeads: 4, mlpRatio: 4, norm: 'layer' },
  'gpt-mini': { dModel: 256, nLayers: 4, nHeads: 4, mlpRatio: 4, norm: 'layer' },
};

export function generatorConfig(
  preset: GeneratorPreset,
  data: { vocabSize: number; seqLen: number; numClasses: number; arch: GeneratorArch },
): GeneratorConfig {
  return { ...GENERATOR_PRESETS[preset], ...data };
}

/**
 * Input sequence of one forward pass, all [B·T] row-major. Input position j of row b embeds
 * `ids` (tokens 0..K−1, class c as K + c), plus `pos` (0 = class slot, 1 + p = grid position p),
 * plus, for RAR, the target-aware embedding of `targetPos` (the grid position predicted next).
 */
export interface SeqInput {
  ids: Int32Array;
  pos: Int32Array;
  targetPos: Int32Array;
  batch: number;
  /** T: positions per row in this call. */
  length: number;
}

/** Per-layer keys and values of the positions decoded so far, each [B,H,P,dh]. */
export interface KvCache {
  k: Tensor[];
  v: Tensor[];
  /** P: positions already in the cache. */
  length: number;
}

const NEG_INF = -1e9;

export class Generator {
  readonly cfg: GeneratorConfig;
  readonly weights: Record<string, Variable>;
  private readonly masks = new Map<string, Tensor2D>();

  constructor(cfg: GeneratorConfig, seed: number) {
    if (cfg.dModel % cfg.nHeads !== 0) throw new Error(`dModel ${cfg.dModel} is not divisible by nHeads ${cfg.nHeads}`);
    this.cfg = cfg;
    this.weights = initWeights(cfg, seed);
  }

  /** Logits for every input position (teacher forcing): [B,T,K]. Position j predicts targetPos[j]. */
  forward(input: SeqInput): Tensor3D {
    return this.run(input, null);
  }

  emptyCache(): KvCache {
    return { k: [], v: [], length: 0 };
  }

  /** Runs `input` after the cached positions, extends the cache in place and returns logits [B,T,K]. */
  step(cache: KvCache, input: SeqInput): Tensor3D {
    const oldK = cache.k;
    const oldV = cache.v;
    const newK: Tensor[] = [];
    const newV: Tensor[] = [];
    const logits = this.run(input, { cache, newK, newV });
    tf.dispose(oldK);
    tf.dispose(oldV);
    cache.k = newK;
    cache.v = newV;
    cache.length += input.length;
    return logits;
  }

  disposeCache(cache: KvCache): void {
    tf.dispose(cache.k);
    tf.dispose(cache.v);
    cache.k = [];
    cache.v = [];
    cache.length = 0;
  }

  /** Mean next-token cross-entropy (nats) of `input` against `targets` [B·T]. */
  loss(input: SeqInput, targets: Int32Array): tf.Scalar {
    return tf.tidy(() => {
      const K = this.cfg.vocabSize;
      const logits = tf.reshape(this.forward(input), [input.batch * input.length, K]); // [B·T, K]
      const logp = tf.logSoftmax(logits);
      const onehot = tf.cast(tf.oneHot(tf.tensor1d(targets, 'int32'), K), 'float32');
      return tf.div(tf.neg(tf.sum(tf.mul(onehot, logp))), input.batch * input.length) as tf.Scalar;
    });
  }

  paramCount(): number {
    return Object.values(this.weights).reduce((s, w) => s + w.size, 0);
  }

  exportWeights(): Record<string, Float32Array> {
    const out: Record<string, Float32Array> = {};
    for (const [name, w] of Object.entries(this.weights)) out[name] = w.dataSync() as Float32Array;
    return out;
  }

  importWeights(values: Record<string, Float32Array>): void {
    for (const [name, w] of Object.entries(this.weights)) {
      const v = values[name];
      if (!v) throw new Error(`checkpoint has no weight "${name}"`);
      if (v.length !== w.size) throw new Error(`weight "${name}": checkpoint has ${v.length} values, model needs ${w.size}`);
      tf.tidy(() => w.assign(tf.tensor(v, w.shape)));
    }
  }

  dispose(): void {
    tf.dispose(Object.values(this.weights));
    tf.dispose([...this.masks.values()]);
    this.masks.clear();
  }

  private run(input: SeqInput, kv: { cache: KvCache; newK: Tensor[]; newV: Tensor[] } | null): Tensor3D {
    const { batch: B, length: T } = input;
    const { nLayers, vocabSize: K } = this.cfg;
    const P = kv ? kv.cache.length : 0;
    if (P + T > this.cfg.seqLen) throw new Error(`sequence of ${P + T} positions exceeds seqLen ${this.cfg.seqLen}`);
    const mask = T > 1 ? this.causalMask(T, P) : null;
    return tf.tidy(() => {
      const w = this.weights;
      // [B·T] ids → [B·T, d] embeddings, summed with position (and RAR target-position) rows.
      let x: Tensor = tf.add(tf.gather(w['embed'], tf.tensor1d(input.ids, 'int32')), tf.gather(w['pos'], tf.tensor1d(input.pos, 'int32')));
      if (this.cfg.arch === 'rar') x = tf.add(x, tf.gather(w['target_pos'], tf.tensor1d(input.targetPos, 'int32')));
      for (let i = 0; i < nLayers; i++) {
        const a = this.attention(this.norm(x, `h${i}.ln1`), i, B, T, mask, kv);
        x = tf.add(x, a);
        x = tf.add(x, this.mlp(this.norm(x, `h${i}.ln2`), i));
      }
      const h = this.norm(x, 'ln_f'); // [B·T, d]
      return tf.reshape(tf.add(tf.matMul(h as Tensor2D, w['head.w'] as Tensor2D), w['head.b']), [B, T, K]) as Tensor3D;
    });
  }

  /** x [B·T, d] → [B·T, d]; with a cache, keys/values of earlier positions join the attention. */
  private attention(
    x: Tensor,
    i: number,
    B: number,
    T: number,
    mask: Tensor2D | null,
    kv: { cache: KvCache; newK: Tensor[]; newV: Tensor[] } | null,
  ): Tensor {
    const { dModel: d, nHeads: H } = this.cfg;
    const dh = d / H;
    const w = this.weights;
    const qkv = tf.add(tf.matMul(x as Tensor2D, w[`h${i}.attn.wqkv`] as Tensor2D), w[`h${i}.attn.bqkv`]); // [B·T, 3d]
    // slice (not split/stridedSlice) so the gradient exists on every backend; [B·T, d] → [B,H,T,dh]
    const heads = (o: number) => tf.transpose(tf.reshape(tf.slice(qkv, [0, o * d], [B * T, d]), [B, T, H, dh]), [0, 2, 1, 3]);
    const q = tf.mul(heads(0), 1 / Math.sqrt(dh)); // scaling q ([B,H,T,dh]) is cheaper than the scores [B,H,T,P+T]
    let k = heads(1);
    let v = heads(2);
    if (kv) {
      const pk = kv.cache.k[i];
      const pv = kv.cache.v[i];
      if (pk && pv) {
        k = tf.concat([pk, k], 2); // [B,H,P+T,dh]
        v = tf.concat([pv, v], 2);
      }
      kv.newK[i] = tf.keep(k);
      kv.newV[i] = tf.keep(v);
    }
    let scores = tf.matMul(q, k, false, true); // [B,H,T,P+T]
    if (mask) scores = tf.add(scores, mask);
    const att = tf.softmax(scores);
    const out = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, d]); // [B,H,T,dh] → [B·T, d]
    return tf.add(tf.matMul(out as Tensor2D, w[`h${i}.attn.wo`] as Tensor2D), w[`h${i}.attn.bo`]);
  }

  private mlp(x: Tensor, i: number): Tensor {
    const w = this.weights;
    const h = gelu(tf.add(tf.matMul(x as Tensor2D, w[`h${i}.mlp.w1`] as Tensor2D), w[`h${i}.mlp.b1`])); // [B·T, r·d]
    return tf.add(tf.matMul(h as Tensor2D, w[`h${i}.mlp.w2`] as Tensor2D), w[`h${i}.mlp.b2`]);
  }

  /** Pre-norm over the last axis: LayerNorm (γ, β) or RMSNorm (γ). */
  private norm(x: Tensor, name: string): Tensor {
    const eps = 1e-5;
    const g = this.weights[`${name}.g`];
    if (this.cfg.norm === 'rms') return tf.mul(tf.mul(x, tf.rsqrt(tf.add(tf.mean(tf.square(x), -1, true), eps))), g);
    const xc = tf.sub(x, tf.mean(x, -1, true));
    const xn = tf.mul(xc, tf.rsqrt(tf.add(tf.mean(tf.square(xc), -1, true), eps)));
    return tf.add(tf.mul(xn, g), this.weights[`${name}.b`]);
  }

  /** Additive mask [T, P+T]: query j (absolute P+j) sees keys 0..P+j. Cached per shape, owned by the model. */
  private causalMask(T: number, P: number): Tensor2D {
    const key = `${T}:${P}`;
    let m = this.masks.get(key);
    if (!m) {
      const S = P + T;
      const a = new Float32Array(T * S);
      for (let j = 0; j < T; j++) for (let s = P + j + 1; s < S; s++) a[j * S + s] = NEG_INF;
      m = tf.keep(tf.tensor2d(a, [T, S]));
      this.masks.set(key, m);
    }
    return m;
  }
}

/** GELU, tanh approximation (GPT-2). */
function gelu(x: Tensor): Tensor {
  const c = Math.sqrt(2 / Math.PI);
  // x·x·x, not pow(x, 3): the wasm Pow kernel costs several multiplies
  const inner = tf.mul(tf.add(x, tf.mul(tf.mul(tf.mul(x, x), x), 0.044715)), c);
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
}

/** GPT-2 init: N(0, 0.02), residual output projections scaled by 1/√(2·layers); norms γ 1, β 0. */
function initWeights(cfg: GeneratorConfig, seed: number): Record<string, Variable> {
  const rng = new Rng(seed);
  const { dModel: d, nLayers, vocabSize: K, seqLen: L, numClasses: C } = cfg;
  const hidden = cfg.mlpRatio * d;
  const w: Record<string, Variable> = {};
  const normal = (name: string, shape: number[], std: number) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const a = new Float32Array(n);
    for (let i = 0; i < n; i++) a[i] = rng.normal() * std;
    w[name] = tf.tidy(() => tf.variable(tf.tensor(a, shape), true));
  };
  const fill = (name: string, shape: number[], value: number) => {
    w[name] = tf.tidy(() => tf.variable(tf.fill(shape, value), true));
  };
  const normParams = (name: string) => {
    fill(`${name}.g`, [d], 1);
    if (cfg.norm === 'layer') fill(`${name}.b`, [d], 0);
  };
  const resid = 0.02 / Math.sqrt(2 * nLayers);
  normal('embed', [K + C + 1, d], 0.02);
  normal('pos', [L + 1, d], 0.02);
  if (cfg.arch === 'rar') normal('target_pos', [L, d], 0.02);
  for (let i = 0; i < nLayers; i++) {
    normParams(`h${i}.ln1`);
    normal(`h${i}.attn.wqkv`, [d, 3 * d], 0.02);
    fill(`h${i}.attn.bqkv`, [3 * d], 0);
    normal(`h${i}.attn.wo`, [d, d], resid);
    fill(`h${i}.attn.bo`, [d], 0);
    normParams(`h${i}.ln2`);
    normal(`h${i}.mlp.w1`, [d, hidden], 0.02);
    fill(`h${i}.mlp.b1`, [hidden], 0);
    normal(`h${i}.mlp.w2`, [hidden, d], resid);
    fill(`h${i}.mlp.b2`, [d], 0);
  }
  normParams('ln_f');
  normal('head.w', [d, K], 0.02);
  fill('head.b', [K], 0);
  return w;
}

/**
 * RAR randomness annealing: probability of training on a permuted order is 1 before `start`,
 * falls linearly to 0 at `end`, 0 after (same units as `step`; the reference anneals over
 * steps 125k → 187.5k of 250k).
 */
export function rarPermuteProb(step: number, window: { start: number; end: number }): number {
  if (step <= window.start) return 1;
  if (step >= window.end) return 0;
  return 1 - (step - window.start) / (window.end - window.start);
}

/** Raster-order input for a whole grid: [B·L] tokens and [B] labels → sequence of length L. */
export function rasterInput(cfg: GeneratorConfig, tokens: Int32Array, labels: Int32Array): { input: SeqInput; targets: Int32Array } {
  const B = labels.length;
  const L = cfg.seqLen;
  const orders = new Int32Array(B * L);
  for (let b = 0; b < B; b++) for (let j = 0; j < L; j++) orders[b * L + j] = j;
  return orderedInput(cfg, tokens, labels, orders);
}

/**
 * Teacher-forcing input for the token order `orders` [B·L] (a permutation of 0..L−1 per row):
 * input 0 is the class, input j ≥ 1 is the token at grid position orders[j−1]; input j predicts
 * the token at orders[j] and (RAR) carries that position's target-aware embedding.
 */
export function orderedInput(
  cfg: GeneratorConfig,
  tokens: Int32Array,
  labels: Int32Array,
  orders: Int32Array,
): { input: SeqInput; targets: Int32Array } {
  const B = labels.length;
  const { seqLen: L, vocabSize: K } = cfg;
  if (tokens.length !== B * L || orders.length !== B * L) throw new Error(`expected ${B}×${L} tokens and orders`);
  const ids = new Int32Array(B * L);
  const pos = new Int32Array(B * L);
  const targetPos = new Int32Array(B * L);
  const targets = new Int32Array(B * L);
  for (let b = 0; b < B; b++) {
    const r = b * L;
    for (let j = 0; j < L; j++) {
      if (j === 0) {
        ids[r] = K + labels[b];
        pos[r] = 0;
      } else {
        const p = orders[r + j - 1];
        ids[r + j] = tokens[r + p];
        pos[r + j] = 1 + p;
      }
      targetPos[r + j] = orders[r + j];
      targets[r + j] = tokens[r + orders[r + j]];
    }
  }
  return { input: { ids, pos, targetPos, batch: B, length: L }, targets };
}

/**
 * One training batch: labels dropped to the null class with probability `classDropout`; for RAR,
 * each row is permuted with probability `permuteProb` (raster otherwise). Draws come from `rng` in a
 * fixed order per row (dropout, permute, shuffle), so a run is reproducible from its seed.
 */
export function trainingInput(
  cfg: GeneratorConfig,
  tokens: Int32Array,
  labels: Int32Array,
  rng: Rng,
  opts: { classDropout: number; permuteProb: number },
): { input: SeqInput; targets: Int32Array; permuted: number } {
  const B = labels.length;
  const L = cfg.seqLen;
  const lab = new Int32Array(B);
  const orders = new Int32Array(B * L);
  let permuted = 0;
  for (let b = 0; b < B; b++) {
    lab[b] = rng.uniform() < opts.classDropout ? cfg.numClasses : labels[b];
    const row = orders.subarray(b * L, (b + 1) * L);
    for (let j = 0; j < L; j++) row[j] = j;
    if (cfg.arch === 'rar' && rng.uniform() < opts.permuteProb) {
      rng.shuffle(row);
      permuted++;
    }
  }
  return { ...orderedInput(cfg, tokens, lab, orders), permuted };
}
