// Sampling: CFG schedule values, the token draw (greedy, top-k, top-p, multinomial frequencies),
// KV cache vs recomputation, CFG scale 1 vs conditional, matched seeds, teacher forcing, leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import { Generator, rasterInput, type GeneratorConfig } from '../../engine/models/transformer';
import { cfgScaleAt, drawToken, sampleRng, sampleTokens } from '../../engine/sample';

const cfg: GeneratorConfig = {
  arch: 'raster',
  vocabSize: 24,
  seqLen: 12,
  numClasses: 4,
  dModel: 32,
  nLayers: 2,
  nHeads: 4,
  mlpRatio: 2,
  norm: 'layer',
};
const L = cfg.seqLen;

let gen: Generator;
let rar: Generator;
beforeAll(async () => {
  await tf.setBackend('cpu');
  gen = new Generator(cfg, 11);
  rar = new Generator({ ...cfg, arch: 'rar', norm: 'rms' }, 12);
  // init logits are near-uniform; scale the head so sampling choices depend on the context
  for (const g of [gen, rar]) tf.tidy(() => g.weights['head.w'].assign(tf.mul(g.weights['head.w'], 40)));
});

const rngs = (seed: number, n: number, offset = 0) => Array.from({ length: n }, (_, i) => sampleRng(seed, offset + i));

describe('cfgScaleAt', () => {
  it('constant and cosine-power values at t = 0, L/2, L', () => {
    const c = { scale: 1.5, schedule: 'constant' as const, power: 1 };
    expect([0, 8, 16].map((t) => cfgScaleAt(t, 16, c))).toEqual([1.5, 1.5, 1.5]);
    const r = { scale: 6, schedule: 'cosine-power' as const, power: 1.15 };
    expect(cfgScaleAt(0, 16, r)).toBe(1);
    // 1 + 5·½·(1 − cos(π·0.5^1.15)) = 3.1137647 (python3 math)
    expect(cfgScaleAt(8, 16, r)).toBeCloseTo(1 + 2.5 * (1 - Math.cos(Math.PI * 0.4506252313)), 7);
    expect(cfgScaleAt(8, 16, r)).toBeCloseTo(3.113765, 5);
    expect(cfgScaleAt(16, 16, r)).toBeCloseTo(6, 12);
    expect(cfgScaleAt(8, 16, { ...r, power: 1 })).toBeCloseTo(3.5, 12);
  });
});

describe('drawToken', () => {
  const logits = Float32Array.from([0.1, 2.0, -1.0, 1.2, 0.5]);
  it('top-k = 1 and temperature 0 are greedy, whatever the stream', () => {
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) {
      expect(drawToken(logits, { topK: 1 }, rng)).toBe(1);
      expect(drawToken(logits, { temperature: 0 }, rng)).toBe(1);
      expect(drawToken(logits, { temperature: 1e-4 }, rng)).toBe(1);
    }
  });

  it('multinomial frequencies follow softmax(logits / T); top-k and top-p truncate', () => {
    const n = 20000;
    const count = (opts: Parameters<typeof drawToken>[1]) => {
      const rng = new Rng(2);
      const c = new Array(5).fill(0);
      for (let i = 0; i < n; i++) c[drawToken(logits, opts, rng)]++;
      return c.map((v) => v / n);
    };
    const softmax = (xs: number[], T: number) => {
      const e = xs.map((x) => Math.exp(x / T));
      const s = e.reduce((a, b) => a + b, 0);
      return e.map((v) => v / s);
    };
    const full = count({ temperature: 0.7 });
    softmax(Array.from(logits), 0.7).forEach((p, k) => expect(Math.abs(full[k] - p)).toBeLessThan(0.015));
    const k2 = count({ topK: 2 });
    const p2 = softmax([2.0, 1.2], 1);
    expect([k2[0], k2[2], k2[4]]).toEqual([0, 0, 0]);
    expect(Math.abs(k2[1] - p2[0])).toBeLessThan(0.015);
    // probabilities ≈ [.095, .506, .025, .227, .126]: top-p 0.6 keeps tokens 1 and 3 only
    const tp = count({ topP: 0.6 });
    expect(tp[0] + tp[2] + tp[4]).toBe(0);
    expect(Math.abs(tp[1] - p2[0])).toBeLessThan(0.015);
    // top-p smaller than the top probability keeps only the top token
    expect(count({ topP: 0.3 })[1]).toBe(1);
  });
});

