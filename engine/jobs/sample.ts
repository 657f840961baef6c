// Gallery job: for classes × seeds, token grids without CFG and with each CFG scale on the same
// per-cell random streams (METHOD §4: matched seeds and classes), decoded by the generator's
// tokenizer into one PNG grid per setting (rows = classes, cols = seeds).
import path from 'node:path';
import { tf } from '../tf';
import type { JsonObject } from '../protocol';
import { throwIfCancelled, type Job, type JobContext } from './types';
import type { Generator } from '../models/transformer';
import { loadGenerator, type GeneratorMeta } from '../models/generator-store';
import { sampleRng, sampleTokens, type CfgOptions } from '../sample';
import { validateSampleSpec, type SampleSpec } from '../specs/sample';
import { resolveCfgSchedule } from '../specs/eval-generator';
import { writeImageGrid } from '../data/png';

/** Token grids [n·h·w] → images [n,H,W,C] as floats in [-1, 1]. */
export type GalleryDecoder = (tokens: Int32Array, n: number) => Promise<{ images: Float32Array; size: number; channels: number }>;

export interface GallerySetting {
  /** File-name-safe label: 'no-cfg' or 'cfg-<scale>'. */
  label: string;
  cfg: CfgOptions | null;
}

export const sampleGallery: Job<JsonObject, JsonObject> = async (rawSpec, ctx) => {
  const spec = validateSampleSpec(rawSpec);
  const { gen, meta, step } = loadGenerator(path.resolve(ctx.home, spec.generatorRunDir), { useEma: spec.useEma });
  const { loadTokenizer } = await import('../models/vq-tokenizer');
  const tok = loadTokenizer(path.resolve(ctx.home, meta.tokenizerRunDir));
  const { h, w } = meta.grid;
  const decode: GalleryDecoder = async (tokens, n) => {
    const x = tf.tidy(() => tok.decodeIndices(tf.tensor3d(tokens, [n, h, w], 'int32'))); // [n,h,w] → [n,H,W,C]
    const images = (await x.data()) as Float32Array;
    const [, size, , channels] = x.shape;
    x.dispose();
    return { images, size, channels };
  };
  try {
    return await renderGallery(gen, meta, spec, ctx, decode, step);
  } finally {
    tok.dispose();
    gen.dispose();
  }
};

/** The grids of a gallery; schedule 'auto' resolves from the architecture (rar → cosine-power, raster → constant). */
export function gallerySettings(spec: SampleSpec, arch: string): GallerySetting[] {
  const schedule = resolveCfgSchedule(spec.schedule, arch);
  const out: GallerySetting[] = spec.withoutCfg ? [{ label: 'no-cfg', cfg: null }] : [];
  for (const scale of spec.scales) out.push({ label: `cfg-${scale}`, cfg: { scale, schedule, power: spec.power } });
  return out;
}

/** Samples, decodes and writes every grid; returns the result JSON. Exported for tests (fake decoder). */
export async function renderGallery(
  gen: Generator,
  meta: GeneratorMeta,
  spec: SampleSpec,
  ctx: JobContext,
  decode: GalleryDecoder,
  generatorStep: number,
): Promise<JsonObject> {
  const C = gen.cfg.numClasses;
  const classes = spec.classes.length ? spec.classes : Array.from({ length: Math.min(10, C) }, (_, i) => i);
  const bad = classes.find((c) => c >= C);
  if (bad !== undefined) throw new Error(`class ${bad} does not exist: the generator knows classes 0..${C - 1}`);
  const { seeds } = spec;
  const L = gen.cfg.seqLen;
  const cells = classes.length * seeds.length;
  const settings = gallerySettings(spec, gen.cfg.arch);
  const outDir = path.join(ctx.runDir, 'samples');
  const grids: JsonObject[] = [];
  let done = 0;
  for (const setting of settings) {
    // cell k = (row ci, col si); its stream depends only on (seed, class), never on the setting
    const tokens = new Int32Array(cells * L);
    for (let s = 0; s < cells; s += spec.batchSize) {
      throwIfCancelled(ctx.signal);
      const e = Math.min(cells, s + spec.batchSize);
      const labels = new Int32Array(e - s);
      const rngs = [];
      for (let k = s; k < e; k++) {
        const c = classes[Math.floor(k / seeds.length)];
        labels[k - s] = c;
        rngs.push(sampleRng(seeds[k % seeds.length], c));
      }
      const t = await sampleTokens({
        gen,
        labels,
        rngs,
        cfg: setting.cfg,
        temperature: spec.temperature,
        topK: spec.topK,
        topP: spec.topP,
        signal: ctx.signal,
      });
      tokens.set(t, s * L);
      done += e - s;
      ctx.progress(done, cells * settings.length, `${setting.label}: ${e}/${cells}`);
    }
    const { images, size, channels } = await decode(tokens, cells);
    const file = path.join(outDir, `${setting.label}.png`);
    await writeImageGrid(file, images, cells, size, size, channels, seeds.length, { pad: 2, scale: spec.upscale, padValue: 255 });
    const rel = path.relative(ctx.home, file);
    const info: JsonObject = {
      setting: setting.label,
      cfg: setting.cfg !== null,
      scale: setting.cfg ? setting.cfg.scale : null,
      schedule: setting.cfg ? setting.cfg.schedule : null,
      power: setting.cfg ? setting.cfg.power : null,
      temperature: spec.temperature,
      topK: spec.topK,
      topP: spec.topP,
      classes,
      seeds,
      rows: 'classes',
      cols: 'seeds',
      generatorRunDir: spec.generatorRunDir,
      tokenizerRunDir: meta.tokenizerRunDir,
      generatorStep,
      arch: gen.cfg.arch,
    };
    ctx.artifact('sample-grid', rel, info);
    grids.push({ path: rel, ...info });
  }
  return { grids, classes, seeds, generatorStep };
}
