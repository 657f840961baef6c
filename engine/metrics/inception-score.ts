// Inception Score (Salimans et al. 2016) from class probabilities: exp(E_x KL(p(y|x) ‖ p(y))) per split,
// mean ± std over splits; splits are contiguous chunks of ⌊N/splits⌋ rows, as in the reference code.

export interface InceptionScore {
  mean: number;
  /** Population standard deviation over splits (0 for one split). */
  std: number;
  splits: number[];
}

/** probs [n,c] row-major softmax outputs (rows must sum to ≈1). */
export function inceptionScore(probs: Float32Array | Float64Array, n: number, c: number, splits = 10): InceptionScore {
  if (probs.length !== n * c) throw new Error(`IS: got ${probs.length} values for shape [${n},${c}]`);
  if (!Number.isInteger(splits) || splits < 1 || splits > n) throw new Error(`IS: splits must be an integer in [1, N=${n}], got ${splits}`);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < c; j++) {
      const p = probs[i * c + j];
      if (!(p >= 0)) throw new Error(`IS: probability [${i},${j}] = ${p} is negative or not a number: pass softmax probabilities, not logits`);
      s += p;
    }
    if (Math.abs(s - 1) > 1e-3) throw new Error(`IS: row ${i} sums to ${s}, not 1: pass softmax probabilities, not logits`);
  }
  const size = Math.floor(n / splits);
  const scores: number[] = [];
  const marginal = new Float64Array(c);
  for (let k = 0; k < splits; k++) {
    const r0 = k * size, r1 = r0 + size;
    marginal.fill(0);
    for (let i = r0; i < r1; i++) for (let j = 0; j < c; j++) marginal[j] += probs[i * c + j];
    for (let j = 0; j < c; j++) marginal[j] /= size;
    let kl = 0;
    for (let i = r0; i < r1; i++) {
      for (let j = 0; j < c; j++) {
        const p = probs[i * c + j];
        if (p > 0) kl += p * (Math.log(p) - Math.log(marginal[j]));
      }
    }
    scores.push(Math.exp(kl / size));
  }
  const mean = scores.reduce((a, b) => a + b, 0) / splits;
  const std = Math.sqrt(scores.reduce((a, b) => a + (b - mean) * (b - mean), 0) / splits);
  return { mean, std, splits: scores };
}
