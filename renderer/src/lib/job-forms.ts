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
}

export function trainTokenizerSpec(v: TokenizerFormValues): JsonObject {
  const spec: JsonObject = { dataset: v.dataset, preset: v.preset, epochs: v.epochs, batchSize: v.batchSize, lr: v.lr, seed: v.seed };
  spec.lp = v.lpOn ? { ...v.lp } : null;
  spec.anneal = v.lpOn && v.annealOn ? { ...v.anneal } : null;
  if (v.trainLimit > 0) spec.trainLimit = v.trainLimit;
  return spec;
}
