// Spec of the gFID job (METHOD §4, §6): class-balanced samples from a trained generator at each CFG
// setting on matched streams, decoded, scored against the training split with the lab feature net.
import { SpecError, asObject, num, numList, str } from './errors';
import { DEFAULT_MIN_EXTRACTOR_ACCURACY } from './eval-tokenizer';

/** 'auto' = the schedule of the generator's architecture (METHOD §4): RAR → cosine-power, raster GPT → constant. */
export type CfgScheduleChoice = 'auto' | 'constant' | 'cosine-power';
export const CFG_SCHEDULES = ['auto', 'constant', 'cosine-power'] as const;

/** The CFG schedule a job samples with: an explicit choice, or 'auto' resolved from the architecture. */
export function resolveCfgSchedule(choice: CfgScheduleChoice, arch: string): 'constant' | 'cosine-power' {
  if (choice !== 'auto') return choice;
  return arch === 'rar' ? 'cosine-power' : 'constant';
}

export interface EvalGeneratorSpec {
  /** Generator run folder, relative to the lab home (the host fills it). */
  generatorRunDir: string;
  /** '' = decode with the generator's own tokenizer; else a (post-trained) tokenizer run with the same codebook. */
  decoderRunDir: string;
  /** Packed dataset relative to the lab home; '' = the dataset of the generator's tokenizer. */
  datasetPath: string;
  /** Guidance scales g; 0 means WITHOUT CFG (conditional logits alone, one pass). */
  cfgScales: number[];
  /** Guidance schedule; 'auto' (default) resolves from the generator's architecture: rar → cosine-power, raster → constant. */
  schedule: CfgScheduleChoice;
  /**
   * Exponent p of the cosine-power ramp. Default 1 (a plain cosine ramp): the RAR paper's p = 1.15 (RAR-B)
   * and 1.01 (RAR-L) were tuned at ImageNet scale, so toklab does not invent one for its small generators.
   */
  power: number;
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** Samples per class (class-balanced set of numClasses × nPerClass). */
  nPerClass: number;
  /** Sample i draws from sampleRng(seed, i) at every CFG setting. */
  seed: number;
  /** Rows sampled together (CFG doubles them internally). */
  batchSize: number;
  /** Refuse to score when the feature network's test accuracy is below this (default 0.9; the host passes 0 for user ImageFolders). */
  minExtractorAccuracy: number;
  /** Evaluation workers that sample whole batches; 0 = auto (the engine's cores on wasm). */
  workers: number;
}

export function validateEvalGeneratorSpec(input: unknown): EvalGeneratorSpec {
  const o = asObject(input ?? {});
  const generatorRunDir = str(o, 'generatorRunDir', '');
  if (!generatorRunDir) throw new SpecError('generatorRunDir', 'is empty', 'Pick a trained generator run.');
  const cfgScales = numList(o, 'cfgScales', [0, 1.5, 3], 0, 100);
  // the fid_vs_cfg curve uses round(100·g) as its step, so scales must differ at that resolution
  const steps = cfgScales.map((s) => Math.round(s * 100));
  if (new Set(steps).size !== steps.length) throw new SpecError('cfgScales', 'has repeated values (compared at 0.01)', 'List each guidance scale once.');
  return {
    generatorRunDir,
    decoderRunDir: str(o, 'decoderRunDir', ''),
    datasetPath: str(o, 'datasetPath', ''),
    cfgScales,
    schedule: str(o, 'schedule', 'auto', CFG_SCHEDULES),
    power: num(o, 'power', 1, 0.01, 10),
    temperature: num(o, 'temperature', 1, 0, 10),
    topK: num(o, 'topK', 0, 0, 1_000_000, true),
    topP: num(o, 'topP', 1, 0.01, 1),
    nPerClass: num(o, 'nPerClass', 50, 1, 100_000, true),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    batchSize: num(o, 'batchSize', 64, 1, 4096, true),
    minExtractorAccuracy: num(o, 'minExtractorAccuracy', DEFAULT_MIN_EXTRACTOR_ACCURACY, 0, 1),
    workers: num(o, 'workers', 0, 0, 64, true),
  };
}
