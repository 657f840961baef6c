// Adam/AdamW against a hand-written scalar reference (torch.optim conventions), clipping, EMA, no leaks.
import { beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Optimizer, computeGrads, type OptimConfig } from '../../engine/train/optim';
import { Ema } from '../../engine/train/ema';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

/** Scalar reference of one parameter tensor over several steps. */
function reference(p0: number[], grads: number[][], cfg: { kind: 'adam' | 'adamw'; lr: number; wd: number; decay: boolean; clip?: number; allGrads?: number[][][] }): number[] {
  const b1 = 0.9, b2 = 0.999, eps = 1e-8;
  const p = p0.slice();
  const m = p.map(() => 0), v = p.map(() => 0);
  grads.forEach((g0, t) => {
    let scale = 1;
    if (cfg.clip) {
      const all = cfg.allGrads ? cfg.allGrads[t].flat() : g0;
      const n = Math.sqrt(all.reduce((a, x) => a + x * x, 0));
      scale = Math.min(1, cfg.clip / (n + 1e-6));
    }
    const step = t + 1;
    for (let i = 0; i < p.length; i++) {
      let g = g0[i] * scale;
      if (cfg.decay && cfg.kind === 'adam') g += cfg.wd * p[i];
      m[i] = b1 * m[i] + (1 - b1) * g;
      v[i] = b2 * v[i] + (1 - b2) * g * g;
      const upd = m[i] / (1 - b1 ** step) / (Math.sqrt(v[i] / (1 - b2 ** step)) + eps);
      const base = cfg.decay && cfg.kind === 'adamw' ? p[i] * (1 - cfg.lr * cfg.wd) : p[i];
      p[i] = base - cfg.lr * upd;
    }
  });
  return p;
}

function run(cfg: OptimConfig, lr: number, gw: number[][], gb: number[][]) {
  const vars = { w: tf.variable(tf.tensor2d([1, -2, 3, 0.5], [2, 2])), b: tf.variable(tf.tensor1d([0.1, -0.3])) };
  const opt = new Optimizer(vars, cfg);
  for (let t = 0; t < gw.length; t++) {
    const grads = { w: tf.tensor2d(gw[t], [2, 2]), b: tf.tensor1d(gb[t]) };
    opt.apply(grads, lr).dispose();
    tf.dispose(grads);
  }
  const out = { w: Array.from(vars.w.dataSync()), b: Array.from(vars.b.dataSync()) };
  opt.dispose();
  tf.dispose(vars);
  return out;
}

const gw = [[0.5, -1, 2, 0.1], [-0.2, 0.3, 0.05, -1]];
const gb = [[0.3, -0.4], [0.1, 0.2]];

describe('Optimizer', () => {
  it('AdamW decays only ≥2-D weights, decoupled, and matches the hand-computed steps', () => {
    const got = run({ kind: 'adamw', weightDecay: 0.1 }, 0.01, gw, gb);
    const w = reference([1, -2, 3, 0.5], gw, { kind: 'adamw', lr: 0.01, wd: 0.1, decay: true });
    const b = reference([0.1, -0.3], gb, { kind: 'adamw', lr: 0.01, wd: 0.1, decay: false });
    got.w.forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
    got.b.forEach((x, i) => expect(x).toBeCloseTo(b[i], 5));
    // the decay really acted: differs from plain Adam
    const plain = reference([1, -2, 3, 0.5], gw, { kind: 'adamw', lr: 0.01, wd: 0, decay: false });
    expect(Math.abs(got.w[2] - plain[2])).toBeGreaterThan(1e-4);
  });
  it('Adam with L2 decay adds wd·p to the gradient', () => {
    const got = run({ kind: 'adam', weightDecay: 0.5 }, 0.05, gw, gb);
    const w = reference([1, -2, 3, 0.5], gw, { kind: 'adam', lr: 0.05, wd: 0.5, decay: true });
    got.w.forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
  });
  it('global-norm clipping uses the norm over all variables', () => {
    const big = [[5, -10, 20, 1], [-0.02, 0.03, 0.005, -0.1]];
    const bigB = [[3, -4], [0.01, 0.02]];
    const got = run({ kind: 'adam', clipNorm: 1 }, 0.01, big, bigB);
    const all = big.map((g, t) => [g, bigB[t]]);
    const w = reference([1, -2, 3, 0.5], big, { kind: 'adam', lr: 0.01, wd: 0, decay: false, clip: 1, allGrads: all });
    const unclipped = reference([1, -2, 3, 0.5], big, { kind: 'adam', lr: 0.01, wd: 0, decay: false });
    got.w.forEach((x, i) => expect(x).toBeCloseTo(w[i], 5));
    expect(Math.abs(w[0] - unclipped[0])).toBeGreaterThan(1e-4);
  });
  it('state round trip continues identically; computeGrads keys by name; no leaks', () => {
    const before = tf.memory().numTensors;
    const mk = () => tf.tidy(() => ({ w: tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2])) }));
    const loss = (vars: { w: tf.Variable }) => () => tf.sum(tf.square(tf.sub(vars.w, 1))) as tf.Scalar;
    const a = mk();
    const oa = new Optimizer(a, { kind: 'adamw', weightDecay: 0.01 });
    for (let i = 0; i < 3; i++) {
      const { value, grads } = computeGrads(a, loss(a));
      expect(Object.keys(grads)).toEqual(['w']);
      oa.apply(grads, 0.1).dispose();
      tf.dispose([value, ...Object.values(grads)]);
    }
    const b = mk();
    b.w.assign(a.w);
    const ob = new Optimizer(b, { kind: 'adamw', weightDecay: 0.01 });
    ob.setState(oa.getState());
    for (const [vars, o] of [[a, oa], [b, ob]] as const) {
      const { value, grads } = computeGrads(vars, loss(vars));
      o.apply(grads, 0.1).dispose();
      tf.dispose([value, ...Object.values(grads)]);
    }
    expect(Array.from(b.w.dataSync())).toEqual(Array.from(a.w.dataSync()));
    oa.dispose();
    ob.dispose();
    tf.dispose([a.w, b.w]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('Ema', () => {
  it('tracks d·shadow + (1−d)·x and swaps in and back', async () => {
    const before = tf.memory().numTensors;
    const vars = tf.tidy(() => ({ w: tf.variable(tf.tensor1d([0, 0])) }));
    const ema = new Ema(vars, 0.9);
    tf.tidy(() => vars.w.assign(tf.tensor1d([1, 2])));
    ema.update();
    tf.tidy(() => vars.w.assign(tf.tensor1d([1, 2])));
    ema.update();
    // warm-up decays min(0.9, (1+t)/(10+t)): 0.1 then 2/11 → 0.9x → (2/11)·0.9x + (9/11)·x
    const expected = (2 / 11) * 0.9 + 9 / 11;
    const inside = await ema.withEma(() => Array.from(vars.w.dataSync()));
    expect(inside[0]).toBeCloseTo(expected, 6);
    expect(inside[1]).toBeCloseTo(2 * expected, 6);
    for (let i = 0; i < 200; i++) ema.update();
    expect(ema.currentDecay()).toBe(0.9);
    expect(Array.from(vars.w.dataSync())).toEqual([1, 2]);
    ema.dispose();
    vars.w.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
