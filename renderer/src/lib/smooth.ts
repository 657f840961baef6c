// Smoothing of training curves for the Compare view: an exponential moving average with the
// start-up bias removed (as TensorBoard's slider), so a curve keeps its first values instead of
// rising from zero. Pure; test/main/renderer-run-columns.test.ts pins it.

/**
 * EMA with weight `w` in [0, 1): s_t = w·s_{t−1} + (1−w)·x_t, divided by 1 − w^n (n = points seen).
 * Missing or non-finite values stay missing and do not move the average; w = 0 returns the input.
 */
export function emaSmooth(values: (number | null)[], w: number): (number | null)[] {
  const weight = Math.min(Math.max(Number.isFinite(w) ? w : 0, 0), 0.999);
  if (weight === 0) return [...values];
  let acc = 0;
  let n = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return null;
    acc = weight * acc + (1 - weight) * v;
    n++;
    return acc / (1 - weight ** n);
  });
}
