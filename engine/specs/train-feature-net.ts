// Spec of the train-feature-net job: the lab feature network of a dataset (METHOD §6), trained with a
// fixed seed until its held-out accuracy plateaus. Pure TypeScript so the host validates with the same
// code as the engine.
import { SpecError, asObject, bool, num, str } from './errors';

export interface TrainFeatureNetSpec {
  /** Packed dataset folder relative to the lab home; the network is written to its feature-net/. */
  datasetPath: string;
  /** Never stop before this many steps (a plateau seen early is noise). */
  minSteps: number;
  /** The budget: stop here even if held-out accuracy still rises (the job logs that it did). */
  maxSteps: number;
  /** Measure held-out accuracy every N steps; the plateau test runs on these checks. */
  evalEvery: number;
  /** Stop after this many checks in a row without a gain of at least minGain over the best. */
  patience: number;
  minGain: number;
  batchSize: number;
  /** Peak Adam learning rate (short warmup, cosine to lr/20 over maxSteps). */
  lr: number;
  seed: number;
  /**
   * Training images: 'fresh' draws new procedural images every step (built-in shapes only, never the
   * evaluation split's seed stream); 'split' uses the training split minus a held-out share; 'auto'
   * picks fresh for shapes datasets, split otherwise.
   */
  data: 'auto' | 'fresh' | 'split';
  /**
   * Augmentation: random shifts by up to 2 px (edge-padded) and/or mild degradations (blur, noise), so the
   * classifier judges content rather than crispness; 'auto' = none for fresh images, shift for split data.
   */
  augment: 'auto' | 'none' | 'shift' | 'degrade' | 'shift+degrade';
  /** Share of the training split held out for the plateau test when data is 'split'. */
  holdout: number;
  /** Train on the first N training images only (0 = all); statistics always cover whole splits. */
  trainLimit: number;
  /** Run the metric self-test (FID against degraded copies must rise with the degradation). */
  selfTest: boolean;
  /** Evaluation workers that embed the splits for the statistics after training; 0 = auto (the engine's cores on wasm). */
  workers: number;
}

export function validateTrainFeatureNetSpec(input: unknown): TrainFeatureNetSpec {
  const o = asObject(input ?? {});
  const datasetPath = str(o, 'datasetPath', '');
  if (!datasetPath) throw new SpecError('datasetPath', 'is empty', 'Pick a built dataset.');
  const minSteps = num(o, 'minSteps', 400, 0, 1_000_000, true);
  const maxSteps = num(o, 'maxSteps', 1500, 1, 1_000_000, true);
  if (maxSteps < minSteps) throw new SpecError('maxSteps', `is ${maxSteps}, below minSteps ${minSteps}`, 'Give a budget at least as large as the minimum.');
  return {
    datasetPath,
    minSteps,
    maxSteps,
    evalEvery: num(o, 'evalEvery', 100, 1, 1_000_000, true),
    patience: num(o, 'patience', 3, 1, 1000, true),
    minGain: num(o, 'minGain', 0.005, 0, 1),
    batchSize: num(o, 'batchSize', 64, 2, 4096, true),
    lr: num(o, 'lr', 3e-3, 1e-6, 1),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    data: str(o, 'data', 'auto', ['auto', 'fresh', 'split'] as const),
    augment: str(o, 'augment', 'auto', ['auto', 'none', 'shift', 'degrade', 'shift+degrade'] as const),
    holdout: num(o, 'holdout', 0.1, 0, 0.5),
    trainLimit: num(o, 'trainLimit', 0, 0, 10_000_000, true),
    selfTest: bool(o, 'selfTest', true),
    workers: num(o, 'workers', 0, 0, 64, true),
  };
}
