// Host-side knowledge of each job kind: which validator refuses a bad config before anything is
// queued, which host fields (dataset paths, output folders) it gets, and what happens on success.
import type { Dataset, JobKind, JsonObject, RunKind, RunSummary, StartJobRequest } from '../../preload/contract';
import { validateDatasetBuildSpec } from '../../engine/specs/dataset-build';
import { validateEvalGeneratorSpec } from '../../engine/specs/eval-generator';
import { DEFAULT_MIN_EXTRACTOR_ACCURACY, gridDeltaProblem, validateEvalTokenizerSpec } from '../../engine/specs/eval-tokenizer';
import { validateExtractTokensSpec } from '../../engine/specs/extract-tokens';
import { validateAddExtractorSpec, validateImportTokenizerSpec } from '../../engine/specs/import-onnx';
import { validatePosttrainSpec } from '../../engine/specs/posttrain';
import { validateTrainFeatureNetSpec } from '../../engine/specs/train-feature-net';
import { validateSampleSpec } from '../../engine/specs/sample';
import { validateSelftestSpec } from '../../engine/specs/selftest';
import { generatorMemoryProblem, validateTrainGeneratorSpec } from '../../engine/specs/train-generator';
import { DEFAULT_JOB_MEMORY_GIB, tokenizerMemoryProblem, validateTrainTokenizerSpec } from '../../engine/specs/train-tokenizer';
import { existsSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Repo } from './store/repo';

/** A job to queue first, or a run (already queued or running) to wait for. */
export type Prerequisite = StartJobRequest | { runId: number };

export interface PrepEnv {
  repo: Repo;
  home: string;
}

export interface PreparedJob {
  runKind: RunKind;
  spec: JsonObject;
  name: string;
  seed: number | null;
  datasetId: number | null;
  parentId: number | null;
}

interface JobPrep {
  runKind: RunKind;
  /** Validates (throws SpecError) and returns the full spec the engine gets. */
  prepare(spec: unknown, env: PrepEnv, req: StartJobRequest): Omit<PreparedJob, 'runKind' | 'name'> & { name?: string };
  /** What must finish first: jobs to queue ahead of this one, or runs already on their way. */
  prerequisites?(spec: unknown, env: PrepEnv): Prerequisite[];
  /** Called after the job succeeded, inside the host. */
  onDone?(run: RunSummary, result: JsonObject, env: PrepEnv): { dataset?: Dataset };
}

const asJson = (v: object): JsonObject => v as unknown as JsonObject;

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40) || 'dataset';

/** A free dataset name: the one asked for (refused if taken), or source-resolution[-n]. */
function datasetName(repo: Repo, o: Record<string, unknown>): string {
  if (typeof o.name === 'string' && o.name.trim()) {
    if (repo.datasetNameTaken(o.name.trim())) throw new Error(`name: a dataset named "${o.name.trim()}" already exists. Choose another name.`);
    return o.name.trim();
  }
  const src = o.source === 'folder' && typeof o.folder === 'string' ? slug(o.folder.split(/[\\/]/).filter(Boolean).pop() ?? 'folder') : String(o.source ?? 'shapes');
  const base = `${src}-${String(o.resolution ?? 32)}`;
  for (let i = 1; ; i++) {
    const n = i === 1 ? base : `${base}-${i}`;
    if (!repo.datasetNameTaken(n)) return n;
  }
}

/** The spec without the host-side reference keys (the engine's validators take only their own fields). */
function without(spec: unknown, ...keys: string[]): Record<string, unknown> {
  const o = { ...((spec ?? {}) as Record<string, unknown>) };
  for (const k of keys) delete o[k];
  return o;
}

/** A finished run of one of `kinds`, by id, with a message that says how to find the right one. */
export function resolveRun(repo: Repo, ref: unknown, kinds: RunKind[], what: string): RunSummary {
  const id = typeof ref === 'number' ? ref : typeof ref === 'string' && /^\d+$/.test(ref) ? Number(ref) : NaN;
  if (!Number.isInteger(id)) throw new Error(`${what}: give the id of a ${kinds.join(' or ')} run (see \`toklab runs list --kind ${kinds[0]}\`).`);
  const run = repo.getRun(id);
  if (!kinds.includes(run.kind)) throw new Error(`${what}: run ${id} is a ${run.kind} run, not a ${kinds.join(' or ')} run.`);
  if (run.status !== 'done') throw new Error(`${what}: run ${id} is ${run.status}; it must be done first.`);
  return run;
}

