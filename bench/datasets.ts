// Dataset throughput: ImageFolder import of 10k small PNGs (decode, crop, lanczos3 resize, pack),
// shapes generation, and batch reading from the packed format.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { importImageFolder } from '../engine/data/imagefolder';
import { openPackedDataset } from '../engine/data/packed';
import { generateShapes } from '../engine/data/shapes';
import { Rng } from '../engine/rng';
import type { Bench, BenchResult } from './types';

const N_FILES = 10_000;
const CLASSES = 10;
const SIDE = 48;

/** Writes N_FILES 48×48 PNGs (noisy gradients) into CLASSES subfolders; not timed. */
async function makeFolder(root: string): Promise<void> {
  const rng = new Rng(1);
  for (let c = 0; c < CLASSES; c++) mkdirSync(join(root, `class${c}`), { recursive: true });
  const jobs: Promise<unknown>[] = [];
  for (let i = 0; i < N_FILES; i++) {
    const px = Buffer.alloc(SIDE * SIDE * 3);
    const [r, g, b] = [rng.int(256), rng.int(256), rng.int(256)];
    for (let p = 0; p < SIDE * SIDE; p++) {
      const t = (p % SIDE) / SIDE;
      px[p * 3] = (r * t + rng.int(40)) & 255;
      px[p * 3 + 1] = (g * (1 - t) + rng.int(40)) & 255;
      px[p * 3 + 2] = b;
    }
    jobs.push(sharp(px, { raw: { width: SIDE, height: SIDE, channels: 3 } }).png().toFile(join(root, `class${i % CLASSES}`, `${i}.png`)));
    if (jobs.length === 16) await Promise.all(jobs.splice(0));
  }
  await Promise.all(jobs);
}

export const bench: Bench = async () => {
  const results: BenchResult[] = [];
  const tmp = mkdtempSync(join(tmpdir(), 'toklab-bench-data-'));
  try {
    let t = performance.now();
    const shapes = generateShapes({ count: 10_000, seed: 0, resolution: 32 });
    let s = (performance.now() - t) / 1000;
    results.push({ name: 'shapes generation 32×32', value: 10_000 / s, unit: 'images/s', details: { images: 10_000, seconds: +s.toFixed(2), bytes: shapes.x.length } });

    const src = join(tmp, 'folder');
    await makeFolder(src);
    t = performance.now();
    const m = await importImageFolder({ folder: src, outDir: join(tmp, 'packed'), name: 'bench', resolution: 32, valShare: 0.1, seed: 0 });
    s = (performance.now() - t) / 1000;
    results.push({
      name: 'imagefolder import 48×48 PNG → 32×32',
      value: N_FILES / s,
      unit: 'images/s',
      details: { files: N_FILES, seconds: +s.toFixed(2), train: m.splits.train.n, val: m.splits.val.n, skipped: m.skipped.length, sharpConcurrency: sharp.concurrency() },
    });

    const ds = openPackedDataset(join(tmp, 'packed'));
    const tr = ds.split('train');
    t = performance.now();
    let n = 0;
    for (const b of tr.batches({ batchSize: 64, seed: 0, flip: true })) n += b.n;
    s = (performance.now() - t) / 1000;
    ds.close();
    results.push({ name: 'packed batches 32×32×3 (shuffled, flips)', value: n / s, unit: 'images/s', details: { images: n, batchSize: 64, seconds: +s.toFixed(3) } });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return results;
};
