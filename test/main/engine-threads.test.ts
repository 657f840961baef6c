// The wasm backend on several threads (engine/wasm-threads.ts) trains exactly like one thread:
// the same tokenizer job, same data and seed, on an engine with TOKLAB_THREADS=1 and one with 2,
// gives the same loss at every step. And each run records the threads it ran on.
import { describe, expect, it } from 'vitest';
import { engineEnv, forkLauncher } from '../../main/host/engine-channel';
import { Lab } from '../../main/host/lab';
import { cleanupsAfterEach, tempHome } from './helpers';

const later = cleanupsAfterEach();

async function lossCurve(threads: number): Promise<{ backend: string | null; steps: number[]; values: number[] }> {
  const t = tempHome();
  later(t.cleanup);
  const env = { ...process.env, TOKLAB_BACKEND: 'wasm', TOKLAB_THREADS: String(threads) };
  const lab = new Lab({ home: t.home, frontDoor: 'cli', launcher: forkLauncher(t.home, undefined, env) });
  later(() => lab.close());
  const ds = await lab.waitForRun((await lab.startJob({ kind: 'dataset-build', spec: { source: 'shapes', name: 'tiny', resolution: 16, trainCount: 64, valCount: 16, seed: 0 } })).id);
  expect(ds.status).toBe('done');
  const dataset = (await lab.listDatasets()).find((d) => d.runId === ds.id);
  if (!dataset) throw new Error('dataset not recorded');
  const spec = { dataset: dataset.id, preset: 'vq-f2w-k64', epochs: 2, batchSize: 16, lr: 2e-3, warmup: 2, seed: 5, logEvery: 1, lp: { alpha: 0.5, beta: 0.5, delta: 4, deltaMode: 'abs' } };
  const run = await lab.waitForRun((await lab.startJob({ kind: 'train-tokenizer', spec })).id);
  expect(run.status, run.error ?? '').toBe('done');
  const loss = (await lab.getRun(run.id)).metrics.find((m) => m.name === 'train/loss');
  if (!loss) throw new Error('no train/loss metric');
  if (loss.values.some((v) => v === null)) throw new Error('a logged loss is null (non-finite)');
  return { backend: run.backend, steps: loss.steps, values: loss.values as number[] };
}

describe('wasm threads', () => {
  it('two threads give the one-thread loss curve, and the run records its threads', async () => {
    const one = await lossCurve(1);
    const two = await lossCurve(2);
    expect(one.backend).toBe('wasm, 1 thread');
    expect(two.backend).toBe('wasm, 2 threads');
    expect(one.steps.length).toBeGreaterThanOrEqual(8);
    expect(two.steps).toEqual(one.steps);
    // same kernels, same summation order per output: equal to float rounding (in practice bit for bit)
    for (let i = 0; i < one.values.length; i++) expect(Math.abs(two.values[i] - one.values[i])).toBeLessThanOrEqual(1e-6 * Math.abs(one.values[i]) + 1e-7);
    // and the curve is a real one: training moved the loss
    expect(one.values[one.values.length - 1]).toBeLessThan(one.values[0]);
  }, 180_000);

  it('engineEnv shares the cores out between engines unless TOKLAB_THREADS is set', () => {
    expect(engineEnv(1, {}, 8).TOKLAB_THREADS).toBe('8');
    expect(engineEnv(2, {}, 8).TOKLAB_THREADS).toBe('4');
    expect(engineEnv(3, {}, 2).TOKLAB_THREADS).toBe('1');
    expect(engineEnv(2, { TOKLAB_THREADS: '3' }, 8).TOKLAB_THREADS).toBe('3');
  });
});
