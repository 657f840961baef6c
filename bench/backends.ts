// Benchmark: training-step time of a small conv autoencoder (two stride-2 convs down, nearest
// upsample + conv up, Adam, MSE; batch 32 of 32×32×3) on every backend that loads here.
import { pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import type { BackendName } from '../engine/protocol';
import { Rng } from '../engine/rng';
import { tf } from '../engine/tf';
import type { Tensor4D, Variable } from '../engine/tf';
import type { Bench, BenchResult } from './types';

export interface BackendBenchOptions {
  batch?: number;
  /** Channels of the two encoder convs (the decoder mirrors them). */
  widths?: [number, number];
  steps?: number;
  /** cpu is ~400× slower than wasm here (a 32-batch step took 5.6 min): a tiny batch, no warm-up. */
  cpuBatch?: number;
  cpuSteps?: number;
  backends?: BackendName[];
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

function heNormal(rng: Rng, shape: [number, number, number, number]): Variable {
  const [kh, kw, cin] = shape;
  const std = Math.sqrt(2 / (kh * kw * cin));
  const n = shape.reduce((a, b) => a * b, 1);
  const v = Float32Array.from({ length: n }, () => rng.normal() * std);
  return tf.variable(tf.tensor4d(v, shape));
}

/** conv(s2) → conv(s2) → [up×2 → conv] ×2 ; [B,32,32,3] → [B,8,8,c2] → [B,32,32,3] */
function makeModel(rng: Rng, c1: number, c2: number) {
  const shapes: [number, number, number, number][] = [
    [3, 3, 3, c1],
    [3, 3, c1, c2],
    [3, 3, c2, c1],
    [3, 3, c1, 3],
  ];
  const ws = shapes.map((s) => heNormal(rng, s));
  const bs = shapes.map((s) => tf.variable(tf.zeros([s[3]])));
  const conv = (x: Tensor4D, i: number, stride: number, act: boolean): Tensor4D =>
    tf.fused.conv2d({ x, filter: ws[i] as Tensor4D, bias: bs[i], strides: stride, pad: 'same', activation: act ? 'relu' : 'linear' });
  const up = (x: Tensor4D): Tensor4D => tf.image.resizeNearestNeighbor(x, [x.shape[1] * 2, x.shape[2] * 2]);
  const forward = (x: Tensor4D): Tensor4D => {
    const h = conv(conv(x, 0, 2, true), 1, 2, true); // [B,32,32,3] → [B,16,16,c1] → [B,8,8,c2]
    return conv(up(conv(up(h), 2, 1, true)), 3, 1, false); // → [B,16,16,c1] → [B,32,32,3]
  };
  const vars = [...ws, ...bs];
  const params = vars.reduce((a, v) => a + v.size, 0);
  return { forward, vars, params };
}

async function timeBackend(name: BackendName, o: Required<BackendBenchOptions>): Promise<BenchResult> {
  const info = await initBackend({ prefer: name });
  const steps = name === 'cpu' ? o.cpuSteps : o.steps;
  const batch = name === 'cpu' ? o.cpuBatch : o.batch;
  // cpu has no lazy compilation to warm up and each of its steps takes tens of seconds.
  const warmup = name === 'cpu' ? 0 : 2;
  const rng = new Rng(1234);
  const [c1, c2] = o.widths;
  const model = makeModel(rng, c1, c2);
  const n = batch * 32 * 32 * 3;
  const x = tf.tensor4d(Float32Array.from({ length: n }, () => rng.uniform() * 2 - 1), [batch, 32, 32, 3]);
  const opt = tf.train.adam(1e-3);
  const times: number[] = [];
  let loss = NaN;
  try {
    for (let i = 0; i < warmup + steps; i++) {
      const t0 = performance.now();
      const cost = tf.tidy(() => {
        const c = opt.minimize(() => tf.losses.meanSquaredError(x, model.forward(x)) as tf.Scalar, true, model.vars);
        if (c == null) throw new Error('minimize returned no cost');
        return c;
      });
      loss = cost.dataSync()[0];
      cost.dispose();
      if (i >= warmup) times.push(performance.now() - t0);
    }
  } finally {
    opt.dispose();
    tf.dispose([x, ...model.vars]);
  }
  return {
    name: 'conv autoencoder train step',
    backend: name,
    value: median(times),
    unit: 'ms/step',
    details: {
      params: model.params,
      batch,
      msPerImage: median(times) / batch,
      image: '32x32x3',
      widths: `${c1},${c2}`,
      steps,
      warmup,
      minMs: Math.min(...times),
      maxMs: Math.max(...times),
      finalLoss: loss,
      device: info.device,
      patchedKernels: info.patchedKernels.length,
    },
  };
}

export async function runBackendBench(opts: BackendBenchOptions = {}): Promise<BenchResult[]> {
  const o: Required<BackendBenchOptions> = {
    batch: opts.batch ?? 32,
    widths: opts.widths ?? [64, 128],
    steps: opts.steps ?? 10,
    cpuBatch: opts.cpuBatch ?? 2,
    cpuSteps: opts.cpuSteps ?? 1,
    backends: opts.backends ?? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'],
  };
  const results: BenchResult[] = [];
  const unavailable: string[] = [];
  for (const name of o.backends) {
    try {
      results.push(await timeBackend(name, o));
    } catch (e) {
      // Only libtensorflow backends may be missing here; wasm/cpu failing is a real error.
      if (name === 'wasm' || name === 'cpu') throw e;
      const msg = e instanceof Error ? e.message : String(e);
      unavailable.push(`${name}: ${msg.replace(/^.*is unavailable: /, '').split('. Fix:')[0]}`);
    }
  }
  if (unavailable.length > 0) for (const r of results) r.details = { ...r.details, unavailable: unavailable.join('; ') };
  const wasm = results.find((r) => r.backend === 'wasm');
  const cpu = results.find((r) => r.backend === 'cpu');
  if (wasm && cpu) {
    const ratio = Number(cpu.details?.msPerImage) / Number(wasm.details?.msPerImage);
    results.push({ name: 'conv autoencoder time per image, cpu / wasm', backend: 'wasm', value: ratio, unit: 'x', details: { batch: o.batch, cpuBatch: o.cpuBatch } });
  }
  return results;
}

export const bench: Bench = () => runBackendBench();

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const small = process.argv.includes('--small');
  const rows = await runBackendBench(small ? { batch: 8, widths: [16, 32], steps: 3, cpuBatch: 1 } : {});
  for (const r of rows) process.stdout.write(`${r.name} [${r.backend}]: ${r.value.toFixed(1)} ${r.unit} ${JSON.stringify(r.details)}\n`);
}
