// Benchmark: memory over 1,000 training steps. The real training jobs (a 16 px vq-f2-k1024 tokenizer
// with latent perturbation, as in the quick study, and a gpt-nano generator on a tokenizer's tokens) run
// 1,000 steps on the engine's thread; after every step the bench reads tfjs' live tensor count and the
// process RSS. Flat means: the tensor count at step 1,000 equals the one at step 100, and RSS grows by
// no more than allocator noise once the first steps have sized the wasm heap.
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { initBackend } from '../engine/backend';
import { tf } from '../engine/tf';
import { buildDataset } from '../engine/data/build';
import { trainTokenizer } from '../engine/jobs/train-tokenizer';
import { trainGenerator } from '../engine/jobs/train-generator';
import { extractTokens } from '../engine/jobs/extract-tokens';
import { quietContext } from './context';
import type { Bench, BenchResult } from './types';

const STEPS = 1000;
/** Steps after which the heap is sized (first batches, first checkpoint write, Adam's moments). */
const SETTLED = 100;
const MB = 1024 * 1024;

interface Trace {
  tensors: number[];
  rss: number[];
}

/** Records the live tensor count and RSS after every step (the jobs report progress once a step). */
function tracing(trace: Trace): (done: number) => void {
  return (done) => {
    trace.tensors[done] = tf.memory().numTensors;
    trace.rss[done] = process.memoryUsage.rss();
  };
}

function rowsFor(name: string, backend: string, trace: Trace, seconds: number, details: Record<string, string | number | boolean>): BenchResult[] {
  const steps = trace.tensors.length - 1;
  if (steps !== STEPS) throw new Error(`${name}: expected ${STEPS} steps, the job reported ${steps}`);
  const settledRss = trace.rss[SETTLED] / MB;
  const finalRss = trace.rss[steps] / MB;
  const peakRss = Math.max(...trace.rss.slice(1)) / MB;
  const tensorGrowth = trace.tensors[steps] - trace.tensors[SETTLED];
  const d = { ...details, steps, seconds: +seconds.toFixed(1), settledAt: SETTLED };
  return [
    { name: `${name}: live tensors after ${steps} steps`, backend, value: trace.tensors[steps], unit: 'tensors', details: { ...d, [`atStep${SETTLED}`]: trace.tensors[SETTLED], atStep1: trace.tensors[1], growth: tensorGrowth, flat: tensorGrowth === 0 } },
    { name: `${name}: RSS after ${steps} steps`, backend, value: finalRss, unit: 'MiB', details: { ...d, [`atStep${SETTLED}MiB`]: +settledRss.toFixed(1), peakMiB: +peakRss.toFixed(1), atStep1MiB: +(trace.rss[1] / MB).toFixed(1) } },
    { name: `${name}: RSS growth steps ${SETTLED}→${steps}`, backend, value: finalRss - settledRss, unit: 'MiB', details: { ...d, perHundredStepsMiB: +(((finalRss - settledRss) / (steps - SETTLED)) * 100).toFixed(2) } },
  ];
}

export const bench: Bench = async () => {
  const info = await initBackend({ prefer: 'wasm' });
  const home = fs.mkdtempSync(path.join(tmpdir(), 'toklab-bench-memory-'));
  const rows: BenchResult[] = [];
  try {
    const ds = 'datasets/shapes16';
    await buildDataset({ source: 'shapes', name: 'shapes16', resolution: 16, channels: 3, trainCount: 2000, valCount: 200, valShare: 0.1, seed: 0, outDir: path.join(home, ds) }, { signal: new AbortController().signal });

    // tokenizer: 320 training images = 10 steps per epoch, 100 epochs; checkpoints and restarts on the way
    const tokTrace: Trace = { tensors: [], rss: [] };
    let t0 = performance.now();
    await trainTokenizer(
      { datasetPath: ds, preset: 'vq-f2-k1024', epochs: STEPS / 10, trainLimit: 320, batchSize: 32, seed: 0, checkpointEvery: 250, sampleEvery: 10, lp: { alpha: 0.5, delta: 0.024 }, workers: 1 },
      quietContext(home, 'tok', tracing(tokTrace)),
    );
    rows.push(...rowsFor('memory tokenizer vq-f2-k1024 16px +LP', info.backend, tokTrace, (performance.now() - t0) / 1000, { preset: 'vq-f2-k1024', size: 16, batch: 32, lp: true, checkpointEvery: 250 }));

    // generator: gpt-nano on a 16-token f4 tokenizer; 256 training sequences = 8 steps per epoch, 125 epochs
    await trainTokenizer({ datasetPath: ds, preset: 'vq-f4-k256', epochs: 1, trainLimit: 64, batchSize: 32, seed: 0, checkpointEvery: 0, workers: 1 }, quietContext(home, 'tok4'));
    await extractTokens({ tokenizerRunDir: 'runs/tok4', trainLimit: 256, valLimit: 64 }, quietContext(home, 'tokens4'));
    const genTrace: Trace = { tensors: [], rss: [] };
    t0 = performance.now();
    await trainGenerator({ tokenizerRunDir: 'runs/tok4', preset: 'gpt-nano', epochs: STEPS / 8, batchSize: 32, seed: 0, valLimit: 32, checkpointEvery: 250, workers: 1 }, quietContext(home, 'gen', tracing(genTrace)));
    rows.push(...rowsFor('memory generator gpt-nano (L 16, K 256)', info.backend, genTrace, (performance.now() - t0) / 1000, { preset: 'gpt-nano', L: 16, K: 256, batch: 32, checkpointEvery: 250 }));
    return rows;
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
};