const runRel = (id: number): string => `runs/${id}`;

/** The dataset a run was made on (tokenizers record it; generators and evals inherit it). */
function datasetOfRun(repo: Repo, run: RunSummary): Dataset & { path: string } {
  if (run.datasetId === null) throw new Error(`run ${run.id} records no dataset; it cannot be evaluated against real images.`);
  return resolveDataset(repo, run.datasetId);
}

const pendingRun = (env: PrepEnv, kind: RunKind, match: (r: RunSummary) => boolean): RunSummary | undefined =>
  env.repo.listRuns({ kind }).find((r) => match(r) && (r.status === 'queued' || r.status === 'running'));

/** The dataset's feature network first, unless it exists; wait for one already on its way. */
function featureNetFirst(env: PrepEnv, d: Dataset & { path: string }): Prerequisite[] {
  if (existsSync(join(env.home, d.path, 'feature-net', 'meta.json'))) return [];
  const pending = pendingRun(env, 'feature-net', (r) => r.datasetId === d.id);
  return [pending ? { runId: pending.id } : { kind: 'train-feature-net', spec: { dataset: d.id } }];
}
const TOKENIZER_KINDS: RunKind[] = ['tokenizer', 'post-train'];
/** What can be evaluated: the lab's tokenizers and the ones imported through ONNX. */
const EVAL_TOKENIZER_KINDS: RunKind[] = ['tokenizer', 'post-train', 'external-tokenizer'];

const given = (v: unknown): boolean => v !== undefined && v !== null && v !== '';

/**
 * The dataset an evaluation runs on: the one asked for, else the tokenizer's own. An imported tokenizer
 * has none, so it must be given; its images must match the tokenizer's size and channels.
 */
function evalDataset(env: PrepEnv, tok: RunSummary, ref: unknown): Dataset & { path: string } {
  const m = tokenizerModel(env.home, tok.id) as { imageSize?: unknown; channels?: unknown } | null;
  let d: Dataset & { path: string };
  if (given(ref)) d = resolveDataset(env.repo, ref);
  else if (tok.kind === 'external-tokenizer')
    throw new Error(`dataset: run ${tok.id} is an imported tokenizer and has no dataset of its own; give the dataset to evaluate on (CLI: --dataset), with ${typeof m?.imageSize === 'number' ? `${m.imageSize} px` : 'its'} images.`);
  else d = datasetOfRun(env.repo, tok);
  if (m && typeof m.imageSize === 'number' && typeof m.channels === 'number' && (d.resolution !== m.imageSize || d.channels !== m.channels))
    throw new Error(`dataset: ${d.name} holds ${d.resolution} px images with ${d.channels} channel(s), but tokenizer ${tok.id} takes ${m.imageSize} px with ${m.channels}; pick a dataset at the tokenizer's size (import an ImageFolder at ${m.imageSize} px).`);
  return d;
}

/** The ONNX extractor an evaluation asks for (a done 'extractor' run), or null for the dataset's lab network. */
function evalExtractor(env: PrepEnv, ref: unknown, d: Dataset): RunSummary | null {
  if (given(ref)) return resolveRun(env.repo, ref, ['extractor'], 'extractor');
  if (d.resolution > LAB_NET_MAX_RESOLUTION)
    throw new Error(`extractor: dataset ${d.name} holds ${d.resolution} px images; the lab feature network is built for ${LAB_NET_MAX_RESOLUTION} px and below. Register a standard extractor (e.g. InceptionV3: docs/EXTRACTORS.md, \`toklab extractor add\`) and pass it (CLI: --extractor).`);
  return null;
}

/** The largest images the lab's own feature network is trained on; larger datasets need an ONNX extractor. */
const LAB_NET_MAX_RESOLUTION = 64;

/** Built-in datasets (shapes, MNIST) have feature networks the lab can vouch for; a user ImageFolder's may not reach 0.9. */
export function isBuiltInDataset(d: Pick<Dataset, 'source' | 'kind'>): boolean {
  return /^(builtin:)?(shapes|mnist)$/.test(d.source);
}

/**
 * The spec with the accuracy floor of the dataset's feature network filled in when the caller gave none:
 * 0.9 for built-in datasets, 0 for user ImageFolders (their classes may be hard to separate at all).
 */
