// VQ tokenizer: shapes, straight-through gradients, clean-assignment losses under LP, training, load.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import { createTokenizer, loadTokenizer, resolveTokenizerConfig, type TokenizerConfig } from '../../engine/models/vq-tokenizer';
import { codebookStats, nearestIndices, restartDeadCodes } from '../../engine/models/quantizer';
import { Optimizer, computeGrads } from '../../engine/train/optim';
import { Ema } from '../../engine/train/ema';
import { saveCheckpoint, snapshotTraining } from '../../engine/train/checkpoint';
import type { LpKnobs } from '../../engine/perturb';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-tok-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const tiny = (o: Partial<TokenizerConfig> = {}): TokenizerConfig =>
  resolveTokenizerConfig('vq-f4-k64', 8, 3, { K: 16, D: 4, widths: [8, 8, 8], resBlocks: [0, 1, 0], groups: 4, ...o });

/** Flat-colour squares on a dark background: a tiny shapes-like set. [n,8,8,3] in [-1,1] */
function shapes(n: number, seed: number): tf.Tensor4D {
  const rng = new Rng(seed);
  const a = new Float32Array(n * 8 * 8 * 3).fill(-0.8);
  for (let i = 0; i < n; i++) {
    const col = [rng.uniform() * 2 - 1, rng.uniform() * 2 - 1, rng.uniform() * 2 - 1];
    const x0 = rng.int(5), y0 = rng.int(5), s = 2 + rng.int(3);
    for (let y = y0; y < Math.min(8, y0 + s); y++) for (let x = x0; x < Math.min(8, x0 + s); x++) for (let c = 0; c < 3; c++) a[((i * 8 + y) * 8 + x) * 3 + c] = col[c];
  }
  return tf.tensor4d(a, [n, 8, 8, 3]);
}

const lpAll: LpKnobs = { alpha: 1, beta: 1, delta: 6, deltaMode: 'abs', includeSelf: false, selection: 'bernoulli', anchor: 'z' };

