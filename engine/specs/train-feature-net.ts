// Spec of the train-feature-net job: the lab feature network of a dataset (METHOD §6), trained with a
// fixed seed on the training split. Pure TypeScript so the host validates with the same code as the engine.
import { SpecError, asObject, num, str } from './errors';

export interface TrainFeatureNetSpec {
  /** Packed dataset folder relative to the lab home; the network is written to its feature-net/. */
  datasetPath: string;
  epochs: number;
  /**
   * Train at least this many steps, adding epochs on small datasets: a few epochs of a few hundred
   * images leave the extractor near chance, and every FID it gives near meaningless.
   */
  minSteps: number;
  batchSize: number;
  /** Peak Adam learning rate (short warmup, cosine to lr/20). */
  lr: number;
  seed: number;
  /** Train on the first N training images only (0 = all); statistics always cover whole splits. */
  trainLimit: number;
}

export function validateTrainFeatureNetSpec(input: unknown): TrainFeatureNetSpec {
  const o = asObject(input ?? {});
  const datasetPath = str(o, 'datasetPath', '');
  if (!datasetPath) throw new SpecError('datasetPath', 'is empty', 'Pick a built dataset.');
  return {
    datasetPath,
    epochs: num(o, 'epochs', 4, 1, 1000, true),
    minSteps: num(o, 'minSteps', 300, 0, 1_000_000, true),
    batchSize: num(o, 'batchSize', 64, 2, 4096, true),
    lr: num(o, 'lr', 2e-3, 1e-6, 1),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    trainLimit: num(o, 'trainLimit', 0, 0, 10_000_000, true),
  };
}
