// What the app shows of imported ONNX tokenizers and feature extractors (issue 14), read from the
// run folder's config.json that the import wrote (or, failing that, the run's result): pure, so it
// is tested without a browser (test/main/renderer-onnx.test.ts).
import type { JsonObject, JsonValue, RunKind, RunSummary } from '../../../preload/contract';

/** An imported tokenizer: `model` of `{ kind: 'onnx-tokenizer', model, hashes }`. */
export interface OnnxTokenizerInfo {
  K: number;
  D: number | null;
  /** Token grid h × w. */
  h: number | null;
  w: number | null;
  /** Downsampling factor (image side / grid side). */
  f: number | null;
  imageSize: number | null;
  channels: number | null;
  codebookNorm: string | null;
  layout: string | null;
  range: string | null;
  /** sha256 of encoder, decoder, codebook. */
  hashes: Record<string, string>;
}

/** An added extractor: `{ kind: 'onnx-extractor', id, input, range, layout, features, logits, featureDim, numClasses }`. */
export interface OnnxExtractorInfo {
  id: string;
  input: number | null;
  range: string | null;
  layout: string | null;
  features: string | null;
  logits: string | null;
  featureDim: number | null;
  numClasses: number | null;
}

/** Run kinds a pFID evaluation takes as its tokenizer. */
export const TOKENIZER_KINDS: readonly RunKind[] = ['tokenizer', 'post-train', 'external-tokenizer'];

export const isTokenizerRun = (r: Pick<RunSummary, 'kind'>): boolean => TOKENIZER_KINDS.includes(r.kind);

const obj = (v: JsonValue | undefined): JsonObject | null => (v && typeof v === 'object' && !Array.isArray(v) ? v : null);
const num = (v: JsonValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
const str = (v: JsonValue | undefined): string | null => (typeof v === 'string' && v ? v : null);

/** The tokenizer's model from its config.json (`model`), or from a result that carries the same fields (flat or under `model`). */
export function tokenizerInfo(cfg: JsonObject | null | undefined): OnnxTokenizerInfo | null {
  if (!cfg) return null;
  const m = obj(cfg.model) ?? cfg;
  const K = num(m.K);
  if (K === null) return null;
  const hashes: Record<string, string> = {};
  for (const [k, v] of Object.entries(obj(cfg.hashes) ?? obj(m.hashes) ?? {})) if (typeof v === 'string') hashes[k] = v;
  const imageSize = num(m.imageSize) ?? num(m.size);
  const h = num(m.h);
  return {
    K,
    D: num(m.D),
    h,
    w: num(m.w) ?? h,
    f: num(m.f) ?? (imageSize !== null && h ? imageSize / h : null),
    imageSize,
    channels: num(m.channels),
    codebookNorm: str(m.codebookNorm),
    layout: str(m.layout),
    range: str(m.range),
    hashes,
  };
}

export function extractorInfo(cfg: JsonObject | null | undefined): OnnxExtractorInfo | null {
  if (!cfg) return null;
  const m = obj(cfg.extractor) ?? cfg;
  const id = str(m.id) ?? str(m.extractorId);
  if (!id) return null;
  return {
    id,
    input: num(m.input),
    range: str(m.range),
    layout: str(m.layout),
    features: str(m.features),
    logits: str(m.logits),
    featureDim: num(m.featureDim),
    numClasses: num(m.numClasses),
  };
}

/** "K 64 · D 8 · 8×8 tokens (f 2) · 16 px × 3 · cosine (L2)": one line for lists. */
export function tokenizerSummary(t: OnnxTokenizerInfo): string {
  const parts = [`K ${t.K}`];
  if (t.D !== null) parts.push(`D ${t.D}`);
  if (t.h !== null) parts.push(`${t.h}×${t.w ?? t.h} tokens${t.f !== null ? ` (f ${+t.f.toPrecision(3)})` : ''}`);
  if (t.imageSize !== null) parts.push(`${t.imageSize} px${t.channels !== null ? ` × ${t.channels}` : ''}`);
  if (t.codebookNorm) parts.push(t.codebookNorm === 'l2' ? 'cosine (L2)' : 'Euclidean');
  return parts.join(' · ');
}

/** "onnx-3f2a… · 24 px in [0,1] · 32 features · 10 classes". */
export function extractorSummary(e: OnnxExtractorInfo): string {
  const parts = [e.id];
  if (e.input !== null) parts.push(`${e.input} px${e.range ? ` in [${e.range}]` : ''}`);
  if (e.featureDim !== null) parts.push(`${e.featureDim} features`);
  parts.push(e.numClasses ? `${e.numClasses} classes` : 'no logits');
  return parts.join(' · ');
}

/** A dataset an imported tokenizer can be evaluated on (same image side and channels), or why not. */
export function datasetMismatch(t: OnnxTokenizerInfo | null, d: { resolution: number; channels: number }): string | null {
  if (!t) return null;
  if (t.imageSize !== null && t.imageSize !== d.resolution) return `the tokenizer takes ${t.imageSize} px images, the dataset has ${d.resolution} px`;
  if (t.channels !== null && t.channels !== d.channels) return `the tokenizer takes ${t.channels} channel(s), the dataset has ${d.channels}`;
  return null;
}

/**
 * Tracker config keys of an imported tokenizer or added extractor, from its run folder's config.json
 * (the host's row holds only the job spec as queued): `model.K`, `model.D`, `model.grid` /
 * `extractor.id`, `extractor.featureDim`. Keys the host's row has win.
 */
export function onnxConfigKeys(kind: RunKind, cfg: JsonObject | null | undefined): Record<string, JsonValue> {
  if (kind === 'external-tokenizer') {
    const t = tokenizerInfo(cfg);
    if (!t) return {};
    const out: Record<string, JsonValue> = { 'model.K': t.K };
    if (t.D !== null) out['model.D'] = t.D;
    if (t.h !== null) out['model.grid'] = `${t.h}×${t.w ?? t.h}`;
    return out;
  }
  if (kind === 'extractor') {
    const e = extractorInfo(cfg);
    if (!e) return {};
    const out: Record<string, JsonValue> = { 'extractor.id': e.id };
    if (e.featureDim !== null) out['extractor.featureDim'] = e.featureDim;
    return out;
  }
  return {};
}
