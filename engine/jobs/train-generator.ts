// Job: train a class-conditional AR generator (raster GPT or RAR-style, METHOD §4) on the token
// cache of a tokenizer run.
import path from 'node:path';
import type { JsonObject } from '../protocol';
import type { Job } from './types';
import { validateTrainGeneratorSpec } from '../specs/train-generator';
import { trainGeneratorOn, type TokenSet } from '../train/generator-trainer';
import { readTokenCache, tokenCacheDir } from '../data/token-cache';

export const trainGenerator: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateTrainGeneratorSpec(rawSpec);
  const dir = tokenCacheDir(path.resolve(ctx.home, spec.tokenizerRunDir));
  const train = readTokenCache(dir, 'train');
  let val: TokenSet | null = null;
  try {
    val = readTokenCache(dir, 'val');
  } catch (e) {
    ctx.log('warn', `no validation tokens (${(e as Error).message}); val/loss will not be logged`);
  }
  let maxLabel = 0;
  for (const set of [train, val]) if (set) for (const l of set.labels) maxLabel = Math.max(maxLabel, l);
  return trainGeneratorOn({ train, val, numClasses: maxLabel + 1 }, spec, ctx);
};

