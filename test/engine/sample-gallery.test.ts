// Gallery job core: one grid per CFG setting, rows = classes, cols = seeds, matched per-cell streams,
// artifact metadata; the spec validator's defaults and refusals.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import type { JsonObject } from '../../engine/protocol';
import type { JobContext } from '../../engine/jobs/types';
import { Generator, type GeneratorConfig } from '../../engine/models/transformer';
import type { GeneratorMeta } from '../../engine/models/generator-store';
import { renderGallery, type GalleryDecoder } from '../../engine/jobs/sample';
import { sampleRng, sampleTokens } from '../../engine/sample';
import { validateSampleSpec } from '../../engine/specs/sample';

const cfg: GeneratorConfig = { arch: 'raster', vocabSize: 8, seqLen: 4, numClasses: 5, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2, norm: 'layer' };
const meta: GeneratorMeta = { format: 'toklab-generator-v1', config: cfg, tokenizerRunDir: 'runs/1', grid: { h: 2, w: 2 }, seed: 0, spec: {} };

/** Fake tokenizer: a 2×2 grey image whose pixel p shows token p (value 30·t → [-1, 1]). */
const decode: GalleryDecoder = async (tokens, n) => {
  const images = Float32Array.from(tokens, (t) => (30 * t) / 127.5 - 1);
  expect(images.length).toBe(n * 4);
  return { images, size: 2, channels: 1 };
};

let home: string;
let gen: Generator;
beforeAll(async () => {
  await tf.setBackend('cpu');
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-gallery-'));
  gen = new Generator(cfg, 3);
  tf.tidy(() => gen.weights['head.w'].assign(tf.mul(gen.weights['head.w'], 60)));
});
afterAll(() => {
  gen.dispose();
  fs.rmSync(home, { recursive: true, force: true });
});

async function readCellTokens(file: string, rows: number, cols: number): Promise<number[][]> {
  const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
  expect(info.width).toBe(cols * 4 + 2);
  expect(info.height).toBe(rows * 4 + 2);
  const out: number[][] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const cell: number[] = [];
      for (let p = 0; p < 4; p++) {
        const y = 2 + r * 4 + Math.floor(p / 2);
        const x = 2 + c * 4 + (p % 2);
        cell.push(Math.round(data[(y * info.width + x) * info.channels] / 30));
      }
      out.push(cell);
    }
  }
  return out;
}

describe('sample gallery', () => {
  it('spec: defaults and refusals name the field', () => {
    const s = validateSampleSpec({ generatorRunDir: 'runs/4' });
    expect(s.seeds).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(s.withoutCfg).toBe(true);
    expect(s.classes).toEqual([]);
    expect(() => validateSampleSpec({ generatorRunDir: 'x', seeds: [1, 1] })).toThrow(/seeds/);
    expect(() => validateSampleSpec({ generatorRunDir: 'x', classes: [0.5] })).toThrow(/classes\[0\]/);
    expect(() => validateSampleSpec({ generatorRunDir: 'x', schedule: 'linear' })).toThrow(/schedule/);
    expect(() => validateSampleSpec({ generatorRunDir: 'x', withoutCfg: false, scales: [] })).toThrow(/scales/);
  });

  it('writes one grid per setting with matched (class, seed) streams and full metadata', async () => {
    const runDir = path.join(home, 'runs', '9');
    fs.mkdirSync(runDir, { recursive: true });
    const artifacts: { kind: string; path: string; meta?: JsonObject }[] = [];
    const ctx: JobContext = {
      home,
      runDir,
      runId: 9,
      signal: new AbortController().signal,
      progress: () => {},
      metrics: () => {},
      score: () => {},
      artifact: (kind, p, m) => artifacts.push({ kind, path: p, meta: m }),
      log: () => {},
    };
    const spec = validateSampleSpec({ generatorRunDir: 'runs/2', classes: [4, 1], seeds: [10, 20, 30], scales: [1, 5], batchSize: 4, upscale: 1 });
    const before = tf.memory().numTensors;
    const res = await renderGallery(gen, meta, spec, ctx, decode, 123);
    expect(tf.memory().numTensors).toBe(before);
    expect(artifacts.map((a) => a.path)).toEqual(['runs/9/samples/no-cfg.png', 'runs/9/samples/cfg-1.png', 'runs/9/samples/cfg-5.png']);
    expect(artifacts[2].meta).toMatchObject({ cfg: true, scale: 5, schedule: 'constant', classes: [4, 1], seeds: [10, 20, 30], temperature: 1, generatorStep: 123 });
    expect(artifacts[0].meta).toMatchObject({ cfg: false, scale: null });
    expect((res.grids as JsonObject[]).length).toBe(3);

    const grids = await Promise.all(artifacts.map((a) => readCellTokens(path.join(home, a.path), 2, 3)));
    // row = class, col = seed; each cell is what one sampleTokens call with sampleRng(seed, class) gives
    const classes = [4, 1];
    const seeds = [10, 20, 30];
    for (let r = 0; r < 2; r++) {
      for (let c = 0; c < 3; c++) {
        const alone = await sampleTokens({ gen, labels: Int32Array.from([classes[r]]), rngs: [sampleRng(seeds[c], classes[r])] });
        expect(grids[0][r * 3 + c]).toEqual(Array.from(alone));
      }
    }
    expect(grids[1]).toEqual(grids[0]); // CFG scale 1 = conditional, same streams
    expect(grids[2]).not.toEqual(grids[0]);
  });
});
