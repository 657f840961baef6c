// What every FID-like number is stored with (METHOD.md §3, §6), and the guard that keeps numbers
// from different feature extractors from being compared or correlated.

export interface CfgProvenance {
  scale: number;
  schedule: 'constant' | 'cosine-power' | 'none';
  power?: number;
}

export interface Provenance {
  /** Feature extractor id (hash of weights + architecture). */
  extractorId: string;
  /** Samples per side. */
  n: number;
  seed: number;
  split: string;
  /** Latent perturbation (pFID only). */
  alpha?: number;
  deltaAbs?: number;
  deltaShare?: number;
  includeSelf?: boolean;
  selection?: 'bernoulli' | 'exact';
  anchor?: 'z' | 'code';
  /** Generation (gFID only). */
  cfg?: CfgProvenance;
  temperature?: number;
  topK?: number;
  topP?: number;
}

/** Throws unless every provenance names the same feature extractor. */
export function assertComparable(list: readonly Pick<Provenance, 'extractorId'>[]): void {
  if (list.length === 0) return;
  const first = list[0].extractorId;
  for (const p of list) {
    if (p.extractorId !== first) {
      throw new Error(
        `cannot compare scores from different feature extractors (ids ${first} and ${p.extractorId}): recompute both with the same extractor`,
      );
    }
  }
}
