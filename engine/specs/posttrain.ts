// Spec of decoder post-training (METHOD §5): fine-tune only the decoder of a main-trained tokenizer
// on tokens its generator makes under teacher forcing (probability sigma), towards the real images.
import { SpecError, asObject, num, str } from './errors';
import { DEFAULT_MIN_EXTRACTOR_ACCURACY } from './eval-tokenizer';

export interface PosttrainSpec {
  /** Main-trained tokenizer run, relative to the lab home; its EMA weights are the starting point. */
  tokenizerRunDir: string;
  /** Generator run trained on that tokenizer's tokens, relative to the lab home. */
  generatorRunDir: string;
  /** Probability that a position is teacher-forced to the true token (follow-up paper: 0.7). */
  sigma: number;
  epochs: number;
  /** Constant Adam learning rate of the decoder (small: the decoder is already trained). */
  lr: number;
  batchSize: number;
  seed: number;
  /** Use only the first N training images (0 = all). */
  trainLimit: number;
  /**
   * Accuracy floor of the dataset's feature network for the gFIDs before/after (default 0.9; the host
   * passes 0 for user ImageFolders). The job refuses up front when an existing feature network is below
   * it, rather than post-train a decoder whose gFIDs would then be refused.
   */
  minExtractorAccuracy: number;
}

export function validatePosttrainSpec(input: unknown): PosttrainSpec {
  const o = asObject(input ?? {});
  const tokenizerRunDir = str(o, 'tokenizerRunDir', '');
  if (!tokenizerRunDir) throw new SpecError('tokenizerRunDir', 'is empty', 'Pick the main-trained tokenizer run.');
  const generatorRunDir = str(o, 'generatorRunDir', '');
  if (!generatorRunDir) throw new SpecError('generatorRunDir', 'is empty', 'Pick a generator trained on that tokenizer.');
  const lr = num(o, 'lr', 1e-4, 0, 1);
  if (lr === 0) throw new SpecError('lr', 'is 0, so nothing would change', 'Use a small positive rate such as 1e-4.');
  return {
    tokenizerRunDir,
    generatorRunDir,
    sigma: num(o, 'sigma', 0.7, 0, 1),
    epochs: num(o, 'epochs', 2, 1, 10_000, true),
    lr,
    batchSize: num(o, 'batchSize', 32, 1, 4096, true),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    trainLimit: num(o, 'trainLimit', 0, 0, 10_000_000, true),
    minExtractorAccuracy: num(o, 'minExtractorAccuracy', DEFAULT_MIN_EXTRACTOR_ACCURACY, 0, 1),
  };
}
