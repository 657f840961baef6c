// Job: train a VQ tokenizer (optionally with latent perturbation) on a packed dataset of the lab.
import path from 'node:path';
import type { JsonObject } from '../protocol';
import type { Job } from './types';
import { openPackedDataset } from '../data/packed';
import { validateTrainTokenizerSpec } from '../specs/train-tokenizer';
import { trainTokenizerOn } from '../train/tokenizer-trainer';

export const trainTokenizer: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateTrainTokenizerSpec(rawSpec);
  const ds = openPackedDataset(path.resolve(ctx.home, spec.datasetPath));
  try {
    const [H, , C] = ds.imageShape;
    const val = ds.split('val');
    return await trainTokenizerOn({ train: ds.split('train'), val: val.n > 0 ? val : null, imageSize: H, channels: C, label: spec.datasetPath }, spec, ctx);
  } finally {
    ds.close();
  }
};
