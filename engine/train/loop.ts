// The one epoch/step driver every trainer shares: progress, batched metric reads, cancel,
// periodic atomic checkpoints and resume. Model, loss and data vary through callbacks.
import { tf } from '../tf';
import { JobCancelled, type JobContext } from '../context';
import type { MetricPoint } from '../protocol';
import { latestCheckpoint, loadCheckpoint, saveCheckpoint, type CheckpointData } from './checkpoint';


/** Step values whose non-finite value means training diverged (loss terms, gradient norms). */
const DIVERGENCE_KEYS = /loss|recon|codebook|commit|norm/;

/** Training went to NaN/Inf: the run fails with the step and the value, and keeps the last finite checkpoint. */
export class DivergenceError extends Error {
  constructor(
    readonly step: number,
    readonly key: string,
    readonly value: number,
  ) {
    super(
      `training diverged: ${key} is ${value} at step ${step}. Lower the learning rate, add warm-up steps or gradient clipping (clip/clipNorm), then start a new run; no checkpoint with these weights was written.`,
    );
    this.name = 'DivergenceError';
  }
}

export interface StepInfo {
  /** Steps done before this one (0-based global step). */
  step: number;
  epoch: number;
  stepInEpoch: number;
}

export interface LoopOptions<B> {
  ctx: Pick<JobContext, 'signal' | 'progress' | 'metrics' | 'log'>;
  runDir: string;
  epochs: number;
  /** Fixed number of steps per epoch (batches past it are ignored), so a resume can find its place. */
  stepsPerEpoch: number;
  /** Batches of epoch `e` in an order that depends only on the run seed and `e`. */
  batches(epoch: number): Iterable<B>;
  /**
   * One optimizer step. Returned scalars are read in one go every `logEvery` steps, then disposed
   * by the loop; plain numbers are logged as they are.
   */
  step(batch: B, info: StepInfo): Record<string, tf.Scalar | number> | Promise<Record<string, tf.Scalar | number>>;
  /** Everything needed to resume after `step` steps. */
  snapshot(step: number, epoch: number): CheckpointData;
  restore(ck: CheckpointData): void;
  /** After the last step of each epoch, with the epoch's mean of every logged value. */
  onEpochEnd?(epoch: number, means: Record<string, number>, step: number): void | Promise<void>;
  /** Save every N steps (0 = only at the end and on cancel). */
  checkpointEvery: number;
  /** Read logged scalars every N steps (default 10). */
  logEvery?: number;
  /** Metric name prefix (default 'train/'). */
  metricPrefix?: string;
  /** Whether to look for a checkpoint in runDir first (default true). */
  resume?: boolean;
  /** After onEpochEnd: return true to stop early (e.g. a plateau); the loop saves and returns. */
  stopAfterEpoch?(epoch: number, step: number): boolean;
}

export interface LoopResult {
  step: number;
  epoch: number;
  resumedFrom: number | null;
  /** Mean of each logged value over the last epoch run. */
  lastEpochMeans: Record<string, number>;
  /** True when stopAfterEpoch ended the run before its last epoch. */
  stoppedEarly: boolean;
}

export async function runTrainingLoop<B>(o: LoopOptions<B>): Promise<LoopResult> {
  const total = o.epochs * o.stepsPerEpoch;
  const logEvery = Math.max(1, o.logEvery ?? 10);
  const prefix = o.metricPrefix ?? 'train/';
  let step = 0;
  let resumedFrom: number | null = null;
  if (o.resume ?? true) {
    const file = latestCheckpoint(o.runDir);
    if (file) {
      const ck = loadCheckpoint(file);
      o.restore(ck);
      step = ck.step;
      resumedFrom = step;
      o.ctx.log('info', `resumed from checkpoint at step ${step}`);
    }
  }
  let pending: { step: number; values: Record<string, tf.Scalar | number> }[] = [];
  let sums: Record<string, number> = {};
  let counts: Record<string, number> = {};
  let lastEpochMeans: Record<string, number> = {};
  let lastSaved = step;

  // Reads all pending scalars with one stacked transfer; logs window means at the latest step.
  const flush = (): void => {
    if (!pending.length) return;
    const tensors: tf.Scalar[] = [];
    for (const p of pending) for (const v of Object.values(p.values)) if (typeof v !== 'number') tensors.push(v);
    const read = tensors.length ? (tf.tidy(() => tf.stack(tensors).dataSync()) as Float32Array) : new Float32Array(0);
    let i = 0;
    const win: Record<string, { s: number; n: number }> = {};
    let diverged: { step: number; key: string; value: number } | null = null;
    for (const p of pending) {
      for (const [k, v] of Object.entries(p.values)) {
        const x = typeof v === 'number' ? v : read[i++];
        if (!diverged && DIVERGENCE_KEYS.test(k) && !Number.isFinite(x)) diverged = { step: p.step, key: k, value: x };
        (win[k] ??= { s: 0, n: 0 }).s += x;
        win[k].n += 1;
        sums[k] = (sums[k] ?? 0) + x;
        counts[k] = (counts[k] ?? 0) + 1;
      }
    }
    tf.dispose(tensors);
    if (diverged) {
      pending = [];
      throw new DivergenceError(diverged.step, diverged.key, diverged.value);
    }
    const at = pending[pending.length - 1].step;
    const points: MetricPoint[] = Object.entries(win).map(([k, w]) => ({ name: prefix + k, step: at, value: w.s / w.n }));
    pending = [];
    o.ctx.metrics(points);
  };

  const save = (epoch: number): void => {
    saveCheckpoint(o.runDir, o.snapshot(step, epoch));
    lastSaved = step;
  };

  let epoch = Math.floor(step / o.stepsPerEpoch);
  for (; epoch < o.epochs; epoch++) {
    const skip = step - epoch * o.stepsPerEpoch;
    let i = 0;
    for (const batch of o.batches(epoch)) {
      if (i >= o.stepsPerEpoch) break;
      if (i++ < skip) continue;
      if (o.ctx.signal.aborted) {
        flush();
        if (step !== lastSaved) save(epoch);
        throw new JobCancelled();
      }
      const values = await o.step(batch, { step, epoch, stepInEpoch: i - 1 });
      step += 1;
      pending.push({ step, values });
      if (step % logEvery === 0) flush();
      o.ctx.progress(step, total, `epoch ${epoch + 1}/${o.epochs}`);
      if (o.checkpointEvery > 0 && step % o.checkpointEvery === 0 && i < o.stepsPerEpoch) {
        flush(); // a diverged step must fail the run before its weights reach a checkpoint
        save(epoch);
      }
    }
    if (i < o.stepsPerEpoch) throw new Error(`epoch ${epoch} gave ${i} batches, expected ${o.stepsPerEpoch}`);
    flush();
    lastEpochMeans = {};
    for (const k of Object.keys(sums)) lastEpochMeans[k] = sums[k] / counts[k];
    sums = {};
    counts = {};
    if (o.onEpochEnd) await o.onEpochEnd(epoch, lastEpochMeans, step);
    if (epoch < o.epochs - 1 && o.stopAfterEpoch?.(epoch, step)) {
      save(epoch + 1);
      return { step, epoch: epoch + 1, resumedFrom, lastEpochMeans, stoppedEarly: true };
    }
    const atEnd = epoch === o.epochs - 1;
    if (atEnd || (o.checkpointEvery > 0 && Math.floor(step / o.checkpointEvery) > Math.floor(lastSaved / o.checkpointEvery))) save(epoch + 1);
  }
  if (step !== lastSaved) save(epoch);
  return { step, epoch, resumedFrom, lastEpochMeans, stoppedEarly: false };
}
