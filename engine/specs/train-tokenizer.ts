// Spec of the VQ tokenizer training job (METHOD §1–2, with optional latent perturbation) and its
// validator. Pure TypeScript: the host checks a config with the same code before queueing it.
import { TOKENIZER_PRESETS, TOKENIZER_PRESET_NAMES } from '../models/tokenizer-presets';
import { SpecError, asObject, memoryEstimate, bool, num, str } from './errors';
import { roundTimes } from '../train/schedules';

/** Latent perturbation knobs (METHOD §2); engine/perturb.ts uses this type as its LpKnobs. */
export interface LpSpec {
  /** α: chance that a token becomes a candidate (or the share of tokens, 'exact'). */
  alpha: number;
  /** β: share of the batch's images that are perturbed (the first ⌊B·β⌋). */
  beta: number;
  /** δ: number of nearest codes a candidate draws from, absolute or as a share of K. */
  delta: number;
  deltaMode: 'abs' | 'share';
  /** Draw from ranks 0..δ−1 (true, reference code) or 1..δ−1 (false). */
  includeSelf: boolean;
  /** 'bernoulli' per token (reference) or 'exact': round(α·h·w) tokens per image (paper). */
  selection: 'bernoulli' | 'exact';
  /** Rank codes by distance to the latent z_t (reference) or to the chosen code e_k (paper). */
  anchor: 'z' | 'code';
}

/** δ as a whole number of codes in [1, K]: a share maps to round(share·K) (exact decimal product), an absolute δ to itself. */
export function deltaCodes(delta: number, deltaMode: 'abs' | 'share', K: number): number {
  const d = deltaMode === 'share' ? roundTimes(K, delta) : Math.round(delta);
  return Math.min(K, Math.max(1, d));
}

/**
 * The refusal of a δ that resolves to fewer than 2 codes: a candidate then draws only its own code,
 * so LP (or a pFID cell) perturbs nothing. null when δ is fine.
 */
export function deltaProblem(field: string, delta: number, deltaMode: 'abs' | 'share', K: number): SpecError | null {
  const codes = deltaCodes(delta, deltaMode, K);
  if (codes >= 2) return null;
  if (deltaMode === 'abs')
    return new SpecError(field, `is ${delta} code: a token can only draw its own code, so it perturbs nothing`, 'Use δ ≥ 2 codes, or a share of K (e.g. delta=2%).');
  return new SpecError(
    field,
    `is ${delta} of K = ${K}, which is ${codes} code: a cell with one code perturbs nothing`,
    `Use δ ≥ 2/K (${Number((2 / K).toPrecision(3))} of K = ${K}) or absolute codes (deltaMode "abs", δ ≥ 2).`,
  );
}

export interface AnnealSpec {
  start: number;
  end: number;
  endRatio: number;
  /** start/end as 'fraction' of the epochs (default) or absolute 'epoch' numbers. */
  unit: 'fraction' | 'epoch';
}

export interface TokenizerOverrides {
  K?: number;
  D?: number;
  f?: 2 | 4 | 8;
  widths?: number[];
  resBlocks?: number[];
  norm?: 'group' | 'none';
  groups?: number;
  act?: 'silu' | 'relu';
  upsample?: 'nearest' | 'transpose';
  codebookNorm?: 'l2' | 'none';
  betaCommit?: number;
}

export interface TrainTokenizerSpec {
  /** Packed dataset folder relative to the lab home (the host fills it). */
  datasetPath: string;
  preset: string;
  overrides: TokenizerOverrides;
  epochs: number;
  batchSize: number;
  /** Peak learning rate after warmup; cosine to minLr at the end. */
  lr: number;
  minLr: number;
  /** Warmup in optimizer steps. */
  warmup: number;
  optimizer: 'adam' | 'adamw';
  weightDecay: number;
  /** Global gradient-norm clip (0 = off). */
  clip: number;
  /** EMA decay of the evaluation weights (0 = no EMA). */
  emaDecay: number;
  seed: number;
  /** Random horizontal flips of training images. */
  flip: boolean;
  /** Latent perturbation during training, or null for a plain VQ tokenizer. */
  lp: LpSpec | null;
  /** Annealing of α and δ over epochs (needs lp), or null for constant knobs. */
  anneal: AnnealSpec | null;
  /** Restart codes unused during an epoch from random encoder outputs. */
  deadCodeRestart: boolean;
  /** Use only the first N training / validation images (0 = all), for tiny runs. */
  trainLimit: number;
  valLimit: number;
  /** Save every N steps (0 = end of run and on cancel only). */
  checkpointEvery: number;
  /** Write reconstruction grids every N epochs (0 = only at the end). */
  sampleEvery: number;
  /** Read losses every N steps. */
  logEvery: number;
  /**
   * Data-parallel workers (worker threads, one backend each) that split every batch; 0 = auto (this
   * engine's share of the cores). 1 trains in the engine's own thread. Same result within float rounding.
   */
  workers: number;
}

type Obj = Record<string, unknown>;

function sub(o: Obj, key: string, field: string, def: number, min: number, max: number, integer = false): number {
  return num({ [field]: o[key] }, field, def, min, max, integer);
}

