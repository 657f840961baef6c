// Codebook health from token indices (METHOD.md §1): share of codes used, perplexity, dead codes.

export interface CodebookStats {
  /** Codes used at least once / K. */
  usage: number;
  /** exp(entropy) of the empirical code distribution, in [1, K]. */
  perplexity: number;
  /** Codes never used. */
  dead: number;
  counts: Int32Array;
}

/** Counts over the whole token set (not per batch), as the method asks. */
export function codebookStats(tokens: ArrayLike<number>, k: number): CodebookStats {
  if (!Number.isInteger(k) || k < 1) throw new Error(`codebook size must be a positive integer, got ${k}`);
  if (tokens.length === 0) throw new Error('codebook stats need at least one token');
  const counts = new Int32Array(k);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (!Number.isInteger(t) || t < 0 || t >= k) throw new Error(`token ${i} is ${t}, outside the codebook [0, ${k})`);
    counts[t]++;
  }
  return codebookStatsFromCounts(counts);
}

/** The same from a histogram of codes (streamed evaluation counts batch by batch). */
export function codebookStatsFromCounts(hist: ArrayLike<number>): CodebookStats {
  const k = hist.length;
  if (k < 1) throw new Error('codebook stats need a histogram over at least one code');
  const counts = Int32Array.from(hist);
  let total = 0;
  for (let j = 0; j < k; j++) total += counts[j];
  if (total === 0) throw new Error('codebook stats need at least one token');
  let used = 0;
  let entropy = 0;
  for (let j = 0; j < k; j++) {
    if (counts[j] === 0) continue;
    used++;
    const p = counts[j] / total;
    entropy -= p * Math.log(p);
  }
  return { usage: used / k, perplexity: Math.exp(entropy), dead: k - used, counts };
}
