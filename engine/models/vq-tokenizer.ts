// Conv VQ tokenizer (METHOD §1): residual conv encoder → (L2-normalized) vector quantizer → conv decoder.
// Layout follows taming-transformers / LlamaGen vq_model.py, shrunk for the wasm backend.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import { Rng } from '../rng';
import { lpDecoderInput, perturbTokens, type DrawResult, type LpKnobs, type LpPlan } from '../perturb';
import { evalWeights, latestCheckpoint, loadCheckpoint } from '../train/checkpoint';
import { act, conv, groupNorm, initConv, initConvTranspose, initNorm, initResBlock, newScope, resBlock, upsample2x, type Act, type Norm, type Params } from './layers';
import { TOKENIZER_PRESETS } from './tokenizer-presets';
import type { Batch, BatchOptions } from '../data/types';
import { throwIfCancelled } from '../context';
import { codeVectors, initCodebook, l2Normalize, lookup, quantizeLatent, type QuantizeOutput, type QuantizerConfig } from './quantizer';

export interface TokenizerConfig extends QuantizerConfig {
  imageSize: number;
  channels: number;
  /** Downsampling factor: 32×32 → 8×8 at f = 4. */
  f: 2 | 4 | 8;
  /** Channel width per resolution level, length log2(f) + 1 (full resolution first). */
  widths: number[];
  /** Residual blocks per level, same length as widths. */
  resBlocks: number[];
  norm: Norm;
  groups: number;
  act: Act;
  /** 'nearest': nearest ×2 then 3×3 conv; 'transpose': 3×3 stride-2 conv2dTranspose. */
  upsample: 'nearest' | 'transpose';
}

export type TokenizerPreset = Omit<TokenizerConfig, 'imageSize' | 'channels'>;
export { TOKENIZER_PRESETS };

export function resolveTokenizerConfig(preset: string, imageSize: number, channels: number, overrides: Partial<TokenizerPreset> = {}): TokenizerConfig {
  const p = TOKENIZER_PRESETS[preset];
  if (!p) throw new Error(`unknown tokenizer preset "${preset}"; use one of ${Object.keys(TOKENIZER_PRESETS).join(', ')}`);
  const cfg: TokenizerConfig = { ...p, ...overrides, imageSize, channels };
  const levels = Math.log2(cfg.f);
  if (!overrides.widths && cfg.widths.length !== levels + 1) cfg.widths = Array.from({ length: levels + 1 }, (_, i) => p.widths[Math.min(i, p.widths.length - 1)]);
  if (!overrides.resBlocks && cfg.resBlocks.length !== levels + 1) cfg.resBlocks = Array.from({ length: levels + 1 }, (_, i) => (i === 0 ? 0 : 1));
  checkConfig(cfg);
  return cfg;
}

function checkConfig(c: TokenizerConfig): void {
  const levels = Math.log2(c.f);
  if (![2, 4, 8].includes(c.f)) throw new Error(`f must be 2, 4 or 8, got ${c.f}`);
  if (c.widths.length !== levels + 1 || c.resBlocks.length !== levels + 1) throw new Error(`widths and resBlocks need ${levels + 1} entries for f = ${c.f}`);
  if (c.imageSize % c.f !== 0) throw new Error(`image size ${c.imageSize} is not divisible by f = ${c.f}`);
  if (c.norm === 'group') for (const w of c.widths) if (w % Math.min(c.groups, w) !== 0) throw new Error(`width ${w} is not divisible by ${c.groups} groups`);
}

export class VqTokenizer {
  readonly params: Params = {};
  readonly levels: number;
  /** Latent grid side h = w = imageSize / f. */
  readonly h: number;

  constructor(
    readonly config: TokenizerConfig,
    seed: number,
  ) {
    checkConfig(config);
    const c = config;
    const rng = new Rng(seed);
    const scope = newScope('vq');
    const p = this.params;
    const blk = { norm: c.norm, groups: c.groups, act: c.act };
    this.levels = Math.log2(c.f);
    this.h = c.imageSize / c.f;
    const L = this.levels;
    initConv(p, scope, 'enc.in', 3, c.channels, c.widths[0], rng);
    for (let i = 0; i <= L; i++) {
      for (let j = 0; j < c.resBlocks[i]; j++) initResBlock(p, scope, `enc.l${i}.r${j}`, c.widths[i], c.widths[i], blk, rng);
      if (i < L) initConv(p, scope, `enc.l${i}.down`, 3, c.widths[i], c.widths[i + 1], rng);
    }
    initNorm(p, scope, 'enc.nout', c.widths[L], c.norm);
    initConv(p, scope, 'enc.out', 1, c.widths[L], c.D, rng);
    initCodebook(p, scope, c, rng);
    initConv(p, scope, 'dec.in', 3, c.D, c.widths[L], rng);
    for (let i = L; i >= 0; i--) {
      for (let j = 0; j < c.resBlocks[i]; j++) initResBlock(p, scope, `dec.l${i}.r${j}`, c.widths[i], c.widths[i], blk, rng);
      if (i > 0) {
        if (c.upsample === 'nearest') initConv(p, scope, `dec.l${i}.up`, 3, c.widths[i], c.widths[i - 1], rng);
        else initConvTranspose(p, scope, `dec.l${i}.up`, 3, c.widths[i], c.widths[i - 1], rng);
      }
    }
    initNorm(p, scope, 'dec.nout', c.widths[0], c.norm);
    initConv(p, scope, 'dec.out', 3, c.widths[0], c.channels, rng);
  }

