// Checkpoint round trip, and the shared loop: resume after a cancel ends where an uninterrupted run ends.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng, deriveSeed } from '../../engine/rng';
import { Optimizer, computeGrads } from '../../engine/train/optim';
import { Ema } from '../../engine/train/ema';
import { latestCheckpoint, listCheckpoints, loadCheckpoint, restoreTraining, saveCheckpoint, snapshotTraining } from '../../engine/train/checkpoint';
import { DivergenceError, runTrainingLoop } from '../../engine/train/loop';
import { JobCancelled } from '../../engine/jobs/types';
import type { MetricPoint } from '../../engine/protocol';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-train-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('checkpoint', () => {
  it('round-trips arrays and state atomically, keeps the newest files', () => {
    const dir = path.join(tmp, 'ck');
    const a = new Float32Array([1.5, -2, 3.25, 1e-7, 7, 8]);
    for (const step of [5, 10, 15]) saveCheckpoint(dir, { step, tensors: { 'model/w': { shape: [2, 3], data: a }, 'x/b': { shape: [1], data: new Float32Array([step]) } }, state: { epoch: 2, seed: 7, note: 'é' } });
    expect(listCheckpoints(dir).map((f) => path.basename(f))).toEqual(['ckpt-000000010.bin', 'ckpt-000000015.bin']);
    expect(fs.readdirSync(path.join(dir, 'checkpoints')).some((f) => f.endsWith('.tmp'))).toBe(false);
    const ck = loadCheckpoint(latestCheckpoint(dir)!);
    expect(ck.step).toBe(15);
    expect(ck.state).toEqual({ epoch: 2, seed: 7, note: 'é' });
    expect(ck.tensors['model/w'].shape).toEqual([2, 3]);
    expect(Array.from(ck.tensors['model/w'].data)).toEqual(Array.from(a));
    expect(ck.tensors['x/b'].data[0]).toBe(15);
    expect(latestCheckpoint(path.join(tmp, 'none'))).toBeNull();
  });
});

describe('checkpoint writes (#12)', () => {
  const ck = (step: number) => ({ step, tensors: { w: { shape: [4], data: new Float32Array([step, 2, 3, 4]) } }, state: { epoch: 1 } });
  it('a full disk fails the write with a clear error, leaves no partial file and keeps the previous checkpoint', () => {
    const dir = path.join(tmp, 'full');
    saveCheckpoint(dir, ck(5));
    const real = fs.writeSync;
    const full = (fd: number, b: Buffer, off?: number, len?: number): number => {
      if (b.length > 100) throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      return (real as (...a: unknown[]) => number)(fd, b, off, len);
    };
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(full as unknown as typeof fs.writeSync);
    try {
      const big = { step: 10, tensors: { w: { shape: [64], data: new Float32Array(64).fill(1) } }, state: {} };
      expect(() => saveCheckpoint(dir, big)).toThrow(/could not write checkpoint ckpt-000000010\.bin \(the disk is full\); the previous checkpoint is kept/);
    } finally {
      spy.mockRestore();
    }
    expect(fs.readdirSync(path.join(dir, 'checkpoints'))).toEqual(['ckpt-000000005.bin']);
    expect(loadCheckpoint(latestCheckpoint(dir)!).step).toBe(5);
  });
  it('a write that reports success but lands short is caught by the read-back, before the rename', () => {
    const dir = path.join(tmp, 'short');
    saveCheckpoint(dir, ck(5));
    const real = fs.writeSync;
    // a file system that says it wrote everything but keeps only half of the data section
    const fake = (fd: number, b: Buffer, off: number = 0, len: number = b.length - off): number => {
      if (b.length === 16) {
        (real as (...a: unknown[]) => number)(fd, b, off, len / 2);
        return len;
      }
      return (real as (...a: unknown[]) => number)(fd, b, off, len);
    };
    const spy = vi.spyOn(fs, 'writeSync').mockImplementation(fake as unknown as typeof fs.writeSync);
    try {
      expect(() => saveCheckpoint(dir, ck(10))).toThrow(/could not write checkpoint ckpt-000000010\.bin \(the file holds \d+ of \d+ bytes\)/);
    } finally {
      spy.mockRestore();
    }
    expect(latestCheckpoint(dir)).toMatch(/ckpt-000000005\.bin$/);
  });
  it('a checkpoint damaged on disk is refused on load, not read as weights', () => {
    const dir = path.join(tmp, 'damaged');
    const file = saveCheckpoint(dir, ck(7));
    const buf = fs.readFileSync(file);
    buf[buf.length - 1] ^= 0xff;
    fs.writeFileSync(file, buf);
    expect(() => loadCheckpoint(file)).toThrow(/is damaged: its data checksum does not match/);
  });
});

