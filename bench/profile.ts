// Profile: where one training step's time goes on the active backend (wasm here). For a tokenizer step
// at 16 and 32 px and a GPT step it records the kernels per step, the summed kernel time, the wall time
// (the difference is per-op overhead: dispatch, tape, allocation), and the heaviest kernels.
// `npx tsx bench/profile.ts` prints the tables; `npm run bench` stores the rows.
import { pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { Rng } from '../engine/rng';
import { createTokenizer, resolveTokenizerConfig } from '../engine/models/vq-tokenizer';
import { Generator, generatorConfig, trainingInput, type GeneratorPreset } from '../engine/models/transformer';
import { Optimizer, computeGrads } from '../engine/train/optim';
import type { Bench, BenchResult } from './types';

interface Profiled {
  model: string;
  wallMs: number;
  kernels: number;
  kernelMs: number;
  top: { name: string; ms: number; calls: number }[];
}

async function profileStep(model: string, step: () => void, warm = 2, timed = 4): Promise<Profiled> {
  for (let i = 0; i < warm; i++) step();
  const t0 = performance.now();
  for (let i = 0; i < timed; i++) step();
  const wallMs = (performance.now() - t0) / timed;
  const prof = await tf.profile(() => {
    step();
  });
  const agg = new Map<string, { ms: number; calls: number }>();
  for (const k of prof.kernels) {
    const a = agg.get(k.name) ?? { ms: 0, calls: 0 };
    a.ms += typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : 0;
    a.calls += 1;
    agg.set(k.name, a);
  }
  const top = [...agg.entries()].map(([name, a]) => ({ name, ...a })).sort((a, b) => b.ms - a.ms);
  return { model, wallMs, kernels: prof.kernels.length, kernelMs: top.reduce((s, k) => s + k.ms, 0), top: top.slice(0, 8) };
}

function tokenizerStep(preset: string, size: number, B = 32): { step: () => void; dispose: () => void } {
  const tok = createTokenizer(resolveTokenizerConfig(preset, size, 3), 1);
  const opt = new Optimizer(tok.params, { kind: 'adamw', weightDecay: 1e-4, clipNorm: 1 });
  const x = tf.randomUniform([B, size, size, 3], -1, 1, 'float32', 1) as tf.Tensor4D;
  return {
    step: () => {
      const { value, grads } = computeGrads(tok.params, () => tok.losses(x).loss);
      opt.apply(grads, 1e-3).dispose();
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose: () => {
      x.dispose();
      opt.dispose();
      tok.dispose();
    },
  };
}

function generatorStep(preset: GeneratorPreset, K: number, L = 64, B = 32): { step: () => void; dispose: () => void } {
  const cfg = generatorConfig(preset, { vocabSize: K, seqLen: L, numClasses: 10, arch: 'raster' });
  const gen = new Generator(cfg, 0);
  const opt = new Optimizer(gen.weights, { kind: 'adamw', weightDecay: 0.05, clipNorm: 1 });
  const rng = new Rng(1);
  const tokens = Int32Array.from({ length: B * L }, () => rng.int(K));
  const labels = Int32Array.from({ length: B }, () => rng.int(10));
  return {
    step: () => {
      const { input, targets } = trainingInput(cfg, tokens, labels, rng, { classDropout: 0.1, permuteProb: 0 });
      const { value, grads } = computeGrads(gen.weights, () => gen.loss(input, targets));
      opt.apply(grads, 1e-4).dispose();
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    },
    dispose: () => {
      opt.dispose();
      tf.dispose(Object.values(gen.weights));
    },
  };
}

export async function runProfiles(): Promise<Profiled[]> {
  await initBackend();
  const cases: [string, () => { step: () => void; dispose: () => void }][] = [
    ['tokenizer vq-f2-k1024 16 px', () => tokenizerStep('vq-f2-k1024', 16)],
    ['tokenizer vq-f4-k1024 32 px', () => tokenizerStep('vq-f4-k1024', 32)],
    ['generator gpt-nano K 1024', () => generatorStep('gpt-nano', 1024)],
    ['generator gpt-mini K 512', () => generatorStep('gpt-mini', 512)],
  ];
  const out: Profiled[] = [];
  for (const [name, make] of cases) {
    const m = make();
    try {
      out.push(await profileStep(name, m.step));
    } finally {
      m.dispose();
    }
  }
  return out;
}

export const bench: Bench = async () => {
  const rows: BenchResult[] = [];
  const backend = tf.getBackend();
  for (const p of await runProfiles()) {
    const overhead = p.wallMs - p.kernelMs;
    rows.push({ name: `profile ${p.model}: wall`, backend, value: p.wallMs, unit: 'ms/step', details: { kernels: p.kernels, kernelMs: Number(p.kernelMs.toFixed(1)), overheadMs: Number(overhead.toFixed(1)) } });
    for (const k of p.top) rows.push({ name: `profile ${p.model}: ${k.name}`, backend, value: k.ms, unit: 'ms/step', details: { calls: k.calls, share: Number((k.ms / p.wallMs).toFixed(3)) } });
  }
  return rows;
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const p of await runProfiles()) {
    process.stdout.write(`\n${p.model}: ${p.wallMs.toFixed(1)} ms/step wall, ${p.kernels} kernels, ${p.kernelMs.toFixed(1)} ms in kernels, ${(p.wallMs - p.kernelMs).toFixed(1)} ms overhead\n`);
    for (const k of p.top) process.stdout.write(`  ${k.name.padEnd(26)} ${k.ms.toFixed(1).padStart(7)} ms  ${String(k.calls).padStart(4)} calls\n`);
  }
}