  private get blk() {
    return { norm: this.config.norm, groups: this.config.groups, act: this.config.act };
  }

  /** Images in [-1,1] → latents, L2-normalized when the codebook is. [B,H,W,C] → [B,h,w,D] */
  encode(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const c = this.config;
      const p = this.params;
      let hdn = conv(p, 'enc.in', x);
      for (let i = 0; i <= this.levels; i++) {
        for (let j = 0; j < c.resBlocks[i]; j++) hdn = resBlock(p, `enc.l${i}.r${j}`, hdn, this.blk);
        if (i < this.levels) hdn = conv(p, `enc.l${i}.down`, hdn, 2);
      }
      hdn = act(groupNorm(p, 'enc.nout', hdn, c.groups, c.norm), c.act);
      const z = conv(p, 'enc.out', hdn);
      return c.codebookNorm === 'l2' ? l2Normalize(z) : z;
    });
  }

  /** Clean quantization of encoder latents (indices, straight-through zq, losses, counts). */
  quantize(z: tf.Tensor4D): QuantizeOutput {
    return quantizeLatent(this.params, z, this.config);
  }

  /** The codebook as used for decoding (normalized when L2). [K,D] */
  codes(): tf.Tensor2D {
    return tf.tidy(() => codeVectors(this.params, this.config));
  }

  /** Decoder: latents (quantized or straight-through) → images. [B,h,w,D] → [B,H,W,C] */
  decodeLatent(zq: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const c = this.config;
      const p = this.params;
      let hdn = conv(p, 'dec.in', zq);
      for (let i = this.levels; i >= 0; i--) {
        for (let j = 0; j < c.resBlocks[i]; j++) hdn = resBlock(p, `dec.l${i}.r${j}`, hdn, this.blk);
        if (i > 0) {
          if (c.upsample === 'nearest') hdn = conv(p, `dec.l${i}.up`, upsample2x(hdn));
          else {
            const [B, hh, ww] = hdn.shape;
            const y = tf.conv2dTranspose(hdn, p[`dec.l${i}.up.w`] as tf.Tensor4D, [B, hh * 2, ww * 2, c.widths[i - 1]], 2, 'same');
            hdn = tf.add(y, p[`dec.l${i}.up.b`]) as tf.Tensor4D;
          }
        }
      }
      hdn = act(groupNorm(p, 'dec.nout', hdn, c.groups, c.norm), c.act);
      return conv(p, 'dec.out', hdn);
    });
  }

  /** Token grid → images through the (normalized) codes. [B,h,w] int32 → [B,H,W,C] */
  decodeIndices(indices: tf.Tensor3D): tf.Tensor4D {
    return tf.tidy(() => this.decodeLatent(lookup(this.codes(), indices) as tf.Tensor4D));
  }

  /**
   * Training forward pass (METHOD §1–2): codebook and commitment losses on the clean assignment;
   * with `lp`, the decoder sees perturbed tokens z_t + sg(e_new − z_t). Call inside the gradient tape.
   */
  losses(x: tf.Tensor4D, lp?: { knobs: LpKnobs; rng: Rng } | { knobs: LpKnobs; plan: LpPlan }): TokenizerLosses {
    const c = this.config;
    const z = this.encode(x);
    const q = this.quantize(z);
    let zdec = q.zq;
    let draw: DrawResult | null = null;
    if (lp) {
      const codes = this.codes();
      const clean = q.indexValues;
      draw = perturbTokens(z, codes, clean, lp.knobs, 'plan' in lp ? lp.plan : lp.rng, c);
      if (draw.candidates > 0) zdec = lpDecoderInput(z, codes, draw.indices);
    }
    const xr = this.decodeLatent(zdec);
    const recon = tf.mean(tf.square(tf.sub(xr, x))) as tf.Scalar;
    const loss = tf.addN([recon, q.codebookLoss, tf.mul(q.commitLoss, c.betaCommit)]) as tf.Scalar;
    return { loss, recon, codebook: q.codebookLoss, commit: q.commitLoss, counts: q.counts, z, indices: q.indices, xr, draw };
  }

  /**
   * Reconstruction for evaluation: clean (rFID) or through perturbed tokens (pFID: pass knobs with β = 1
   * and a seeded Rng). Call with EMA weights in place. [B,H,W,C] → [B,H,W,C], not clipped.
   */
  reconstruct(x: tf.Tensor4D, lp?: { knobs: LpKnobs; rng: Rng }): { images: tf.Tensor4D; draw: DrawResult | null } {
    let draw: DrawResult | null = null;
    const images = tf.tidy(() => {
      const z = this.encode(x);
      const q = this.quantize(z);
      if (!lp) return this.decodeLatent(q.e);
      const codes = this.codes();
      draw = perturbTokens(z, codes, q.indexValues, lp.knobs, lp.rng, this.config);
      return this.decodeLatent(lpDecoderInput(z, codes, draw.indices));
    });
    return { images, draw };
  }

  /** Clean token indices of images. [B,H,W,C] → [B,h,w] int32 */
  tokenize(x: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.quantize(this.encode(x)).indices);
  }

  numParams(): number {
    return Object.values(this.params).reduce((a, v) => a + v.size, 0);
  }

  dispose(): void {
    tf.dispose(Object.values(this.params));
  }
}