/** y = x·w* + noise; 8 batches of 4 per epoch, order from (seed, epoch). */
function makeTrainer(runDir: string, abortAt: number | null, points: MetricPoint[]) {
  const rng = new Rng(1);
  const X = Array.from({ length: 32 }, () => [rng.normal(), rng.normal(), rng.normal()]);
  const Y = X.map((x) => 2 * x[0] - x[1] + 0.5 * x[2] + 0.01 * rng.normal());
  const vars = tf.tidy(() => ({ w: tf.variable(tf.zeros([3, 1])), b: tf.variable(tf.zeros([1])) }));
  const opt = new Optimizer(vars, { kind: 'adamw', weightDecay: 0.01 });
  const ema = new Ema(vars, 0.9);
  const ctrl = new AbortController();
  const run = () =>
    runTrainingLoop({
      ctx: { signal: ctrl.signal, progress: () => {}, metrics: (p) => points.push(...p), log: () => {} },
      runDir,
      epochs: 3,
      stepsPerEpoch: 8,
      checkpointEvery: 5,
      logEvery: 3,
      batches: function* (epoch) {
        const order = new Rng(deriveSeed(3, `epoch-${epoch}`)).shuffle(Array.from({ length: 32 }, (_, i) => i));
        for (let i = 0; i < 32; i += 4) yield order.slice(i, i + 4);
      },
      step: (idx, info) => {
        if (abortAt !== null && info.step === abortAt - 1) ctrl.abort();
        const x = tf.tensor2d(idx.map((i) => X[i]));
        const y = tf.tensor2d(idx.map((i) => [Y[i]]));
        const { value, grads } = computeGrads(vars, () => tf.mean(tf.square(tf.sub(tf.add(tf.matMul(x, vars.w), vars.b), y))) as tf.Scalar);
        opt.apply(grads, 0.05).dispose();
        ema.update();
        tf.dispose([x, y, ...Object.values(grads)]);
        return { loss: value, lr: 0.05 };
      },
      snapshot: (step, epoch) => snapshotTraining(vars, opt, ema, step, { epoch }),
      restore: (ck) => restoreTraining(ck, vars, opt, ema),
    });
  const dispose = () => {
    opt.dispose();
    ema.dispose();
    tf.dispose(Object.values(vars));
  };
  return { run, vars, ema, dispose };
}

describe('runTrainingLoop', () => {
  it('a cancelled then resumed run matches an uninterrupted one; loss falls; no leaks', async () => {
    const before = tf.memory().numTensors;
    const pa: MetricPoint[] = [];
    const a = makeTrainer(path.join(tmp, 'a'), null, pa);
    const ra = await a.run();
    expect(ra.step).toBe(24);
    const wa = Array.from(a.vars.w.dataSync());
    const ea = a.ema.getState().w;
    a.dispose();
    const losses = pa.filter((p) => p.name === 'train/loss');
    expect(losses.length).toBeGreaterThan(4);
    expect(losses[losses.length - 1].value).toBeLessThan(losses[0].value * 0.5);
    expect(pa.some((p) => p.name === 'train/lr' && p.value === 0.05)).toBe(true);

    const dir = path.join(tmp, 'b');
    const b1 = makeTrainer(dir, 11, []);
    await expect(b1.run()).rejects.toBeInstanceOf(JobCancelled);
    b1.dispose();
    expect(loadCheckpoint(latestCheckpoint(dir)!).step).toBe(11);
    const b2 = makeTrainer(dir, null, []);
    const rb = await b2.run();
    expect(rb.resumedFrom).toBe(11);
    expect(rb.step).toBe(24);
    const wb = Array.from(b2.vars.w.dataSync());
    wb.forEach((x, i) => expect(x).toBeCloseTo(wa[i], 6));
    Array.from(b2.ema.getState().w).forEach((x, i) => expect(x).toBeCloseTo(ea[i], 6));
    b2.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('fails a diverged run at the step that went non-finite, before its weights reach a checkpoint (#12)', async () => {
    const dir = path.join(tmp, 'nan');
    const w = tf.variable(tf.scalar(1));
    const saved: number[] = [];
    const run = runTrainingLoop({
      ctx: { signal: new AbortController().signal, progress: () => {}, metrics: () => {}, log: () => {} },
      runDir: dir,
      epochs: 2,
      stepsPerEpoch: 8,
      checkpointEvery: 4,
      logEvery: 100,
      batches: function* () {
        for (let i = 0; i < 8; i++) yield i;
      },
      // finite for six steps, then the loss blows up
      step: (_b, info) => ({ loss: info.step < 6 ? tf.scalar(1 / (info.step + 1)) : tf.scalar(Number.NaN), lr: 0.1 }),
      snapshot: (step) => {
        saved.push(step);
        return { step, tensors: { w: { shape: [], data: w.dataSync() as Float32Array } }, state: {} };
      },
      restore: () => {},
    });
    const err = await run.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DivergenceError);
    expect((err as DivergenceError).step).toBe(7);
    expect(String((err as Error).message)).toMatch(/loss is NaN at step 7.*learning rate/);
    // the checkpoint at step 4 was finite; the one due at step 8 was never written
    expect(saved).toEqual([4]);
    w.dispose();
  });
});