function withAccuracyFloor(raw: unknown, d: (Pick<Dataset, 'source' | 'kind'>) | null): Record<string, unknown> {
  const o = { ...((raw ?? {}) as Record<string, unknown>) };
  if (o.minExtractorAccuracy === undefined) o.minExtractorAccuracy = d === null || isBuiltInDataset(d) ? builtInFloor() : 0;
  return o;
}

/** TOKLAB_MAX_JOB_MEMORY_GIB, or the default for the wasm backend. */
export function jobMemoryLimitGiB(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TOKLAB_MAX_JOB_MEMORY_GIB;
  if (v === undefined || v === '') return DEFAULT_JOB_MEMORY_GIB;
  const x = Number(v);
  if (!Number.isFinite(x) || x <= 0) throw new Error(`TOKLAB_MAX_JOB_MEMORY_GIB is "${v}": give a positive number of GiB, or unset it for the default ${DEFAULT_JOB_MEMORY_GIB}`);
  return x;
}

/**
 * The floor for built-in datasets: 0.9, or TOKLAB_MIN_EXTRACTOR_ACCURACY (a number in [0, 1]) for a lab
 * that knowingly works with a weaker extractor (tiny test datasets); every score still records the accuracy.
 */
export function builtInFloor(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TOKLAB_MIN_EXTRACTOR_ACCURACY;
  if (v === undefined || v === '') return DEFAULT_MIN_EXTRACTOR_ACCURACY;
  const x = Number(v);
  if (!Number.isFinite(x) || x < 0 || x > 1) throw new Error(`TOKLAB_MIN_EXTRACTOR_ACCURACY is "${v}": give a number from 0 to 1 (the lowest feature-network test accuracy an FID may come from), or unset it for the default ${DEFAULT_MIN_EXTRACTOR_ACCURACY}`);
  return x;
}

/** The codebook size K of a tokenizer run, from its config.json (the model config); null when unreadable. */
export function tokenizerK(home: string, runId: number): number | null {
  const m = tokenizerModel(home, runId);
  return typeof m?.K === 'number' ? m.K : null;
}

/** The model block of a tokenizer run's config.json, or null when unreadable. */
function tokenizerModel(home: string, runId: number): { K?: unknown; f?: unknown; imageSize?: unknown } | null {
  const file = join(home, runRel(runId), 'config.json');
  if (!existsSync(file)) return null;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { model?: { K?: unknown; f?: unknown; imageSize?: unknown } }).model ?? null;
  } catch {
    return null;
  }
}

/** Tokens per image and K of a tokenizer run, from its config.json; null when unreadable. */
export function tokenizerGrid(home: string, runId: number): { tokens: number; K: number } | null {
  const m = tokenizerModel(home, runId);
  if (typeof m?.K !== 'number' || typeof m.f !== 'number' || typeof m.imageSize !== 'number') return null;
  return { tokens: (m.imageSize / m.f) ** 2, K: m.K };
}