export interface TokenizerLosses {
  /** recon + codebook + β·commit */
  loss: tf.Scalar;
  recon: tf.Scalar;
  codebook: tf.Scalar;
  commit: tf.Scalar;
  /** [K] code histogram of the clean assignment */
  counts: tf.Tensor1D;
  /** [B,h,w,D] */
  z: tf.Tensor4D;
  /** [B,h,w] clean */
  indices: tf.Tensor3D;
  /** [B,H,W,C] reconstruction (through perturbed tokens under LP) */
  xr: tf.Tensor4D;
  draw: DrawResult | null;
}

/** Images in a fixed order: a packed split, or an in-memory set with the same interface. */
export interface ImageSource {
  n: number;
  batches(opts: BatchOptions): Iterable<Batch>;
  batchCount(opts: BatchOptions): number;
}

/** Clean token grids of the first `limit` images of a source, in source order. [n,h,w] flattened */
export function tokenizeImages(
  tok: VqTokenizer,
  src: Pick<ImageSource, 'n' | 'batches'>,
  batchSize: number,
  limit: number | undefined,
  signal: AbortSignal,
  onBatch?: (done: number) => void,
): { tokens: Int32Array; labels: Int32Array; n: number } {
  const S = tok.config.imageSize;
  const C = tok.config.channels;
  const n = Math.min(src.n, limit ?? Infinity);
  const L = tok.h * tok.h;
  const tokens = new Int32Array(n * L);
  const labels = new Int32Array(n);
  let done = 0;
  for (const b of src.batches({ batchSize, seed: 0, shuffle: false, flip: false, limit })) {
    throwIfCancelled(signal);
    const idx = tf.tidy(() => tok.tokenize(tf.tensor4d(b.x, [b.n, S, S, C])).dataSync() as Int32Array); // [B,H,W,C] → [B,h,w]
    tokens.set(idx, done * L);
    labels.set(b.y, done);
    done += b.n;
    onBatch?.(done);
  }
  return { tokens, labels, n: done };
}

export function createTokenizer(config: TokenizerConfig, seed: number): VqTokenizer {
  return new VqTokenizer(config, seed);
}

/** What a tokenizer run writes to runDir/config.json (the trainer adds its spec). */
export interface TokenizerRunConfig {
  kind: 'vq-tokenizer';
  model: TokenizerConfig;
  seed: number;
  [k: string]: unknown;
}

export function readTokenizerRunConfig(runDir: string): TokenizerRunConfig {
  const file = path.join(runDir, 'config.json');
  if (!fs.existsSync(file)) throw new Error(`${runDir} has no config.json; is it a tokenizer run?`);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8')) as TokenizerRunConfig;
  if (cfg.kind !== 'vq-tokenizer') throw new Error(`${file} describes a "${String(cfg.kind)}" run, not a tokenizer`);
  return cfg;
}

/** A trained tokenizer from its run folder: config.json + latest checkpoint, EMA weights when present (default). */
export function loadTokenizer(runDir: string, opts: { ema?: boolean } = {}): VqTokenizer {
  const rc = readTokenizerRunConfig(runDir);
  const file = latestCheckpoint(runDir);
  if (!file) throw new Error(`${runDir} has no checkpoint yet; train the tokenizer first`);
  const tok = new VqTokenizer(rc.model, rc.seed);
  const w = evalWeights(loadCheckpoint(file), opts.ema ?? true);
  tf.tidy(() => {
    for (const [k, v] of Object.entries(tok.params)) {
      const a = w[k];
      if (!a) throw new Error(`checkpoint ${file} lacks ${k}`);
      v.assign(tf.tensor(a.data, v.shape, 'float32'));
    }
  });
  return tok;
}
