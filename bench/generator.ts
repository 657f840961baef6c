// Benchmark: AR generator training tokens/s and sampling tokens/s with and without the KV cache
// (and with CFG, which doubles the rows), on the backend initBackend() picks (wasm here). When
// /usr/bin/python3 has torch, the same training step of the identical model in PyTorch
// (bench/reference/generator_torch.py) with 1 and 2 threads, and toklab/PyTorch time ratios.
import { pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { Generator, generatorConfig, trainingInput, type GeneratorPreset } from '../engine/models/transformer';
import { Optimizer, computeGrads } from '../engine/train/optim';
import { sampleRng, sampleTokens } from '../engine/sample';
import { referenceRows, torchAvailable } from './reference';
import type { Bench, BenchResult } from './types';

export interface GeneratorBenchOptions {
  preset?: GeneratorPreset;
  /** Tokens per image (STACK.md's measurement: 64). */
  seqLen?: number;
  vocabSize?: number;
  trainBatch?: number;
  trainSteps?: number;
  sampleBatch?: number;
  /** PyTorch reference of the training step when torch imports (default true). */
  reference?: boolean;
  /** The sampling rows (default true); false times training only. */
  sampling?: boolean;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function runGeneratorBench(opts: GeneratorBenchOptions = {}): Promise<BenchResult[]> {
  const info = await initBackend();
  const preset = opts.preset ?? 'gpt-mini';
  const L = opts.seqLen ?? 64;
  const K = opts.vocabSize ?? 512;
  const B = opts.trainBatch ?? 32;
  const steps = opts.trainSteps ?? 3;
  const SB = opts.sampleBatch ?? 4;
  const cfg = generatorConfig(preset, { vocabSize: K, seqLen: L, numClasses: 10, arch: 'raster' });
  const gen = new Generator(cfg, 0);
  const details = { preset, L, K, d: cfg.dModel, layers: cfg.nLayers, params: gen.paramCount() };
  const backend = info.backend;
  const results: BenchResult[] = [];
  try {
    // training: one warm-up step (kernel setup), then the median of `steps`
    const opt = new Optimizer(gen.weights, { kind: 'adamw', weightDecay: 0.05, clipNorm: 1 });
    const rng = new Rng(1);
    const tokens = Int32Array.from({ length: B * L }, () => rng.int(K));
    const labels = Int32Array.from({ length: B }, () => rng.int(10));
    const times: number[] = [];
    for (let s = 0; s <= steps; s++) {
      const t0 = performance.now();
      const { input, targets } = trainingInput(cfg, tokens, labels, rng, { classDropout: 0.1, permuteProb: 0 });
      const { value, grads } = computeGrads(gen.weights, () => gen.loss(input, targets));
      const norm = opt.apply(grads, 1e-4);
      value.dataSync();
      tf.dispose([value, norm, ...Object.values(grads)]);
      if (s > 0) times.push(performance.now() - t0);
    }
    opt.dispose();
    const stepMs = median(times);
    results.push({ name: 'generator train step', backend, value: stepMs, unit: 'ms', details: { ...details, batch: B, steps } });
    results.push({ name: 'generator train tokens/s', backend, value: (B * L) / (stepMs / 1000), unit: 'tokens/s', details: { ...details, batch: B } });

    // the identical model's step in PyTorch; the parameter counts must agree (same model)
    if (opts.reference !== false) {
      const torch = torchAvailable();
      if (!torch.ok) process.stderr.write(`generator bench: PyTorch reference skipped: ${torch.reason}\n`);
      else {
        results.push(...referenceRows(`generator train step ${preset}`, backend, { ms: stepMs, params: gen.paramCount() }, 'generator_torch.py', { ...cfg, batch: B, steps }, { ...details, batch: B, steps }));
      }
    }

    if (opts.sampling === false) return results;
    // sampling: B grids of L tokens, each variant once after a warm-up
    const sampleLabels = Int32Array.from({ length: SB }, (_, i) => i % 10);
    const rngs = () => Array.from({ length: SB }, (_, i) => sampleRng(0, i));
    await sampleTokens({ gen, labels: sampleLabels.slice(0, 1), rngs: [sampleRng(0, 0)] });
    const variants = [
      { name: 'kv cache', useCache: true, cfg: null },
      { name: 'kv cache + cfg', useCache: true, cfg: { scale: 2, schedule: 'constant' as const, power: 1 } },
      { name: 'recompute', useCache: false, cfg: null },
    ];
    const perVariant: Record<string, number> = {};
    for (const v of variants) {
      const t0 = performance.now();
      await sampleTokens({ gen, labels: sampleLabels, rngs: rngs(), cfg: v.cfg, useCache: v.useCache });
      const sec = (performance.now() - t0) / 1000;
      perVariant[v.name] = (SB * L) / sec;
      results.push({ name: `generator sampling tokens/s (${v.name})`, backend, value: perVariant[v.name], unit: 'tokens/s', details: { ...details, batch: SB, seconds: sec } });
    }
    results.push({
      name: 'generator sampling kv-cache speed-up',
      backend,
      value: perVariant['kv cache'] / perVariant['recompute'],
      unit: 'x',
      details: { ...details, batch: SB },
    });
  } finally {
    gen.dispose();
  }
  return results;
}

export const bench: Bench = () => runGeneratorBench();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const small = process.argv.includes('--small');
  const rows = await runGeneratorBench(small ? { preset: 'gpt-nano', seqLen: 16, vocabSize: 64, trainBatch: 8, sampleBatch: 4 } : {});
  for (const r of rows) process.stdout.write(`${r.name} [${r.backend}]: ${r.value.toFixed(r.unit === 'x' ? 2 : 1)} ${r.unit}\n`);
}
