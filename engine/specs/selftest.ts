// Spec of the engine self-test: a tiny conv autoencoder trained for a few steps on synthetic
// stripes, to prove the whole path (host → engine → backend → metrics → store → UI) works.
import { asObject, num } from './errors';

export interface SelftestSpec {
  steps: number;
  batchSize: number;
  resolution: number;
  seed: number;
  /** Sleep between steps, so a person (or an e2e test) can watch or interrupt it. */
  stepDelayMs: number;
}

export function validateSelftestSpec(input: unknown): SelftestSpec {
  const o = asObject(input ?? {});
  return {
    steps: num(o, 'steps', 20, 1, 10_000, true),
    batchSize: num(o, 'batchSize', 8, 1, 256, true),
    resolution: num(o, 'resolution', 16, 8, 64, true),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    stepDelayMs: num(o, 'stepDelayMs', 0, 0, 60_000, true),
  };
}