const PREPS: Partial<Record<JobKind, JobPrep>> = {
  'train-tokenizer': {
    runKind: 'tokenizer',
    prepare: (raw, env) => {
      const d = resolveDataset(env.repo, (raw as Record<string, unknown>).dataset);
      const s = validateTrainTokenizerSpec({ ...without(raw, 'dataset'), datasetPath: d.path });
      const tooBig = tokenizerMemoryProblem(s, d.resolution, jobMemoryLimitGiB());
      if (tooBig) throw tooBig;
      return { spec: asJson(s), seed: s.seed, datasetId: d.id, parentId: null, name: `${s.preset}${s.lp ? ' +LP' : ''} on ${d.name}` };
    },
  },
  'train-feature-net': {
    runKind: 'feature-net',
    prepare: (raw, env) => {
      const d = resolveDataset(env.repo, (raw as Record<string, unknown>).dataset);
      const s = validateTrainFeatureNetSpec({ ...without(raw, 'dataset'), datasetPath: d.path });
      return { spec: asJson(s), seed: s.seed, datasetId: d.id, parentId: null, name: `feature network of ${d.name}` };
    },
  },
  'eval-tokenizer': {
    runKind: 'eval',
    prerequisites: (raw, env) => {
      const o = (raw ?? {}) as Record<string, unknown>;
      const tok = resolveRun(env.repo, o.tokenizer, EVAL_TOKENIZER_KINDS, 'tokenizer');
      const d = evalDataset(env, tok, o.dataset);
      return evalExtractor(env, o.extractor, d) ? [] : featureNetFirst(env, d);
    },
    prepare: (raw, env) => {
      const o = (raw ?? {}) as Record<string, unknown>;
      const tok = resolveRun(env.repo, o.tokenizer, EVAL_TOKENIZER_KINDS, 'tokenizer');
      const d = evalDataset(env, tok, o.dataset);
      const ex = evalExtractor(env, o.extractor, d);
      // an external extractor has no accuracy on the dataset to hold to a floor
      const floored = ex ? { ...o, minExtractorAccuracy: o.minExtractorAccuracy ?? 0 } : withAccuracyFloor(raw, d);
      const s = validateEvalTokenizerSpec({ ...without(floored, 'tokenizer', 'dataset', 'extractor'), tokenizerRunDir: runRel(tok.id), datasetPath: d.path, extractorRunDir: ex ? runRel(ex.id) : '' });
      // a grid δ that is one code of this tokenizer's K perturbs nothing: refuse before queueing (the engine checks again)
      const K = tokenizerK(env.home, tok.id);
      const bad = K === null ? null : gridDeltaProblem(s, K);
      if (bad) throw bad;
      return { spec: asJson(s), seed: s.seed, datasetId: d.id, parentId: tok.id, name: `rFID/pFID of tokenizer ${tok.id}${ex ? ` (extractor ${ex.id})` : ''}` };
    },
  },
  'import-tokenizer': {
    runKind: 'external-tokenizer',
    prepare: (raw) => {
      const s = validateImportTokenizerSpec(raw);
      return { spec: asJson(s), seed: null, datasetId: null, parentId: null, name: s.name };
    },
  },
  'add-extractor': {
    runKind: 'extractor',
    prepare: (raw) => {
      const s = validateAddExtractorSpec(raw);
      return { spec: asJson(s), seed: null, datasetId: null, parentId: null, name: s.name };
    },
  },
  'eval-generator': {
    runKind: 'eval',
    prerequisites: (raw, env) => {
      const gen = resolveRun(env.repo, (raw as Record<string, unknown>).generator, ['generator'], 'generator');
      return featureNetFirst(env, datasetOfRun(env.repo, gen));
    },
    prepare: (raw, env) => {
      const o = raw as Record<string, unknown>;
      const gen = resolveRun(env.repo, o.generator, ['generator'], 'generator');
      const d = datasetOfRun(env.repo, gen);
      const dec = o.decoder === undefined || o.decoder === null ? null : resolveRun(env.repo, o.decoder, TOKENIZER_KINDS, 'decoder');
      const s = validateEvalGeneratorSpec({ ...without(withAccuracyFloor(raw, d), 'generator', 'decoder'), generatorRunDir: runRel(gen.id), decoderRunDir: dec ? runRel(dec.id) : '', datasetPath: d.path });
      return { spec: asJson(s), seed: s.seed, datasetId: d.id, parentId: gen.id, name: `gFID of generator ${gen.id}${dec ? ` decoded by ${dec.id}` : ''}` };
    },
  },
  posttrain: {
    runKind: 'post-train',
    prepare: (raw, env) => {
      const o = raw as Record<string, unknown>;
      const tok = resolveRun(env.repo, o.tokenizer, ['tokenizer'], 'tokenizer');
      const gen = resolveRun(env.repo, o.generator, ['generator'], 'generator');
      if (gen.parentId !== tok.id) throw new Error(`generator: run ${gen.id} was trained on tokenizer ${gen.parentId}, not ${tok.id}; post-training needs a generator of this tokenizer.`);
      const d = tok.datasetId === null ? null : resolveDataset(env.repo, tok.datasetId);
      const s = validatePosttrainSpec({ ...without(withAccuracyFloor(raw, d), 'tokenizer', 'generator'), tokenizerRunDir: runRel(tok.id), generatorRunDir: runRel(gen.id) });
      return { spec: asJson(s), seed: s.seed, datasetId: tok.datasetId, parentId: tok.id, name: `post-trained decoder of ${tok.id} (σ ${s.sigma}, generator ${gen.id})` };
    },
  },
  'extract-tokens': {
    runKind: 'tokens',
    prepare: (raw, env) => {
      const tok = resolveRun(env.repo, (raw as Record<string, unknown>).tokenizer, TOKENIZER_KINDS, 'tokenizer');
      const s = validateExtractTokensSpec({ ...without(raw, 'tokenizer'), tokenizerRunDir: runRel(tok.id) });
      return { spec: asJson(s), seed: null, datasetId: tok.datasetId, parentId: tok.id, name: `tokens of run ${tok.id}` };
    },
  },
  'train-generator': {
    runKind: 'generator',
    prerequisites: (raw, env) => {
      const tok = resolveRun(env.repo, (raw as Record<string, unknown>).tokenizer, TOKENIZER_KINDS, 'tokenizer');
      if (existsSync(join(env.home, runRel(tok.id), 'tokens', 'meta.json'))) return [];
      const pending = pendingRun(env, 'tokens', (r) => r.parentId === tok.id);
      return [pending ? { runId: pending.id } : { kind: 'extract-tokens', spec: { tokenizer: tok.id } }];
    },
    prepare: (raw, env) => {
      const tok = resolveRun(env.repo, (raw as Record<string, unknown>).tokenizer, TOKENIZER_KINDS, 'tokenizer');
      const s = validateTrainGeneratorSpec({ ...without(raw, 'tokenizer'), tokenizerRunDir: runRel(tok.id) });
      const shape = tokenizerGrid(env.home, tok.id);
      const tooBig = shape && generatorMemoryProblem(s.batchSize, shape.tokens, shape.K, jobMemoryLimitGiB());
      if (tooBig) throw tooBig;
      return { spec: asJson(s), seed: s.seed, datasetId: tok.datasetId, parentId: tok.id, name: `${s.arch} ${s.preset} on tokenizer ${tok.id}` };
    },
  },
  sample: {
    runKind: 'sample',
    prepare: (raw, env) => {
      const gen = resolveRun(env.repo, (raw as Record<string, unknown>).generator, ['generator'], 'generator');
      const s = validateSampleSpec({ ...without(raw, 'generator'), generatorRunDir: runRel(gen.id) });
      return { spec: asJson(s), seed: null, datasetId: gen.datasetId, parentId: gen.id, name: `gallery of generator ${gen.id}` };
    },
  },
  'dataset-build': {
    runKind: 'dataset',
    prepare: (raw, env) => {
      const o = { ...(raw as Record<string, unknown>) };
      o.name = datasetName(env.repo, o);
      o.outDir = join(env.home, 'datasets', `${slug(String(o.name))}-${Date.now().toString(36)}`);
      const s = validateDatasetBuildSpec(o);
      return { spec: asJson(s), seed: s.seed, datasetId: null, parentId: null, name: `dataset ${s.name}` };
    },
    onDone: (run, result, env) => {
      const r = result as Record<string, unknown> & { classes: string[]; dir: string; name: string };
      const dataset = env.repo.createDataset({
        name: r.name,
        kind: String(r.kind),
        source: String(r.source),
        resolution: Number(r.resolution),
        channels: Number(r.channels),
        numClasses: r.classes.length,
        trainN: Number(r.train),
        valN: Number(r.val),
        path: relative(env.home, r.dir).split('\\').join('/'),
        runId: run.id,
        meta: { classes: r.classes, classCounts: result.classCounts, skipped: result.skipped, skippedCount: result.skippedCount, resize: result.resize, previews: result.previews },
      });
      return { dataset };
    },
  },
  selftest: {
    runKind: 'selftest',
    prepare: (spec) => {
      const s = validateSelftestSpec(spec);
      return { spec: asJson(s), seed: s.seed, datasetId: null, parentId: null };
    },
  },
};

