// Benchmark: data-parallel tokenizer training (engine/train/replicas.ts). The same global batch of 32
// trained on 1 worker (the engine's thread, 1 wasm thread) and on every core as worker threads, one
// wasm thread each, through the trainer's own step (plan, publish, shards, weighted mean, AdamW).
// The same for a gpt-mini generator step. bench/threads.ts measures the other way to use the cores
// (the wasm build's own thread pool).
// The ceiling row runs the 1-worker step on half the batch in `cores` separate processes at once:
// what the machine gives to independent engines, with no data-parallel overhead at all.
import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { createTokenizer, resolveTokenizerConfig } from '../engine/models/vq-tokenizer';
import { Optimizer, computeGrads } from '../engine/train/optim';
import { Replicas } from '../engine/train/replicas';
import { dataParallelStep } from '../engine/train/tokenizer-trainer';
import { generatorGradsOnReplicas } from '../engine/train/generator-trainer';
import { Generator, generatorConfig, trainingInput } from '../engine/models/transformer';
import type { Batch } from '../engine/data/types';
import type { LpKnobs } from '../engine/perturb';
import type { Bench, BenchResult } from './types';

const LP: LpKnobs = { alpha: 1, beta: 0.1, delta: 0.024, deltaMode: 'share', includeSelf: true, selection: 'bernoulli', anchor: 'z' };

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function measure(preset: string, size: number, workers: number, steps: number, B = 32): Promise<{ ms: number; device: string }> {
  const cfg = resolveTokenizerConfig(preset, size, 3);
  const tok = createTokenizer(cfg, 1);
  const opt = new Optimizer(tok.params, { kind: 'adamw', weightDecay: 1e-4, clipNorm: 1 });
  const rng = new Rng(3);
  const batch: Batch = { n: B, x: Float32Array.from({ length: B * size * size * 3 }, () => rng.uniform() * 2 - 1), y: new Int32Array(B) } as Batch;
  const knobs = { ...LP, delta: Math.max(2, Math.round(LP.delta * cfg.K)), deltaMode: 'abs' as const };
  const dp = workers > 1 ? await Replicas.start(workers, { kind: 'tokenizer', config: cfg }, 1, tok.params, tf.getBackend()) : null;
  const times: number[] = [];
  try {
    for (let s = 0; s < steps + 1; s++) {
      const t0 = performance.now();
      if (dp) {
        const r = await dataParallelStep(dp, tok, batch, knobs, s, false);
        opt.apply(r.grads, 1e-3).dispose();
        tf.dispose(Object.values(r.grads));
      } else {
        const x = tf.tensor4d(batch.x, [B, size, size, 3]);
        const { value, grads } = computeGrads(tok.params, () => tok.losses(x, { knobs, rng: new Rng(s) }).loss);
        opt.apply(grads, 1e-3).dispose();
        value.dataSync();
        tf.dispose([x, value, ...Object.values(grads)]);
      }
      if (s > 0) times.push(performance.now() - t0); // the first step warms kernels up
    }
    return { ms: median(times), device: dp ? `${workers} × ${dp.device}` : 'engine thread' };
  } finally {
    await dp?.close();
    opt.dispose();
    tok.dispose();
  }
}

/** gpt-mini (d 256, 4 layers, L 64, K 512) training steps of batch B on 1 worker or on `workers`. */
async function measureGpt(workers: number, steps: number, B = 32): Promise<number> {
  const cfg = generatorConfig('gpt-mini', { vocabSize: 512, seqLen: 64, numClasses: 10, arch: 'raster' });
  const gen = new Generator(cfg, 0);
  const opt = new Optimizer(gen.weights, { kind: 'adamw', weightDecay: 0.05, clipNorm: 1 });
  const rng = new Rng(1);
  const tokens = Int32Array.from({ length: B * 64 }, () => rng.int(512));
  const labels = Int32Array.from({ length: B }, () => rng.int(10));
  const dp = workers > 1 ? await Replicas.start(workers, { kind: 'generator', config: cfg }, 0, gen.weights, tf.getBackend()) : null;
  const times: number[] = [];
  try {
    for (let s = 0; s <= steps; s++) {
      const t0 = performance.now();
      const { input, targets } = trainingInput(cfg, tokens, labels, rng, { classDropout: 0.1, permuteProb: 0 });
      if (dp) {
        const { grads } = await generatorGradsOnReplicas(dp, gen.weights, input, targets);
        opt.apply(grads, 1e-4).dispose();
        tf.dispose(Object.values(grads));
      } else {
        const { value, grads } = computeGrads(gen.weights, () => gen.loss(input, targets));
        opt.apply(grads, 1e-4).dispose();
        value.dataSync();
        tf.dispose([value, ...Object.values(grads)]);
      }
      if (s > 0) times.push(performance.now() - t0);
    }
    return median(times);
  } finally {
    await dp?.close();
    opt.dispose();
    gen.dispose();
  }
}

