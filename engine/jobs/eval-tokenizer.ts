// Job: evaluate a tokenizer on the held-out split (METHOD §3, §6): rFID of clean reconstructions and a
// pFID grid over (α, δ) through perturbed tokens (β = 1, one fixed seed per cell and batch), KID beside
// every FID, PSNR/SSIM and codebook use. One reference set, one extractor, one preprocessing for every number.
//
// Any tokenizer (trained here or imported through ONNX) and any extractor (the dataset's lab network or an
// ONNX one) go through the same pass. It streams: each batch of images is encoded once and decoded once
// per cell, features are appended to per-cell files in the run folder, and a state file records how far
// it got, so memory does not grow with N and an interrupted evaluation resumes where it stopped.
import fs from 'node:fs';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { tf } from '../tf';
import type { JsonObject } from '../protocol';
import { throwIfCancelled, type Job, type JobContext } from './types';
import { openPackedDataset, u8ToUnit, type PackedSplit } from '../data/packed';
import { loadFeatureNet, realStats } from '../features';
import { featureStatsAsync, fidFromStatsAsync, type FeatureStats } from '../metrics/fid';
import { kid, kidSubsetSize } from '../metrics/kid';
import { codebookStatsFromCounts } from '../metrics/codebook';
import { encodeNpy, parseNpy } from '../metrics/npy';
import { loadTokenizerModel, tokenizerRunKind, type TokenizerModel } from '../models/tokenizer-model';
import { readTokenizerRunConfig } from '../models/vq-tokenizer';
import { labExtractor, loadOnnxExtractor, type Extractor } from '../models/extractor';
import { expectedFlipRate, resolveDelta, type LpKnobs } from '../perturb';
import { resolveWorkers } from '../workers';
import { EvalPool, forEachOrdered, type EvalWorkerSetup, type ExtractorSource } from '../eval/pool';
import { evalTokenizerBatch, type LiveCell, type TokenizerBatchOut } from '../eval/tokenizer-batch';

export { toImageGrid } from '../eval/tokenizer-batch';
import { extractorAccuracyProblem, gridDeltaProblem, validateEvalTokenizerSpec, type EvalTokenizerSpec } from '../specs/eval-tokenizer';

const BATCH = 64;

/** Top-1 agreement of the lab classifier's softmax [n, c] with the labels [n]; ties go to the lower class. */
export function top1Hits(probs: Float32Array, labels: Int32Array, n: number): number {
  if (n === 0) return 0;
  const c = probs.length / n;
  if (!Number.isInteger(c) || c < 1) throw new Error(`classifier gave ${probs.length} probabilities for ${n} images`);
  let hits = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (probs[i * c + j] > probs[i * c + best]) best = j;
    if (best === labels[i]) hits++;
  }
  return hits;
}

/** Real-image features of the first `n` (or more) val images in one extractor's space. */
export interface RealFeatures {
  /** [n,d] row-major, split order */
  feats: Float32Array;
  n: number;
  d: number;
  extractorId: string;
  /** Mean and covariance of all n rows, when already computed (the lab network's cached statistics). */
  stats?: FeatureStats;
}

export interface EvalInputs {
  model: TokenizerModel;
  extractor: Extractor;
  /** Cached real features covering at least the evaluated images, or null: computed in the same pass. */
  real: RealFeatures | null;
  val: PackedSplit;
  /** Recorded in provenance as tokenizerRun / dataset. */
  tokenizerRun: string;
  dataset: string;
  /** Where real features computed in the pass are cached for the next evaluation; null = nowhere. */
  realCacheDir: string | null;
  /** Where evaluation workers load the same model and extractor (absolute paths); absent = one thread only. */
  source?: { tokenizerRunDir: string; ema: boolean; extractor: ExtractorSource };
}

interface FidKid {
  fid: number;
  kid: number;
  kidStd: number;
}

interface GridCell {
  i: number;
  j: number;
  alpha: number;
  deltaAbs: number;
  /** α = 0, or δ = 1 (only the clean code to draw from): the decoder sees the clean tokens, the cell is rFID. */
  noop: boolean;
  knobs: LpKnobs;
  /** Seeds the cell's draws, batch by batch. */
  seedKey: string;
  stream: string;
}