describe('VqTokenizer', () => {
  it('shapes for f = 2, 4, 8 and both upsamplers; normalized latents; decodeIndices', () => {
    const before = tf.memory().numTensors;
    for (const [f, widths, up] of [[2, [8, 8], 'nearest'], [4, [8, 8, 8], 'transpose'], [8, [8, 8, 8, 8], 'nearest']] as const) {
      const tok = createTokenizer(resolveTokenizerConfig('vq-f4-k64', 16, 1, { f, widths: [...widths], resBlocks: widths.map(() => 1), K: 16, D: 4, groups: 4, upsample: up }), 1);
      const x = tf.randomUniform([2, 16, 16, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
      const z = tok.encode(x);
      expect(z.shape).toEqual([2, 16 / f, 16 / f, 4]);
      const norms = tf.tidy(() => tf.norm(z, 'euclidean', -1).dataSync());
      for (const n of norms) expect(n).toBeCloseTo(1, 5);
      const idx = tok.tokenize(x);
      expect(idx.shape).toEqual([2, 16 / f, 16 / f]);
      expect(idx.dtype).toBe('int32');
      const img = tok.decodeIndices(idx);
      expect(img.shape).toEqual([2, 16, 16, 1]);
      tf.dispose([x, z, idx, img]);
      tok.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });

  it('nearest code is the max cosine (l2) or the min distance (euclidean)', () => {
    for (const norm of ['l2', 'none'] as const) {
      const cfg = { K: 8, D: 3, codebookNorm: norm, betaCommit: 0.25 };
      const rng = new Rng(2);
      const codes = Array.from({ length: 8 }, () => [rng.normal(), rng.normal(), rng.normal()].map((v) => (norm === 'l2' ? v : v * 2)));
      const zs = Array.from({ length: 12 }, () => [rng.normal(), rng.normal(), rng.normal()]);
      const cn = norm === 'l2' ? codes.map((c) => c.map((v) => v / Math.hypot(...c))) : codes;
      const zn = norm === 'l2' ? zs.map((c) => c.map((v) => v / Math.hypot(...c))) : zs;
      const got = tf.tidy(() => nearestIndices(tf.tensor4d(zn.flat(), [1, 3, 4, 3]), tf.tensor2d(cn), cfg).dataSync());
      zn.forEach((z, i) => {
        const d = cn.map((c) => c.reduce((s, v, j) => s + (v - z[j]) ** 2, 0));
        expect(got[i]).toBe(d.indexOf(Math.min(...d)));
      });
    }
  });

  it('recon loss alone reaches the encoder through the straight-through path, not the codebook', () => {
    const tok = createTokenizer(tiny(), 3);
    const x = shapes(4, 1);
    const { value, grads } = computeGrads(tok.params, () => tok.losses(x).recon);
    const absSum = (k: string) => tf.tidy(() => tf.sum(tf.abs(grads[k])).dataSync()[0]);
    expect(absSum('enc.in.w')).toBeGreaterThan(1e-6);
    expect(absSum('enc.out.w')).toBeGreaterThan(1e-6);
    expect(absSum('quant.codebook')).toBe(0);
    tf.dispose([x, value, ...Object.values(grads)]);
    tok.dispose();
  });

  it('reconstruct: clean equals decodeIndices(tokenize); LP with a share-of-K δ changes tokens (pFID path)', () => {
    const tok = createTokenizer(tiny(), 6);
    const x = shapes(4, 5);
    const before = tf.memory().numTensors;
    const clean = tok.reconstruct(x);
    const viaIdx = tf.tidy(() => tok.decodeIndices(tok.tokenize(x)));
    expect(Array.from(clean.images.dataSync())).toEqual(Array.from(viaIdx.dataSync()));
    expect(clean.draw).toBeNull();
    const knobs: LpKnobs = { alpha: 1, beta: 1, delta: 0.25, deltaMode: 'share', includeSelf: false, selection: 'bernoulli', anchor: 'z' };
    const pert = tok.reconstruct(x, { knobs, rng: new Rng(3) });
    expect(pert.draw!.changed).toBe(4 * 2 * 2); // δ = 0.25·16 = 4 codes, self excluded: every token moves
    expect(pert.draw!.expected).toBe(1);
    tf.dispose([clean.images, viaIdx, pert.images]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    tok.dispose();
  });

  it('codebook and commitment losses use the clean assignment: LP α = 1 leaves them unchanged', () => {
    const tok = createTokenizer(tiny(), 4);
    const x = shapes(4, 2);
    const clean = tf.tidy(() => {
      const l = tok.losses(x);
      return [l.codebook, l.commit, l.recon].map((t) => t.dataSync()[0]);
    });
    const lp = tf.tidy(() => {
      const l = tok.losses(x, { knobs: lpAll, rng: new Rng(1) });
      expect(l.draw!.changed).toBe(4 * 4);
      return [l.codebook, l.commit, l.recon].map((t) => t.dataSync()[0]);
    });
    expect(lp[0]).toBeCloseTo(clean[0], 6);
    expect(lp[1]).toBeCloseTo(clean[1], 6);
    expect(Math.abs(lp[2] - clean[2])).toBeGreaterThan(1e-6);
    x.dispose();
    tok.dispose();
  });

  it('a short training on tiny shapes lowers the loss with LP on, without leaking tensors', () => {
    const tok = createTokenizer(tiny({ K: 32 }), 5);
    const opt = new Optimizer(tok.params, { kind: 'adamw', weightDecay: 1e-4 });
    const ema = new Ema(tok.params, 0.9);
    const data = shapes(8, 3);
    const counts0 = new Float32Array(32);
    const losses: number[] = [];
    let afterWarm = 0;
    for (let s = 0; s < 25; s++) {
      if (s === 2) afterWarm = tf.memory().numTensors;
      const knobs = { ...lpAll, alpha: 0.5, beta: 0.25, includeSelf: true, delta: 3 };
      const { value, grads } = computeGrads(tok.params, () => {
        const l = tok.losses(data, { knobs, rng: new Rng(s) });
        if (s === 24) counts0.set(l.counts.dataSync());
        return l.loss;
      });
      opt.apply(grads, 3e-3).dispose();
      ema.update();
      if (s % 8 === 0 || s === 24) losses.push(value.dataSync()[0]);
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(tf.memory().numTensors).toBe(afterWarm);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.6);
    const st = codebookStats(counts0);
    expect(st.used).toBeGreaterThan(1);
    expect(st.perplexity).toBeGreaterThan(1);
    // dead-code restart moves exactly the unused rows
    const z = tf.tidy(() => tok.encode(data).dataSync() as Float32Array);
    const beforeCb = tok.params['quant.codebook'].dataSync().slice();
    const dead = restartDeadCodes(tok.params, counts0, z, 4, new Rng(1));
    expect(dead.length).toBe(st.deadCodes);
    const afterCb = tok.params['quant.codebook'].dataSync();
    for (let k = 0; k < 32; k++) {
      const same = [0, 1, 2, 3].every((j) => afterCb[k * 4 + j] === beforeCb[k * 4 + j]);
      expect(same).toBe(!dead.includes(k));
    }
    // save with EMA, load back: loadTokenizer uses the EMA weights
    const runDir = path.join(tmp, 'run');
    fs.mkdirSync(runDir, { recursive: true });
    fs.writeFileSync(path.join(runDir, 'config.json'), JSON.stringify({ kind: 'vq-tokenizer', model: tok.config, seed: 5 }));
    saveCheckpoint(runDir, snapshotTraining(tok.params, opt, ema, 25, {}));
    const expected = tf.tidy(() => {
      ema.swap();
      const r = tok.decodeIndices(tok.tokenize(data)).dataSync();
      ema.swap();
      return r;
    });
    const loaded = loadTokenizer(runDir);
    const got = tf.tidy(() => loaded.decodeIndices(loaded.tokenize(data)).dataSync());
    expect(Array.from(got)).toEqual(Array.from(expected));
    loaded.dispose();
    data.dispose();
    opt.dispose();
    ema.dispose();
    tok.dispose();
  });
});

describe('quantizer backward pass', () => {
  it('codebook gradient equals the one-hot reference, and the nearest-code search gets no backward pass', async () => {
    const cfg = tiny({ K: 32, D: 4 });
    const tok = createTokenizer(cfg, 3);
    const x = shapes(4, 9);
    const before = tf.memory().numTensors;
    const grads = () => computeGrads(tok.params, () => tok.losses(x).loss);
    const { value, grads: g } = grads();
    // reference: e = onehot(indices)·codes, so d(codebook loss)/d(code k) = Σ_{i: idx_i = k} 2(e_k − z_i)/(N·D) (before the l2 chain)
    const ref = tf.tidy(() => {
      const z = tok.encode(x);
      const idx = tf.reshape(tok.quantize(z).indices, [-1]) as tf.Tensor1D;
      return tf.grad((cb: tf.Tensor) => {
        const codes = tf.div(cb, tf.maximum(tf.norm(cb, 'euclidean', -1, true), 1e-12)) as tf.Tensor2D;
        const e = tf.reshape(tf.matMul(tf.cast(tf.oneHot(idx, cfg.K), 'float32'), codes), z.shape);
        return tf.mean(tf.square(tf.sub(e, z)));
      })(tok.params['quant.codebook']);
    });
    const got = g['quant.codebook'].dataSync();
    const want = ref.dataSync();
    let maxAbs = 0, maxDiff = 0;
    for (let i = 0; i < got.length; i++) {
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
      maxDiff = Math.max(maxDiff, Math.abs(got[i] - want[i]));
    }
    expect(maxAbs).toBeGreaterThan(1e-4);
    expect(maxDiff).toBeLessThan(1e-6 + 1e-4 * maxAbs);
    tf.dispose([value, ref, ...Object.values(g)]);
    // one [N,D]×[D,K] product (the forward search): none in the backward pass, none for the lookup
    const prof = await tf.profile(() => {
      const r = grads();
      tf.dispose([r.value, ...Object.values(r.grads)]);
    });
    expect(prof.kernels.filter((k) => k.name === 'BatchMatMul' || k.name === '_FusedMatMul').length).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    tok.dispose();
  });
});
