// gFID job (METHOD §4, §6): for each CFG setting, numClasses × nPerClass samples on the same per-sample
// streams, decoded (by the generator's tokenizer or a post-trained decoder), embedded by the lab feature
// net and scored against the TRAINING split: FID, KID, IS, precision/recall (k = 3).
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import type { JsonObject } from '../protocol';
import { throwIfCancelled, type Job, type JobContext } from './types';
import type { Generator } from '../models/transformer';
import { loadGenerator } from '../models/generator-store';
import { loadTokenizer, readTokenizerRunConfig, type VqTokenizer } from '../models/vq-tokenizer';
import { readManifest } from '../data/packed';
import { writeImageGrid } from '../data/png';
import { AUTO_MIN_DMODEL, resolveWorkers } from '../workers';
import { EvalPool, forEachOrdered } from '../eval/pool';
import { generatorBatch, tokenizerDecoder, type GeneratorBatchOut, type SamplingOptions, type TokenDecoder } from '../eval/generator-batch';
import { featureStatsAsync, fidFromStatsAsync, type FeatureStats } from '../metrics/fid';
import { kid } from '../metrics/kid';
import { inceptionScore } from '../metrics/inception-score';
import { precisionRecall } from '../metrics/precision-recall';
import { resolveCfgSchedule, validateEvalGeneratorSpec, type EvalGeneratorSpec } from '../specs/eval-generator';
import { extractorAccuracyProblem } from '../specs/eval-tokenizer';
import { top1Hits } from './eval-tokenizer';
import { loadFeatureNet, realStats } from '../features';

/** What the job needs of the lab feature net (engine/features.ts). */
export interface GenFeatureNet {
  /** Extractor id: hash of weights + architecture. */
  id: string;
  /** The lab feature net's meta (engine/features.ts): its test accuracy goes into every score's provenance. */
  meta?: { testAccuracy: number };
  /** Images [n,H,W,C] in [-1,1] → penultimate features [n,d] and softmax [n,classes]. */
  embed(x: Float32Array, n: number): { feats: Float32Array; probs: Float32Array } | Promise<{ feats: Float32Array; probs: Float32Array }>;
  dispose(): void;
}

/** Training-split statistics of the feature net, with the per-image features. */
export interface GenRealStats {
  mu: Float32Array | Float64Array;
  sigma: Float32Array | Float64Array;
  n: number;
  d: number;
  /** [n,d] */
  feats: Float32Array;
}

export type FeatureLoader = (datasetDir: string) => Promise<{ net: GenFeatureNet; real: GenRealStats }>;

/** At most this many real training features enter KID and precision/recall (FID uses all of them). */
export const REAL_CAP = 5000;
/** KID: subsets of min(1000, ⌊N/2⌋) rows per side (engine/metrics/kid.ts default), so the spread is real. */
const KID_SUBSETS = 100;

/** Preview grid: at most this many samples per setting. */
const PREVIEW_MAX = 80;

/** Class of sample i: i mod C, so every prefix (and every IS split) stays close to balanced. */
export function balancedLabels(numClasses: number, nPerClass: number): Int32Array {
  return Int32Array.from({ length: numClasses * nPerClass }, (_, i) => i % numClasses);
}

/** m rows of x [n,d] chosen without replacement by `rng`, kept in their original order. */
export function subsampleRows(x: Float32Array, n: number, d: number, m: number, rng: Rng): Float32Array {
  if (m >= n) return x.slice(0, n * d);
  const idx = rng.shuffle(Int32Array.from({ length: n }, (_, i) => i)).subarray(0, m).sort();
  const out = new Float32Array(m * d);
  for (let i = 0; i < m; i++) out.set(x.subarray(idx[i] * d, (idx[i] + 1) * d), i * d);
  return out;
}

export interface SettingScores {
  fid: number;
  kid: number;
  kidStd: number;
  kidSubsetSize: number;
  is: number;
  isStd: number;
  precision: number;
  recall: number;
  warnings: string[];
}