interface EvalState {
  version: 1;
  /** Hash of everything the numbers depend on: a state from another request is never resumed. */
  key: string;
  /** Images done (a multiple of the batch size until the last batch). */
  done: number;
  hits: Record<string, number>;
  changed: Record<string, number>;
  psnrSum: number;
  ssimSum: number;
  counts: number[];
}

const STATE_DIR = 'eval-state';

/** Per-stream feature files ([done, d] float32 rows) beside a state file, in the run folder. */
class FeatureFiles {
  constructor(
    private readonly dir: string,
    private readonly d: number,
  ) {}

  private file(stream: string): string {
    return path.join(this.dir, `${stream}.f32`);
  }

  /** Every stream's file cut to `done` rows (rows past the last saved state are dropped). */
  prepare(streams: string[], done: number): void {
    fs.mkdirSync(this.dir, { recursive: true });
    for (const s of streams) {
      const f = this.file(s);
      const want = done * this.d * 4;
      if (!fs.existsSync(f)) {
        if (done > 0) throw new Error(`${f} is missing although the saved state says ${done} images are done`);
        fs.writeFileSync(f, new Uint8Array(0));
      } else if (fs.statSync(f).size < want) throw new Error(`${f} holds fewer rows than the saved state's ${done} images`);
      else fs.truncateSync(f, want);
    }
  }

  append(stream: string, feats: Float32Array): void {
    fs.appendFileSync(this.file(stream), new Uint8Array(feats.buffer, feats.byteOffset, feats.byteLength));
  }

  read(stream: string, n: number): Float32Array {
    const buf = fs.readFileSync(this.file(stream));
    if (buf.length < n * this.d * 4) throw new Error(`${this.file(stream)} holds ${buf.length / (this.d * 4)} rows, expected ${n}`);
    const out = new Float32Array(n * this.d);
    new Uint8Array(out.buffer).set(buf.subarray(0, n * this.d * 4));
    return out;
  }
}

function readState(file: string, key: string): EvalState | null {
  if (!fs.existsSync(file)) return null;
  try {
    const s = JSON.parse(fs.readFileSync(file, 'utf8')) as EvalState;
    return s.version === 1 && s.key === key ? s : null;
  } catch {
    return null;
  }
}

function writeState(file: string, s: EvalState): void {
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(s));
  fs.renameSync(`${file}.tmp`, file);
}

/** Cached real features of an ONNX extractor on a dataset's val split: the first n rows, or null. */
export function readRealCache(dir: string, extractorId: string, n: number): RealFeatures | null {
  const json = path.join(dir, 'stats-val.json');
  const npy = path.join(dir, 'stats-val.features.npy');
  if (!fs.existsSync(json) || !fs.existsSync(npy)) return null;
  const info = JSON.parse(fs.readFileSync(json, 'utf8')) as { n: number; d: number; extractorId: string };
  if (info.extractorId !== extractorId || info.n < n) return null;
  const a = parseNpy(fs.readFileSync(npy), npy);
  if (a.data.length !== info.n * info.d) return null;
  const all = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  return { feats: all.subarray(0, n * info.d), n, d: info.d, extractorId };
}

function writeRealCache(dir: string, r: RealFeatures): void {
  const json = path.join(dir, 'stats-val.json');
  if (fs.existsSync(json) && (JSON.parse(fs.readFileSync(json, 'utf8')) as { n: number }).n >= r.n) return;
  fs.mkdirSync(dir, { recursive: true });
  const npy = path.join(dir, 'stats-val.features.npy');
  fs.writeFileSync(`${npy}.tmp`, encodeNpy(r.feats, [r.n, r.d]));
  fs.renameSync(`${npy}.tmp`, npy);
  fs.writeFileSync(`${json}.tmp`, JSON.stringify({ split: 'val', n: r.n, d: r.d, extractorId: r.extractorId }, null, 2));
  fs.renameSync(`${json}.tmp`, json);
}

