// Turns the Datasets and Tokenizers forms into the specs `startJob` sends. Only fields that apply
// to the chosen source/options are sent, so the host's validator sees what the user meant.
import type { JsonObject } from '../../../preload/contract';
import type { AnnealForm, LpForm } from './lp';

export interface DatasetFormValues {
  source: 'shapes' | 'mnist' | 'folder';
  folder: string;
  name: string;
  resolution: 16 | 32 | 64;
  channels: 1 | 3;
  trainCount: number;
  valCount: number;
  valShare: number;
  seed: number;
}

export const DEFAULT_DATASET_FORM: DatasetFormValues = {
  source: 'shapes',
  folder: '',
  name: '',
  resolution: 32,
  channels: 1,
  trainCount: 10000,
  valCount: 1000,
  valShare: 0.1,
  seed: 0,
};

export function datasetBuildSpec(v: DatasetFormValues): JsonObject {
  const spec: JsonObject = { source: v.source, resolution: Number(v.resolution), seed: v.seed };
  if (v.name.trim()) spec.name = v.name.trim();
  if (v.source === 'shapes') {
    spec.trainCount = v.trainCount;
    spec.valCount = v.valCount;
  } else {
    spec.valShare = v.valShare;
  }
  if (v.source === 'mnist') spec.channels = Number(v.channels);
  // sent even when empty: the host answers with its own "folder is missing" message
  if (v.source === 'folder') spec.folder = v.folder.trim();
  return spec;
}

export interface TokenizerFormValues {
  dataset: number | null;
  preset: string;
  epochs: number;
  batchSize: number;
  lr: number;
  seed: number;
  lpOn: boolean;
  lp: LpForm;
  annealOn: boolean;
  anneal: AnnealForm;
  /** 0 = the whole training split. */
  trainLimit: number;
  /** Data-parallel workers; 0 = auto (the engine's share of the cores). */
  workers: number;
}

export function trainTokenizerSpec(v: TokenizerFormValues): JsonObject {
  const spec: JsonObject = { dataset: v.dataset, preset: v.preset, epochs: v.epochs, batchSize: v.batchSize, lr: v.lr, seed: v.seed };
  spec.lp = v.lpOn ? { ...v.lp } : null;
  spec.anneal = v.lpOn && v.annealOn ? { ...v.anneal } : null;
  if (v.trainLimit > 0) spec.trainLimit = v.trainLimit;
  if (v.workers > 0) spec.workers = v.workers;
  return spec;
}

/** The Tokenizers page's "Import ONNX tokenizer…" form (docs: issue 14's import-tokenizer spec). */
export interface OnnxTokenizerFormValues {
  /** Absolute paths on the lab's machine (the host's, which may be a server reached through serve). */
  encoder: string;
  decoder: string;
  codebook: string;
  name: string;
  /** L2-normalize latents and codes (nearest code by cosine, as LlamaGen); off = Euclidean. */
  l2: boolean;
  layout: 'nchw' | 'nhwc';
  /** Value range of the encoder's input and the decoder's output. */
  range: '-1,1' | '0,1';
  /** Image side; null = from the encoder's declared input shape. */
  size: number | null;
  /** null = from the encoder's input shape (else 3). */
  channels: 1 | 3 | null;
}

export const DEFAULT_ONNX_TOKENIZER_FORM: OnnxTokenizerFormValues = {
  encoder: '', decoder: '', codebook: '', name: '', l2: false, layout: 'nchw', range: '-1,1', size: null, channels: null,
};

const positiveInt = (v: unknown): number | null => (typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : null);

/** The import-tokenizer spec: paths and name trimmed and always sent (the host names what is missing), size and channels only when given. */
export function importTokenizerSpec(v: OnnxTokenizerFormValues): JsonObject {
  const spec: JsonObject = { encoder: v.encoder.trim(), decoder: v.decoder.trim(), codebook: v.codebook.trim(), name: v.name.trim(), l2: v.l2, layout: v.layout, range: v.range };
  const size = positiveInt(v.size);
  if (size !== null) spec.size = size;
  if (v.channels === 1 || v.channels === 3) spec.channels = v.channels;
  return spec;
}

/** The "Add ONNX feature extractor…" form (add-extractor). */
export interface OnnxExtractorFormValues {
  model: string;
  name: string;
  /** Side of the square image the model takes (Inception: 299). */
  input: number;
  range: '-1,1' | '0,1';
  layout: 'nchw' | 'nhwc';
  /** Output names; empty = the host's default (first output = features, second = logits if any). */
  features: string;
  logits: string;
}

export const DEFAULT_ONNX_EXTRACTOR_FORM: OnnxExtractorFormValues = { model: '', name: '', input: 299, range: '0,1', layout: 'nchw', features: '', logits: '' };

export function addExtractorSpec(v: OnnxExtractorFormValues): JsonObject {
  const spec: JsonObject = { model: v.model.trim(), name: v.name.trim(), input: Number(v.input), range: v.range, layout: v.layout };
  if (v.features.trim()) spec.features = v.features.trim();
  if (v.logits.trim()) spec.logits = v.logits.trim();
  return spec;
}
