// Token cache: round trip through a tokenizer run folder, meta, and refusals of inconsistent data.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readTokenCache, tokenCacheDir, writeTokenCache } from '../../engine/data/token-cache';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'toklab-cache-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('token cache', () => {
  it('round-trips both splits, readable from the run folder or the cache folder', () => {
    const run = path.join(tmp, 'run');
    const dir = tokenCacheDir(run);
    const tokens = Int32Array.from({ length: 3 * 2 * 4 }, (_, i) => (i * 7) % 10);
    writeTokenCache(dir, 'train', { tokens, labels: Int32Array.from([2, 0, 1]), h: 2, w: 4, K: 10 }, { tokenizerRun: 'runs/1', dataset: 'datasets/d', ema: true });
    writeTokenCache(dir, 'val', { tokens: tokens.slice(0, 8), labels: Int32Array.from([1]), h: 2, w: 4, K: 10 });
    for (const d of [run, dir]) {
      const tr = readTokenCache(d, 'train');
      expect([tr.n, tr.h, tr.w, tr.K]).toEqual([3, 2, 4, 10]);
      expect(Array.from(tr.tokens)).toEqual(Array.from(tokens));
      expect(Array.from(tr.labels)).toEqual([2, 0, 1]);
      expect(tr.meta).toMatchObject({ tokenizerRun: 'runs/1', dataset: 'datasets/d', ema: true });
    }
    expect(readTokenCache(run, 'val').n).toBe(1);
    expect(fs.readdirSync(dir).some((f) => f.endsWith('.tmp'))).toBe(false);
  });
  it('refuses tokens outside [0, K), wrong counts, mixed grid sizes and missing caches', () => {
    const dir = path.join(tmp, 'bad');
    expect(() => writeTokenCache(dir, 'train', { tokens: Int32Array.from([0, 10]), labels: Int32Array.from([0, 0]), h: 1, w: 1, K: 10 })).toThrow(/outside/);
    expect(() => writeTokenCache(dir, 'train', { tokens: Int32Array.from([0, 1, 2]), labels: Int32Array.from([0]), h: 1, w: 1, K: 10 })).toThrow(/3 tokens/);
    writeTokenCache(dir, 'train', { tokens: Int32Array.from([0, 1]), labels: Int32Array.from([0, 1]), h: 1, w: 1, K: 10 });
    expect(() => writeTokenCache(dir, 'val', { tokens: Int32Array.from([0, 1, 2, 3]), labels: Int32Array.from([0]), h: 2, w: 2, K: 10 })).toThrow(/refusing/);
    expect(() => readTokenCache(dir, 'val')).toThrow(/no "val" split/);
    expect(() => readTokenCache(path.join(tmp, 'nothing'), 'train')).toThrow(/extract-tokens/);
  });
});
