// Seeded, stratified train/val split shared by the MNIST and ImageFolder builders: every class is
// split separately, so class proportions hold in both splits.
import { Rng } from '../rng';

/** Validation items for a class of n items: none below 2 items or at share 0, else round(n·share) kept within [1, n − 1]. */
export function valCountFor(n: number, valShare: number): number {
  if (valShare >= 1) return n; // an evaluation set: every image held out
  if (n < 2 || valShare <= 0) return 0;
  return Math.min(n - 1, Math.max(1, Math.round(n * valShare)));
}

/**
 * Splits item indices 0..labels.length−1 by class. Both outputs are in seeded random order (class
 * ids mixed), so "the first k items" of a split is a fair sample.
 */
export function stratifiedSplit(labels: ArrayLike<number>, numClasses: number, valShare: number, rng: Rng): { train: Int32Array; val: Int32Array } {
  const byClass: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) byClass[labels[i]].push(i);
  const train: number[] = [];
  const val: number[] = [];
  for (const items of byClass) {
    rng.shuffle(items);
    const nv = valCountFor(items.length, valShare);
    for (let k = 0; k < items.length; k++) (k < nv ? val : train).push(items[k]);
  }
  return { train: rng.shuffle(Int32Array.from(train)), val: rng.shuffle(Int32Array.from(val)) };
}
