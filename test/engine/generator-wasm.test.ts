// The generator on the wasm backend (with toklab's replacement kernels): loss, gradients and
// KV-cache sampling agree with the cpu backend.
import { describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { initBackend } from '../../engine/backend';
import { Rng } from '../../engine/rng';
import { Generator, trainingInput, type GeneratorConfig } from '../../engine/models/transformer';
import { sampleRng, sampleTokens } from '../../engine/sample';

const cfg: GeneratorConfig = { arch: 'rar', vocabSize: 32, seqLen: 16, numClasses: 4, dModel: 32, nLayers: 2, nHeads: 4, mlpRatio: 2, norm: 'layer' };

async function run(backend: 'cpu' | 'wasm') {
  await initBackend({ prefer: backend });
  expect(tf.getBackend()).toBe(backend);
  const gen = new Generator(cfg, 21);
  tf.tidy(() => gen.weights['head.w'].assign(tf.mul(gen.weights['head.w'], 30)));
  const rng = new Rng(3);
  const tokens = Int32Array.from({ length: 4 * 16 }, () => rng.int(32));
  const labels = Int32Array.from([0, 1, 2, 3]);
  const { input, targets } = trainingInput(cfg, tokens, labels, new Rng(4), { classDropout: 0.25, permuteProb: 1 });
  const vars = Object.values(gen.weights);
  const { value, grads } = tf.variableGrads(() => gen.loss(input, targets), vars);
  const loss = value.dataSync()[0];
  const g = vars.map((v) => grads[v.name].dataSync() as Float32Array);
  tf.dispose([value, ...Object.values(grads)]);
  const sampled = await sampleTokens({ gen, labels, rngs: Array.from(labels, (_, i) => sampleRng(5, i)), cfg: { scale: 2, schedule: 'cosine-power', power: 1 }, temperature: 0 });
  gen.dispose();
  return { loss, g, sampled };
}

describe('generator on wasm', () => {
  it('matches the cpu backend: loss, every gradient, greedy CFG samples', async () => {
    const cpu = await run('cpu');
    const wasm = await run('wasm');
    expect(wasm.loss).toBeCloseTo(cpu.loss, 4);
    for (let i = 0; i < cpu.g.length; i++) {
      let scale = 1e-6;
      let err = 0;
      for (let j = 0; j < cpu.g[i].length; j++) {
        scale = Math.max(scale, Math.abs(cpu.g[i][j]));
        err = Math.max(err, Math.abs(cpu.g[i][j] - wasm.g[i][j]));
      }
      expect(err / scale).toBeLessThan(1e-3);
    }
    expect(Array.from(wasm.sampled)).toEqual(Array.from(cpu.sampled));
    await initBackend({ prefer: 'cpu' });
  });
});
