// The headless study of METHOD.md §7 on a built-in dataset (shapes or MNIST): a lab feature network
// trained until it plateaus, a tokenizer zoo with and without latent perturbation (±LP pairs on
// several seeds), rFID + pFID grids, raster and RAR generators, gFID and sample accuracy with and
// without CFG, then ρ(pFID, gFID) against ρ(rFID, gFID) over the study's own runs at one protocol.
// Every step is a normal queued job, tagged so that a second `toklab study` reuses what finished.
import { createHash } from 'node:crypto';
import type { CorrelationResult, JsonObject, RunDetail, RunSummary, StartJobRequest } from '../../preload/contract';
import type { Lab } from './lab';
import { duration } from '../../preload/progress';
import { writeStudyReport, type StudyData } from '../report/study-report';

export interface TokenizerPlan {
  /** Recipe key; ±LP partners share `pair`. */
  key: string;
  /** The ±LP pair this recipe belongs to (same recipe, LP on or off), or null. */
  pair: string | null;
  preset: string;
  /** Optimizer steps (turned into whole epochs of the training split). */
  steps: number;
  lp: JsonObject | null;
  anneal: JsonObject | null;
  seeds: number[];
}

export interface GeneratorPlan {
  arch: 'raster' | 'rar';
  preset: string;
  steps: number;
  /** Train on every tokenizer run, or only on each recipe's first seed. */
  tokenizers: 'all' | 'first-seed';
}

export interface StudyPlan {
  name: string;
  dataset: { source: 'shapes' | 'mnist'; resolution: 16 | 32; trainCount: number; valCount: number; seed: number };
  featureNet: { minSteps: number; maxSteps: number; evalEvery: number; patience: number };
  tokenizers: TokenizerPlan[];
  batchSize: number;
  lr: number;
  /** δ in codes, the same for every K, so all tokenizers share one pFID protocol. */
  sweep: { alphas: number[]; deltas: number[]; n: number };
  generators: GeneratorPlan[];
  gfid: { cfgScales: number[]; nPerClass: number };
  gates: { extractorAccuracy: number; reconAccuracy: number; bestReconAccuracy: number; sampleAccuracy: number };
  /** The accuracy floor the evaluations enforce (0 lets a plumbing check finish with a weak extractor; the gates still say so). */
  minExtractorAccuracy: number;
}

const LP = (delta: number): JsonObject => ({ alpha: 1, beta: 0.1, delta, deltaMode: 'abs' });
const ANNEAL = { start: 0.2, end: 0.6, endRatio: 0.5 };

function pairOf(key: string, preset: string, steps: number, delta: number, seeds: number[]): TokenizerPlan[] {
  return [
    { key, pair: key, preset, steps, lp: null, anneal: null, seeds },
    { key: `${key}-lp`, pair: key, preset, steps, lp: LP(delta), anneal: { ...ANNEAL }, seeds },
  ];
}

const GATES = { extractorAccuracy: 0.9, reconAccuracy: 0.6, bestReconAccuracy: 0.9, sampleAccuracy: 0.3 };

