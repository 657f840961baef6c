// Spec of the eval-tokenizer job: rFID and a pFID grid over (α, δ) on the held-out split (METHOD §3),
// with KID beside every FID. Pure TypeScript so the host validates with the same code as the engine.
import { SpecError, asObject, bool, num, numList, str } from './errors';
import { deltaProblem } from './train-tokenizer';

/** Default floor on the feature network's test accuracy: below it, FID in its feature space is not trustworthy. */
export const DEFAULT_MIN_EXTRACTOR_ACCURACY = 0.9;

/** The refusal of an FID-family number from a feature network below the accuracy floor (engine jobs use it). */
export function extractorAccuracyProblem(dataset: string, testAccuracy: number, floor: number): Error | null {
  if (!(testAccuracy < floor)) return null;
  return new Error(
    `the feature network of ${dataset} has test accuracy ${testAccuracy.toFixed(2)}, below the floor ${floor.toFixed(2)}: FID in its feature space is not trustworthy. ` +
      'Retrain it (train-feature-net with more steps) or lower minExtractorAccuracy.',
  );
}

/**
 * The refusal of a grid δ that resolves to fewer than 2 codes of the tokenizer's K (δ = 1: the cell
 * would be rFID under another name). The host checks it before queueing, the engine job again.
 */
export function gridDeltaProblem(spec: Pick<EvalTokenizerSpec, 'deltas' | 'deltaMode'>, K: number): SpecError | null {
  for (const [i, d] of spec.deltas.entries()) {
    const bad = deltaProblem(`deltas[${i}]`, d, spec.deltaMode, K);
    if (bad) return bad;
  }
  return null;
}

export interface EvalTokenizerSpec {
  /** Tokenizer run folder relative to the lab home (the host fills it). */
  tokenizerRunDir: string;
  /** Packed dataset relative to the lab home; '' = the dataset the tokenizer was trained on. */
  datasetPath: string;
  /** An ONNX extractor's run folder relative to the lab home; '' = the dataset's lab feature network. */
  extractorRunDir: string;
  /** α values, the rows of the grid. */
  alphas: number[];
  /** δ values, the columns: shares of K ('share') or code counts ('abs'). */
  deltas: number[];
  deltaMode: 'share' | 'abs';
  includeSelf: boolean;
  selection: 'bernoulli' | 'exact';
  anchor: 'z' | 'code';
  /** Evaluate the first N val images (0 = all). */
  n: number;
  seed: number;
  /** Use the EMA weights when the checkpoint has them. */
  ema: boolean;
  kidSubsets: number;
  /**
   * Samples per KID subset; 0 = min(1000, ⌊N/2⌋) (at least 2). Subsets must be smaller than N, or every
   * subset is the whole set and the reported spread is 0; a size ≥ N is clamped to ⌊N/2⌋ with a warning.
   */
  kidSubsetSize: number;
  /**
   * Refuse to score when the feature network's test accuracy is below this (default 0.9; the host
   * passes 0 for user ImageFolders, whose classifiers it cannot vouch for).
   */
  minExtractorAccuracy: number;
  /** Evaluation workers (worker threads, one backend each) that take whole batches; 0 = auto (the engine's cores on wasm). */
  workers: number;
}

export function validateEvalTokenizerSpec(input: unknown): EvalTokenizerSpec {
  const o = asObject(input ?? {});
  const tokenizerRunDir = str(o, 'tokenizerRunDir', '');
  if (!tokenizerRunDir) throw new SpecError('tokenizerRunDir', 'is empty', 'Pick a finished tokenizer run.');
  const deltaMode = str(o, 'deltaMode', 'share', ['share', 'abs'] as const);
  const alphas = numList(o, 'alphas', [0.1, 0.3, 0.5, 0.7, 0.9], 0, 1);
  const deltas =
    // default shares: 0.03 is the smallest round share that is ≥ 2 codes for every preset (0.03·64 → 2); 0.01 of K = 64 is 1 code
    deltaMode === 'share' ? numList(o, 'deltas', [0.03, 0.05, 0.1], 0, 1) : numList(o, 'deltas', [2, 8, 16], 1, 1_000_000);
  if (deltaMode === 'abs') deltas.forEach((d, i) => {
    if (!Number.isInteger(d)) throw new SpecError(`deltas[${i}]`, `is ${d}, not a whole number of codes`, 'Use integers with deltaMode "abs", or shares of K with "share".');
    // without K only the absolute case can be checked here; shares are checked against the tokenizer's K
    const bad = deltaProblem(`deltas[${i}]`, d, 'abs', Number.MAX_SAFE_INTEGER);
    if (bad) throw bad;
  });
  return {
    tokenizerRunDir,
    datasetPath: str(o, 'datasetPath', ''),
    extractorRunDir: str(o, 'extractorRunDir', ''),
    alphas,
    deltas,
    deltaMode,
    includeSelf: bool(o, 'includeSelf', true),
    selection: str(o, 'selection', 'bernoulli', ['bernoulli', 'exact'] as const),
    anchor: str(o, 'anchor', 'z', ['z', 'code'] as const),
    n: num(o, 'n', 0, 0, 10_000_000, true),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    ema: bool(o, 'ema', true),
    kidSubsets: num(o, 'kidSubsets', 10, 1, 10_000, true),
    kidSubsetSize: num(o, 'kidSubsetSize', 0, 0, 100_000, true),
    minExtractorAccuracy: num(o, 'minExtractorAccuracy', DEFAULT_MIN_EXTRACTOR_ACCURACY, 0, 1),
    workers: num(o, 'workers', 0, 0, 64, true),
  };
}