/** rFID + pFID grid on already loaded pieces; the job below only resolves paths around it. */
export async function evaluateTokenizer(inp: EvalInputs, spec: EvalTokenizerSpec, ctx: JobContext): Promise<JsonObject> {
  const { model, extractor: ex, val } = inp;
  const S = model.imageSize, C = model.channels, K = model.quant.K, D = model.quant.D, h = model.h, w = model.w;
  const T = h * w;
  if (inp.real && inp.real.extractorId !== ex.id) throw new Error(`the cached val statistics belong to feature network ${inp.real.extractorId}, the loaded one is ${ex.id}; retrain the feature network`);
  if (ex.kind === 'lab') {
    if (inp.real && inp.real.n !== val.n) throw new Error(`the cached val statistics cover ${inp.real.n} images but the split has ${val.n}; retrain the feature network on this dataset`);
    const accuracy = extractorAccuracyProblem(inp.dataset, ex.accuracy ?? 0, spec.minExtractorAccuracy);
    if (accuracy) throw accuracy;
  }
  const badDelta = gridDeltaProblem(spec, K);
  if (badDelta) throw badDelta;
  const n = spec.n > 0 ? Math.min(spec.n, val.n) : val.n;
  if (n < 2) throw new Error(`the val split has ${val.n} images; evaluation needs at least 2`);
  const d = ex.d;
  if (n < d) ctx.log('warn', `N = ${n} evaluation images is below the feature dimension ${d}: covariances are singular and FID is biased upward; compare only numbers with the same N, or use N ≥ ${d}`);
  const ks = kidSubsetSize(spec.kidSubsetSize, n, n);
  if (ks.warning) ctx.log('warn', ks.warning);
  const kidSize = ks.size;
  const base: JsonObject = { extractorId: ex.id, extractorAccuracy: ex.accuracy, ...ex.identity, ...model.identity, n, seed: spec.seed, split: 'val', tokenizerRun: inp.tokenizerRun, ema: spec.ema, dataset: inp.dataset };

  // the grid: α rows × δ columns; cells that cannot perturb reuse the clean reconstructions
  const deltasAbs = spec.deltas.map((dl) => resolveDelta({ delta: dl, deltaMode: spec.deltaMode }, K));
  const deltasShare = spec.deltas.map((dl, j) => (spec.deltaMode === 'share' ? dl : deltasAbs[j] / K));
  const cells: GridCell[] = [];
  for (const [i, alpha] of spec.alphas.entries())
    for (const [j, delta] of spec.deltas.entries()) {
      const dA = deltasAbs[j];
      cells.push({
        i,
        j,
        alpha,
        deltaAbs: dA,
        noop: alpha === 0 || dA <= 1 || (!spec.includeSelf && dA < 2),
        knobs: { alpha, beta: 1, delta: dA, deltaMode: 'abs', includeSelf: spec.includeSelf, selection: spec.selection, anchor: spec.anchor },
        seedKey: `pfid/alpha=${alpha}/delta=${delta}/${spec.deltaMode}`,
        stream: `cell-${i}-${j}`,
      });
    }
  const live = cells.filter((c) => !c.noop);
  const needReal = inp.real === null;
  const streams = [...(needReal ? ['real'] : []), 'clean', ...live.map((c) => c.stream)];

  // resume from the run folder's state when it was written for exactly this request
  const stateDir = path.join(ctx.runDir, STATE_DIR);
  const stateFile = path.join(stateDir, 'state.json');
  const key = createHash('sha256')
    .update(JSON.stringify({ base, alphas: spec.alphas, deltas: spec.deltas, deltaMode: spec.deltaMode, includeSelf: spec.includeSelf, selection: spec.selection, anchor: spec.anchor, streams, K, D, S, C }))
    .digest('hex');
  const files = new FeatureFiles(stateDir, d);
  let st = readState(stateFile, key);
  if (st && st.done > n) st = null;
  if (!st) {
    fs.rmSync(stateDir, { recursive: true, force: true });
    st = { version: 1, key, done: 0, hits: Object.fromEntries(streams.map((s) => [s, 0])), changed: Object.fromEntries(live.map((c) => [c.stream, 0])), psnrSum: 0, ssimSum: 0, counts: new Array<number>(K).fill(0) };
  } else ctx.log('info', `resuming the evaluation at image ${st.done} of ${n} (state in ${path.relative(ctx.home, stateDir)})`);
  files.prepare(streams, st.done);
  const state = st;

  const warned = new Set<string>();
  const labels = val.labels.subarray(0, n);
  const hitsOf = (probs: Float32Array | null, from: number, bn: number): number => (probs && ex.datasetClasses ? top1Hits(probs, labels.subarray(from, from + bn), bn) : 0);
  // progress in images (the rate reads as images/s); each image goes through every stream
  const report = (done: number): void => ctx.progress(done, n, `${done} of ${n} images, each through ${streams.length - (needReal ? 1 : 0)} reconstructions (rFID + ${live.length} pFID cells)`);
  const batches = Math.ceil((n - state.done) / BATCH);
  const first = state.done / BATCH;
  const workers = inp.source ? resolveWorkers(spec.workers, batches, tf.getBackend(), true) : 1;
  if (spec.workers > 1 && !inp.source) ctx.log('warn', `this evaluation runs on one thread: its models were not loaded from run folders the workers could read`);
  const liveCells: LiveCell[] = live.map((c) => ({ stream: c.stream, seedKey: c.seedKey, knobs: c.knobs }));
  const setup: EvalWorkerSetup | null = inp.source ? { job: 'tokenizer', ...inp.source, cells: liveCells, seed: spec.seed, needReal } : null;
  const images = (b: number): { x: Float32Array; bn: number } => {
    const from = b * BATCH;
    const bn = Math.min(BATCH, n - from);
    return { x: u8ToUnit(val.read(Int32Array.from({ length: bn }, (_, k) => from + k)).x), bn };
  };
  // after every batch: the features are on disk before the state that counts them
  const commit = (b: number, out: TokenizerBatchOut): void => {
    const from = b * BATCH;
    const bn = Math.min(BATCH, n - from);
    for (const t of out.clean) state.counts[t]++;
    for (const s of out.streams) {
      files.append(s.stream, s.feats);
      if (s.stream !== 'real') state.hits[s.stream] += hitsOf(s.probs, from, bn);
      if (s.stream in state.changed) state.changed[s.stream] += s.changed;
    }
    state.psnrSum += out.psnrSum;
    state.ssimSum += out.ssimSum;
    state.done = from + bn;
    writeState(stateFile, state);
    report(state.done);
  };
  report(state.done);
  if (workers > 1 && setup) {
    ctx.log('info', `evaluating on ${workers} workers`);
    const pool = await EvalPool.start(workers, setup, tf.getBackend());
    try {
      for (const r of pool.ready) {
        if (r.loaded?.extractorId !== ex.id || r.loaded.identity !== JSON.stringify(model.identity)) {
          throw new Error(`an evaluation worker loaded extractor ${r.loaded?.extractorId} / ${r.loaded?.identity}, the job ${ex.id} / ${JSON.stringify(model.identity)}: a model file changed during the evaluation; start it again`);
        }
      }
      await forEachOrdered(
        batches,
        workers,
        async (i, slot) => {
          throwIfCancelled(ctx.signal);
          const { x, bn } = images(first + i);
          return (await pool.run(slot, { type: 'tokenizer-batch', x, bn, batchIndex: first + i })).tokenizer as TokenizerBatchOut;
        },
        (i, out) => {
          throwIfCancelled(ctx.signal);
          commit(first + i, out);
        },
      );
    } finally {
      await pool.close();
    }
  } else {
    const codes = model.codes();
    try {
      const env = { model, extractor: ex, codes, cells: liveCells, seed: spec.seed, needReal };
      for (let b = first; b < first + batches; b++) {
        throwIfCancelled(ctx.signal);
        const { x, bn } = images(b);
        commit(b, await evalTokenizerBatch(env, x, bn, b, ctx.signal));
      }
    } finally {
      codes.dispose();
    }
  }

  // scores, one stream at a time (memory: one [n,d] block besides the real features)
  const real: RealFeatures = inp.real ?? { feats: files.read('real', n), n, d, extractorId: ex.id };
  const realFeats = real.feats.subarray(0, n * d);
  const realSt: FeatureStats = real.stats && real.n === n ? real.stats : await featureStatsAsync(realFeats, n, d);
  const compare = async (fake: Float32Array): Promise<FidKid> => {
    const r = await fidFromStatsAsync(realSt, await featureStatsAsync(fake, n, d));
    for (const wmsg of r.warnings)
      if (!warned.has(wmsg) && !/below the feature dimension/.test(wmsg)) {
        warned.add(wmsg);
        ctx.log('warn', `FID: ${wmsg}`);
      }
    const k = kid(realFeats, n, fake, n, d, { subsets: spec.kidSubsets, subsetSize: kidSize, seed: spec.seed });
    return { fid: r.fid, kid: k.kid, kidStd: k.std };
  };
  const r = await compare(files.read('clean', n));
  const cb = codebookStatsFromCounts(state.counts);
  const psnrMean = state.psnrSum / n;
  ctx.score({ metric: 'eval/rfid', value: r.fid, provenance: base });
  ctx.score({ metric: 'eval/rkid', value: r.kid, provenance: { ...base, kidSubsets: spec.kidSubsets, kidSubsetSize: kidSize, kidStd: r.kidStd } });
  ctx.score({ metric: 'eval/psnr', value: psnrMean, provenance: base });
  if (S >= 11) ctx.score({ metric: 'eval/ssim', value: state.ssimSum / n, provenance: base });
  else ctx.log('warn', `SSIM skipped: ${S}×${S} images are smaller than its 11-pixel window`);
  // the lab classifier's top-1 accuracy on the clean reconstructions (compare with the extractor's own accuracy on real images);
  // an external extractor's classes are not the dataset's, so there is no such number
  const reconAcc = ex.datasetClasses ? state.hits.clean / n : null;
  if (reconAcc !== null) ctx.score({ metric: 'eval/recon_acc', value: reconAcc, provenance: base });
  ctx.score({ metric: 'eval/usage', value: cb.usage, provenance: { ...base, K } });
  ctx.score({ metric: 'eval/perplexity', value: cb.perplexity, provenance: { ...base, K } });

  const grid = (): number[][] => spec.alphas.map(() => new Array<number>(spec.deltas.length).fill(0));
  const pfid = grid(), pkid = grid(), flipRates = grid();
  const paccs: (number | null)[][] = spec.alphas.map(() => new Array<number | null>(spec.deltas.length).fill(null));
  for (const cell of cells) {
    const res = cell.noop ? r : await compare(files.read(cell.stream, n));
    const flip = cell.noop ? 0 : state.changed[cell.stream] / (n * T);
    pfid[cell.i][cell.j] = res.fid;
    pkid[cell.i][cell.j] = res.kid;
    flipRates[cell.i][cell.j] = flip;
    paccs[cell.i][cell.j] = reconAcc === null ? null : cell.noop ? reconAcc : state.hits[cell.stream] / n;
    const prov: JsonObject = {
      ...base,
      alpha: cell.alpha,
      deltaAbs: cell.deltaAbs,
      deltaShare: deltasShare[cell.j],
      // how the grid gave δ: the protocol compares δ in that form (shares of K across tokenizers of different K)
      deltaMode: spec.deltaMode,
      includeSelf: spec.includeSelf,
      selection: spec.selection,
      anchor: spec.anchor,
      K,
      flipRate: flip,
      expectedFlipRate: expectedFlipRate({ alpha: cell.alpha, delta: cell.deltaAbs, includeSelf: spec.includeSelf }),
    };
    ctx.score({ metric: 'eval/pfid', value: res.fid, provenance: prov });
    ctx.score({ metric: 'eval/pkid', value: res.kid, provenance: { ...prov, kidSubsets: spec.kidSubsets, kidSubsetSize: kidSize, kidStd: res.kidStd } });
  }
  const pfidMean = pfid.flat().reduce((a, v) => a + v, 0) / cells.length;
  ctx.score({
    metric: 'eval/pfid_mean',
    value: pfidMean,
    provenance: { ...base, alphas: spec.alphas, deltasAbs, deltasShare, deltaMode: spec.deltaMode, includeSelf: spec.includeSelf, selection: spec.selection, anchor: spec.anchor, K },
  });
  if (needReal && inp.realCacheDir) writeRealCache(inp.realCacheDir, real);
  fs.rmSync(stateDir, { recursive: true, force: true });
  return {
    extractorId: ex.id,
    extractorAccuracy: ex.accuracy,
    extractorKind: ex.kind,
    tokenizerKind: model.kind,
    rfid: r.fid,
    rkid: r.kid,
    pfidMean,
    alphas: spec.alphas,
    deltasAbs,
    deltasShare,
    pfid,
    pkid,
    flipRates,
    paccs,
    reconAcc,
    n,
    K,
    psnr: psnrMean,
    ssim: S >= 11 ? state.ssimSum / n : null,
    usage: cb.usage,
    perplexity: cb.perplexity,
    workers,
  };
}

