// The train-generator job end to end on a token cache written to a tokenizer run folder: reads both
// splits, writes generator.json and a checkpoint that loadGenerator restores.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tf } from '../../engine/tf';
import { Rng } from '../../engine/rng';
import type { MetricPoint } from '../../engine/protocol';
import type { JobContext } from '../../engine/jobs/types';
import { writeTokenCache, tokenCacheDir } from '../../engine/data/token-cache';
import { trainGenerator } from '../../engine/jobs/train-generator';
import { loadGenerator, readGeneratorMeta } from '../../engine/models/generator-store';

let home: string;
beforeAll(async () => {
  await tf.setBackend('cpu');
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-genjob-'));
});
afterAll(() => fs.rmSync(home, { recursive: true, force: true }));

function grids(n: number, seed: number) {
  const rng = new Rng(seed);
  const labels = Int32Array.from({ length: n }, (_, i) => i % 4);
  const tokens = Int32Array.from({ length: n * 9 }, (_, i) => (rng.uniform() < 0.2 ? rng.int(32) : (labels[Math.floor(i / 9)] * 7 + (i % 9)) % 32));
  return { tokens, labels, h: 3, w: 3, K: 32 };
}

describe('train-generator job', () => {
  it('trains from the tokenizer run token cache and leaves a loadable generator', async () => {
    const tokDir = path.join(home, 'runs', '1');
    writeTokenCache(tokenCacheDir(tokDir), 'train', grids(32, 1));
    writeTokenCache(tokenCacheDir(tokDir), 'val', grids(8, 2));
    const runDir = path.join(home, 'runs', '2');
    fs.mkdirSync(runDir, { recursive: true });
    const points: MetricPoint[] = [];
    const ctx: JobContext = {
      home,
      runDir,
      runId: 2,
      signal: new AbortController().signal,
      progress: () => {},
      metrics: (p) => points.push(...p),
      score: () => {},
      artifact: () => {},
      log: () => {},
    };
    const res = await trainGenerator({ tokenizerRunDir: 'runs/1', preset: 'gpt-nano', arch: 'rar', epochs: 1, batchSize: 16, warmup: 1, ema: 0.9 }, ctx);
    expect(res.steps).toBe(2);
    expect((res.config as { numClasses: number }).numClasses).toBe(4);
    expect((res.config as { seqLen: number }).seqLen).toBe(9);
    expect(points.some((p) => p.name === 'val/loss')).toBe(true);
    const meta = readGeneratorMeta(runDir);
    expect(meta.tokenizerRunDir).toBe('runs/1');
    expect(meta.grid).toEqual({ h: 3, w: 3 });
    const before = tf.memory().numTensors;
    const { gen, step } = loadGenerator(runDir);
    expect(step).toBe(2);
    expect(gen.cfg.arch).toBe('rar');
    gen.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
