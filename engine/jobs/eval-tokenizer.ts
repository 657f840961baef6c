// Job: evaluate a tokenizer on the held-out split (METHOD §3, §6): rFID of clean reconstructions and a
// pFID grid over (α, δ) through perturbed tokens (β = 1, one fixed seed per cell), KID beside every FID,
// PSNR/SSIM and codebook use. One reference set, one extractor, one preprocessing for every number.
import path from 'node:path';
import { tf } from '../tf';
import { Rng, deriveSeed } from '../rng';
import type { JsonObject } from '../protocol';
import { throwIfCancelled, type Job, type JobContext } from './types';
import { openPackedDataset, type PackedSplit } from '../data/packed';
import { loadFeatureNet, realStats, type LoadedFeatureNet, type RealStats } from '../features';
import { featureStats, fidFromStats, type FeatureStats } from '../metrics/fid';
import { kid, kidSubsetSize } from '../metrics/kid';
import { codebookStats } from '../metrics/codebook';
import { psnr, ssim } from '../metrics/psnr-ssim';
import { loadTokenizer, readTokenizerRunConfig, type VqTokenizer } from '../models/vq-tokenizer';
import { expectedFlipRate, lpDecoderInput, perturbTokens, resolveDelta, type LpKnobs } from '../perturb';
import { extractorAccuracyProblem, gridDeltaProblem, validateEvalTokenizerSpec, type EvalTokenizerSpec } from '../specs/eval-tokenizer';

const BATCH = 64;

/** Clip to [-1,1] and snap to the 8-bit grid the real images live on (u8 / 127.5 − 1), in place. */
export function toImageGrid(x: Float32Array): Float32Array {
  for (let i = 0; i < x.length; i++) {
    const v = x[i] < -1 ? -1 : x[i] > 1 ? 1 : x[i];
    x[i] = Math.round((v + 1) * 127.5) / 127.5 - 1;
  }
  return x;
}

export interface EvalInputs {
  tok: VqTokenizer;
  net: LoadedFeatureNet;
  /** Cached features of the whole val split, in split order. */
  real: RealStats;
  val: PackedSplit;
  /** Recorded in provenance as tokenizerRun / dataset. */
  tokenizerRun: string;
  dataset: string;
}

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

interface FidKid {
  fid: number;
  kid: number;
  kidStd: number;
}