export const STUDY_PLANS: Record<string, StudyPlan> = {
  /** A couple of minutes: checks the plumbing only; its gates say it is too small to conclude from. */
  smoke: {
    name: 'smoke',
    dataset: { source: 'shapes', resolution: 16, trainCount: 300, valCount: 100, seed: 0 },
    featureNet: { minSteps: 0, maxSteps: 60, evalEvery: 30, patience: 1 },
    tokenizers: [...pairOf('k64', 'vq-f2-k64', 20, 4, [0]), { key: 'k256', pair: null, preset: 'vq-f2-k256', steps: 20, lp: null, anneal: null, seeds: [0] }],
    batchSize: 32,
    lr: 2e-3,
    sweep: { alphas: [0.5, 0.9], deltas: [4], n: 100 },
    generators: [{ arch: 'raster', preset: 'gpt-nano', steps: 10, tokenizers: 'all' }],
    gfid: { cfgScales: [0, 2], nPerClass: 10 },
    gates: GATES,
    minExtractorAccuracy: 0,
  },
  /**
   * About 25 minutes on 2 cores (two engines). The extractor reaches ≈ 0.98 and the long-trained best
   * tokenizer (vq-f2w-k4096, 4,000 steps) ≈ 28 dB with reconstruction class accuracy ≈ 0.92; one ±LP pair on
   * two seeds. Generators at this budget stay near chance whatever their steps, so they get few, and the
   * gates say so (docs/STUDY.md).
   */
  quick: {
    name: 'quick',
    dataset: { source: 'shapes', resolution: 16, trainCount: 2000, valCount: 400, seed: 0 },
    featureNet: { minSteps: 1500, maxSteps: 1750, evalEvery: 250, patience: 2 },
    tokenizers: [
      ...pairOf('k256', 'vq-f2-k256', 1000, 4, [0, 1]),
      { key: 'k64', pair: null, preset: 'vq-f2-k64', steps: 1000, lp: null, anneal: null, seeds: [0] },
      { key: 'k256-short', pair: null, preset: 'vq-f2-k256', steps: 250, lp: null, anneal: null, seeds: [0] },
      { key: 'k4096', pair: null, preset: 'vq-f2w-k4096', steps: 4000, lp: null, anneal: null, seeds: [0] },
    ],
    batchSize: 32,
    lr: 2e-3,
    sweep: { alphas: [0.3, 0.6, 0.9], deltas: [4, 8], n: 400 },
    generators: [
      { arch: 'raster', preset: 'gpt-nano', steps: 50, tokenizers: 'all' },
      { arch: 'rar', preset: 'gpt-nano', steps: 50, tokenizers: 'first-seed' },
    ],
    gfid: { cfgScales: [0, 2], nPerClass: 20 },
    gates: GATES,
    minExtractorAccuracy: 0.9,
  },
  /**
   * The smallest run worth reading: 32 px, 10k images, three ±LP pairs on two seeds. Estimated at about
   * 2.5 hours on 2 cores from the quick plan's measured step costs (docs/STUDY.md); not yet run end to end.
   */
  standard: {
    name: 'standard',
    dataset: { source: 'shapes', resolution: 32, trainCount: 10000, valCount: 2000, seed: 0 },
    featureNet: { minSteps: 600, maxSteps: 2000, evalEvery: 200, patience: 2 },
    tokenizers: [
      ...pairOf('k64', 'vq-f4-k64', 1500, 8, [0, 1]),
      ...pairOf('k256', 'vq-f4-k256', 1500, 8, [0, 1]),
      ...pairOf('k1024', 'vq-f4-k1024', 1500, 8, [0, 1]),
      { key: 'k256-short', pair: null, preset: 'vq-f4-k256', steps: 400, lp: null, anneal: null, seeds: [0] },
    ],
    batchSize: 32,
    lr: 2e-3,
    sweep: { alphas: [0.5, 0.7, 0.9], deltas: [4, 8, 16], n: 2000 },
    generators: [
      { arch: 'raster', preset: 'gpt-nano', steps: 1500, tokenizers: 'all' },
      { arch: 'rar', preset: 'gpt-nano', steps: 1500, tokenizers: 'first-seed' },
    ],
    gfid: { cfgScales: [0, 1.5, 3], nPerClass: 100 },
    gates: GATES,
    minExtractorAccuracy: 0.9,
  },
};

/** The plan run on another built-in dataset (`--dataset mnist`): same zoo, MNIST digits at the plan's size. */
export function planFor(name: string, dataset: 'shapes' | 'mnist' = 'shapes'): StudyPlan {
  const base = STUDY_PLANS[name];
  if (!base) throw new Error(`unknown study plan "${name}"; use one of ${Object.keys(STUDY_PLANS).join(', ')}`);
  if (dataset === 'shapes') return base;
  // MNIST ships ~10k digits: the split is a share, and grey images train no faster, so keep the budget
  return { ...base, dataset: { ...base.dataset, source: 'mnist' } };
}

type Log = (line: string) => void;

/** One tokenizer run of the study with everything measured on it. */
export interface StudyTokenizerRun {
  key: string;
  seed: number;
  plan: TokenizerPlan;
  run: RunDetail;
  evalRun: RunDetail;
}

export interface StudyGeneratorRun {
  key: string;
  seed: number;
  arch: 'raster' | 'rar';
  tokenizerRunId: number;
  run: RunSummary;
  evalRun: RunDetail;
}

/** Chains with their plan index, longest tokenizer budget first (plan order among equals). */
export function longestFirst<C extends { t: { steps: number } }>(chains: C[]): (C & { i: number })[] {
  return chains.map((c, i) => ({ ...c, i })).sort((a, b) => b.t.steps - a.t.steps || a.i - b.i);
}

/** Runs (or resumes) the study and writes its report under exports/. */
/** Thrown for a step a partial run (`only`) may not start and that is not done in this lab home. */
class NotSelected extends Error {
  constructor(readonly step: string) {
    super(`study step ${step} is not done in this lab home, and this run is limited to other steps: import the lab home of the task that runs it first`);
  }
}

