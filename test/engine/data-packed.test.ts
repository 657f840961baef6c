// Packed dataset format: round trip, positioned reads, seeded batches and flips; PNG grids.
import { mkdtempSync, openSync, closeSync, readdirSync, rmSync, statSync, truncateSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { flipHorizontal, openPackedDataset, u8ToUnit, writePackedDataset, type ManifestBase } from '../../engine/data/packed';
import { tileImages, writeImageGrid } from '../../engine/data/png';
import { stratifiedSplit, valCountFor } from '../../engine/data/split';

const tmp = mkdtempSync(join(tmpdir(), 'toklab-packed-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const R = 4;
const C = 3;
const B = R * R * C;

function randomSplit(n: number, classes: number, seed: number): { x: Uint8Array; y: Int32Array } {
  const rng = new Rng(seed);
  const x = new Uint8Array(n * B).map(() => rng.int(256));
  const y = new Int32Array(n).map(() => rng.int(classes));
  return { x, y };
}

function base(name: string): ManifestBase {
  return { name, kind: 'shapes', source: 'test', resolution: R, channels: C, classes: ['a', 'b', 'c'], seed: 5, valShare: 0.2, skipped: [], resize: 'none', createdAt: '2024-01-01T00:00:00Z' };
}

function makeDataset(name: string, nTrain = 37, nVal = 9): { dir: string; train: { x: Uint8Array; y: Int32Array }; val: { x: Uint8Array; y: Int32Array } } {
  const dir = join(tmp, name);
  const train = randomSplit(nTrain, 3, 1);
  const val = randomSplit(nVal, 3, 2);
  writePackedDataset(dir, base(name), { train, val });
  return { dir, train, val };
}

describe('packed dataset', () => {
  it('round-trips manifest, labels and images, leaving no temporary files', () => {
    const { dir, train, val } = makeDataset('rt');
    expect(readdirSync(dir).sort()).toEqual(['manifest.json', 'train-images.u8', 'train-labels.i32', 'val-images.u8', 'val-labels.i32']);
    expect(statSync(join(dir, 'train-images.u8')).size).toBe(37 * B);
    const ds = openPackedDataset(dir);
    expect(ds.manifest.format).toBe('toklab-packed-v1');
    expect(ds.imageShape).toEqual([R, R, C]);
    const tr = ds.split('train');
    expect(tr.n).toBe(37);
    expect(Array.from(tr.labels)).toEqual(Array.from(train.y));
    const counts = [0, 1, 2].map((c) => train.y.filter((v) => v === c).length);
    expect(tr.info.classCounts).toEqual(counts);
    const rng = new Rng(9);
    const idx = Array.from({ length: 50 }, () => rng.int(37));
    idx.push(3, 4, 5, 6, 36); // a consecutive run, read as one block
    const { x, y } = tr.read(idx);
    idx.forEach((i, k) => {
      expect(Array.from(x.subarray(k * B, (k + 1) * B))).toEqual(Array.from(train.x.subarray(i * B, (i + 1) * B)));
      expect(y[k]).toBe(train.y[i]);
    });
    const all = ds.split('val').read([...Array(9).keys()]);
    expect(Buffer.from(all.x).equals(Buffer.from(val.x))).toBe(true);
    expect(() => tr.read([37])).toThrow(/outside/);
    ds.close();
  });

  it('reads images from disk at each call, not from a copy loaded at open', () => {
    const { dir, train } = makeDataset('positioned');
    const ds = openPackedDataset(dir);
    const tr = ds.split('train');
    expect(tr.read([10]).x[0]).toBe(train.x[10 * B]);
    const fd = openSync(join(dir, 'train-images.u8'), 'r+');
    writeSync(fd, Uint8Array.of((train.x[10 * B] + 1) % 256), 0, 1, 10 * B);
    closeSync(fd);
    expect(tr.read([10]).x[0]).toBe((train.x[10 * B] + 1) % 256);
    ds.close();
  });

  it('refuses a folder without manifest and image files of the wrong size', () => {
    expect(() => openPackedDataset(join(tmp, 'nothing'))).toThrow(/no manifest.json/);
    const { dir } = makeDataset('short');
    truncateSync(join(dir, 'train-images.u8'), 10);
    expect(() => openPackedDataset(dir).split('train')).toThrow(/10 bytes, expected 37 × 48/);
  });

  it('batches: seeded order, every index once per epoch, dropLast, limit, no shuffle', () => {
    const { dir, train } = makeDataset('batches');
    const tr = openPackedDataset(dir).split('train');
    const order = (seed: number, extra = {}): number[] => [...tr.batches({ batchSize: 8, seed, ...extra })].flatMap((b) => Array.from(b.indices));
    const a = order(1);
    expect(order(1)).toEqual(a);
    expect(order(2)).not.toEqual(a);
    expect([...a].sort((p, q) => p - q)).toEqual([...Array(37).keys()]);
    expect(a).not.toEqual([...Array(37).keys()]);
    const batches = [...tr.batches({ batchSize: 8, seed: 1 })];
    expect(batches.map((b) => b.n)).toEqual([8, 8, 8, 8, 5]);
    expect(tr.batchCount({ batchSize: 8, seed: 1 })).toBe(5);
    expect([...tr.batches({ batchSize: 8, seed: 1, dropLast: true })].map((b) => b.n)).toEqual([8, 8, 8, 8]);
    expect(tr.batchCount({ batchSize: 8, seed: 1, dropLast: true })).toBe(4);
    const lim = order(1, { limit: 10 });
    expect([...lim].sort((p, q) => p - q)).toEqual([...Array(10).keys()]);
    expect(order(1, { shuffle: false })).toEqual([...Array(37).keys()]);
    // x is the stored image scaled to [-1, 1], y its label.
    const b0 = batches[0];
    expect(b0.x.length).toBe(8 * B);
    for (let k = 0; k < b0.n; k++) {
      const i = b0.indices[k];
      expect(b0.y[k]).toBe(train.y[i]);
      for (let p = 0; p < B; p++) expect(b0.x[k * B + p]).toBeCloseTo(train.x[i * B + p] / 127.5 - 1, 6);
    }
  });

  it('flips horizontally only when asked, seeded, about half the images', () => {
    const { dir } = makeDataset('flips', 64, 1);
    const tr = openPackedDataset(dir).split('train');
    const plain = [...tr.batches({ batchSize: 64, seed: 3 })][0];
    const flipped = [...tr.batches({ batchSize: 64, seed: 3, flip: true })][0];
    const again = [...tr.batches({ batchSize: 64, seed: 3, flip: true })][0];
    expect(Array.from(flipped.indices)).toEqual(Array.from(plain.indices));
    expect(Buffer.from(flipped.x.buffer).equals(Buffer.from(again.x.buffer))).toBe(true);
    const ref = u8ToUnit(tr.read(plain.indices).x);
    expect(Array.from(plain.x)).toEqual(Array.from(ref));
    let nFlipped = 0;
    for (let k = 0; k < 64; k++) {
      const orig = ref.slice(k * B, (k + 1) * B);
      const mirror = orig.slice();
      flipHorizontal(mirror, 0, R, R, C);
      const got = Array.from(flipped.x.subarray(k * B, (k + 1) * B));
      const isOrig = got.every((v, p) => v === orig[p]);
      const isMirror = got.every((v, p) => v === mirror[p]);
      expect(isOrig || isMirror).toBe(true);
      if (!isOrig) nFlipped++;
    }
    expect(nFlipped).toBeGreaterThan(15);
    expect(nFlipped).toBeLessThan(49);
  });

  it('flipHorizontal mirrors columns and keeps channels together', () => {
    // One 1×3 RGB row: pixels (1,2,3) (4,5,6) (7,8,9) → (7,8,9) (4,5,6) (1,2,3).
    const row = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9);
    flipHorizontal(row, 0, 1, 3, 3);
    expect(Array.from(row)).toEqual([7, 8, 9, 4, 5, 6, 1, 2, 3]);
  });
});

describe('png grid', () => {
  it('tiles images with padding and nearest upscaling, and writes a PNG sharp reads back', async () => {
    // Two 2×2 grey images: [0,50,100,150] and [200,210,220,230], float input for the second check.
    const imgs = Uint8Array.of(0, 50, 100, 150, 200, 210, 220, 230);
    const g = tileImages(imgs, 2, 2, 2, 1, 2, { pad: 1, scale: 2, padValue: 255 });
    expect([g.width, g.height]).toEqual([2 * (4 + 1) + 1, 4 + 2]);
    const at = (x: number, y: number): number => g.data[y * g.width + x];
    expect(at(0, 0)).toBe(255);
    expect([at(1, 1), at(2, 1), at(3, 1), at(1, 3), at(3, 3)]).toEqual([0, 0, 50, 100, 150]);
    expect(at(6, 1)).toBe(200);
    const path = join(tmp, 'grid.png');
    const floats = Float32Array.from(imgs, (v) => v / 127.5 - 1);
    await writeImageGrid(path, floats, 2, 2, 2, 1, 2, { pad: 1, scale: 2, padValue: 255 });
    expect((await sharp(path).metadata()).channels).toBe(1);
    const { data, info } = await sharp(path).toColourspace('b-w').raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([g.width, g.height, 1]);
    expect(Buffer.from(data).equals(Buffer.from(g.data))).toBe(true);
  });
});

describe('stratified split', () => {
  it('holds out round(n·share) per class, at least 1 when a class has 2+, never all', () => {
    expect([valCountFor(1, 0.5), valCountFor(2, 0.1), valCountFor(3, 0.5), valCountFor(10, 0.5), valCountFor(10, 0), valCountFor(1000, 0.1)]).toEqual([0, 1, 2, 5, 0, 100]);
  });

  it('partitions every index once, per class, in seeded mixed order', () => {
    const labels = Int32Array.from({ length: 103 }, (_, i) => (i < 50 ? 0 : i < 90 ? 1 : 2));
    const a = stratifiedSplit(labels, 3, 0.2, new Rng(1));
    const b = stratifiedSplit(labels, 3, 0.2, new Rng(1));
    expect(Array.from(a.train)).toEqual(Array.from(b.train));
    expect([...a.train, ...a.val].sort((p, q) => p - q)).toEqual([...Array(103).keys()]);
    expect([0, 1, 2].map((c) => a.val.filter((i) => labels[i] === c).length)).toEqual([10, 8, 3]);
    expect(Array.from(a.val)).not.toEqual([...a.val].sort((p, q) => p - q));
  });
});
