// dataset-build job and its spec: end-to-end builds with a fake JobContext, previews, cancellation, refusals.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { datasetBuild } from '../../engine/jobs/dataset-build';
import { JobCancelled, type JobContext } from '../../engine/jobs/types';
import type { JsonObject } from '../../engine/protocol';
import { openPackedDataset } from '../../engine/data/packed';
import { generateShapes } from '../../engine/data/shapes';
import { deriveSeed } from '../../engine/rng';
import { SpecError } from '../../engine/specs/errors';
import { validateDatasetBuildSpec } from '../../engine/specs/dataset-build';

const home = mkdtempSync(join(tmpdir(), 'toklab-home-'));
afterAll(() => rmSync(home, { recursive: true, force: true }));

interface Events {
  progress: { done: number; total: number; message?: string }[];
  artifacts: { kind: string; path: string; meta?: JsonObject }[];
  logs: string[];
}

function fakeCtx(signal = new AbortController().signal, onProgress?: () => void): { ctx: JobContext; ev: Events } {
  const ev: Events = { progress: [], artifacts: [], logs: [] };
  const runDir = join(home, 'runs', '1');
  mkdirSync(runDir, { recursive: true });
  const ctx: JobContext = {
    home,
    runDir,
    runId: 1,
    signal,
    progress: (done, total, message) => {
      ev.progress.push({ done, total, message });
      onProgress?.();
    },
    metrics: () => undefined,
    score: () => undefined,
    artifact: (kind, path, meta) => ev.artifacts.push({ kind, path, meta }),
    log: (level, message) => ev.logs.push(`${level}: ${message}`),
  };
  return { ctx, ev };
}

describe('dataset-build spec', () => {
  const outDir = join(home, 'datasets', 'x');

  it('fills defaults per source', () => {
    const s = validateDatasetBuildSpec({ source: 'shapes', name: ' tiny ', outDir });
    expect(s).toEqual({ source: 'shapes', name: 'tiny', resolution: 32, channels: 3, valShare: 0.1, seed: 0, outDir, trainCount: 10000, valCount: 1000 });
    expect(validateDatasetBuildSpec({ source: 'mnist', name: 'm', outDir }).channels).toBe(1);
  });

  it('names the field and the fix for bad values', () => {
    const err = (input: unknown): SpecError => {
      try {
        validateDatasetBuildSpec(input);
      } catch (e) {
        if (e instanceof SpecError) return e;
        throw e;
      }
      throw new Error('no error');
    };
    expect(err({ source: 'cifar', name: 'n', outDir }).message).toMatch(/^source: is "cifar"\. Use one of: shapes, mnist, folder/);
    expect(err({ source: 'shapes', name: 'n', resolution: 28, outDir }).field).toBe('resolution');
    expect(err({ source: 'shapes', name: 'n', resolution: 28, outDir }).message).toMatch(/Use 16, 32 or 64/);
    expect(err({ source: 'shapes', name: '', outDir }).field).toBe('name');
    expect(err({ source: 'shapes', name: 'n', channels: 2, outDir }).field).toBe('channels');
    expect(err({ source: 'shapes', name: 'n', outDir: 'rel/dir' }).field).toBe('outDir');
    expect(err({ source: 'mnist', name: 'n', valShare: 0.9, outDir }).field).toBe('valShare');
    expect(err({ source: 'folder', name: 'n', outDir }).message).toMatch(/^folder: is missing/);
    expect(err({ source: 'folder', name: 'n', folder: join(home, 'missing'), outDir }).message).toMatch(/does not exist\. Check the path/);
    writeFileSync(join(home, 'afile'), 'x');
    expect(err({ source: 'folder', name: 'n', folder: join(home, 'afile'), outDir }).message).toMatch(/is a file, not a folder/);
  });
});

