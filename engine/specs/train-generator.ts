// Spec of the AR generator training job (raster GPT or RAR-style, METHOD §4) on the token cache of
// a tokenizer run. Pure TypeScript so the host validates with the same code as the engine.
import { SpecError, asObject, memoryEstimate, num, str } from './errors';

export const GENERATOR_PRESET_NAMES = ['gpt-nano', 'gpt-micro', 'gpt-mini'] as const;
export type GeneratorPresetName = (typeof GENERATOR_PRESET_NAMES)[number];

export interface TrainGeneratorSpec {
  /** Tokenizer run folder, relative to the lab home (the host fills it); its token cache is the data. */
  tokenizerRunDir: string;
  arch: 'raster' | 'rar';
  preset: GeneratorPresetName;
  norm: 'layer' | 'rms';
  epochs: number;
  batchSize: number;
  /** Peak AdamW learning rate (after warmup; cosine to 0 at the end). */
  lr: number;
  /** Linear warmup, in optimizer steps. */
  warmup: number;
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  /** Share of labels replaced by the null class (makes CFG possible). */
  classDropout: number;
  /** RAR permutation annealing window as fractions of all steps (reference: 125k → 187.5k of 250k). */
  rar: { start: number; end: number };
  /** EMA decay of the weights used for evaluation and sampling (0 = off). */
  ema: number;
  seed: number;
  /** Save every N steps (0 = at the end of each epoch only). */
  checkpointEvery: number;
  /** Validation uses at most this many held-out grids per epoch (0 = all). */
  valLimit: number;
  /** Data-parallel workers splitting every batch; 0 = auto (the engine's cores, from d 256 on wasm). */
  workers: number;
}

function field(o: Record<string, unknown>, key: string, label: string, def: number, min: number, max: number, integer = false): number {
  return num({ [label]: o[key] }, label, def, min, max, integer);
}

export function validateTrainGeneratorSpec(input: unknown): TrainGeneratorSpec {
  const o = asObject(input ?? {});
  const tokenizerRunDir = str(o, 'tokenizerRunDir', '');
  if (!tokenizerRunDir) throw new SpecError('tokenizerRunDir', 'is empty', 'Pick a finished tokenizer run whose tokens were extracted.');
  const r = asObject(o.rar ?? {}, 'rar');
  const rar = {
    start: field(r, 'start', 'rar.start', 0.5, 0, 1),
    end: field(r, 'end', 'rar.end', 0.75, 0, 1),
  };
  if (rar.end < rar.start) throw new SpecError('rar.end', `is ${rar.end}, before rar.start ${rar.start}`, 'Give an end at or after the start.');
  const epochs = num(o, 'epochs', 20, 1, 100_000, true);
  const spec: TrainGeneratorSpec = {
    tokenizerRunDir,
    arch: str(o, 'arch', 'raster', ['raster', 'rar'] as const),
    preset: str(o, 'preset', 'gpt-nano', GENERATOR_PRESET_NAMES),
    norm: str(o, 'norm', 'layer', ['layer', 'rms'] as const),
    epochs,
    batchSize: num(o, 'batchSize', 32, 1, 4096, true),
    lr: num(o, 'lr', 1e-3, 1e-7, 1),
    warmup: num(o, 'warmup', 100, 0, 10_000_000, true),
    weightDecay: num(o, 'weightDecay', 0.05, 0, 1),
    clip: num(o, 'clip', 1, 0, 1e6),
    classDropout: num(o, 'classDropout', 0.1, 0, 1),
    rar,
    ema: num(o, 'ema', 0, 0, 0.99999),
    seed: num(o, 'seed', 0, 0, 2 ** 32 - 1, true),
    checkpointEvery: num(o, 'checkpointEvery', 0, 0, 10_000_000, true),
    valLimit: num(o, 'valLimit', 512, 0, 10_000_000, true),
    workers: num(o, 'workers', 0, 0, 64, true),
  };
  return spec;
}

/**
 * A rough upper estimate of a generator training step's memory in bytes, and its largest part, for
 * `tokens` per image and a vocabulary of K codes: the logits with their softmax and gradient (B·L·K), the
 * attention maps of every layer (B·heads·L²), and the activations, at the largest preset's size (d 256,
 * 4 layers, 4 heads), so it holds for every preset.
 */
export function generatorMemoryEstimate(batchSize: number, tokens: number, K: number): { bytes: number; largest: string } {
  const L = tokens + 1, d = 256, layers = 4, heads = 4;
  const parts: [string, number][] = [
    ['logits', 4 * batchSize * L * K * 3],
    ['attention maps', 4 * batchSize * heads * L * L * layers * 3],
    ['activations', 4 * batchSize * L * d * 16 * layers * 2],
  ];
  return memoryEstimate(parts);
}

/** The refusal of a generator job that cannot fit (issue "Reliability", item 6), or null. */
export function generatorMemoryProblem(batchSize: number, tokens: number, K: number, limitGiB: number): SpecError | null {
  const est = generatorMemoryEstimate(batchSize, tokens, K);
  if (est.bytes <= limitGiB * 2 ** 30) return null;
  return new SpecError(
    'batchSize',
    `is ${batchSize}: with ${tokens} tokens per image and K = ${K} codes a training step needs ≈ ${(est.bytes / 2 ** 30).toFixed(1)} GiB (${est.largest}), more than the ${limitGiB} GiB a job may use`,
    'Lower batchSize (or raise the limit with TOKLAB_MAX_JOB_MEMORY_GIB on a backend with more memory than wasm’s 4 GiB)',
  );
}