/** Every gen/ score of one setting from its features [n,d] and class probabilities [n,c]. */
export async function scoreSetting(
  feats: Float32Array,
  probs: Float32Array,
  n: number,
  d: number,
  c: number,
  real: { stats: FeatureStats; sub: Float32Array; nSub: number },
  seed: number,
): Promise<SettingScores> {
  const f = await fidFromStatsAsync(await featureStatsAsync(feats, n, d), real.stats);
  const k = kid(feats, n, real.sub, real.nSub, d, { subsets: KID_SUBSETS, seed: deriveSeed(seed, 'kid') });
  const is = inceptionScore(probs, n, c, Math.min(10, n));
  const pr = precisionRecall(real.sub, real.nSub, feats, n, d, 3);
  return { fid: f.fid, kid: k.kid, kidStd: k.std, kidSubsetSize: k.subsetSize, is: is.mean, isStd: is.std, precision: pr.precision, recall: pr.recall, warnings: [...f.warnings, ...k.warnings] };
}

export interface EvalInputs {
  gen: Generator;
  decode: TokenDecoder;
  /** Decoded image shape [H, W, C]. */
  imageShape: [number, number, number];
  net: GenFeatureNet;
  real: GenRealStats;
  /** Provenance names (relative to the lab home). */
  runs: { generatorRun: string; tokenizerRun: string; decoderRun: string };
  generatorStep: number;
  /** Where evaluation workers load the same generator, decoder and feature net (absolute paths); absent = one thread only. */
  source?: { generatorRunDir: string; decoderRunDir: string; datasetDir: string };
}

