// Spec of the gallery job: token grids from a trained generator for classes × seeds, without CFG
// and with each CFG setting on the same seeds (METHOD §4), decoded by the generator's tokenizer.
import { SpecError, asObject, bool, num, numList, str } from './errors';
import { CFG_SCHEDULES, type CfgScheduleChoice } from './eval-generator';

export interface SampleSpec {
  /** Generator run folder, relative to the lab home (the host fills it). */
  generatorRunDir: string;
  /** Class ids, one gallery row each (empty = the first min(10, classes) classes). */
  classes: number[];
  /** Seeds, one gallery column each; cell (class c, seed s) always draws the same random stream. */
  seeds: number[];
  /** Include the grid without CFG (conditional logits alone). */
  withoutCfg: boolean;
  /** One grid per guidance scale g, on the same seeds. */
  scales: number[];
  /** Guidance schedule; 'auto' (default) resolves from the generator's architecture: rar → cosine-power, raster → constant. */
  schedule: CfgScheduleChoice;
  /** Exponent p of the cosine-power ramp; default 1 (the RAR paper's 1.15 / 1.01 are ImageNet-scale settings, not invented here). */
  power: number;
  temperature: number;
  /** 0 = off. */
  topK: number;
  /** 1 = off. */
  topP: number;
  /** Rows sampled together (CFG doubles them internally). */
  batchSize: number;
  /** Use the run's EMA weights when it kept them. */
  useEma: boolean;
  /** Integer upscaling of each tile in the PNG. */
  upscale: number;
}

function intList(o: Record<string, unknown>, key: string, def: number[], min: number, max: number, allowEmpty: boolean): number[] {
  const v = o[key] ?? def;
  if (allowEmpty && Array.isArray(v) && v.length === 0) return [];
  const list = numList({ [key]: v }, key, def.length ? def : [0], min, max);
  list.forEach((x, i) => {
    if (!Number.isInteger(x)) throw new SpecError(`${key}[${i}]`, `must be a whole number, got ${x}`, 'Use integers.');
  });
  if (new Set(list).size !== list.length) throw new SpecError(key, 'has repeated values', 'List each value once.');
  return list;
}

export function validateSampleSpec(input: unknown): SampleSpec {
  const o = asObject(input ?? {});
  const generatorRunDir = str(o, 'generatorRunDir', '');
  if (!generatorRunDir) throw new SpecError('generatorRunDir', 'is empty', 'Pick a trained generator run.');
  const spec: SampleSpec = {
    generatorRunDir,
    classes: intList(o, 'classes', [], 0, 100_000, true),
    seeds: intList(o, 'seeds', [0, 1, 2, 3, 4, 5, 6, 7], 0, 2 ** 32 - 1, false),
    withoutCfg: bool(o, 'withoutCfg', true),
    scales: o.scales !== undefined && Array.isArray(o.scales) && o.scales.length === 0 ? [] : numList(o, 'scales', [1.5, 3], 0, 100),
    schedule: str(o, 'schedule', 'auto', CFG_SCHEDULES),
    power: num(o, 'power', 1, 0.01, 10),
    temperature: num(o, 'temperature', 1, 0, 10),
    topK: num(o, 'topK', 0, 0, 1_000_000, true),
    topP: num(o, 'topP', 1, 0.01, 1),
    batchSize: num(o, 'batchSize', 32, 1, 4096, true),
    useEma: bool(o, 'useEma', true),
    upscale: num(o, 'upscale', 2, 1, 16, true),
  };
  if (!spec.withoutCfg && spec.scales.length === 0) throw new SpecError('scales', 'is empty and withoutCfg is false', 'Ask for at least one grid.');
  return spec;
}
