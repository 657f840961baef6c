// Engine self-test job: trains a tiny conv autoencoder on synthetic stripes for a few steps and
// reports its loss, exercising conv gradients on the active backend (kernel patches included).
import { Rng } from '../rng';
import { validateSelftestSpec } from '../specs/selftest';
import { tf } from '../tf';
import type { Job } from './types';
import { throwIfCancelled } from './types';

/** Synthetic batch: oriented stripes of random frequency and phase, NHWC in [-1, 1]. */
function stripes(rng: Rng, b: number, r: number): Float32Array {
  const out = new Float32Array(b * r * r * 3);
  for (let i = 0; i < b; i++) {
    const f = 0.2 + rng.uniform() * 0.8;
    const th = rng.uniform() * Math.PI;
    const ph = rng.uniform() * 6.28;
    const col = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let y = 0; y < r; y++)
      for (let x = 0; x < r; x++) {
        const v = Math.sin(f * (x * Math.cos(th) + y * Math.sin(th)) + ph);
        for (let c = 0; c < 3; c++) out[((i * r + y) * r + x) * 3 + c] = v * (col[c] * 2 - 1);
      }
  }
  return out;
}

export const selftest: Job = async (rawSpec, ctx) => {
  const spec = validateSelftestSpec(rawSpec);
  const rng = new Rng(spec.seed);
  const init = (shape: [number, number, number, number], fanIn: number): tf.Variable<tf.Rank.R4> => {
    const n = shape.reduce((a, b) => a * b, 1);
    const v = new Float32Array(n);
    for (let i = 0; i < n; i++) v[i] = rng.normal() * Math.sqrt(2 / fanIn);
    return tf.variable(tf.tensor4d(v, shape));
  };
  // encoder: 3 → 8 (stride 2) → 8; decoder: upsample ×2 → 3
  const w = {
    e1: init([3, 3, 3, 8], 27),
    e2: init([3, 3, 8, 8], 72),
    d1: init([3, 3, 8, 3], 72),
  };
  const opt = tf.train.adam(3e-3);
  const r = spec.resolution;
  let last = NaN;
  const t0 = Date.now();
  try {
    for (let step = 1; step <= spec.steps; step++) {
      throwIfCancelled(ctx.signal);
      const data = stripes(rng, spec.batchSize, r);
      const loss = tf.tidy(() => {
        const x = tf.tensor4d(data, [spec.batchSize, r, r, 3]);
        return opt.minimize(() => {
          const h1 = tf.relu(tf.conv2d(x, w.e1, 2, 'same')); // [B,r/2,r/2,8]
          const h2 = tf.relu(tf.conv2d(h1, w.e2, 1, 'same'));
          const up = tf.image.resizeNearestNeighbor(h2, [r, r]); // [B,r,r,8]
          const y = tf.tanh(tf.conv2d(up, w.d1, 1, 'same')); // [B,r,r,3]
          return tf.losses.meanSquaredError(x, y) as tf.Scalar;
        }, true) as tf.Scalar;
      });
      last = (await loss.data())[0];
      loss.dispose();
      ctx.metrics([{ name: 'train/loss', step, value: last }]);
      ctx.progress(step, spec.steps, `step ${step}/${spec.steps}`);
      if (spec.stepDelayMs > 0) await new Promise((res) => setTimeout(res, spec.stepDelayMs));
    }
  } finally {
    opt.dispose();
    for (const v of Object.values(w)) v.dispose();
  }
  return { steps: spec.steps, finalLoss: last, backend: tf.getBackend(), seconds: (Date.now() - t0) / 1000 };
};