export interface StudyOptions {
  /**
   * Run only the steps this accepts (a Slurm task runs one chain's steps); other steps are used when
   * done here (imported from the tasks that ran them), and the chains that need a missing one stop.
   * A partial run writes no report and computes no correlations.
   */
  only?: (step: string) => boolean;
  /** Start nothing: every step must be done here already (after `toklab slurm collect`); a missing one is named. */
  reuseOnly?: boolean;
}

/** The step names of one tokenizer chain of a plan: `tokenizer-k64-s0`, then its eval, generators and gFID. */
export function studySteps(plan: StudyPlan): { prep: string[]; tokenizers: { key: string; seed: number; train: string; rest: string[] }[] } {
  return {
    prep: ['dataset', 'feature-net'],
    tokenizers: plan.tokenizers.flatMap((t) =>
      t.seeds.map((seed) => {
        const gens = plan.generators.filter((g) => g.tokenizers === 'all' || seed === t.seeds[0]);
        return {
          key: t.key,
          seed,
          train: `tokenizer-${t.key}-s${seed}`,
          rest: [`eval-${t.key}-s${seed}`, ...gens.flatMap((g) => [`generator-${t.key}-s${seed}-${g.arch}`, `gfid-${t.key}-s${seed}-${g.arch}`])],
        };
      }),
    ),
  };
}

