// Where a trained generator lives in its run folder: generator.json (config, tokenizer run, token
// grid) beside the training checkpoints. Samplers and post-training load it from here.
import fs from 'node:fs';
import path from 'node:path';
import type { JsonObject } from '../protocol';
import { evalWeights, latestCheckpoint, loadCheckpoint } from '../train/checkpoint';
import { Generator, type GeneratorConfig } from './transformer';

export const GENERATOR_META_FILE = 'generator.json';

export interface GeneratorMeta {
  format: 'toklab-generator-v1';
  config: GeneratorConfig;
  /** Tokenizer run the tokens came from, relative to the lab home. */
  tokenizerRunDir: string;
  /** Token grid h × w (h·w = config.seqLen). */
  grid: { h: number; w: number };
  seed: number;
  /** The validated training spec, for provenance. */
  spec: JsonObject;
}

export function writeGeneratorMeta(runDir: string, meta: GeneratorMeta): void {
  const file = path.join(runDir, GENERATOR_META_FILE);
  fs.writeFileSync(`${file}.tmp`, JSON.stringify(meta, null, 2));
  fs.renameSync(`${file}.tmp`, file);
}

export function readGeneratorMeta(runDir: string): GeneratorMeta {
  const file = path.join(runDir, GENERATOR_META_FILE);
  if (!fs.existsSync(file)) throw new Error(`${runDir} is not a generator run (no ${GENERATOR_META_FILE})`);
  const meta = JSON.parse(fs.readFileSync(file, 'utf8')) as GeneratorMeta;
  if (meta.format !== 'toklab-generator-v1') throw new Error(`${file}: unknown format ${String(meta.format)}`);
  return meta;
}

/** The generator of a run with its newest checkpoint's weights (EMA weights when the run kept them). */
export function loadGenerator(runDir: string, opts: { useEma?: boolean } = {}): { gen: Generator; meta: GeneratorMeta; step: number } {
  const meta = readGeneratorMeta(runDir);
  const file = latestCheckpoint(runDir);
  if (!file) throw new Error(`${runDir} has no checkpoint yet`);
  const ck = loadCheckpoint(file);
  const gen = new Generator(meta.config, meta.seed);
  try {
    const arrays = evalWeights(ck, opts.useEma ?? true);
    const values: Record<string, Float32Array> = {};
    for (const [k, a] of Object.entries(arrays)) values[k] = a.data;
    gen.importWeights(values);
  } catch (e) {
    gen.dispose();
    throw e;
  }
  return { gen, meta, step: ck.step };
}
