// The sample job end to end: a generator run (generator.json + checkpoint) whose tokenizer run is a
// real (untrained) VQ tokenizer; the job decodes each setting's tokens into a PNG grid.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import type { JsonObject } from '../../engine/protocol';
import type { JobContext } from '../../engine/jobs/types';
import { sampleGallery } from '../../engine/jobs/sample';
import { Generator, type GeneratorConfig } from '../../engine/models/transformer';
import { writeGeneratorMeta } from '../../engine/models/generator-store';
import { createTokenizer, resolveTokenizerConfig } from '../../engine/models/vq-tokenizer';
import { saveCheckpoint, snapshotTraining } from '../../engine/train/checkpoint';

let home: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-samplejob-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

describe('sample job', () => {
  it('samples with and without CFG and writes decoded grids (rows = classes, cols = seeds)', async () => {
    const tokDir = path.join(home, 'runs', '1');
    fs.mkdirSync(tokDir, { recursive: true });
    const model = resolveTokenizerConfig('vq-f4-k64', 8, 1);
    const tok = createTokenizer(model, 1);
    fs.writeFileSync(path.join(tokDir, 'config.json'), JSON.stringify({ kind: 'vq-tokenizer', model, seed: 1 }));
    saveCheckpoint(tokDir, snapshotTraining(tok.params, null, null, 10, {}));
    tok.dispose();

    const genDir = path.join(home, 'runs', '2');
    fs.mkdirSync(genDir, { recursive: true });
    const cfg: GeneratorConfig = { arch: 'raster', vocabSize: 64, seqLen: 4, numClasses: 3, dModel: 16, nLayers: 1, nHeads: 2, mlpRatio: 2, norm: 'layer' };
    const gen = new Generator(cfg, 2);
    writeGeneratorMeta(genDir, { format: 'toklab-generator-v1', config: cfg, tokenizerRunDir: 'runs/1', grid: { h: 2, w: 2 }, seed: 2, spec: {} });
    saveCheckpoint(genDir, snapshotTraining(gen.weights, null, null, 7, {}));
    gen.dispose();

    const runDir = path.join(home, 'runs', '3');
    fs.mkdirSync(runDir, { recursive: true });
    const artifacts: { path: string; meta?: JsonObject }[] = [];
    const ctx: JobContext = {
      home,
      runDir,
      runId: 3,
      signal: new AbortController().signal,
      progress: () => {},
      metrics: () => {},
      score: () => {},
      artifact: (_k, p, m) => artifacts.push({ path: p, meta: m }),
      log: () => {},
    };
    const before = tf.memory().numTensors;
    const res = await sampleGallery({ generatorRunDir: 'runs/2', seeds: [1, 2], scales: [3], schedule: 'cosine-power', power: 1.1, upscale: 1 }, ctx);
    expect(tf.memory().numTensors).toBe(before);
    expect(res.classes).toEqual([0, 1, 2]);
    expect(res.generatorStep).toBe(7);
    expect(artifacts.map((a) => a.path)).toEqual(['runs/3/samples/no-cfg.png', 'runs/3/samples/cfg-3.png']);
    expect(artifacts[1].meta).toMatchObject({ scale: 3, schedule: 'cosine-power', power: 1.1, tokenizerRunDir: 'runs/1' });
    const meta = await sharp(path.join(home, artifacts[0].path)).metadata();
    // 3 rows × 2 cols of 8×8 tiles with 2 px padding
    expect([meta.width, meta.height]).toEqual([2 * 10 + 2, 3 * 10 + 2]);
  });
});
