// The AR generator model: causality, KV cache = full recomputation, RAR target-aware embedding,
// permutation annealing, tensor hygiene.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import {
  Generator,
  generatorConfig,
  orderedInput,
  rarPermuteProb,
  rasterInput,
  trainingInput,
  type GeneratorConfig,
  type SeqInput,
} from '../../engine/models/transformer';

const tiny = (arch: 'raster' | 'rar', norm: 'layer' | 'rms' = 'layer'): GeneratorConfig => ({
  arch,
  vocabSize: 16,
  seqLen: 16,
  numClasses: 3,
  dModel: 32,
  nLayers: 2,
  nHeads: 4,
  mlpRatio: 2,
  norm,
});

function randomTokens(n: number, K: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  return Int32Array.from({ length: n }, () => rng.int(K));
}

function slicePositions(input: SeqInput, from: number, to: number): SeqInput {
  const { batch: B, length: T } = input;
  const n = to - from;
  const pick = (a: Int32Array) => {
    const out = new Int32Array(B * n);
    for (let b = 0; b < B; b++) out.set(a.subarray(b * T + from, b * T + to), b * n);
    return out;
  };
  return { ids: pick(input.ids), pos: pick(input.pos), targetPos: pick(input.targetPos), batch: B, length: n };
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('generator model', () => {
  it('is causal: changing a later token never changes earlier logits', () => {
    for (const arch of ['raster', 'rar'] as const) {
      const cfg = tiny(arch);
      const gen = new Generator(cfg, 1);
      const tokens = randomTokens(2 * 16, 16, 2);
      const labels = Int32Array.from([0, 2]);
      const a = rasterInput(cfg, tokens, labels).input;
      const changed = tokens.slice();
      changed[9] = (changed[9] + 5) % 16; // grid position 9 is input 10 in raster order
      changed[16 + 9] = (changed[16 + 9] + 3) % 16;
      const b = rasterInput(cfg, changed, labels).input;
      const la = gen.forward(a);
      const lb = gen.forward(b);
      const da = la.arraySync();
      const db = lb.arraySync();
      for (let r = 0; r < 2; r++) {
        for (let j = 0; j <= 9; j++) for (let k = 0; k < 16; k++) expect(db[r][j][k]).toBe(da[r][j][k]);
        const diff = Math.max(...da[r][10].map((v, k) => Math.abs(v - db[r][10][k])));
        expect(diff).toBeGreaterThan(1e-4);
      }
      tf.dispose([la, lb]);
      gen.dispose();
    }
  });

  it('KV-cache decoding gives the same logits as full recomputation (both norms, both archs)', () => {
    for (const [arch, norm] of [['raster', 'layer'], ['rar', 'rms']] as const) {
      const cfg = tiny(arch, norm);
      const gen = new Generator(cfg, 3);
      const tokens = randomTokens(3 * 16, 16, 4);
      const labels = Int32Array.from([0, 1, 3]); // 3 = null class
      const { input } = rasterInput(cfg, tokens, labels);
      const full = gen.forward(input);
      const cache = gen.emptyCache();
      // uneven chunks: a 1-position start, a 5-position prefill, then single steps
      const chunks = [[0, 1], [1, 6], ...Array.from({ length: 10 }, (_, i) => [6 + i, 7 + i])];
      const parts: tf.Tensor[] = [];
      for (const [from, to] of chunks) parts.push(gen.step(cache, slicePositions(input, from, to)));
      expect(cache.length).toBe(16);
      const inc = tf.concat(parts, 1);
      const maxDiff = tf.max(tf.abs(tf.sub(full, inc))).dataSync()[0];
      expect(maxDiff).toBeLessThan(1e-4);
      expect(tf.max(tf.abs(full)).dataSync()[0]).toBeGreaterThan(1e-3);
      gen.disposeCache(cache);
      tf.dispose([full, inc, ...parts]);
      gen.dispose();
    }
  });

  it('RAR target-aware embedding: the same inputs with a different next position give different logits', () => {
    const tokens = randomTokens(16, 16, 5);
    const labels = Int32Array.from([1]);
    const o1 = Int32Array.from({ length: 16 }, (_, i) => i);
    const o2 = o1.slice();
    [o2[1], o2[2]] = [o2[2], o2[1]]; // inputs 0 and 1 identical, input 1 now predicts position 2
    for (const arch of ['raster', 'rar'] as const) {
      const cfg = tiny(arch);
      const gen = new Generator(cfg, 6);
      const a = orderedInput(cfg, tokens, labels, o1);
      const b = orderedInput(cfg, tokens, labels, o2);
      expect(a.input.ids.slice(0, 2)).toEqual(b.input.ids.slice(0, 2));
      expect(b.targets[1]).toBe(tokens[2]);
      const la = gen.forward(a.input);
      const lb = gen.forward(b.input);
      const d0 = tf.max(tf.abs(tf.sub(tf.slice(la, [0, 0, 0], [1, 1, 16]), tf.slice(lb, [0, 0, 0], [1, 1, 16])))).dataSync()[0];
      const d1 = tf.max(tf.abs(tf.sub(tf.slice(la, [0, 1, 0], [1, 1, 16]), tf.slice(lb, [0, 1, 0], [1, 1, 16])))).dataSync()[0];
      expect(d0).toBe(0);
      if (arch === 'rar') expect(d1).toBeGreaterThan(1e-4);
      else expect(d1).toBe(0);
      tf.dispose([la, lb]);
      gen.dispose();
    }
  });

  it('anneals the RAR permutation probability 1 → 0 over the window', () => {
    const w = { start: 100, end: 200 };
    expect(rarPermuteProb(0, w)).toBe(1);
    expect(rarPermuteProb(100, w)).toBe(1);
    expect(rarPermuteProb(125, w)).toBeCloseTo(0.75, 12);
    expect(rarPermuteProb(150, w)).toBeCloseTo(0.5, 12);
    expect(rarPermuteProb(200, w)).toBe(0);
    expect(rarPermuteProb(1000, w)).toBe(0);
  });

  it('training input: class dropout share, permutation only for RAR, targets follow the order', () => {
    const B = 400;
    const tokens = randomTokens(B * 16, 16, 7);
    const labels = Int32Array.from({ length: B }, (_, i) => i % 3);
    const rar = tiny('rar');
    const r = trainingInput(rar, tokens, labels, new Rng(8), { classDropout: 0.1, permuteProb: 0.5 });
    const nulls = Array.from({ length: B }, (_, b) => r.input.ids[b * 16]).filter((id) => id === 16 + 3).length;
    expect(nulls).toBeGreaterThan(20);
    expect(nulls).toBeLessThan(65);
    expect(r.permuted).toBeGreaterThan(160);
    expect(r.permuted).toBeLessThan(240);
    for (let b = 0; b < B; b++) {
      const tp = Array.from(r.input.targetPos.subarray(b * 16, b * 16 + 16)).sort((x, y) => x - y);
      expect(tp).toEqual(Array.from({ length: 16 }, (_, i) => i));
      for (let j = 0; j < 16; j++) expect(r.targets[b * 16 + j]).toBe(tokens[b * 16 + r.input.targetPos[b * 16 + j]]);
      for (let j = 1; j < 16; j++) expect(r.input.pos[b * 16 + j]).toBe(1 + r.input.targetPos[b * 16 + j - 1]);
    }
    const raster = trainingInput(tiny('raster'), tokens, labels, new Rng(8), { classDropout: 0, permuteProb: 1 });
    expect(raster.permuted).toBe(0);
    expect(Array.from(raster.input.targetPos.subarray(0, 16))).toEqual(Array.from({ length: 16 }, (_, i) => i));
  });

  it('does not leak tensors over forward, loss+grads and cached steps; seeded init is reproducible', () => {
    const cfg = tiny('rar');
    const gen = new Generator(cfg, 9);
    const again = new Generator(cfg, 9);
    expect(again.exportWeights()['h1.mlp.w1']).toEqual(gen.exportWeights()['h1.mlp.w1']);
    again.dispose();
    const tokens = randomTokens(2 * 16, 16, 10);
    const labels = Int32Array.from([0, 1]);
    const before = tf.memory().numTensors;
    for (let s = 0; s < 3; s++) {
      const { input, targets } = trainingInput(cfg, tokens, labels, new Rng(s), { classDropout: 0.1, permuteProb: 1 });
      const { value, grads } = tf.variableGrads(() => gen.loss(input, targets), Object.values(gen.weights));
      expect(Object.keys(grads).length).toBe(Object.keys(gen.weights).length);
      tf.dispose([value, ...Object.values(grads)]);
      const cache = gen.emptyCache();
      for (let t = 0; t < 4; t++) tf.dispose(gen.step(cache, slicePositions(input, t, t + 1)));
      gen.disposeCache(cache);
    }
    // forward() caches one causal mask per (T, P) shape; allow those
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1);
    gen.dispose();
  });

  it('presets build with the documented sizes', () => {
    const cfg = generatorConfig('gpt-nano', { vocabSize: 64, seqLen: 16, numClasses: 10, arch: 'raster' });
    expect(cfg.dModel).toBe(64);
    expect(cfg.nLayers).toBe(2);
    const gen = new Generator(cfg, 0);
    const d = 64;
    const perLayer = 2 * 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + (d * 4 * d + 4 * d) + (4 * d * d + d);
    const expected = (64 + 11) * d + 17 * d + 2 * perLayer + 2 * d + d * 64 + 64;
    expect(gen.paramCount()).toBe(expected);
    gen.dispose();
  });
});