export async function runStudy(lab: Lab, plan: StudyPlan, log: Log, opts: StudyOptions = {}): Promise<StudyData> {
  const selected = opts.only ?? ((): boolean => !opts.reuseOnly);
  const partial = opts.only !== undefined;
  const t0 = Date.now();
  const id = `${plan.name}:${plan.dataset.source}`;
  const ds = plan.dataset;
  const dsName = ds.source === 'shapes' ? `study-shapes-${ds.resolution}-${ds.trainCount}` : `study-mnist-${ds.resolution}`;
  // A step's identity is (study, step, hash of the job's spec), recorded in study_steps: a changed plan
  // reruns the steps it changed, and no tag edit can hide a finished step from a resume. The tags are
  // only labels for the Runs page.
  // The hash names other steps by step, not by run or dataset id: ids change when a lab is imported
  // (`toklab import`, `toklab slurm collect`), and the merged lab must still find every step.
  const stepOfRun = new Map<number, string>();
  const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex').slice(0, 10);
  const canonical = (spec: JsonObject): JsonObject => {
    const out: JsonObject = { ...spec };
    if (typeof spec.dataset === 'number') out.dataset = `dataset:${dsName}`;
    for (const k of ['tokenizer', 'generator'] as const) {
      const v = spec[k];
      if (typeof v === 'number') {
        const ref = stepOfRun.get(v);
        if (!ref) throw new Error(`study step refers to run ${v}, which is not a step of this study`);
        out[k] = `step:${ref}`;
      }
    }
    return out;
  };
  const specHash = (req: StartJobRequest): string => sha([req.kind, canonical(req.spec)]);
  /** The hash studies begun before study_steps tagged their runs with (raw ids). */
  const legacyHash = (req: StartJobRequest): string => sha([req.kind, req.spec]);
  let submitted = 0;
  let finished = 0;
  const usable = (r: RunSummary): boolean => r.status === 'done' || r.status === 'queued' || r.status === 'running';
  /** Queues the step (or finds it done or on its way) without waiting for it. */
  const submit = async (step: string, req: StartJobRequest): Promise<{ run: RunSummary; reused: boolean }> => {
    submitted++;
    const hash = specHash(req);
    const recorded = lab.repo.studyStep(id, step, hash);
    let prior = recorded !== null ? lab.repo.getRun(recorded) : undefined;
    if (!prior || !usable(prior)) {
      // studies begun before study_steps existed found their steps by this tag: adopt such a run once
      const oldTag = `study:${id}:${step}#${legacyHash(req)}`;
      const legacy = (await lab.listRuns({ tag: oldTag })).find((r) => usable(r) && r.tags.includes(oldTag));
      if (legacy) lab.repo.setStudyStep(id, step, hash, legacy.id);
      prior = legacy ?? (prior && usable(prior) ? prior : undefined);
    }
    if (prior && usable(prior)) return { run: prior, reused: prior.status === 'done' };
    if (!selected(step)) throw new NotSelected(step);
    // a step whose run was interrupted (a crash, a killed task) or cancelled continues from its checkpoint
    if (recorded !== null) {
      const stopped = lab.repo.getRun(recorded);
      if (stopped.status === 'interrupted' || stopped.status === 'cancelled') {
        log(`resuming: ${step} (run ${stopped.id}, ${stopped.status})`);
        return { run: await lab.resumeRun(stopped.id), reused: false };
      }
    }
    const run = await lab.startJob({ ...req, name: `study ${plan.name} · ${step}` });
    lab.repo.setStudyStep(id, step, hash, run.id);
    await lab.setRunTags(run.id, ['study', `study:${id}`]);
    return { run, reused: false };
  };
  const finish = async (step: string, queued: { run: RunSummary; reused: boolean }): Promise<RunSummary> => {
    const final = await lab.waitForRun(queued.run.id);
    if (final.status !== 'done') throw new Error(`study step ${step} (run ${final.id}) ended ${final.status}: ${final.error ?? ''}`);
    stepOfRun.set(final.id, step);
    finished++;
    log(`${queued.reused ? 'reused' : 'done'}: ${step} (run ${final.id}) · ${finished}/${submitted} steps so far · ${duration((Date.now() - t0) / 1000)} elapsed`);
    return final;
  };
  const ensure = async (step: string, req: StartJobRequest): Promise<RunSummary> => finish(step, await submit(step, req));

  let dataset = (await lab.listDatasets()).find((d) => d.name === dsName);
  if (!dataset) {
    const spec: JsonObject = ds.source === 'shapes' ? { source: 'shapes', name: dsName, resolution: ds.resolution, trainCount: ds.trainCount, valCount: ds.valCount, seed: ds.seed } : { source: 'mnist', name: dsName, resolution: ds.resolution, valShare: 0.1, seed: ds.seed };
    const r = await ensure('dataset', { kind: 'dataset-build', spec });
    dataset = (await lab.listDatasets()).find((d) => d.runId === r.id);
  }
  if (!dataset) throw new Error('the study dataset was not recorded');

  // The extractor first, with the plan's budget (evaluations would otherwise queue the default one).
  // It is queued first and trains beside the tokenizers (they do not need it); evaluations wait for it.
  const existingNet = (await lab.listRuns({ kind: 'feature-net' })).filter((r) => r.datasetId === dataset.id && r.status === 'done').pop();
  const featQueued = existingNet ? { run: existingNet, reused: true } : await submit('feature-net', { kind: 'train-feature-net', spec: { dataset: dataset.id, ...plan.featureNet, seed: 0 } });
  const featReady = (async () => {
    const detail = await lab.getRun((await finish('feature-net', featQueued)).id);
    const acc = Number(detail.result?.testAccuracy ?? NaN);
    log(`feature network (run ${detail.id}): test accuracy ${acc.toFixed(3)}${acc < plan.gates.extractorAccuracy ? ` — below the gate ${plan.gates.extractorAccuracy}` : ''}`);
    return detail;
  })();
  featReady.catch(() => {}); // awaited below; a failure surfaces there

  // MNIST ships ~9k training digits: tokenizers use the plan's count of them, so budgets mean the same
  const trainLimit = dataset.trainN > ds.trainCount ? ds.trainCount : 0;
  const stepsPerEpoch = Math.max(1, Math.floor((trainLimit || dataset.trainN) / plan.batchSize));
  const genStepsPerEpoch = Math.max(1, Math.floor(dataset.trainN / plan.batchSize));
  /** A tenth of a short run, at most the trainers' default 100 steps. */
  const warmupFor = (steps: number): number => Math.min(100, Math.round(steps / 10));
  const epochsFor = (steps: number): number => Math.max(1, Math.round(steps / stepsPerEpoch));

  // One chain per tokenizer run (train → evaluate → its generators → gFID), all queued at once: with
  // several engines (one core each) independent chains run in parallel. Results keep plan order.
  const chains = plan.tokenizers.flatMap((t) => t.seeds.map((seed) => ({ t, seed })));
  const genPlans = (t: TokenizerPlan, seed: number): GeneratorPlan[] => plan.generators.filter((g) => g.tokenizers === 'all' || seed === t.seeds[0]);
  // the longest chains are queued first, so the last engine to finish is not the one that started the longest job last
  const byLength = longestFirst(chains);
  const datasetId = dataset.id;
  const chain = async (t: TokenizerPlan, seed: number, i: number): Promise<{ i: number; tok: StudyTokenizerRun; gens: StudyGeneratorRun[] }> => {
    const spec: JsonObject = { dataset: datasetId, preset: t.preset, epochs: epochsFor(t.steps), batchSize: plan.batchSize, lr: plan.lr, warmup: warmupFor(t.steps), seed, lp: t.lp, anneal: t.anneal };
    if (trainLimit) spec.trainLimit = trainLimit;
    const run = await ensure(`tokenizer-${t.key}-s${seed}`, { kind: 'train-tokenizer', spec });
    await featReady;
    const ev = await ensure(`eval-${t.key}-s${seed}`, {
      kind: 'eval-tokenizer',
      spec: { tokenizer: run.id, alphas: plan.sweep.alphas, deltas: plan.sweep.deltas, deltaMode: 'abs', n: plan.sweep.n, seed: 0, minExtractorAccuracy: plan.minExtractorAccuracy },
    });
    const tok: StudyTokenizerRun = { key: t.key, seed, plan: t, run: await lab.getRun(run.id), evalRun: await lab.getRun(ev.id) };
    const gens = await Promise.all(
      genPlans(t, seed).map(async (g): Promise<StudyGeneratorRun> => {
        const genEpochs = Math.max(1, Math.round(g.steps / genStepsPerEpoch));
        const grun = await ensure(`generator-${t.key}-s${seed}-${g.arch}`, { kind: 'train-generator', spec: { tokenizer: run.id, arch: g.arch, preset: g.preset, epochs: genEpochs, batchSize: plan.batchSize, warmup: warmupFor(g.steps), seed: 0 } });
        const gev = await ensure(`gfid-${t.key}-s${seed}-${g.arch}`, {
          kind: 'eval-generator',
          spec: { generator: grun.id, cfgScales: plan.gfid.cfgScales, nPerClass: plan.gfid.nPerClass, seed: 0, minExtractorAccuracy: plan.minExtractorAccuracy },
        });
        return { key: t.key, seed, arch: g.arch, tokenizerRunId: run.id, run: grun, evalRun: await lab.getRun(gev.id) };
      }),
    );
    return { i, tok, gens };
  };
  const unordered = await Promise.all(
    byLength.map(async ({ t, seed, i }) => chain(t, seed, i).catch((e: unknown) => {
      if (e instanceof NotSelected && partial) return null;
      throw e;
    })),
  );
  const results = unordered.filter((r) => r !== null).sort((a, b) => a.i - b.i);
  const toks: StudyTokenizerRun[] = results.map((r) => r.tok);
  const gens: StudyGeneratorRun[] = plan.generators.flatMap((g) => results.flatMap((r) => r.gens.filter((x) => x.arch === g.arch)));

  // Correlations over the study's own runs only, one protocol per side.
  const tokIds = toks.map((t) => t.run.id);
  const scoreRunIds = [...toks.map((t) => t.evalRun.id), ...gens.map((g) => g.evalRun.id)];
  const correlations: StudyData['correlations'] = [];
  if (partial) {
    log(`partial run done: ${finished} step${finished === 1 ? '' : 's'} (no report; collect the task homes and run the study there for it)`);
    return { plan, home: lab.opts.home, dataset, featureNet: await featReady.catch(() => null as unknown as RunDetail), tokenizers: toks, generators: gens, correlations, runs: [], steps: {}, wallSeconds: (Date.now() - t0) / 1000, files: [] };
  }
  for (const arch of [...new Set(plan.generators.map((g) => g.arch))])
    for (const cfg of plan.gfid.cfgScales)
      for (const x of ['eval/pfid_mean', 'eval/rfid']) {
        try {
          const result: CorrelationResult = await lab.correlate({ x, y: 'gen/gfid', cfgScale: cfg, arch, runIds: tokIds, scoreRunIds });
          correlations.push({ arch, cfg, x, result });
        } catch (e) {
          correlations.push({ arch, cfg, x, error: (e as Error).message });
        }
      }

  const featDetail = await featReady;
  const recorded = lab.repo.studyRuns(id);
  const steps: Record<number, string> = Object.fromEntries(recorded.map((r) => [r.runId, r.step]));
  const studyRunIds = new Set(recorded.map((r) => r.runId));
  const data: StudyData = {
    plan,
    home: lab.opts.home,
    dataset,
    featureNet: featDetail,
    tokenizers: toks,
    generators: gens,
    correlations,
    runs: [...studyRunIds].map((r) => lab.repo.getRun(r)).concat(existingNet && !studyRunIds.has(existingNet.id) ? [existingNet] : []),
    steps,
    wallSeconds: (Date.now() - t0) / 1000,
    files: [],
  };
  data.files = await writeStudyReport(data, (runIds) => lab.listScores({ runIds }));
  return data;
}