/** rFID + pFID grid on already loaded pieces; the job below only resolves paths around it. */
export async function evaluateTokenizer(inp: EvalInputs, spec: EvalTokenizerSpec, ctx: JobContext): Promise<JsonObject> {
  const { tok, net, real, val } = inp;
  const S = tok.config.imageSize, C = tok.config.channels, K = tok.config.K;
  const H = net.meta.arch.imageSize, Cv = net.meta.arch.channels;
  if (H !== S || Cv !== C) throw new Error(`the feature network takes ${H}×${H}×${Cv} images, the tokenizer makes ${S}×${S}×${C}`);
  if (real.extractorId !== net.id) throw new Error(`the cached val statistics belong to feature network ${real.extractorId}, the loaded one is ${net.id}; retrain the feature network`);
  if (real.n !== val.n) throw new Error(`the cached val statistics cover ${real.n} images but the split has ${val.n}; retrain the feature network on this dataset`);
  const accuracy = extractorAccuracyProblem(inp.dataset, net.meta.testAccuracy, spec.minExtractorAccuracy);
  if (accuracy) throw accuracy;
  const badDelta = gridDeltaProblem(spec, K);
  if (badDelta) throw badDelta;
  const n = spec.n > 0 ? Math.min(spec.n, val.n) : val.n;
  if (n < 2) throw new Error(`the val split has ${val.n} images; evaluation needs at least 2`);
  const d = real.d;
  const realFeats = real.feats.subarray(0, n * d);
  const realSt: FeatureStats = n === real.n ? { mu: real.mu, sigma: real.sigma, n, d } : featureStats(realFeats, n, d);
  if (n < d) ctx.log('warn', `N = ${n} evaluation images is below the feature dimension ${d}: covariances are singular and FID is biased upward; compare only numbers with the same N, or use N ≥ ${d}`);
  const ks = kidSubsetSize(spec.kidSubsetSize, n, n);
  if (ks.warning) ctx.log('warn', ks.warning);
  const kidSize = ks.size;
  const base: JsonObject = { extractorId: net.id, extractorAccuracy: net.meta.testAccuracy, n, seed: spec.seed, split: 'val', tokenizerRun: inp.tokenizerRun, ema: spec.ema, dataset: inp.dataset };
  const cells = spec.alphas.length * spec.deltas.length;
  const total = cells + 1;
  const warned = new Set<string>();

  const compare = (fake: Float32Array): FidKid => {
    const r = fidFromStats(realSt, featureStats(fake, n, d));
    for (const w of r.warnings) if (!warned.has(w) && !/below the feature dimension/.test(w)) {
      warned.add(w);
      ctx.log('warn', `FID: ${w}`);
    }
    const k = kid(realFeats, n, fake, n, d, { subsets: spec.kidSubsets, subsetSize: kidSize, seed: spec.seed });
    return { fid: r.fid, kid: k.kid, kidStd: k.std };
  };

  // Clean pass: encode once (z and clean tokens are reused by every cell), decode, embed.
  const T = tok.h * tok.h, D = tok.config.D;
  const zAll = new Float32Array(n * T * D);
  const clean = new Int32Array(n * T);
  const recFeats = new Float32Array(n * d);
  const labels = new Int32Array(n);
  let psnrSum = 0, ssimSum = 0, recHits = 0;
  let done = 0;
  ctx.progress(0, total, 'reconstructions');
  for (const b of val.batches({ batchSize: BATCH, seed: 0, shuffle: false, limit: n })) {
    throwIfCancelled(ctx.signal);
    const [z, idx, rec] = tf.tidy(() => {
      const zt = tok.encode(tf.tensor4d(b.x, [b.n, S, S, C]));
      const q = tok.quantize(zt);
      return [zt.dataSync() as Float32Array, q.indexValues, tok.decodeLatent(q.e).dataSync() as Float32Array];
    });
    zAll.set(z, done * T * D);
    clean.set(idx, done * T);
    toImageGrid(rec);
    const emb = net.embed(rec, b.n);
    recFeats.set(emb.feats, done * d);
    labels.set(b.y, done);
    recHits += top1Hits(emb.probs, b.y, b.n);
    const shape = { n: b.n, h: S, w: S, c: C };
    psnrSum += psnr(b.x, rec, shape).mean * b.n;
    if (S >= 11) ssimSum += ssim(b.x, rec, shape).mean * b.n;
    done += b.n;
    await Promise.resolve();
  }
  const r = compare(recFeats);
  const cb = codebookStats(clean, K);
  ctx.score({ metric: 'eval/rfid', value: r.fid, provenance: base });
  ctx.score({ metric: 'eval/rkid', value: r.kid, provenance: { ...base, kidSubsets: spec.kidSubsets, kidSubsetSize: kidSize, kidStd: r.kidStd } });
  ctx.score({ metric: 'eval/psnr', value: psnrSum / n, provenance: base });
  if (S >= 11) ctx.score({ metric: 'eval/ssim', value: ssimSum / n, provenance: base });
  else ctx.log('warn', `SSIM skipped: ${S}×${S} images are smaller than its 11-pixel window`);
  const reconAcc = recHits / n;
  // the lab classifier's top-1 accuracy on the clean reconstructions (compare with the extractor's own accuracy on real images)
  ctx.score({ metric: 'eval/recon_acc', value: reconAcc, provenance: base });
  ctx.score({ metric: 'eval/usage', value: cb.usage, provenance: { ...base, K } });
  ctx.score({ metric: 'eval/perplexity', value: cb.perplexity, provenance: { ...base, K } });
  ctx.progress(1, total, 'rFID');

  // pFID grid: α rows × δ columns.
  const codes = tok.codes();
  const pfid: number[][] = [], pkid: number[][] = [], flipRates: number[][] = [], paccs: number[][] = [];
  const deltasAbs = spec.deltas.map((dl) => resolveDelta({ delta: dl, deltaMode: spec.deltaMode }, K));
  const deltasShare = spec.deltas.map((dl, j) => (spec.deltaMode === 'share' ? dl : deltasAbs[j] / K));
  try {
    for (const [i, alpha] of spec.alphas.entries()) {
      pfid.push([]);
      pkid.push([]);
      flipRates.push([]);
      paccs.push([]);
      for (const [j, delta] of spec.deltas.entries()) {
        const knobs: LpKnobs = { alpha, beta: 1, delta: deltasAbs[j], deltaMode: 'abs', includeSelf: spec.includeSelf, selection: spec.selection, anchor: spec.anchor };
        // α = 0, or δ = 1 (only the clean code to draw from): the decoder sees the clean tokens, the cell is rFID
        const noop = alpha === 0 || deltasAbs[j] <= 1 || (!spec.includeSelf && deltasAbs[j] < 2);
        let cell = r;
        let flip = 0;
        let acc = reconAcc;
        if (!noop) {
          const rng = new Rng(deriveSeed(spec.seed, `pfid/alpha=${alpha}/delta=${delta}/${spec.deltaMode}`));
          const feats = new Float32Array(n * d);
          let changed = 0, hits = 0;
          for (let s = 0; s < n; s += BATCH) {
            throwIfCancelled(ctx.signal);
            const bn = Math.min(BATCH, n - s);
            const img = tf.tidy(() => {
              const zt = tf.tensor4d(zAll.subarray(s * T * D, (s + bn) * T * D), [bn, tok.h, tok.h, D]);
              const draw = perturbTokens(zt, codes, clean.subarray(s * T, (s + bn) * T), knobs, rng, tok.config);
              changed += draw.changed;
              return tok.decodeLatent(lpDecoderInput(zt, codes, draw.indices)).dataSync() as Float32Array;
            });
            const emb = net.embed(toImageGrid(img), bn);
            feats.set(emb.feats, s * d);
            hits += top1Hits(emb.probs, labels.subarray(s, s + bn), bn);
            await Promise.resolve();
          }
          cell = compare(feats);
          flip = changed / (n * T);
          acc = hits / n;
        }
        pfid[i].push(cell.fid);
        pkid[i].push(cell.kid);
        flipRates[i].push(flip);
        paccs[i].push(acc);
        const expected = expectedFlipRate({ alpha, delta: deltasAbs[j], includeSelf: spec.includeSelf });
        const prov: JsonObject = {
          ...base,
          alpha,
          deltaAbs: deltasAbs[j],
          deltaShare: deltasShare[j],
          // how the grid gave δ: the protocol compares δ in that form (shares of K across tokenizers of different K)
          deltaMode: spec.deltaMode,
          includeSelf: spec.includeSelf,
          selection: spec.selection,
          anchor: spec.anchor,
          K,
          flipRate: flip,
          expectedFlipRate: expected,
        };
        ctx.score({ metric: 'eval/pfid', value: cell.fid, provenance: prov });
        ctx.score({ metric: 'eval/pkid', value: cell.kid, provenance: { ...prov, kidSubsets: spec.kidSubsets, kidSubsetSize: kidSize, kidStd: cell.kidStd } });
        ctx.progress(2 + i * spec.deltas.length + j, total, `pFID α ${alpha} δ ${deltasAbs[j]}`);
      }
    }
  } finally {
    codes.dispose();
  }
  const pfidMean = pfid.flat().reduce((a, v) => a + v, 0) / cells;
  ctx.score({
    metric: 'eval/pfid_mean',
    value: pfidMean,
    provenance: { ...base, alphas: spec.alphas, deltasAbs, deltasShare, deltaMode: spec.deltaMode, includeSelf: spec.includeSelf, selection: spec.selection, anchor: spec.anchor, K },
  });
  return {
    extractorId: net.id,
    extractorAccuracy: net.meta.testAccuracy,
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
    psnr: psnrSum / n,
    ssim: S >= 11 ? ssimSum / n : null,
    usage: cb.usage,
    perplexity: cb.perplexity,
  };
}

export const evalTokenizer: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateEvalTokenizerSpec(rawSpec);
  const runDir = path.resolve(ctx.home, spec.tokenizerRunDir);
  const rc = readTokenizerRunConfig(runDir);
  const dataset = spec.datasetPath || (typeof rc.dataset === 'string' ? rc.dataset : '');
  if (!dataset) throw new Error(`the tokenizer run ${spec.tokenizerRunDir} does not name its dataset; pass datasetPath`);
  const datasetDir = path.resolve(ctx.home, dataset);
  const real = realStats(datasetDir, 'val');
  const ds = openPackedDataset(datasetDir);
  let net: LoadedFeatureNet | null = null;
  let tok: VqTokenizer | null = null;
  try {
    net = loadFeatureNet(datasetDir);
    tok = loadTokenizer(runDir, { ema: spec.ema });
    return await evaluateTokenizer({ tok, net, real, val: ds.split('val'), tokenizerRun: spec.tokenizerRunDir, dataset }, spec, ctx);
  } finally {
    tok?.dispose();
    net?.dispose();
    ds.close();
  }
};