function intList(o: Obj, key: string, min: number, max: number): number[] | undefined {
  const v = o[key];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.length === 0) throw new SpecError(`overrides.${key}`, 'must be a non-empty list of whole numbers', 'Give e.g. [16, 32, 64].');
  return v.map((x, i) => sub({ x }, 'x', `overrides.${key}[${i}]`, 0, min, max, true));
}

function validateOverrides(o: Obj): TokenizerOverrides {
  const out: TokenizerOverrides = {};
  if (o.K !== undefined) out.K = sub(o, 'K', 'overrides.K', 0, 2, 65536, true);
  if (o.D !== undefined) out.D = sub(o, 'D', 'overrides.D', 0, 1, 512, true);
  if (o.f !== undefined) {
    const f = sub(o, 'f', 'overrides.f', 0, 2, 8, true);
    if (f !== 2 && f !== 4 && f !== 8) throw new SpecError('overrides.f', `is ${f}`, 'Use 2, 4 or 8.');
    out.f = f;
  }
  const widths = intList(o, 'widths', 1, 1024);
  if (widths) out.widths = widths;
  const rb = intList(o, 'resBlocks', 0, 8);
  if (rb) out.resBlocks = rb;
  const pick = <T extends string>(key: string, def: T, allowed: readonly T[]): T => str({ [`overrides.${key}`]: o[key] }, `overrides.${key}`, def, allowed);
  if (o.norm !== undefined) out.norm = pick('norm', 'group', ['group', 'none'] as const);
  if (o.groups !== undefined) out.groups = sub(o, 'groups', 'overrides.groups', 8, 1, 64, true);
  if (o.act !== undefined) out.act = pick('act', 'silu', ['silu', 'relu'] as const);
  if (o.upsample !== undefined) out.upsample = pick('upsample', 'nearest', ['nearest', 'transpose'] as const);
  if (o.codebookNorm !== undefined) out.codebookNorm = pick('codebookNorm', 'l2', ['l2', 'none'] as const);
  if (o.betaCommit !== undefined) out.betaCommit = sub(o, 'betaCommit', 'overrides.betaCommit', 0.25, 0, 10);
  const known = new Set(['K', 'D', 'f', 'widths', 'resBlocks', 'norm', 'groups', 'act', 'upsample', 'codebookNorm', 'betaCommit']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new SpecError(`overrides.${k}`, 'is not a tokenizer setting', `Use one of: ${[...known].join(', ')}.`);
  if (out.widths && out.resBlocks && out.widths.length !== out.resBlocks.length) throw new SpecError('overrides.resBlocks', `has ${out.resBlocks.length} entries, widths has ${out.widths.length}`, 'Give one entry per resolution level.');
  return out;
}

/** K is the codebook size of the tokenizer being trained: a share-of-K δ must come to at least 2 codes. */
function validateLp(v: unknown, K: number): LpSpec | null {
  if (v === null || v === undefined || v === false) return null;
  const o = asObject(v, 'lp');
  const deltaMode = str({ 'lp.deltaMode': o.deltaMode }, 'lp.deltaMode', 'share', ['abs', 'share'] as const);
  const delta = deltaMode === 'share' ? sub(o, 'delta', 'lp.delta', 0.024, 0, 1) : sub(o, 'delta', 'lp.delta', 100, 1, 65536, true);
  const bad = deltaProblem('lp.delta', delta, deltaMode, K);
  if (bad) throw bad;
  return {
    alpha: sub(o, 'alpha', 'lp.alpha', 1, 0, 1),
    beta: sub(o, 'beta', 'lp.beta', 0.1, 0, 1),
    delta,
    deltaMode,
    includeSelf: bool({ 'lp.includeSelf': o.includeSelf }, 'lp.includeSelf', true),
    selection: str({ 'lp.selection': o.selection }, 'lp.selection', 'bernoulli', ['bernoulli', 'exact'] as const),
    anchor: str({ 'lp.anchor': o.anchor }, 'lp.anchor', 'z', ['z', 'code'] as const),
  };
}

function validateAnneal(v: unknown, epochs: number): AnnealSpec | null {
  if (v === null || v === undefined || v === false) return null;
  const o = asObject(v, 'anneal');
  const unit = str({ 'anneal.unit': o.unit }, 'anneal.unit', 'fraction', ['fraction', 'epoch'] as const);
  const max = unit === 'fraction' ? 1 : epochs;
  const start = sub(o, 'start', 'anneal.start', unit === 'fraction' ? 0.2 : Math.round(0.2 * epochs), 0, max);
  const end = sub(o, 'end', 'anneal.end', unit === 'fraction' ? 0.6 : Math.round(0.6 * epochs), 0, max);
  if (end <= start) throw new SpecError('anneal.end', `is ${end}, not after anneal.start ${start}`, 'Give an end later than the start (reference: start 0.2, end 0.6 of training).');
  return { start, end, endRatio: sub(o, 'endRatio', 'anneal.endRatio', 0.5, 0, 1), unit };
}

export function validateTrainTokenizerSpec(input: unknown): TrainTokenizerSpec {
  const o = asObject(input ?? {});
  const datasetPath = str(o, 'datasetPath', '');
  if (!datasetPath) throw new SpecError('datasetPath', 'is empty', 'Pick a built dataset to train on.');
  const preset = str(o, 'preset', 'vq-f4-k256', TOKENIZER_PRESET_NAMES);
  const overrides = validateOverrides(asObject(o.overrides ?? {}, 'overrides'));
  const f = overrides.f ?? TOKENIZER_PRESETS[preset].f;
  const levels = Math.log2(f) + 1;
  for (const key of ['widths', 'resBlocks'] as const) {
    const list = overrides[key];
    if (list && list.length !== levels) throw new SpecError(`overrides.${key}`, `has ${list.length} entries, f = ${f} needs ${levels}`, 'Give one entry per resolution level (full resolution first).');
  }
  const epochs = num(o, 'epochs', 10, 1, 100_000, true);
  const lp = validateLp(o.lp, overrides.K ?? TOKENIZER_PRESETS[preset].K);
  const anneal = validateAnneal(o.anneal, epochs);
  if (anneal && !lp) throw new SpecError('anneal', 'is set but lp is off', 'Turn latent perturbation on, or remove the annealing.');
  const lr = num(o, 'lr', 1e-3, 1e-7, 1);
  return {
    datasetPath,
    preset,
    overrides,
    epochs,
    batchSize: num(o, 'batchSize', 32, 1, 4096, true),
    lr,
    minLr: num(o, 'minLr', lr * 0.1, 0, lr),
    warmup: num(o, 'warmup', 100, 0, 10_000_000, true),
    optimizer: str(o, 'optimizer', 'adamw', ['adam', 'adamw'] as const),
    weightDecay: num(o, 'weightDecay', 1e-4, 0, 1),
    clip: num(o, 'clip', 1, 0, 1e6),
    emaDecay: num(o, 'emaDecay', 0.999, 0, 0.999999),
    seed: num(o, 'seed', 0, 0, 0xffffffff, true),
    flip: bool(o, 'flip', false),
    lp,
    anneal,
    deadCodeRestart: bool(o, 'deadCodeRestart', true),
    trainLimit: num(o, 'trainLimit', 0, 0, 10_000_000, true),
    valLimit: num(o, 'valLimit', 0, 0, 10_000_000, true),
    checkpointEvery: num(o, 'checkpointEvery', 500, 0, 10_000_000, true),
    sampleEvery: num(o, 'sampleEvery', 1, 0, 100_000, true),
    logEvery: num(o, 'logEvery', 10, 1, 100_000, true),
    workers: num(o, 'workers', 0, 0, 64, true),
  };
}

/** The most one training job may need by the estimate below: wasm32 addresses 4 GiB, and tfjs needs headroom. */
export const DEFAULT_JOB_MEMORY_GIB = 3;

/**
 * A rough upper estimate of a tokenizer training step's memory in bytes, and its largest part: every conv
 * output of encoder and decoder kept for the backward pass with its activation and gradient, the
 * quantizer's distance rows (B·tokens·K), and four copies of the parameters (weights, gradients, Adam).
 */
export function tokenizerMemoryEstimate(spec: Pick<TrainTokenizerSpec, 'preset' | 'overrides' | 'batchSize'>, resolution: number): { bytes: number; largest: string } {
  const c = { ...TOKENIZER_PRESETS[spec.preset], ...spec.overrides };
  const B = spec.batchSize;
  let acts = 0, params = 0;
  c.widths.forEach((w, i) => {
    const side = resolution / 2 ** i;
    const convs = 2 + 2 * (c.resBlocks[i] ?? 0);
    acts += side * side * w * convs * 2; // encoder and decoder
    params += convs * 9 * w * w * 2;
  });
  const tokens = (resolution / c.f) ** 2;
  const parts: [string, number][] = [
    ['activations', 4 * B * acts * 3 * 2],
    ['quantizer distances', 4 * B * tokens * c.K * 3],
    ['parameters and optimizer state', 4 * (params + c.K * c.D) * 4],
  ];
  return memoryEstimate(parts);
}

/** The refusal of a tokenizer job that cannot fit (issue "Reliability", item 6), or null. */
export function tokenizerMemoryProblem(spec: TrainTokenizerSpec, resolution: number, limitGiB = DEFAULT_JOB_MEMORY_GIB): SpecError | null {
  const est = tokenizerMemoryEstimate(spec, resolution);
  if (est.bytes <= limitGiB * 2 ** 30) return null;
  return new SpecError(
    'batchSize',
    `with ${spec.preset}${Object.keys(spec.overrides).length ? ' and its overrides' : ''} at ${resolution} px, a training step needs ≈ ${(est.bytes / 2 ** 30).toFixed(1)} GiB (${est.largest}), more than the ${limitGiB} GiB a job may use`,
    'Lower batchSize, the widths or K (or raise the limit with TOKLAB_MAX_JOB_MEMORY_GIB on a backend with more memory than wasm’s 4 GiB)',
  );
}
