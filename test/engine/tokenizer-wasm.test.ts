// The tokenizer on the wasm backend (toklab's replacement kernels): the training loss and its
// gradients match the cpu backend, with and without LP, for both upsamplers.
import { afterAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { Rng } from '../../engine/rng';
import { createTokenizer, resolveTokenizerConfig } from '../../engine/models/vq-tokenizer';
import { computeGrads } from '../../engine/train/optim';
import type { LpKnobs } from '../../engine/perturb';

const lp: LpKnobs = { alpha: 0.7, beta: 0.5, delta: 3, deltaMode: 'abs', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

async function run(backend: 'cpu' | 'wasm', upsample: 'nearest' | 'transpose') {
  await initBackend({ prefer: backend });
  expect(tf.getBackend()).toBe(backend);
  const tok = createTokenizer(resolveTokenizerConfig('vq-f4-k64', 8, 3, { K: 16, D: 4, widths: [8, 8, 8], resBlocks: [1, 1, 1], groups: 4, upsample }), 2);
  const rng = new Rng(9);
  const x = tf.tensor4d(Float32Array.from({ length: 4 * 8 * 8 * 3 }, () => rng.uniform() * 2 - 1), [4, 8, 8, 3]);
  const out: { loss: number; grads: Record<string, Float32Array> }[] = [];
  for (const withLp of [false, true]) {
    const { value, grads } = computeGrads(tok.params, () => tok.losses(x, withLp ? { knobs: lp, rng: new Rng(1) } : undefined).loss);
    const g: Record<string, Float32Array> = {};
    for (const [k, t] of Object.entries(grads)) g[k] = t.dataSync() as Float32Array;
    out.push({ loss: value.dataSync()[0], grads: g });
    tf.dispose([value, ...Object.values(grads)]);
  }
  x.dispose();
  tok.dispose();
  return out;
}

afterAll(async () => {
  await initBackend({ prefer: 'cpu' });
});

describe('tokenizer on wasm', () => {
  for (const up of ['nearest', 'transpose'] as const) {
    it(`loss and gradients match cpu (${up} upsampling)`, async () => {
      const cpu = await run('cpu', up);
      const wasm = await run('wasm', up);
      for (let i = 0; i < 2; i++) {
        expect(wasm[i].loss).toBeCloseTo(cpu[i].loss, 4);
        for (const [k, a] of Object.entries(cpu[i].grads)) {
          const b = wasm[i].grads[k];
          let scale = 1e-6;
          let diff = 0;
          for (let j = 0; j < a.length; j++) {
            scale = Math.max(scale, Math.abs(a[j]));
            diff = Math.max(diff, Math.abs(a[j] - b[j]));
          }
          expect(diff / scale, k).toBeLessThan(2e-3);
        }
      }
    });
  }
});