/** Where an ONNX extractor's real-image features of a dataset are cached. */
export function realCacheDir(datasetDir: string, extractorId: string): string {
  return path.join(datasetDir, 'extractors', extractorId);
}

export const evalTokenizer: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateEvalTokenizerSpec(rawSpec);
  const runDir = path.resolve(ctx.home, spec.tokenizerRunDir);
  const kind = tokenizerRunKind(runDir);
  let dataset = spec.datasetPath;
  if (!dataset && kind !== 'onnx-tokenizer') {
    const rc = readTokenizerRunConfig(runDir);
    dataset = typeof rc.dataset === 'string' ? rc.dataset : '';
  }
  if (!dataset) {
    throw new Error(
      kind === 'onnx-tokenizer'
        ? `the imported tokenizer ${spec.tokenizerRunDir} has no dataset of its own; pass datasetPath (CLI: --dataset) with a dataset at its image size`
        : `the tokenizer run ${spec.tokenizerRunDir} does not name its dataset; pass datasetPath`,
    );
  }
  const datasetDir = path.resolve(ctx.home, dataset);
  const ds = openPackedDataset(datasetDir);
  let ex: Extractor | null = null;
  let model: TokenizerModel | null = null;
  try {
    const val = ds.split('val');
    const n = spec.n > 0 ? Math.min(spec.n, val.n) : val.n;
    let real: RealFeatures | null;
    let cacheDir: string | null = null;
    if (spec.extractorRunDir) {
      ex = await loadOnnxExtractor(path.resolve(ctx.home, spec.extractorRunDir));
      cacheDir = realCacheDir(datasetDir, ex.id);
      real = readRealCache(cacheDir, ex.id, n);
    } else {
      const rs = realStats(datasetDir, 'val');
      ex = labExtractor(loadFeatureNet(datasetDir));
      real = { feats: rs.feats, n: rs.n, d: rs.d, extractorId: rs.extractorId, stats: { mu: rs.mu, sigma: rs.sigma, n: rs.n, d: rs.d } };
    }
    model = await loadTokenizerModel(runDir, { ema: spec.ema });
    const [H, , Cd] = ds.imageShape;
    if (H !== model.imageSize || Cd !== model.channels) {
      throw new Error(`the tokenizer takes ${model.imageSize}×${model.imageSize}×${model.channels} images, but dataset ${dataset} holds ${H}×${H}×${Cd}; pick a dataset at the tokenizer's image size and channels (import an ImageFolder at ${model.imageSize} px)`);
    }
    const extractor: ExtractorSource = spec.extractorRunDir ? { kind: 'onnx', runDir: path.resolve(ctx.home, spec.extractorRunDir) } : { kind: 'lab', datasetDir };
    const source = { tokenizerRunDir: runDir, ema: spec.ema, extractor };
    return await evaluateTokenizer({ model, extractor: ex, real, val, tokenizerRun: spec.tokenizerRunDir, dataset, realCacheDir: cacheDir, source }, spec, ctx);
  } finally {
    await model?.dispose();
    await ex?.dispose();
    ds.close();
  }
};
