// Benchmark: evaluation throughput (engine/eval/pool.ts). The same tokenizer evaluation (rFID and a
// 2 × 2 pFID grid through the lab feature network) and the same gFID sampling (KV cache, with and
// without CFG, gpt-nano and gpt-mini) run three ways: on the engine's thread with one wasm thread, on the engine's thread
// with the wasm build's own thread pool over every core (a child process: the pool is fixed at
// start), and on every core as evaluation workers with one wasm thread each. The models are trained
// for seconds: throughput does not depend on their quality.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { EvalPool } from '../engine/eval/pool';
import { buildDataset } from '../engine/data/build';
import { trainFeatureNet } from '../engine/jobs/train-feature-net';
import { trainTokenizer } from '../engine/jobs/train-tokenizer';
import { trainGenerator } from '../engine/jobs/train-generator';
import { extractTokens } from '../engine/jobs/extract-tokens';
import { evalTokenizer } from '../engine/jobs/eval-tokenizer';
import { evalGenerator } from '../engine/jobs/eval-generator';
import { quietContext } from './context';
import type { JsonObject } from '../engine/protocol';
import type { Bench, BenchResult } from './types';

const VAL = 1024;
const SAMPLES_PER_CLASS = 32;

/** A shapes dataset with a lab feature network, a tokenizer and a generator on it. */
export async function makeHome(home: string, size: 16 | 32): Promise<void> {
  const ds = `datasets/shapes${size}`;
  await buildDataset({ source: 'shapes', name: `shapes${size}`, resolution: size, channels: 3, trainCount: 2000, valCount: VAL, valShare: 0.1, seed: 0, outDir: path.join(home, ds) }, { signal: new AbortController().signal });
  await trainFeatureNet({ datasetPath: ds, minSteps: 0, maxSteps: 20, evalEvery: 20, batchSize: 32, seed: 0, selfTest: false }, quietContext(home, `featnet${size}`));
  await trainTokenizer({ datasetPath: ds, preset: 'vq-f4-k256', epochs: 1, trainLimit: 64, batchSize: 32, seed: 0, checkpointEvery: 0 }, quietContext(home, `tok${size}`));
  await extractTokens({ tokenizerRunDir: `runs/tok${size}`, trainLimit: 256, valLimit: 64 }, quietContext(home, `tokens${size}`));
  for (const preset of GENERATORS) await trainGenerator({ tokenizerRunDir: `runs/tok${size}`, preset, epochs: 1, batchSize: 32, seed: 0, valLimit: 32, workers: 1 }, quietContext(home, `${preset}-${size}`));
}

function tokenizerSpec(size: number, workers: number): JsonObject {
  return { tokenizerRunDir: `runs/tok${size}`, alphas: [0.5, 1], deltas: [8, 32], deltaMode: 'abs', n: VAL, seed: 1, minExtractorAccuracy: 0, workers };
}

/** gpt-nano (d 128) samples below the auto threshold, gpt-mini (d 256) at it. */
const GENERATORS = ['gpt-nano', 'gpt-mini'] as const;

function generatorSpec(preset: string, size: number, workers: number): JsonObject {
  return { generatorRunDir: `runs/${preset}-${size}`, cfgScales: [0, 2], nPerClass: SAMPLES_PER_CLASS, seed: 1, batchSize: 32, minExtractorAccuracy: 0, workers };
}

/** Seconds of one job in this process. */
async function timeJob(home: string, kind: 'tokenizer' | 'generator', spec: JsonObject, run: string): Promise<{ s: number; result: JsonObject }> {
  const t0 = performance.now();
  const result = kind === 'tokenizer' ? await evalTokenizer(spec, quietContext(home, run)) : await evalGenerator(spec, quietContext(home, run));
  return { s: (performance.now() - t0) / 1000, result };
}

/** Seconds to start `n` evaluation workers holding the tokenizer and the lab network (inside every workers row). */
async function workerStart(home: string, size: number, n: number): Promise<number> {
  const t0 = performance.now();
  const pool = await EvalPool.start(n, { job: 'tokenizer', tokenizerRunDir: path.join(home, `runs/tok${size}`), ema: true, extractor: { kind: 'lab', datasetDir: path.join(home, `datasets/shapes${size}`) }, cells: [], seed: 1, needReal: false }, tf.getBackend());
  const s = (performance.now() - t0) / 1000;
  await pool.close();
  return s;
}

const self = fileURLToPath(import.meta.url);

/** The same job on one engine with `threads` wasm threads, in a child process. */
function timeInChild(home: string, kind: 'tokenizer' | 'generator', spec: JsonObject, threads: number): number {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', home, kind, JSON.stringify(spec)], { env: { ...process.env, TOKLAB_THREADS: String(threads) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`eval bench child exited ${r.status}`);
  return Number(r.stdout.trim().split('\n').pop());
}