/** Samples, embeds and scores every setting; emits scores, curve metrics and preview grids. */
export async function evaluateGenerator(inp: EvalInputs, spec: EvalGeneratorSpec, ctx: JobContext): Promise<JsonObject> {
  const { gen, net, real } = inp;
  // 'auto': RAR samples with the cosine-power ramp, the raster GPT with constant guidance (METHOD §4)
  const schedule = resolveCfgSchedule(spec.schedule, gen.cfg.arch);
  const extractorAccuracy = net.meta ? net.meta.testAccuracy : null;
  const C = gen.cfg.numClasses;
  const N = C * spec.nPerClass;
  if (N < 4) throw new Error(`only ${N} samples: precision/recall with k = 3 needs at least 4; raise nPerClass`);
  const d = real.d;
  if (real.feats.length !== real.n * d) throw new Error(`real features hold ${real.feats.length} values, not ${real.n}×${d}`);
  const labels = balancedLabels(C, spec.nPerClass);
  const classCounts = new Array<number>(C).fill(0);
  for (const l of labels) classCounts[l]++;
  const realStats: FeatureStats = { mu: Float64Array.from(real.mu), sigma: Float64Array.from(real.sigma), n: real.n, d };
  // the same seeded subsample of real features for every setting, sized like the generated set
  const nSub = Math.min(real.n, Math.max(N, 4), REAL_CAP);
  const sub = subsampleRows(real.feats, real.n, d, nSub, new Rng(deriveSeed(spec.seed, 'real-subsample')));
  if (nSub < 4) throw new Error(`the training split has ${real.n} feature rows; precision/recall with k = 3 needs at least 4`);
  const [H, W, CH] = inp.imageShape;
  const per = H * W * CH;
  const previewN = Math.min(N, PREVIEW_MAX, C * 8);
  const out = { fid: [] as number[], is: [] as number[], kid: [] as number[], precision: [] as number[], recall: [] as number[], sampleAcc: [] as number[] };
  const total = N * spec.cfgScales.length;
  let done = 0;
  const sampling: SamplingOptions = { schedule, power: spec.power, temperature: spec.temperature, topK: spec.topK, topP: spec.topP, seed: spec.seed };
  const batchesPer = Math.ceil(N / spec.batchSize);
  // auto: sampling small generators is per-op overhead, which two engines on two cores do not share out (bench/eval.ts)
  const workers = inp.source ? resolveWorkers(spec.workers, batchesPer * spec.cfgScales.length, tf.getBackend(), gen.cfg.dModel >= AUTO_MIN_DMODEL) : 1;
  if (spec.workers > 1 && !inp.source) ctx.log('warn', 'this evaluation runs on one thread: its models were not loaded from run folders the workers could read');
  let pool: EvalPool | null = null;
  if (workers > 1 && inp.source) {
    ctx.log('info', `sampling on ${workers} workers`);
    pool = await EvalPool.start(workers, { job: 'generator', ...inp.source, labels, sampling }, tf.getBackend());
  }
  try {
    if (pool)
      for (const r of pool.ready)
        if (r.loaded?.extractorId !== net.id || r.loaded.identity !== JSON.stringify({ generatorStep: inp.generatorStep })) {
          throw new Error(`an evaluation worker loaded feature net ${r.loaded?.extractorId} and ${r.loaded?.identity}, the job ${net.id} at generator step ${inp.generatorStep}: a model file changed during the evaluation; start it again`);
        }
    const env = { gen, decode: inp.decode, embed: (x: Float32Array, n: number) => net.embed(x, n), labels, sampling };
    for (const scale of spec.cfgScales) {
      const feats = new Float32Array(N * d);
      // class probabilities [N, nProb], allocated when the first batch says how many classes
      const acc = { probs: null as Float32Array | null, nProb: 0, hits: 0 };
      const preview = new Float32Array(previewN * per);
      const commit = (b: number, out: GeneratorBatchOut): void => {
        const s = b * spec.batchSize;
        const e = Math.min(N, s + spec.batchSize);
        if (s < previewN) preview.set(out.images.subarray(0, (Math.min(e, previewN) - s) * per), s * per);
        if (out.feats.length !== (e - s) * d) throw new Error(`feature net returned ${out.feats.length} values for ${e - s} images of ${d} features`);
        if (!acc.probs) {
          acc.nProb = out.probs.length / (e - s);
          acc.probs = new Float32Array(N * acc.nProb);
        }
        feats.set(out.feats, s * d);
        acc.probs.set(out.probs, s * acc.nProb);
        acc.hits += top1Hits(out.probs, labels.subarray(s, e), e - s);
        done += e - s;
        ctx.progress(done, total, `cfg ${scale === 0 ? 'off' : scale}: ${e}/${N}`);
      };
      const p = pool;
      if (p)
        await forEachOrdered(
          batchesPer,
          p.count,
          async (b, slot) => {
            throwIfCancelled(ctx.signal);
            const s = b * spec.batchSize;
            return (await p.run(slot, { type: 'generator-batch', from: s, to: Math.min(N, s + spec.batchSize), scale })).generator as GeneratorBatchOut;
          },
          (b, out) => {
            throwIfCancelled(ctx.signal);
            commit(b, out);
          },
        );
      else
        for (let b = 0; b < batchesPer; b++) {
          throwIfCancelled(ctx.signal);
          const s = b * spec.batchSize;
          commit(b, await generatorBatch(env, s, Math.min(N, s + spec.batchSize), scale, ctx.signal));
        }
      const sc = await scoreSetting(feats, acc.probs as Float32Array, N, d, acc.nProb, { stats: realStats, sub, nSub }, spec.seed);
      for (const w of sc.warnings) ctx.log('warn', `gFID at cfg ${scale}: ${w}`);
      const prov: JsonObject = {
        extractorId: net.id,
        extractorAccuracy,
        n: N,
        nPerClass: spec.nPerClass,
        nReal: real.n,
        nRealSubsample: nSub,
        seed: spec.seed,
        split: 'train',
        cfg: { scale, schedule: scale === 0 ? 'none' : schedule, power: spec.power },
        temperature: spec.temperature,
        topK: spec.topK,
        topP: spec.topP,
        generatorRun: inp.runs.generatorRun,
        tokenizerRun: inp.runs.tokenizerRun,
        decoderRun: inp.runs.decoderRun,
        arch: gen.cfg.arch,
        generatorStep: inp.generatorStep,
      };
      ctx.score({ metric: 'gen/gfid', value: sc.fid, provenance: prov });
      ctx.score({ metric: 'gen/gkid', value: sc.kid, provenance: { ...prov, kidStd: sc.kidStd, kidSubsets: KID_SUBSETS, kidSubsetSize: sc.kidSubsetSize } });
      ctx.score({ metric: 'gen/is', value: sc.is, provenance: { ...prov, isStd: sc.isStd, isSplits: Math.min(10, N) } });
      ctx.score({ metric: 'gen/precision', value: sc.precision, provenance: { ...prov, k: 3 } });
      ctx.score({ metric: 'gen/recall', value: sc.recall, provenance: { ...prov, k: 3 } });
      // share of samples the lab classifier assigns to the class they were sampled for
      const sampleAcc = acc.hits / N;
      ctx.score({ metric: 'gen/sample_acc', value: sampleAcc, provenance: prov });
      const step = Math.round(scale * 100);
      ctx.metrics([
        { name: 'gen/fid_vs_cfg', step, value: sc.fid },
        { name: 'gen/is_vs_cfg', step, value: sc.is },
      ]);
      out.fid.push(sc.fid);
      out.is.push(sc.is);
      out.kid.push(sc.kid);
      out.precision.push(sc.precision);
      out.recall.push(sc.recall);
      out.sampleAcc.push(sampleAcc);
      await writePreview(ctx, preview, previewN, inp.imageShape, Math.min(C, 16), scale, prov);
    }
  } finally {
    await pool?.close();
  }
  return {
    extractorId: net.id,
    extractorAccuracy,
    scales: spec.cfgScales,
    schedule,
    arch: gen.cfg.arch,
    ...out,
    n: N,
    nPerClass: spec.nPerClass,
    classCounts,
    nReal: real.n,
    curveStep: 'round(100 × scale)',
    generatorStep: inp.generatorStep,
    workers,
    ...inp.runs,
  };
}

