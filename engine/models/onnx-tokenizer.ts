// A VQ tokenizer trained elsewhere, as two ONNX models (encoder → continuous latents, decoder ← code
// vectors) and its codebook. Quantization and latent perturbation stay toklab's own (METHOD §1–2):
// the encoder's output is quantized here with the L2 or Euclidean nearest-code rule, and the decoder
// receives the chosen codes. The import probe checks shapes, layout and value range on a probe batch
// and refuses a mismatch with the tensor, the shape expected and the one found.
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import type { JsonObject } from '../protocol';
import { parseNpy } from '../metrics/npy';
import { fileHash, openSession, shapeText, type OnnxSession } from '../onnx/runtime';
import { fromRange, imageDims, imagesToModel, nchwToNhwc, nhwcToNchw } from '../onnx/tensors';
import type { ImportTokenizerSpec, OnnxLayout, OnnxRange } from '../specs/import-onnx';
import type { TokenizerModel } from './tokenizer-model';
import { nearestCodes } from './quantizer';

export const ONNX_TOKENIZER_FILES = { encoder: 'encoder.onnx', decoder: 'decoder.onnx', codebook: 'codebook.npy' } as const;

export interface OnnxTokenizerConfig {
  kind: 'onnx-tokenizer';
  name: string;
  model: {
    imageSize: number;
    channels: number;
    K: number;
    D: number;
    h: number;
    w: number;
    /** imageSize / h */
    f: number;
    codebookNorm: 'l2' | 'none';
    layout: OnnxLayout;
    range: OnnxRange;
  };
  /** sha256 (16 hex) of each file as imported: they enter the provenance of every score. */
  hashes: { encoder: string; decoder: string; codebook: string };
  io: { encoderInput: string; encoderOutput: string; decoderInput: string; decoderOutput: string };
  /** Where the files came from (for the run's record only). */
  source: { encoder: string; decoder: string; codebook: string };
}

/** The refusal of an import: names the tensor, what was expected and what was found. */
export class OnnxImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OnnxImportRefused';
  }
}

/** A [K, D] float codebook from a .npy file, as float32. */
export function readCodebook(file: string): { K: number; D: number; data: Float32Array } {
  const a = parseNpy(fs.readFileSync(file), file);
  if (a.shape.length !== 2) throw new OnnxImportRefused(`codebook ${file} has shape ${shapeText(a.shape)}; expected [K, D] (one row per code). Save it with np.save(path, codebook.numpy()) from the quantizer's embedding weight.`);
  const [K, D] = a.shape;
  if (K < 2 || D < 1) throw new OnnxImportRefused(`codebook ${file} has shape [${K}, ${D}]; a codebook needs at least 2 codes of dimension ≥ 1.`);
  const data = a.data instanceof Float32Array ? a.data : Float32Array.from(a.data);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) throw new OnnxImportRefused(`codebook ${file} has a non-finite value at code ${Math.floor(i / D)}, dim ${i % D}.`);
  return { K, D, data };
}

function l2RowsInPlace(x: Float32Array, D: number): Float32Array {
  for (let r = 0; r < x.length / D; r++) {
    let s = 0;
    for (let k = 0; k < D; k++) s += x[r * D + k] * x[r * D + k];
    const inv = 1 / Math.max(Math.sqrt(s), 1e-12);
    for (let k = 0; k < D; k++) x[r * D + k] *= inv;
  }
  return x;
}

/** A probe batch on toklab's scale: smooth ramps and a checkerboard block, n × S × S × C in [-1,1]. */
export function probeImages(n: number, S: number, C: number): Float32Array {
  const x = new Float32Array(n * S * S * C);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < S; i++)
      for (let j = 0; j < S; j++)
        for (let c = 0; c < C; c++) {
          const ramp = b % 2 === 0 ? (2 * j) / (S - 1) - 1 : (2 * i) / (S - 1) - 1;
          const block = ((i >> 2) + (j >> 2) + c) % 2 === 0 ? 0.5 : -0.5;
          x[((b * S + i) * S + j) * C + c] = Math.max(-1, Math.min(1, 0.6 * ramp + 0.4 * block));
        }
  return x;
}

/** Static dims of a declared shape agree with `dims` (symbolic dims agree with anything). */
function agrees(declared: (number | null)[] | null, dims: number[]): boolean {
  if (!declared) return true;
  return declared.length === dims.length && declared.every((d, i) => d === null || d === dims[i]);
}

