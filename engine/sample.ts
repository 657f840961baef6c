// Raster-order sampling from a Generator with a KV cache, classifier-free guidance (constant or the
// RAR cosine-power ramp), temperature, top-k / top-p and seeded multinomial draws (METHOD §4), plus
// teacher forcing towards true tokens for decoder post-training (METHOD §5).
import { tf } from './tf';
import { Rng, deriveSeed } from './rng';
import type { Generator, KvCache, SeqInput } from './models/transformer';
import { throwIfCancelled } from './context';

export type CfgSchedule = 'constant' | 'cosine-power';

export interface CfgOptions {
  /** Guidance g (1 = conditional only, but still two passes). */
  scale: number;
  schedule: CfgSchedule;
  /** Exponent p of the cosine-power ramp (RAR-B 1.15, RAR-L 1.01). */
  power: number;
}

/**
 * Guidance at step t of L: constant g (LlamaGen), or s_t = 1 + (g − 1)·½·(1 − cos(π·(t/L)^p))
 * (RAR generate(): t = 0-based step, so the first token is sampled at scale 1).
 */
export function cfgScaleAt(t: number, L: number, o: CfgOptions): number {
  if (o.schedule === 'constant') return o.scale;
  const ramp = 0.5 * (1 - Math.cos(Math.PI * Math.pow(t / L, o.power)));
  return 1 + (o.scale - 1) * ramp;
}

/** The random stream of gallery sample `index`: the same (seed, index) with or without CFG. */
export function sampleRng(seed: number, index: number): Rng {
  return new Rng(deriveSeed(seed, `sample/${index}`));
}

export interface DrawOptions {
  /** ≤ 0 means greedy (argmax). Default 1. */
  temperature?: number;
  /** Keep the k most likely tokens (0 = off). */
  topK?: number;
  /** Keep the smallest most-likely set with mass ≥ p (1 = off). */
  topP?: number;
}

/**
 * One token from one row of logits. Always consumes exactly one uniform from `rng`, so streams
 * stay aligned whatever the settings (greedy included).
 */
export function drawToken(logits: Float32Array, opts: DrawOptions, rng: Rng): number {
  const u = rng.uniform();
  const K = logits.length;
  const temperature = opts.temperature ?? 1;
  let best = 0;
  for (let k = 1; k < K; k++) if (logits[k] > logits[best]) best = k;
  if (temperature <= 0) return best;
  const topK = opts.topK ?? 0;
  const topP = opts.topP ?? 1;
  // candidates sorted by logit, descending (ties by index, for determinism)
  let order = Array.from({ length: K }, (_, k) => k).sort((a, b) => logits[b] - logits[a] || a - b);
  if (topK > 0 && topK < K) order = order.slice(0, topK);
  const maxL = logits[order[0]];
  const p = order.map((k) => Math.exp((logits[k] - maxL) / temperature));
  let total = p.reduce((s, v) => s + v, 0);
  let n = p.length;
  if (topP < 1) {
    let cum = 0;
    for (let i = 0; i < p.length; i++) {
      cum += p[i] / total;
      if (cum >= topP) {
        n = i + 1;
        break;
      }
    }
    total = p.slice(0, n).reduce((s, v) => s + v, 0);
  }
  let acc = 0;
  const target = u * total;
  for (let i = 0; i < n; i++) {
    acc += p[i];
    if (target < acc) return order[i];
  }
  return order[n - 1];
}

export interface SampleOptions extends DrawOptions {
  gen: Generator;
  /** Class ids [B] (numClasses = the null class, i.e. unconditional sampling). */
  labels: Int32Array;
  /** One stream per row (see sampleRng), consumed in step order. */
  rngs: Rng[];
  /** Guidance; absent = without CFG (conditional logits alone, one pass of B rows). */
  cfg?: CfgOptions | null;
  /**
   * Teacher forcing (METHOD §5): at each step, with probability sigma, the true token
   * tokens[b·L + t] replaces the sampled one and is fed back. The mask draw comes from the row's
   * stream just before the token draw.
   */
  teacher?: { tokens: Int32Array; sigma: number };
  /** false = recompute the whole prefix every step (O(L²); for checks and benchmarks). */
  useCache?: boolean;
  /** Checked before every step; an abort throws JobCancelled. */
  signal?: AbortSignal;
}

/** Samples B token grids in raster order. Returns [B·L] row-major token ids. */
export async function sampleTokens(o: SampleOptions): Promise<Int32Array> {
  const { gen } = o;
  const { seqLen: L, vocabSize: K, numClasses } = gen.cfg;
  const B = o.labels.length;
  if (o.rngs.length !== B) throw new Error(`need one Rng per row: ${B} labels, ${o.rngs.length} rngs`);
  if (o.teacher && o.teacher.tokens.length !== B * L) throw new Error(`teacher tokens must be ${B}×${L}`);
  const guided = !!o.cfg;
  const N = guided ? 2 * B : B; // rows [0, B) conditional, [B, 2B) null class
  const out = new Int32Array(B * L);
  const useCache = o.useCache ?? true;
  const cache: KvCache | null = useCache ? gen.emptyCache() : null;
  const row = new Float32Array(K);
  try {
    for (let t = 0; t < L; t++) {
      if (o.signal) throwIfCancelled(o.signal);
      const input = useCache ? stepInput(t, t + 1) : stepInput(0, t + 1);
      const logits = cache ? gen.step(cache, input) : gen.forward(input); // [N, T, K]
      const T = input.length;
      const last = tf.tidy(() => tf.reshape(tf.slice(logits, [0, T - 1, 0], [N, 1, K]), [N, K]));
      logits.dispose();
      const data = (await last.data()) as Float32Array; // [N·K]
      last.dispose();
      const s = guided && o.cfg ? cfgScaleAt(t, L, o.cfg) : 1;
      for (let b = 0; b < B; b++) {
        const c = b * K;
        if (guided) {
          const uOff = (B + b) * K;
          for (let k = 0; k < K; k++) row[k] = data[uOff + k] + s * (data[c + k] - data[uOff + k]);
        } else {
          row.set(data.subarray(c, c + K));
        }
        const rng = o.rngs[b];
        const forced = o.teacher ? rng.uniform() < o.teacher.sigma : false;
        const drawn = drawToken(row, o, rng);
        out[b * L + t] = forced && o.teacher ? o.teacher.tokens[b * L + t] : drawn;
      }
    }
  } finally {
    if (cache) gen.disposeCache(cache);
  }
  return out;

  /** Input positions [from, to) of the raster sequence for all N rows (class at 0, token t−1 at t). */
  function stepInput(from: number, to: number): SeqInput {
    const T = to - from;
    const ids = new Int32Array(N * T);
    const pos = new Int32Array(N * T);
    const targetPos = new Int32Array(N * T);
    for (let r = 0; r < N; r++) {
      const b = r % B;
      for (let j = from; j < to; j++) {
        const i = r * T + (j - from);
        ids[i] = j === 0 ? K + (r < B ? o.labels[b] : numClasses) : out[b * L + j - 1];
        pos[i] = j;
        targetPos[i] = j;
      }
    }
    return { ids, pos, targetPos, batch: N, length: T };
  }
}