async function writePreview(ctx: JobContext, images: Float32Array, n: number, shape: [number, number, number], cols: number, scale: number, prov: JsonObject): Promise<void> {
  if (n === 0) return;
  const [H, W, CH] = shape;
  const file = path.join(ctx.runDir, 'samples', `gen-${scale === 0 ? 'no-cfg' : `cfg-${scale}`}.png`);
  await writeImageGrid(file, images, n, H, W, CH, cols, { pad: 2, scale: H <= 32 ? 2 : 1, padValue: 255 });
  ctx.artifact('gen-samples', path.relative(ctx.home, file), { ...prov, count: n, cols: 'classes (sample i has class i mod C)' });
}

/**
 * The job with a given feature-net loader (tests pass a stub; the engine uses the lab feature net).
 * `workers`: the loader is the lab feature net's, which evaluation workers can load themselves.
 */
export function makeEvalGenerator(loadFeatures: FeatureLoader, opts: { workers?: boolean } = {}): Job<JsonObject, JsonObject> {
  return async (rawSpec, ctx) => {
    const spec = validateEvalGeneratorSpec(rawSpec);
    const genDir = path.resolve(ctx.home, spec.generatorRunDir);
    const { gen, meta, step } = loadGenerator(genDir, { useEma: true });
    let tok: VqTokenizer | null = null;
    let net: GenFeatureNet | null = null;
    try {
      const tokenizerRun = meta.tokenizerRunDir;
      const decoderRun = spec.decoderRunDir || tokenizerRun;
      const decDir = path.resolve(ctx.home, decoderRun);
      const rc = readTokenizerRunConfig(decDir);
      if (spec.decoderRunDir) {
        const parent = typeof rc.parentTokenizerRun === 'string' ? rc.parentTokenizerRun : null;
        if (parent === null || path.resolve(ctx.home, parent) !== path.resolve(ctx.home, tokenizerRun)) {
          ctx.log('warn', `decoder run ${decoderRun} was not post-trained from ${tokenizerRun} (parent: ${parent ?? 'none'}); its codebook may not match the generator's tokens`);
        }
      }
      tok = loadTokenizer(decDir);
      if (tok.config.K !== gen.cfg.vocabSize || tok.h * tok.h !== gen.cfg.seqLen) {
        throw new Error(`decoder ${decoderRun} has K = ${tok.config.K} and ${tok.h}×${tok.h} tokens; the generator samples K = ${gen.cfg.vocabSize}, L = ${gen.cfg.seqLen}`);
      }
      const datasetRel = spec.datasetPath || datasetOf(path.resolve(ctx.home, tokenizerRun)) || (typeof rc.dataset === 'string' ? rc.dataset : '');
      if (!datasetRel) throw new Error(`the tokenizer run ${tokenizerRun} does not name its dataset; pass datasetPath`);
      const dsDir = path.resolve(ctx.home, datasetRel);
      const man = readManifest(dsDir);
      if (man.resolution !== tok.config.imageSize || man.channels !== tok.config.channels) {
        throw new Error(`dataset ${datasetRel} holds ${man.resolution}×${man.resolution}×${man.channels} images, the decoder makes ${tok.config.imageSize}×${tok.config.imageSize}×${tok.config.channels}`);
      }
      if (man.classes.length !== gen.cfg.numClasses) ctx.log('warn', `dataset has ${man.classes.length} classes, the generator ${gen.cfg.numClasses}`);
      ctx.log('info', `loading the feature net and training-split statistics of ${datasetRel}`);
      const loaded = await loadFeatures(dsDir);
      net = loaded.net;
      if (!net.meta) {
        // an extractor without meta has no known accuracy: only a floor of 0 accepts it
        if (spec.minExtractorAccuracy > 0) throw new Error(`the feature network of ${datasetRel} records no test accuracy, so the floor minExtractorAccuracy ${spec.minExtractorAccuracy} cannot be checked. Retrain it (train-feature-net) or set minExtractorAccuracy to 0.`);
      } else {
        const accuracy = extractorAccuracyProblem(datasetRel, net.meta.testAccuracy, spec.minExtractorAccuracy);
        if (accuracy) throw accuracy;
      }
      const S = tok.config.imageSize;
      return await evaluateGenerator(
        {
          gen,
          decode: tokenizerDecoder(tok),
          imageShape: [S, S, tok.config.channels],
          net,
          real: loaded.real,
          runs: { generatorRun: spec.generatorRunDir, tokenizerRun, decoderRun },
          generatorStep: step,
          source: opts.workers ? { generatorRunDir: genDir, decoderRunDir: decDir, datasetDir: dsDir } : undefined,
        },
        spec,
        ctx,
      );
    } finally {
      net?.dispose();
      tok?.dispose();
      gen.dispose();
    }
  };
}

function datasetOf(tokenizerRunDir: string): string {
  if (!fs.existsSync(path.join(tokenizerRunDir, 'config.json'))) return '';
  const rc = readTokenizerRunConfig(tokenizerRunDir);
  return typeof rc.dataset === 'string' ? rc.dataset : '';
}

/** The lab feature net of engine/features.ts and the training split's statistics (same extractor id). */
const labFeatures: FeatureLoader = async (datasetDir) => {
  const net = loadFeatureNet(datasetDir);
  try {
    const real = realStats(datasetDir, 'train');
    if (real.extractorId !== net.id) throw new Error(`training statistics come from feature net ${real.extractorId}, the loaded net is ${net.id}; retrain the feature network`);
    return { net, real };
  } catch (e) {
    net.dispose();
    throw e;
  }
};

export const evalGenerator = makeEvalGenerator(labFeatures, { workers: true });
