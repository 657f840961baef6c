// Job: post-train the decoder of a main-trained tokenizer on its generator's teacher-forced tokens
// (METHOD §5). The run folder becomes a tokenizer run of its own that loadTokenizer opens.
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../protocol';
import type { Job } from './types';
import { openPackedDataset } from '../data/packed';
import { loadGenerator } from '../models/generator-store';
import { loadTokenizer, readTokenizerRunConfig, type TokenizerRunConfig } from '../models/vq-tokenizer';
import { validatePosttrainSpec } from '../specs/posttrain';
import { extractorAccuracyProblem } from '../specs/eval-tokenizer';
import { featureNetDir, readFeatureNetMeta } from '../features';
import { posttrainDecoder } from '../train/decoder-posttrainer';

export const posttrain: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validatePosttrainSpec(rawSpec);
  const tokDir = path.resolve(ctx.home, spec.tokenizerRunDir);
  const parent = readTokenizerRunConfig(tokDir);
  const datasetRel = typeof parent.dataset === 'string' ? parent.dataset : '';
  if (!datasetRel) throw new Error(`the tokenizer run ${spec.tokenizerRunDir} does not name its dataset`);
  // the gFIDs before/after are scored by the dataset's feature network: refuse now rather than after training
  const hasNet = fs.existsSync(path.join(featureNetDir(path.resolve(ctx.home, datasetRel)), 'meta.json'));
  const extractorAccuracy = hasNet ? readFeatureNetMeta(path.resolve(ctx.home, datasetRel)).testAccuracy : null;
  if (extractorAccuracy !== null) {
    const low = extractorAccuracyProblem(datasetRel, extractorAccuracy, spec.minExtractorAccuracy);
    if (low) throw low;
  }
  const { gen, meta } = loadGenerator(path.resolve(ctx.home, spec.generatorRunDir), { useEma: true });
  try {
    if (path.resolve(ctx.home, meta.tokenizerRunDir) !== tokDir) {
      throw new Error(`generator ${spec.generatorRunDir} was trained on the tokens of ${meta.tokenizerRunDir}, not ${spec.tokenizerRunDir}; pick a generator of this tokenizer`);
    }
    // written before any checkpoint, so the folder is a loadable tokenizer run as soon as one exists
    const runConfig: TokenizerRunConfig = { ...parent, parentTokenizerRun: spec.tokenizerRunDir, generatorRun: spec.generatorRunDir, posttrain: spec as unknown as JsonObject };
    fs.writeFileSync(path.join(ctx.runDir, 'config.json'), JSON.stringify(runConfig, null, 2));
    const ds = openPackedDataset(path.resolve(ctx.home, datasetRel));
    // the main-trained tokenizer's EMA weights are the starting point (and the frozen encoder/codebook)
    const tok = loadTokenizer(tokDir, { ema: true });
    try {
      const [H, , C] = ds.imageShape;
      if (H !== tok.config.imageSize || C !== tok.config.channels) throw new Error(`dataset images are ${H}×${H}×${C}, the tokenizer expects ${tok.config.imageSize}×${tok.config.imageSize}×${tok.config.channels}`);
      if (tok.config.K !== gen.cfg.vocabSize || tok.h * tok.h !== gen.cfg.seqLen) throw new Error(`tokenizer (K ${tok.config.K}, ${tok.h}×${tok.h}) and generator (K ${gen.cfg.vocabSize}, L ${gen.cfg.seqLen}) do not match`);
      const val = ds.split('val');
      const runs = { parentTokenizerRun: spec.tokenizerRunDir, generatorRun: spec.generatorRunDir };
      const res = await posttrainDecoder({ tok, gen, train: ds.split('train'), val: val.n > 0 ? val : null, runs }, spec, ctx);
      return { ...res, extractorAccuracy, minExtractorAccuracy: spec.minExtractorAccuracy };
    } finally {
      tok.dispose();
      ds.close();
    }
  } finally {
    gen.dispose();
  }
};
