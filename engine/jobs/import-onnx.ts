// Jobs: register a tokenizer or a feature extractor trained elsewhere. Each probes the ONNX files on
// a small batch (shapes, layout, value range), copies them into its run folder, checks the copies hash
// as the originals did, and writes config.json last, so a half-finished import never looks complete.
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../protocol';
import type { Job, JobContext } from './types';
import { fileHash } from '../onnx/runtime';
import { validateAddExtractorSpec, validateImportTokenizerSpec } from '../specs/import-onnx';
import { ONNX_TOKENIZER_FILES, probeOnnxTokenizer } from '../models/onnx-tokenizer';
import { ONNX_EXTRACTOR_FILE, onnxExtractorId, probeOnnxExtractor } from '../models/extractor';

function copyChecked(src: string, dst: string, hash: string): void {
  fs.copyFileSync(src, dst);
  const got = fileHash(dst);
  if (got !== hash) throw new Error(`copying ${src} gave a file that hashes to ${got}, not ${hash}: the source changed during the import; import it again`);
}

function writeConfig(ctx: JobContext, config: object): void {
  const file = path.join(ctx.runDir, 'config.json');
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(config, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export const importTokenizer: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateImportTokenizerSpec(rawSpec);
  ctx.progress(0, 2, 'probing the ONNX files');
  const config = await probeOnnxTokenizer(spec);
  ctx.progress(1, 2, 'copying into the lab');
  copyChecked(spec.encoder, path.join(ctx.runDir, ONNX_TOKENIZER_FILES.encoder), config.hashes.encoder);
  copyChecked(spec.decoder, path.join(ctx.runDir, ONNX_TOKENIZER_FILES.decoder), config.hashes.decoder);
  copyChecked(spec.codebook, path.join(ctx.runDir, ONNX_TOKENIZER_FILES.codebook), config.hashes.codebook);
  writeConfig(ctx, config);
  const m = config.model;
  ctx.log('info', `imported ${spec.name}: ${m.imageSize} px × ${m.channels} → ${m.h} × ${m.w} tokens, K = ${m.K}, D = ${m.D}, ${m.codebookNorm === 'l2' ? 'L2 (cosine)' : 'Euclidean'} nearest code, layout ${m.layout}, range ${m.range}`);
  ctx.progress(2, 2, 'imported');
  // the model block flat, with the hashes: the app reads what it shows of the tokenizer from the run's result
  return { ...m, hashes: config.hashes, name: config.name } as unknown as JsonObject;
};

export const addExtractor: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateAddExtractorSpec(rawSpec);
  ctx.progress(0, 2, 'probing the ONNX model');
  const config = await probeOnnxExtractor(spec);
  ctx.progress(1, 2, 'copying into the lab');
  copyChecked(spec.model, path.join(ctx.runDir, ONNX_EXTRACTOR_FILE), config.id.slice('onnx-'.length));
  if (onnxExtractorId(path.join(ctx.runDir, ONNX_EXTRACTOR_FILE)) !== config.id) throw new Error('the copied model does not hash to the extractor id');
  writeConfig(ctx, config);
  ctx.log('info', `registered extractor ${config.name} (${config.id}): ${config.input} px input, ${config.featureDim}-d features${config.numClasses ? `, ${config.numClasses} logits` : ', no logits'}`);
  ctx.progress(2, 2, 'registered');
  // the whole config: the app reads what it shows of the extractor from the run's result
  return config as unknown as JsonObject;
};