export function registerJobPrep(kind: JobKind, prep: JobPrep): void {
  PREPS[kind] = prep;
}

export function jobPrep(kind: JobKind): JobPrep {
  const p = PREPS[kind];
  if (!p) throw new Error(`"${kind}" jobs are not available in this version of toklab.`);
  return p;
}

export function prepareJob(req: StartJobRequest, env: PrepEnv): PreparedJob {
  const p = jobPrep(req.kind);
  const out = p.prepare(req.spec, env, req);
  const stamp = new Date().toISOString().replace('T', ' ').slice(0, 16);
  return { runKind: p.runKind, ...out, parentId: req.parentId ?? out.parentId, name: req.name ?? out.name ?? `${req.kind} ${stamp}` };
}

/** Looks a dataset up by id or name, with a message that says how to find the right one. */
export function resolveDataset(repo: Repo, ref: unknown): Dataset & { path: string } {
  if (typeof ref !== 'string' && typeof ref !== 'number')
    throw new Error('dataset: missing. Give a dataset id or name (see `toklab datasets list`).');
  const d = repo.findDataset(ref);
  if (!d) throw new Error(`dataset: there is no dataset "${ref}". Add one with \`toklab datasets add shapes\` or pick one from \`toklab datasets list\`.`);
  return d;
}
