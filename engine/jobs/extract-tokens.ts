// Job: encode the train and val splits of a dataset with a trained tokenizer (EMA weights) into the
// token cache under the tokenizer's run folder, for the generator stage.
import path from 'node:path';
import type { JsonObject } from '../protocol';
import type { Job } from './types';
import { openPackedDataset } from '../data/packed';
import { tokenCacheDir, writeTokenCache } from '../data/token-cache';
import type { SplitName } from '../data/types';
import { loadTokenizer, readTokenizerRunConfig, tokenizeImages } from '../models/vq-tokenizer';
import { codebookStats } from '../models/quantizer';
import { validateExtractTokensSpec } from '../specs/extract-tokens';

export const extractTokens: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateExtractTokensSpec(rawSpec);
  const runDir = path.resolve(ctx.home, spec.tokenizerRunDir);
  const rc = readTokenizerRunConfig(runDir);
  const datasetRel = spec.datasetPath || (typeof rc.dataset === 'string' ? rc.dataset : '');
  if (!datasetRel) throw new Error(`the tokenizer run ${spec.tokenizerRunDir} does not name its dataset; pass datasetPath`);
  const ds = openPackedDataset(path.resolve(ctx.home, datasetRel));
  const tok = loadTokenizer(runDir, { ema: spec.ema });
  try {
    const [H, , C] = ds.imageShape;
    if (H !== tok.config.imageSize || C !== tok.config.channels) throw new Error(`dataset images are ${H}×${H}×${C}, the tokenizer expects ${tok.config.imageSize}×${tok.config.imageSize}×${tok.config.channels}`);
    const out = tokenCacheDir(runDir);
    const result: JsonObject = { cacheDir: path.relative(ctx.home, out), h: tok.h, w: tok.h, K: tok.config.K };
    const splits: SplitName[] = ['train', 'val'];
    const limits = { train: spec.trainLimit || undefined, val: spec.valLimit || undefined };
    const total = splits.reduce((a, s) => a + Math.min(ds.split(s).n, limits[s] ?? Infinity), 0);
    let base = 0;
    for (const s of splits) {
      const split = ds.split(s);
      if (split.n === 0) continue;
      const { tokens, labels } = tokenizeImages(tok, split, spec.batchSize, limits[s], ctx.signal, (d) => ctx.progress(base + d, total, `encoding ${s}`));
      base += labels.length;
      writeTokenCache(out, s, { tokens, labels, h: tok.h, w: tok.h, K: tok.config.K }, { tokenizerRun: spec.tokenizerRunDir, dataset: datasetRel, ema: spec.ema });
      const counts = new Float32Array(tok.config.K);
      for (const t of tokens) counts[t]++;
      const st = codebookStats(counts);
      ctx.score({ metric: 'tokens/usage', value: st.usage, provenance: { split: s, n: labels.length, tokenizerRun: spec.tokenizerRunDir, dataset: datasetRel, ema: spec.ema } });
      ctx.score({ metric: 'tokens/perplexity', value: st.perplexity, provenance: { split: s, n: labels.length, tokenizerRun: spec.tokenizerRunDir, dataset: datasetRel, ema: spec.ema } });
      result[s] = { n: labels.length, usage: st.usage, perplexity: st.perplexity };
    }
    ctx.artifact('token-cache', path.relative(ctx.home, path.join(out, 'meta.json')), { h: tok.h, w: tok.h, K: tok.config.K });
    return result;
  } finally {
    tok.dispose();
    ds.close();
  }
};