export const bench: Bench = async () => {
  const cores = availableParallelism();
  if (cores < 2) {
    process.stderr.write('eval bench: skipped, this machine has 1 core\n');
    return [];
  }
  const info = await initBackend({ prefer: 'wasm' });
  const home = fs.mkdtempSync(path.join(tmpdir(), 'toklab-bench-eval-'));
  const rows: BenchResult[] = [];
  try {
    for (const size of [16, 32] as const) {
      await makeHome(home, size);
      // tokenizer evaluation: each image goes through clean + 4 perturbed reconstructions, 5 embeddings
      const tOne = await timeJob(home, 'tokenizer', tokenizerSpec(size, 1), `e1-${size}`);
      const tThreads = timeInChild(home, 'tokenizer', tokenizerSpec(size, 1), cores);
      const tMany = await timeJob(home, 'tokenizer', tokenizerSpec(size, cores), `e${cores}-${size}`);
      const same = tMany.result.rfid === tOne.result.rfid && JSON.stringify(tMany.result.pfid) === JSON.stringify(tOne.result.pfid);
      const td = { preset: 'vq-f4-k256', size, images: VAL, grid: '2×2', reconstructions: 5, sameScores: same, workerStartS: +(await workerStart(home, size, cores)).toFixed(2) };
      const name = `eval tokenizer vq-f4-k256 ${size}px`;
      rows.push({ name: `${name} images/s, 1 thread`, backend: info.backend, value: VAL / tOne.s, unit: 'img/s', details: { ...td, seconds: +tOne.s.toFixed(2) } });
      rows.push({ name: `${name} images/s, 1 engine × ${cores} wasm threads`, backend: info.backend, value: VAL / tThreads, unit: 'img/s', details: { ...td, seconds: +tThreads.toFixed(2) } });
      rows.push({ name: `${name} images/s, ${cores} workers`, backend: info.backend, value: VAL / tMany.s, unit: 'img/s', details: { ...td, seconds: +tMany.s.toFixed(2) } });
      rows.push({ name: `${name}: ${cores} workers / 1 thread`, backend: info.backend, value: tOne.s / tMany.s, unit: 'x', details: { ...td, versusWasmThreads: +(tThreads / tMany.s).toFixed(2) } });
      // gFID sampling: 4 classes × 32 samples at cfg 0 and 2 (CFG doubles the rows), decoded and embedded
      if (size !== 16) continue;
      for (const preset of GENERATORS) {
        const n = 2 * 4 * SAMPLES_PER_CLASS;
        const gOne = await timeJob(home, 'generator', generatorSpec(preset, size, 1), `g1-${preset}-${size}`);
        const gThreads = timeInChild(home, 'generator', generatorSpec(preset, size, 1), cores);
        const gMany = await timeJob(home, 'generator', generatorSpec(preset, size, cores), `g${cores}-${preset}-${size}`);
        const gd = { preset, size, samples: n, cfg: '0, 2', batch: 32, sameScores: JSON.stringify(gMany.result.fid) === JSON.stringify(gOne.result.fid) };
        const gname = `gFID sampling ${preset} ${size}px`;
        rows.push({ name: `${gname} samples/s, 1 thread`, backend: info.backend, value: n / gOne.s, unit: 'samples/s', details: { ...gd, seconds: +gOne.s.toFixed(2) } });
        rows.push({ name: `${gname} samples/s, 1 engine × ${cores} wasm threads`, backend: info.backend, value: n / gThreads, unit: 'samples/s', details: { ...gd, seconds: +gThreads.toFixed(2) } });
        rows.push({ name: `${gname} samples/s, ${cores} workers`, backend: info.backend, value: n / gMany.s, unit: 'samples/s', details: { ...gd, seconds: +gMany.s.toFixed(2) } });
        rows.push({ name: `${gname}: ${cores} workers / 1 thread`, backend: info.backend, value: gOne.s / gMany.s, unit: 'x', details: { ...gd, versusWasmThreads: +(gThreads / gMany.s).toFixed(2) } });
      }
    }
    return rows;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
};

if (process.argv[2] === '--child') {
  const [home, kind, spec] = process.argv.slice(3);
  await initBackend({ prefer: 'wasm' });
  const { s } = await timeJob(home, kind as 'tokenizer' | 'generator', JSON.parse(spec) as JsonObject, `child-${kind}-${process.pid}`);
  process.stdout.write(`${s}\n`);
  // the threaded wasm build's pthread workers keep the event loop alive
  process.exit(0);
}