const self = fileURLToPath(import.meta.url);

/** `cores` processes each time the 1-worker step on B/cores images, all at once; the slowest median. */
async function concurrentEngines(preset: string, size: number, cores: number, B: number): Promise<number> {
  const runs = Array.from({ length: cores }, () =>
    new Promise<number>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', self, '--solo', preset, String(size), String(Math.ceil(B / cores))], { env: { ...process.env, TOKLAB_THREADS: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(Number(out.trim().split('\n').pop())) : reject(new Error(`solo engine exited ${code}`))));
    }),
  );
  return Math.max(...(await Promise.all(runs)));
}

export const bench: Bench = async () => {
  const cores = availableParallelism();
  if (cores < 2) {
    process.stderr.write('workers bench: skipped, this machine has 1 core\n');
    return [];
  }
  const info = await initBackend({ prefer: 'wasm' });
  const rows: BenchResult[] = [];
  for (const [preset, size] of [['vq-f4-k64', 32], ['vq-f4-k1024', 32], ['vq-f2-k1024', 16], ['vq-f4-k64', 16]] as const) {
    const one = await measure(preset, size, 1, 8);
    const many = await measure(preset, size, cores, 8);
    const details = { preset, size, batch: 32, lp: true, engineThreads: info.threads ?? 1 };
    rows.push({ name: `tokenizer step ${preset} ${size}px +LP, 1 worker`, backend: info.backend, value: one.ms, unit: 'ms', details: { ...details, device: one.device } });
    rows.push({ name: `tokenizer step ${preset} ${size}px +LP, ${cores} workers`, backend: info.backend, value: many.ms, unit: 'ms', details: { ...details, device: many.device } });
    rows.push({ name: `tokenizer ${preset} ${size}px: throughput of ${cores} workers / 1`, backend: info.backend, value: one.ms / many.ms, unit: 'x', details: { ...details, target: 1.7 } });
    const apart = await concurrentEngines(preset, size, cores, 32);
    rows.push({ name: `tokenizer ${preset} ${size}px: ceiling, ${cores} separate engines on ${Math.ceil(32 / cores)} images each at once`, backend: info.backend, value: one.ms / apart, unit: 'x', details: { ...details, concurrentMs: apart } });
  }
  const gptOne = await measureGpt(1, 3);
  const gptMany = await measureGpt(cores, 3);
  const gd = { preset: 'gpt-mini', batch: 32, L: 64, K: 512, engineThreads: info.threads ?? 1 };
  rows.push({ name: 'generator step gpt-mini, 1 worker', backend: info.backend, value: gptOne, unit: 'ms', details: gd });
  rows.push({ name: `generator step gpt-mini, ${cores} workers`, backend: info.backend, value: gptMany, unit: 'ms', details: gd });
  rows.push({ name: `generator gpt-mini: throughput of ${cores} workers / 1`, backend: info.backend, value: gptOne / gptMany, unit: 'x', details: { ...gd, target: 1.7 } });
  return rows;
};

if (process.argv.includes('--solo')) {
  const [preset, size, n] = process.argv.slice(process.argv.indexOf('--solo') + 1);
  await initBackend({ prefer: 'wasm' });
  const r = await measure(preset, Number(size), 1, 6, Number(n));
  process.stdout.write(`${r.ms}\n`, () => process.exit(0));
} else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await bench()) process.stdout.write(`${r.name}: ${r.value.toFixed(r.unit === 'x' ? 2 : 1)} ${r.unit}\n`);
  process.exit(0);
}