describe('dataset-build job', () => {
  it('builds a tiny shapes dataset, reports progress to the total and a preview artifact', async () => {
    const outDir = join(home, 'datasets', 'tiny');
    const { ctx, ev } = fakeCtx();
    const res = await datasetBuild({ source: 'shapes', name: 'tiny', resolution: 16, trainCount: 30, valCount: 10, seed: 4, outDir }, ctx);
    expect(res).toMatchObject({ name: 'tiny', kind: 'shapes', resolution: 16, channels: 3, train: 30, val: 10, skippedCount: 0 });
    expect(res.classCounts).toEqual({ train: [3, 3, 3, 3, 3, 3, 3, 3, 3, 3], val: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] });
    const last = ev.progress.at(-1)!;
    expect(last.done).toBe(last.total);
    expect(last.total).toBe(40);
    expect(ev.progress.every((p, i) => i === 0 || p.done >= ev.progress[i - 1].done)).toBe(true);
    expect(ev.artifacts).toHaveLength(1);
    expect(ev.artifacts[0].kind).toBe('preview');
    expect(ev.artifacts[0].path).toBe('datasets/tiny/preview.png');
    expect((res.previews as string[]).length).toBe(11);
    // Preview: one row of 8 per class at ×4 with 2-px padding.
    const meta = await sharp(join(home, 'datasets', 'tiny', 'preview.png')).metadata();
    expect([meta.width, meta.height]).toEqual([8 * (64 + 2) + 2, 10 * (64 + 2) + 2]);
    // Streamed to disk, the images equal the in-memory generator's for the split's derived seed.
    const ds = openPackedDataset(outDir);
    const want = generateShapes({ count: 30, seed: deriveSeed(4, 'train'), resolution: 16 });
    expect(Buffer.from(ds.split('train').read([...Array(30).keys()]).x).equals(Buffer.from(want.x))).toBe(true);
    expect(Array.from(ds.split('train').labels)).toEqual(Array.from(want.y));
    ds.close();
  });

  it('builds MNIST with a stratified split', async () => {
    const outDir = join(home, 'datasets', 'mnist');
    const { ctx, ev } = fakeCtx();
    const res = await datasetBuild({ source: 'mnist', name: 'mnist', resolution: 16, valShare: 0.1, outDir }, ctx);
    const counts = res.classCounts as { train: number[]; val: number[] };
    expect(counts.train.length).toBe(10);
    counts.val.forEach((v, c) => expect(v).toBe(Math.round((v + counts.train[c]) * 0.1)));
    expect((res.train as number) + (res.val as number)).toBe(10000);
    expect(ev.progress.at(-1)!.done).toBe(ev.progress.at(-1)!.total);
  });

  it('imports a folder and reports skipped files', async () => {
    const src = join(home, 'src');
    for (const c of ['x', 'y']) {
      mkdirSync(join(src, c), { recursive: true });
      for (let i = 0; i < 3; i++) await sharp({ create: { width: 20, height: 20, channels: 3, background: { r: i * 80, g: 50, b: 9 } } }).png().toFile(join(src, c, `${i}.png`));
    }
    writeFileSync(join(src, 'y', 'bad.jpg'), 'nope');
    const { ctx, ev } = fakeCtx();
    const res = await datasetBuild({ source: 'folder', folder: src, name: 'f', resolution: 16, valShare: 0.34, outDir: join(home, 'datasets', 'f') }, ctx);
    expect(res).toMatchObject({ kind: 'imagefolder', classes: ['x', 'y'], train: 4, val: 2, skippedCount: 1 });
    expect((res.skipped as { file: string }[])[0].file).toBe('y/bad.jpg');
    expect(ev.logs.some((l) => l.startsWith('warn: 1 file(s) skipped'))).toBe(true);
  });

  it('throws JobCancelled on an aborted signal, before and during the build, leaving no manifest', async () => {
    const ac = new AbortController();
    ac.abort();
    const outDir = join(home, 'datasets', 'cancel');
    await expect(datasetBuild({ source: 'shapes', name: 'c', resolution: 16, trainCount: 500, valCount: 0, outDir }, fakeCtx(ac.signal).ctx)).rejects.toBeInstanceOf(JobCancelled);
    const mid = new AbortController();
    const { ctx } = fakeCtx(mid.signal, () => mid.abort());
    await expect(datasetBuild({ source: 'shapes', name: 'c', resolution: 16, trainCount: 2000, valCount: 0, outDir }, ctx)).rejects.toBeInstanceOf(JobCancelled);
    expect(existsSync(join(outDir, 'manifest.json'))).toBe(false);
    expect(readdirSync(outDir)).toEqual([]);
  });
});
