// Job kind → implementation, loaded on first use so the engine starts fast and a job whose
// module fails to load fails alone.
import type { JobKind, JsonObject } from '../protocol';
import type { Job } from './types';

type AnyJob = Job<JsonObject, JsonObject>;

const LOADERS: Partial<Record<JobKind, () => Promise<AnyJob>>> = {
  selftest: async () => (await import('./selftest')).selftest as AnyJob,
  'dataset-build': async () => (await import('./dataset-build')).datasetBuild as AnyJob,
  'train-tokenizer': async () => (await import('./train-tokenizer')).trainTokenizer,
  'extract-tokens': async () => (await import('./extract-tokens')).extractTokens,
  'train-generator': async () => (await import('./train-generator')).trainGenerator,
  sample: async () => (await import('./sample')).sampleGallery,
  'train-feature-net': async () => (await import('./train-feature-net')).trainFeatureNet,
  'eval-tokenizer': async () => (await import('./eval-tokenizer')).evalTokenizer,
  'eval-generator': async () => (await import('./eval-generator')).evalGenerator,
  posttrain: async () => (await import('./posttrain')).posttrain,
  'import-tokenizer': async () => (await import('./import-onnx')).importTokenizer,
  'add-extractor': async () => (await import('./import-onnx')).addExtractor,
};

export function registerJob(kind: JobKind, loader: () => Promise<AnyJob>): void {
  LOADERS[kind] = loader;
}

export async function loadJob(kind: JobKind): Promise<AnyJob> {
  const load = LOADERS[kind];
  if (!load) throw new Error(`This engine has no "${kind}" job yet.`);
  return load();
}
