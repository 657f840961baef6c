// Specs of the jobs that bring models trained elsewhere into the lab through ONNX: an external VQ
// tokenizer (encoder + decoder + codebook) and a feature extractor (e.g. the standard FID InceptionV3).
// Pure TypeScript so the host refuses a bad request with the engine's own message before queueing.
import { existsSync, statSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { SpecError, asObject, bool, num, str } from './errors';

export type OnnxLayout = 'nchw' | 'nhwc';
/** Value range of images on the model's side: '-1,1' or '0,1' (toklab's own images are in [-1,1]). */
export type OnnxRange = '-1,1' | '0,1';
export const ONNX_LAYOUTS: readonly OnnxLayout[] = ['nchw', 'nhwc'];
export const ONNX_RANGES: readonly OnnxRange[] = ['-1,1', '0,1'];

export interface ImportTokenizerSpec {
  encoder: string;
  decoder: string;
  codebook: string;
  name: string;
  /** Normalize latents and codes to unit length (nearest = cosine), as LlamaGen's l2 codebook; else Euclidean. */
  l2: boolean;
  layout: OnnxLayout;
  range: OnnxRange;
  /** Image side; 0 = read it from the encoder's declared input shape. */
  size: number;
  /** 0 = read it from the encoder's declared input shape, else 3. */
  channels: number;
}

export interface AddExtractorSpec {
  model: string;
  name: string;
  /** Side of the square input the model takes (images are resized to it, bilinear as torch's interpolate). */
  input: number;
  range: OnnxRange;
  layout: OnnxLayout;
  /** Output names of the pool features and the class logits; '' = first output / second output if any. */
  features: string;
  logits: string;
}

/** An existing file given by an absolute path, or a SpecError naming the field and the fix. */
function inputFile(o: Record<string, unknown>, key: string, ext: string[], what: string): string {
  const p = str<string>(o, key, '');
  if (!p) throw new SpecError(key, 'is empty', `Give the path of the ${what}.`);
  if (!isAbsolute(p)) throw new SpecError(key, `is "${p}", a relative path`, 'Give an absolute path (the CLI resolves relative paths for you).');
  if (!existsSync(p)) throw new SpecError(key, `"${p}" does not exist`, `Check the path of the ${what}.`);
  if (!statSync(p).isFile()) throw new SpecError(key, `"${p}" is not a file`, `Give the ${what} file itself.`);
  if (!ext.some((e) => p.toLowerCase().endsWith(e))) throw new SpecError(key, `"${p}" does not end in ${ext.join(' or ')}`, `Give the ${what} (${ext.join(', ')}).`);
  return p;
}

function name(o: Record<string, unknown>): string {
  const n = str(o, 'name', '').trim();
  if (!n) throw new SpecError('name', 'is empty', 'Give the model a name (--name), e.g. the paper or checkpoint it comes from.');
  if (n.length > 120) throw new SpecError('name', `is ${n.length} characters long`, 'Use at most 120 characters.');
  return n;
}

export function validateImportTokenizerSpec(input: unknown): ImportTokenizerSpec {
  const o = asObject(input ?? {});
  const size = num(o, 'size', 0, 0, 1024, true);
  if (size !== 0 && size < 8) throw new SpecError('size', `is ${size}`, 'Give the image side in pixels (8–1024), or leave it out to read it from the encoder.');
  const channels = num(o, 'channels', 0, 0, 3, true);
  if (channels === 2) throw new SpecError('channels', 'is 2', 'Use 1 (grayscale) or 3 (RGB).');
  return {
    encoder: inputFile(o, 'encoder', ['.onnx'], 'encoder ONNX file'),
    decoder: inputFile(o, 'decoder', ['.onnx'], 'decoder ONNX file'),
    codebook: inputFile(o, 'codebook', ['.npy'], 'codebook .npy file ([K, D] float32 or float64)'),
    name: name(o),
    l2: bool(o, 'l2', false),
    layout: str(o, 'layout', 'nchw', ONNX_LAYOUTS),
    range: str(o, 'range', '-1,1', ONNX_RANGES),
    size,
    channels,
  };
}

export function validateAddExtractorSpec(input: unknown): AddExtractorSpec {
  const o = asObject(input ?? {});
  return {
    model: inputFile(o, 'model', ['.onnx'], 'extractor ONNX file'),
    name: name(o),
    input: num(o, 'input', 299, 8, 1024, true),
    range: str(o, 'range', '0,1', ONNX_RANGES),
    layout: str(o, 'layout', 'nchw', ONNX_LAYOUTS),
    features: str(o, 'features', ''),
    logits: str(o, 'logits', ''),
  };
}
