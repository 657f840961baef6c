// Benchmark: VQ tokenizer training step time and images/s per preset (batch 32 of 32×32×3 by default),
// with and without latent perturbation, on the backend initBackend() picks (wasm here). When
// /usr/bin/python3 has torch, the same step of the identical model in PyTorch (bench/reference/) for a
// few presets at 32 and 16 px, with 1 and 2 threads, and toklab/PyTorch time ratios.
import { pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { createTokenizer, resolveTokenizerConfig, TOKENIZER_PRESETS, type TokenizerConfig } from '../engine/models/vq-tokenizer';
import { Optimizer, computeGrads } from '../engine/train/optim';
import type { LpKnobs } from '../engine/perturb';
import { referenceRows, torchAvailable } from './reference';
import type { Bench, BenchResult } from './types';

export interface TokenizerBenchOptions {
  presets?: string[];
  batch?: number;
  size?: number;
  steps?: number;
  lp?: boolean;
  /** PyTorch reference (when torch imports) of these presets at these image sizes; false: none. */
  reference?: false | { presets?: string[]; sizes?: number[] };
}

/** The reference's default subset: the f4 layout at both ends of K and the f2 layout the quick study uses. */
export const REFERENCE_PRESETS = ['vq-f4-k64', 'vq-f4-k1024', 'vq-f2-k1024'];
export const REFERENCE_SIZES = [32, 16];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const LP: LpKnobs = { alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

/** Median ms of `steps` AdamW training steps (after one warm-up step) and the parameter count. */
function toklabStep(cfg: TokenizerConfig, B: number, steps: number, withLp: boolean): { ms: number; params: number } {
  const S = cfg.imageSize;
  const tok = createTokenizer(cfg, 1);
  const opt = new Optimizer(tok.params, { kind: 'adamw', weightDecay: 1e-4, clipNorm: 1 });
  const x = tf.randomUniform([B, S, S, cfg.channels], -1, 1, 'float32', 1) as tf.Tensor4D;
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
    return { ms: median(times), params: tok.numParams() };
  } finally {
    x.dispose();
    opt.dispose();
    tok.dispose();
  }
}

export async function runTokenizerBench(opts: TokenizerBenchOptions = {}): Promise<BenchResult[]> {
  const info = await initBackend();
  const B = opts.batch ?? 32;
  const S = opts.size ?? 32;
  const steps = opts.steps ?? 4;
  const results: BenchResult[] = [];
  const measured = new Map<string, { ms: number; params: number }>(); // `${preset}@${size}` → no-LP step
  for (const preset of opts.presets ?? Object.keys(TOKENIZER_PRESETS)) {
    for (const withLp of opts.lp === false ? [false] : [false, true]) {
      const cfg = resolveTokenizerConfig(preset, S, 3);
      const { ms, params } = toklabStep(cfg, B, steps, withLp);
      if (!withLp) measured.set(`${preset}@${S}`, { ms, params });
      const details = { preset, batch: B, size: S, steps, lp: withLp, params, K: cfg.K, f: cfg.f };
      results.push({ name: `tokenizer train step ${preset}${withLp ? ' +LP' : ''}`, backend: info.backend, value: ms, unit: 'ms', details });
      results.push({ name: `tokenizer train images/s ${preset}${withLp ? ' +LP' : ''}`, backend: info.backend, value: (B * 1000) / ms, unit: 'img/s', details });
    }
  }

  if (opts.reference === false) return results;
  const torch = torchAvailable();
  if (!torch.ok) {
    process.stderr.write(`tokenizer bench: PyTorch reference skipped: ${torch.reason}\n`);
    return results;
  }
  const refPresets = opts.reference?.presets ?? REFERENCE_PRESETS;
  const refSizes = opts.reference?.sizes ?? REFERENCE_SIZES;
  for (const size of refSizes) {
    for (const preset of refPresets) {
      const cfg = resolveTokenizerConfig(preset, size, 3);
      const label = size === S ? preset : `${preset} ${size}px`;
      let own = measured.get(`${preset}@${size}`);
      if (!own) {
        // a size (or preset) the rows above did not measure: toklab's step first, without LP
        own = toklabStep(cfg, B, steps, false);
        const details = { preset, batch: B, size, steps, lp: false, params: own.params, K: cfg.K, f: cfg.f };
        results.push({ name: `tokenizer train step ${label}`, backend: info.backend, value: own.ms, unit: 'ms', details });
        results.push({ name: `tokenizer train images/s ${label}`, backend: info.backend, value: (B * 1000) / own.ms, unit: 'img/s', details });
      }
      results.push(...referenceRows(`tokenizer train step ${label}`, info.backend, own, 'tokenizer_torch.py', { ...cfg, batch: B, steps }, { preset, batch: B, size, steps }));
    }
  }
  return results;
}

export const bench: Bench = () => runTokenizerBench();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const small = process.argv.includes('--small');
  const rows = await runTokenizerBench(small ? { presets: ['vq-f4-k64'], batch: 8, steps: 2, reference: { presets: ['vq-f4-k64'], sizes: [32, 16] } } : {});
  for (const r of rows) process.stdout.write(`${r.name} [${r.backend}]: ${r.value.toFixed(r.unit === 'x' ? 2 : 1)} ${r.unit}\n`);
}