const layoutHint = (layout: OnnxLayout): string => (layout === 'nchw' ? 'nchw ([n, C, H, W], PyTorch)' : 'nhwc ([n, H, W, C])');

interface Pieces {
  enc: OnnxSession;
  dec: OnnxSession;
  cb: { K: number; D: number; data: Float32Array };
}

class OnnxTokenizer implements TokenizerModel {
  readonly kind = 'onnx' as const;
  readonly imageSize: number;
  readonly channels: number;
  readonly h: number;
  readonly w: number;
  readonly quant;
  readonly identity: JsonObject;
  private readonly codeData: Float32Array;

  constructor(
    readonly config: OnnxTokenizerConfig,
    private readonly p: Pieces,
  ) {
    const m = config.model;
    this.imageSize = m.imageSize;
    this.channels = m.channels;
    this.h = m.h;
    this.w = m.w;
    this.quant = { K: m.K, D: m.D, codebookNorm: m.codebookNorm, betaCommit: 0.25 };
    this.identity = { tokenizerKind: 'onnx', tokenizerHashes: { ...config.hashes }, tokenizerLayout: m.layout, tokenizerRange: m.range };
    this.codeData = m.codebookNorm === 'l2' ? l2RowsInPlace(Float32Array.from(p.cb.data), m.D) : p.cb.data;
  }

  async encode(x: Float32Array, n: number): Promise<Float32Array> {
    const m = this.config.model;
    const feed = imagesToModel(x, n, m.imageSize, m.channels, m.layout, m.range);
    const out = (await this.p.enc.run({ [this.config.io.encoderInput]: feed }))[this.config.io.encoderOutput];
    const z = m.layout === 'nchw' ? nchwToNhwc(out.data, n, m.D, m.h, m.w) : Float32Array.from(out.data);
    return m.codebookNorm === 'l2' ? l2RowsInPlace(z, m.D) : z;
  }

  async decode(e: Float32Array, n: number): Promise<Float32Array> {
    const m = this.config.model;
    const data = m.layout === 'nchw' ? nhwcToNchw(e, n, m.h, m.w, m.D) : e;
    const dims = m.layout === 'nchw' ? [n, m.D, m.h, m.w] : [n, m.h, m.w, m.D];
    const out = (await this.p.dec.run({ [this.config.io.decoderInput]: { data, dims } }))[this.config.io.decoderOutput];
    const S = m.imageSize, C = m.channels;
    const img = m.layout === 'nchw' ? nchwToNhwc(out.data, n, C, S, S) : Float32Array.from(out.data);
    return fromRange(img, m.range);
  }

  codes(): tf.Tensor2D {
    return tf.tensor2d(this.codeData, [this.config.model.K, this.config.model.D]);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.p.enc.release(), this.p.dec.release()]);
  }
}

const mse = (a: Float32Array, b: Float32Array): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return s / a.length;
};

/**
 * Checks an encoder/decoder/codebook triple against what the user declared (layout, range, size),
 * on a probe batch; returns the config to store. Sessions are released before it returns.
 */
