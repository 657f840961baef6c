// Benchmark: VQ tokenizer training step time and images/s per preset (batch 32 of 32×32×3 by default),
// with and without latent perturbation, on the backend initBackend() picks (wasm here).
import { pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { createTokenizer, resolveTokenizerConfig, TOKENIZER_PRESETS } from '../engine/models/vq-tokenizer';
import { Optimizer, computeGrads } from '../engine/train/optim';
import type { LpKnobs } from '../engine/perturb';
import type { Bench, BenchResult } from './types';

export interface TokenizerBenchOptions {
  presets?: string[];
  batch?: number;
  size?: number;
  steps?: number;
  lp?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const LP: LpKnobs = { alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

export async function runTokenizerBench(opts: TokenizerBenchOptions = {}): Promise<BenchResult[]> {
  const info = await initBackend();
  const B = opts.batch ?? 32;
  const S = opts.size ?? 32;
  const steps = opts.steps ?? 4;
  const results: BenchResult[] = [];
  for (const preset of opts.presets ?? Object.keys(TOKENIZER_PRESETS)) {
    for (const withLp of opts.lp === false ? [false] : [false, true]) {
      const cfg = resolveTokenizerConfig(preset, S, 3);
      const tok = createTokenizer(cfg, 1);
      const opt = new Optimizer(tok.params, { kind: 'adamw', weightDecay: 1e-4, clipNorm: 1 });
      const x = tf.randomUniform([B, S, S, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
      const knobs = withLp ? { ...LP, delta: Math.max(2, Math.round(LP.delta * cfg.K)), deltaMode: 'abs' as const } : null;
      const times: number[] = [];
      try {
        for (let s = 0; s < steps + 1; s++) {
          const t0 = performance.now();
          const { value, grads } = computeGrads(tok.params, () => tok.losses(x, knobs ? { knobs, rng: new Rng(s) } : undefined).loss);
          opt.apply(grads, 1e-3).dispose();
          value.dataSync();
          tf.dispose([value, ...Object.values(grads)]);
          if (s > 0) times.push(performance.now() - t0); // first step warms kernels up
        }
      } finally {
        x.dispose();
        opt.dispose();
        tok.dispose();
      }
      const ms = median(times);
      const details = { preset, batch: B, size: S, steps, lp: withLp, params: tok.numParams(), K: cfg.K, f: cfg.f };
      results.push({ name: `tokenizer train step ${preset}${withLp ? ' +LP' : ''}`, backend: info.backend, value: ms, unit: 'ms', details });
      results.push({ name: `tokenizer train images/s ${preset}${withLp ? ' +LP' : ''}`, backend: info.backend, value: (B * 1000) / ms, unit: 'img/s', details });
    }
  }
  return results;
}

export const bench: Bench = () => runTokenizerBench();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const small = process.argv.includes('--small');
  const rows = await runTokenizerBench(small ? { presets: ['vq-f4-k64'], batch: 8, steps: 2 } : {});
  for (const r of rows) process.stdout.write(`${r.name} [${r.backend}]: ${r.value.toFixed(1)} ${r.unit}\n`);
}
