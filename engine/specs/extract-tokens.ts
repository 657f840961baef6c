// Spec of the extract-tokens job: encode a dataset's splits with a trained tokenizer into its token cache.
// Pure TypeScript so the host validates with the same code as the engine.
import { SpecError, asObject, bool, num, str } from './errors';

export interface ExtractTokensSpec {
  /** Tokenizer run folder, relative to the lab home (the host fills it). The cache goes to its tokens/. */
  tokenizerRunDir: string;
  /** Packed dataset relative to the lab home; '' = the dataset the tokenizer was trained on. */
  datasetPath: string;
  /** Encode with the EMA weights when the checkpoint has them (default true, as every evaluation). */
  ema: boolean;
  batchSize: number;
  /** Encode only the first N images of a split (0 = all). */
  trainLimit: number;
  valLimit: number;
}

export function validateExtractTokensSpec(input: unknown): ExtractTokensSpec {
  const o = asObject(input ?? {});
  const tokenizerRunDir = str(o, 'tokenizerRunDir', '');
  if (!tokenizerRunDir) throw new SpecError('tokenizerRunDir', 'is empty', 'Pick a finished tokenizer run.');
  return {
    tokenizerRunDir,
    datasetPath: str(o, 'datasetPath', ''),
    ema: bool(o, 'ema', true),
    batchSize: num(o, 'batchSize', 64, 1, 4096, true),
    trainLimit: num(o, 'trainLimit', 0, 0, 10_000_000, true),
    valLimit: num(o, 'valLimit', 0, 0, 10_000_000, true),
  };
}