export async function probeOnnxTokenizer(spec: ImportTokenizerSpec): Promise<OnnxTokenizerConfig> {
  const cb = readCodebook(spec.codebook);
  const enc = await openSession(spec.encoder, { threads: 1 });
  const dec = await openSession(spec.decoder, { threads: 1 });
  try {
    const L = spec.layout;
    if (enc.inputNames.length !== 1) throw new OnnxImportRefused(`the encoder ${spec.encoder} has ${enc.inputNames.length} inputs (${enc.inputNames.join(', ')}); toklab feeds one image tensor. Export the encoder alone (images in, latents out).`);
    if (dec.inputNames.length !== 1) throw new OnnxImportRefused(`the decoder ${spec.decoder} has ${dec.inputNames.length} inputs (${dec.inputNames.join(', ')}); toklab feeds one latent tensor (the chosen code vectors). Export the decoder alone, including any post-quantization conv.`);
    const eIn = enc.inputNames[0], eOut = enc.outputNames[0], dIn = dec.inputNames[0], dOut = dec.outputNames[0];
    const declared = enc.inputShapes[eIn];
    if (declared && declared.length !== 4) throw new OnnxImportRefused(`the encoder's input "${eIn}" is declared ${shapeText(declared)}, rank ${declared.length}; toklab feeds images of rank 4, ${layoutHint(L)}.`);
    // image side and channels from the declared shape in a layout (the user's --size / --channels win)
    const infer = (l: OnnxLayout): { S: number | null; C: number } => {
      const [iS, iC] = l === 'nchw' ? [2, 1] : [1, 3];
      const dc = declared?.[iC] ?? null;
      return { S: spec.size || (declared?.[iS] ?? null), C: spec.channels || (dc === 1 || dc === 3 ? dc : 3) };
    };
    const fits = (l: OnnxLayout): boolean => {
      const g = infer(l);
      return g.S !== null && agrees(declared, imageDims(2, g.S, g.C, l));
    };
    const { S: S0, C } = infer(L);
    if (!S0) throw new OnnxImportRefused(`the encoder's input "${eIn}" has a symbolic image size (${shapeText(declared)}); give the image side with --size.`);
    const S = S0;
    const feedDims = imageDims(2, S, C, L);
    if (!fits(L)) {
      const other: OnnxLayout = L === 'nchw' ? 'nhwc' : 'nchw';
      throw new OnnxImportRefused(
        `the encoder's input "${eIn}" expects ${shapeText(declared)}, but layout ${L} at ${S} px with ${C} channels feeds ${shapeText(feedDims)}` +
          (fits(other) ? `; ${shapeText(declared)} is layout ${layoutHint(other)}: pass --layout ${other}.` : '; check --layout, --size and --channels.'),
      );
    }
    const x = probeImages(2, S, C);
    let zOut;
    try {
      zOut = (await enc.run({ [eIn]: imagesToModel(x, 2, S, C, L, spec.range) }))[eOut];
    } catch (e) {
      throw new OnnxImportRefused(`the encoder did not run on a probe batch ${shapeText(feedDims)} (layout ${L}): ${(e as Error).message.split('\n')[0]}. Check --layout, --size and --channels.`);
    }
    if (zOut.dims.length !== 4) throw new OnnxImportRefused(`the encoder's output "${eOut}" has shape ${shapeText(zOut.dims)}; expected a latent grid of rank 4, ${L === 'nchw' ? '[n, D, h, w]' : '[n, h, w, D]'}.`);
    const [, a1, a2, a3] = zOut.dims;
    const [D, h, w] = L === 'nchw' ? [a1, a2, a3] : [a3, a1, a2];
    if (D !== cb.D) {
      throw new OnnxImportRefused(
        `the codebook ${spec.codebook} is [K = ${cb.K}, D = ${cb.D}], but the encoder's output "${eOut}" has shape ${shapeText(zOut.dims)} (layout ${L}: D = ${D}); the code dimension must equal the latent's channels. ` +
          'Give the codebook of this encoder (the quantizer embedding after any pre-quantization conv), or check --layout.',
      );
    }
    if (S % h !== 0 || S % w !== 0 || h !== w) throw new OnnxImportRefused(`the encoder maps ${S} × ${S} images to a ${h} × ${w} grid; toklab needs a square grid that divides the image side.`);
    const zNhwc = L === 'nchw' ? nchwToNhwc(zOut.data, 2, D, h, w) : zOut.data;
    const norm = spec.l2 ? 'l2' : 'none';
    const codes = norm === 'l2' ? l2RowsInPlace(Float32Array.from(cb.data), D) : cb.data;
    const z = norm === 'l2' ? l2RowsInPlace(Float32Array.from(zNhwc), D) : zNhwc;
    const idx = tf.tidy(() => {
      const q = nearestCodes(tf.tensor4d(z, [2, h, w, D]), tf.tensor2d(codes, [cb.K, D]), { K: cb.K, D, codebookNorm: norm, betaCommit: 0.25 });
      return q.values;
    });
    const e = new Float32Array(idx.length * D);
    idx.forEach((k, i) => e.set(codes.subarray(k * D, (k + 1) * D), i * D));
    const latDims = L === 'nchw' ? [2, D, h, w] : [2, h, w, D];
    let yOut;
    try {
      yOut = (await dec.run({ [dIn]: { data: L === 'nchw' ? nhwcToNchw(e, 2, h, w, D) : e, dims: latDims } }))[dOut];
    } catch (err) {
      throw new OnnxImportRefused(`the decoder's input "${dIn}" (declared ${shapeText(dec.inputShapes[dIn])}) did not take the chosen codes ${shapeText(latDims)}: ${(err as Error).message.split('\n')[0]}. The decoder must take the encoder's latent shape.`);
    }
    const want = imageDims(2, S, C, L);
    if (yOut.dims.length !== 4 || yOut.dims.some((v, i) => v !== want[i])) throw new OnnxImportRefused(`the decoder's output "${dOut}" has shape ${shapeText(yOut.dims)}; expected ${shapeText(want)} (layout ${L}, ${S} px, ${C} channels).`);
    const y = L === 'nchw' ? nchwToNhwc(yOut.data, 2, C, S, S) : Float32Array.from(yOut.data);
    let lo = Infinity, hi = -Infinity;
    for (const v of y) {
      if (!Number.isFinite(v)) throw new OnnxImportRefused(`the decoder's output "${dOut}" has non-finite values on the probe batch; check the exported model.`);
      lo = Math.min(lo, v);
      hi = Math.max(hi, v);
    }
    // value range: outputs far below 0 cannot be [0,1] images; [0,1]-looking outputs that fit the probe
    // much better read as [0,1] are a [0,1] model declared as [-1,1]
    if (spec.range === '0,1' && lo < -0.25) throw new OnnxImportRefused(`the decoder's output "${dOut}" reaches ${lo.toFixed(2)} on the probe batch, outside the declared range 0,1; the model works in [-1, 1]: pass --range -1,1.`);
    if (spec.range === '-1,1' && lo >= -0.02 && hi <= 1.02) {
      const asDeclared = mse(y, x);
      const as01 = mse(fromRange(Float32Array.from(y), '0,1'), x);
      if (as01 < 0.5 * asDeclared) throw new OnnxImportRefused(`the decoder's output "${dOut}" stays within [${lo.toFixed(2)}, ${hi.toFixed(2)}] and matches the probe images far better read as 0–1 (MSE ${as01.toFixed(3)} against ${asDeclared.toFixed(3)}); pass --range 0,1.`);
    }
    return {
      kind: 'onnx-tokenizer',
      name: spec.name,
      model: { imageSize: S, channels: C, K: cb.K, D, h, w, f: S / h, codebookNorm: norm, layout: L, range: spec.range },
      hashes: { encoder: fileHash(spec.encoder), decoder: fileHash(spec.decoder), codebook: fileHash(spec.codebook) },
      io: { encoderInput: eIn, encoderOutput: eOut, decoderInput: dIn, decoderOutput: dOut },
      source: { encoder: spec.encoder, decoder: spec.decoder, codebook: spec.codebook },
    };
  } finally {
    await Promise.all([enc.release(), dec.release()]);
  }
}