describe('sampleTokens', () => {
  const labels = Int32Array.from([0, 3, 1]);

  it('KV cache gives the same tokens as full recomputation, with and without CFG, both archs', async () => {
    for (const g of [gen, rar]) {
      for (const guide of [null, { scale: 3, schedule: 'cosine-power' as const, power: 1.1 }]) {
        const a = await sampleTokens({ gen: g, labels, rngs: rngs(5, 3), cfg: guide, topK: 10 });
        const b = await sampleTokens({ gen: g, labels, rngs: rngs(5, 3), cfg: guide, topK: 10, useCache: false });
        expect(Array.from(a)).toEqual(Array.from(b));
      }
    }
  });

  it('is reproducible per seed, differs across seeds, and row i does not depend on the batch', async () => {
    const a = await sampleTokens({ gen, labels, rngs: rngs(7, 3) });
    const b = await sampleTokens({ gen, labels, rngs: rngs(7, 3) });
    const c = await sampleTokens({ gen, labels, rngs: rngs(8, 3) });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
    const row2 = await sampleTokens({ gen, labels: labels.slice(2), rngs: rngs(7, 1, 2) });
    expect(Array.from(row2)).toEqual(Array.from(a.subarray(2 * L, 3 * L)));
    expect(a.every((t) => t >= 0 && t < cfg.vocabSize)).toBe(true);
  });

  it('CFG at scale 1 equals the conditional pass; a strong scale changes samples', async () => {
    const cond = await sampleTokens({ gen, labels, rngs: rngs(9, 3) });
    const s1 = await sampleTokens({ gen, labels, rngs: rngs(9, 3), cfg: { scale: 1, schedule: 'constant', power: 1 } });
    const s4 = await sampleTokens({ gen, labels, rngs: rngs(9, 3), cfg: { scale: 4, schedule: 'constant', power: 1 } });
    expect(Array.from(s1)).toEqual(Array.from(cond));
    expect(Array.from(s4)).not.toEqual(Array.from(cond));
  });

  it('top-k = 1 and temperature 0 both give the greedy (argmax) sequence', async () => {
    const greedy = await sampleTokens({ gen, labels, rngs: rngs(1, 3), temperature: 0 });
    const k1 = await sampleTokens({ gen, labels, rngs: rngs(2, 3), topK: 1 });
    expect(Array.from(k1)).toEqual(Array.from(greedy));
    // greedy = argmax of teacher-forced logits on its own output
    const logits = gen.forward(rasterInput(cfg, greedy, labels).input);
    const arg = tf.argMax(logits, -1);
    expect(Array.from(arg.dataSync())).toEqual(Array.from(greedy));
    tf.dispose([logits, arg]);
  });

  it('teacher forcing: σ = 1 returns the truth; σ = 0.5 mixes truth and model choices fed back', async () => {
    const truthRng = new Rng(3);
    const truth = Int32Array.from({ length: 3 * L }, () => truthRng.int(cfg.vocabSize));
    const all = await sampleTokens({ gen, labels, rngs: rngs(4, 3), teacher: { tokens: truth, sigma: 1 } });
    expect(Array.from(all)).toEqual(Array.from(truth));
    const mixed = await sampleTokens({ gen, labels, rngs: rngs(4, 3), temperature: 0, teacher: { tokens: truth, sigma: 0.5 } });
    const logits = gen.forward(rasterInput(cfg, mixed, labels).input);
    const arg = tf.argMax(logits, -1).dataSync();
    tf.dispose(logits);
    let forced = 0;
    let model = 0;
    for (let i = 0; i < 3 * L; i++) {
      const isTruth = mixed[i] === truth[i];
      const isArg = mixed[i] === arg[i];
      expect(isTruth || isArg).toBe(true);
      if (isTruth && !isArg) forced++;
      if (isArg && !isTruth) model++;
    }
    expect(forced).toBeGreaterThan(3);
    expect(model).toBeGreaterThan(3);
  });

  it('does not leak tensors', async () => {
    const guide = { scale: 2, schedule: 'constant' as const, power: 1 };
    await sampleTokens({ gen, labels, rngs: rngs(1, 3), cfg: guide });
    await sampleTokens({ gen, labels, rngs: rngs(1, 3), useCache: false });
    const before = tf.memory().numTensors;
    await sampleTokens({ gen, labels, rngs: rngs(2, 3), cfg: guide });
    await sampleTokens({ gen, labels, rngs: rngs(2, 3), useCache: false });
    expect(tf.memory().numTensors).toBe(before);
  });
});