export function readOnnxTokenizerConfig(runDir: string): OnnxTokenizerConfig {
  const file = path.join(runDir, 'config.json');
  const c = JSON.parse(fs.readFileSync(file, 'utf8')) as OnnxTokenizerConfig;
  if (c.kind !== 'onnx-tokenizer') throw new Error(`${file} describes a "${String(c.kind)}" run, not an imported ONNX tokenizer`);
  return c;
}

/** An imported tokenizer from its run folder; the files must still hash to what was imported. */
export async function loadOnnxTokenizer(runDir: string, opts: { threads?: number } = {}): Promise<TokenizerModel> {
  const config = readOnnxTokenizerConfig(runDir);
  const files = { encoder: path.join(runDir, ONNX_TOKENIZER_FILES.encoder), decoder: path.join(runDir, ONNX_TOKENIZER_FILES.decoder), codebook: path.join(runDir, ONNX_TOKENIZER_FILES.codebook) };
  for (const k of ['encoder', 'decoder', 'codebook'] as const) {
    if (!fs.existsSync(files[k])) throw new Error(`${files[k]} is missing: the imported tokenizer's folder is damaged; import it again`);
    const got = fileHash(files[k]);
    if (got !== config.hashes[k]) throw new Error(`${files[k]} hashes to ${got}, not ${config.hashes[k]} as imported: the file changed; import the tokenizer again`);
  }
  const cb = readCodebook(files.codebook);
  const enc = await openSession(files.encoder, { threads: opts.threads });
  const dec = await openSession(files.decoder, { threads: opts.threads }).catch(async (e) => {
    await enc.release();
    throw e;
  });
  return new OnnxTokenizer(config, { enc, dec, cb });
}
