// ImageFolder import: decoding, centre crop, alpha, stratified split, skip-and-report, refusals, cancel.
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp, { type Sharp } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobCancelled } from '../../engine/jobs/types';
import { ImportRefused, importImageFolder, scanImageFolder } from '../../engine/data/imagefolder';
import { openPackedDataset } from '../../engine/data/packed';

const tmp = mkdtempSync(join(tmpdir(), 'toklab-folder-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type Rgb = [number, number, number];

function solid(w: number, h: number, [r, g, b]: Rgb): Sharp {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r, g, b } } });
}

const root = join(tmp, 'pets');
/** Expected colour of every good image after import (alpha flattened on black, centre crop). */
const expected: Rgb[] = [];

beforeAll(async () => {
  for (const d of ['a', 'b', 'c/sub']) mkdirSync(join(root, d), { recursive: true });
  const aCols: Rgb[] = [[200, 30, 30], [30, 200, 30], [30, 30, 200], [200, 200, 30]];
  for (const [i, c] of aCols.entries()) await solid(20 + i * 7, 30, c).png().toFile(join(root, 'a', `img${i}.png`));
  // 48×32 with red 8-px side bands: a centre crop keeps only the blue middle.
  const crop = Buffer.alloc(48 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 48; x++) crop.set(x < 8 || x >= 40 ? [255, 0, 0] : [0, 0, 255], (y * 48 + x) * 3);
  await sharp(crop, { raw: { width: 48, height: 32, channels: 3 } }).png().toFile(join(root, 'a', 'wide.png'));
  const bCols: Rgb[] = [[120, 120, 120], [250, 250, 250], [10, 10, 10], [200, 100, 50]];
  for (const [i, c] of bCols.entries()) await solid(33, 33, c).jpeg({ quality: 95 }).toFile(join(root, 'b', `p${i}.jpg`));
  const cCols: Rgb[] = [[100, 0, 150], [0, 150, 150]];
  for (const [i, c] of cCols.entries()) await solid(16, 40, c).webp({ lossless: true }).toFile(join(root, 'c', `w${i}.webp`));
  await sharp({ create: { width: 24, height: 24, channels: 4, background: { r: 255, g: 255, b: 255, alpha: 0 } } })
    .webp({ lossless: true })
    .toFile(join(root, 'c', 'sub', 'clear.WEBP'));
  expected.push(...aCols, [0, 0, 255], ...bCols, ...cCols, [0, 0, 0]);
  // Bad files: a PNG signature followed by garbage, a zero-byte PNG, a text file, a stray root file, hidden files.
  writeFileSync(join(root, 'a', 'corrupt.png'), Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(200, 0x5a)]));
  writeFileSync(join(root, 'b', 'empty.png'), Buffer.alloc(0));
  const jpg = await solid(64, 64, [9, 99, 199]).jpeg().toBuffer();
  writeFileSync(join(root, 'b', 'trunc.jpg'), jpg.subarray(0, Math.floor(jpg.length * 0.6)));
  writeFileSync(join(root, 'c', 'notes.txt'), 'not an image');
  writeFileSync(join(root, 'readme.md'), '# pets');
  writeFileSync(join(root, 'b', '.DS_Store'), 'x');
  mkdirSync(join(root, '.thumbs'));
});

const opts = (name: string, extra = {}) => ({ folder: root, outDir: join(tmp, 'out', name), name, resolution: 16, valShare: 0.4, seed: 1, ...extra });

function meanColours(dir: string): Rgb[] {
  const ds = openPackedDataset(dir);
  const out: Rgb[] = [];
  for (const s of ['train', 'val'] as const) {
    const sp = ds.split(s);
    const { x } = sp.read([...Array(sp.n).keys()]);
    const per = sp.imageBytes;
    for (let i = 0; i < sp.n; i++) {
      const m: Rgb = [0, 0, 0];
      for (let p = 0; p < per; p++) m[p % 3] += x[i * per + p] / (per / 3);
      out.push(m.map(Math.round) as Rgb);
    }
  }
  ds.close();
  return out;
}

describe('ImageFolder import', () => {
  it('imports good images, splits per class and reports every bad file with a reason', async () => {
    const progress: [number, number][] = [];
    const m = await importImageFolder(opts('ok', { onProgress: (d: number, t: number) => progress.push([d, t]) }));
    expect(m.kind).toBe('imagefolder');
    expect(m.classes).toEqual(['a', 'b', 'c']);
    expect(m.resize).toMatch(/lanczos3/);
    // a: 5 → round(2.0) = 2 val; b: 4 → round(1.6) = 2; c: 3 → round(1.2) = 1.
    expect(m.splits.train.classCounts).toEqual([3, 2, 2]);
    expect(m.splits.val.classCounts).toEqual([2, 2, 1]);
    expect([m.splits.train.n, m.splits.val.n]).toEqual([7, 5]);
    const skipped = Object.fromEntries(m.skipped.map((s) => [s.file, s.reason]));
    expect(Object.keys(skipped).sort()).toEqual(['a/corrupt.png', 'b/empty.png', 'b/trunc.jpg', 'c/notes.txt', 'readme.md']);
    expect(skipped['b/trunc.jpg']).toMatch(/^could not decode/);
    expect(skipped['a/corrupt.png']).toMatch(/^could not decode: \S.*\S{3}/);
    expect(skipped['b/empty.png']).toBe('empty file (0 bytes)');
    expect(skipped['c/notes.txt']).toBe('unsupported file type');
    expect(skipped['readme.md']).toBe('not inside a class folder');
    expect(progress.at(-1)).toEqual([15, 15]);
    expect(readdirSync(join(tmp, 'out', 'ok')).filter((f) => f.includes('tmp'))).toEqual([]);
  });

  it('imports at 256 px as a whole evaluation set (valShare 1), for tokenizers trained elsewhere', async () => {
    const m = await importImageFolder(opts('eval256', { resolution: 256, valShare: 1 }));
    expect(m.resolution).toBe(256);
    expect([m.splits.train.n, m.splits.val.n]).toEqual([0, 12]);
    expect(m.splits.val.classCounts).toEqual([5, 4, 3]);
    const ds = openPackedDataset(join(tmp, 'out', 'eval256'));
    try {
      expect(ds.imageShape).toEqual([256, 256, 3]);
      // solid-colour sources stay solid through the crop and resize
      const { x, y } = ds.split('val').read([0]);
      let off = 0;
      for (let p = 0; p < 256 * 256; p++) for (let c = 0; c < 3; c++) off = Math.max(off, Math.abs(x[p * 3 + c] - x[c]));
      expect(off).toBeLessThanOrEqual(1);
      expect(y[0]).toBeGreaterThanOrEqual(0);
    } finally {
      ds.close();
    }
    await expect(importImageFolder(opts('eval512', { resolution: 512 }))).rejects.toThrow(/resolution 512 is not supported; use 16, 32, 64, 128, 256/);
  });

  it('writes each good image once, centre-cropped, alpha flattened on black', () => {
    const got = meanColours(join(tmp, 'out', 'ok'));
    expect(got.length).toBe(expected.length);
    const left = [...got];
    for (const want of expected) {
      const k = left.findIndex((c) => c.every((v, i) => Math.abs(v - want[i]) <= 3));
      expect(k, `colour ${want} missing from ${JSON.stringify(left)}`).toBeGreaterThanOrEqual(0);
      left.splice(k, 1);
    }
  });

  it('keeps labels with their images', () => {
    const ds = openPackedDataset(join(tmp, 'out', 'ok'));
    const tr = ds.split('train');
    const { x, y } = tr.read([...Array(tr.n).keys()]);
    for (let i = 0; i < tr.n; i++) {
      const px = Array.from(x.subarray(i * tr.imageBytes, i * tr.imageBytes + 3));
      const isGrey = Math.abs(px[0] - px[1]) <= 3 && Math.abs(px[1] - px[2]) <= 3 && px[0] !== 0;
      // Only class b (JPEG) holds grey images; the black one from c is the transparent WebP.
      if (isGrey) expect(y[i]).toBe(1);
    }
    ds.close();
  });

  it('is deterministic in the seed and converts to one channel on request', async () => {
    const m1 = await importImageFolder(opts('same'));
    const a = readFileSync(join(tmp, 'out', 'same', 'train-images.u8'));
    expect(a.equals(readFileSync(join(tmp, 'out', 'ok', 'train-images.u8')))).toBe(true);
    expect(m1.splits.train.classCounts).toEqual([3, 2, 2]);
    const g = await importImageFolder(opts('grey', { channels: 1 }));
    expect(g.channels).toBe(1);
    const ds = openPackedDataset(join(tmp, 'out', 'grey'));
    const all = [...ds.split('train').read([...Array(7).keys()]).x, ...ds.split('val').read([...Array(5).keys()]).x];
    expect(all.length).toBe(12 * 256);
    ds.close();
    // The 120-grey JPEG appears as one uniform tile of ≈120.
    const tiles = Array.from({ length: 12 }, (_, i) => all.slice(i * 256, (i + 1) * 256));
    expect(tiles.some((t) => t.every((v) => Math.abs(v - 120) <= 3))).toBe(true);
  });

  it('stops with JobCancelled on an aborted signal and leaves no files', async () => {
    const ac = new AbortController();
    ac.abort();
    const out = join(tmp, 'out', 'cancel');
    await expect(importImageFolder(opts('cancel', { signal: ac.signal }))).rejects.toBeInstanceOf(JobCancelled);
    expect(readdirSync(out)).toEqual([]);
  });
});

describe('ImageFolder refusals', () => {
  const make = (name: string, files: Record<string, string | Buffer>): string => {
    const dir = join(tmp, 'refuse', name);
    mkdirSync(dir, { recursive: true });
    for (const [f, body] of Object.entries(files)) {
      mkdirSync(join(dir, f, '..'), { recursive: true });
      if (!f.endsWith('/')) writeFileSync(join(dir, f), body);
    }
    return dir;
  };

  it('refuses a missing path, a file, an empty folder and a folder of loose files', () => {
    expect(() => scanImageFolder(join(tmp, 'nope'))).toThrow(/does not exist\. Check the path/);
    const f = make('file', { 'x.png': 'x' });
    expect(() => scanImageFolder(join(f, 'x.png'))).toThrow(/is a file, not a folder/);
    expect(() => scanImageFolder(make('empty', {}))).toThrow(/has no class subfolders \(it is empty\)\. Put the images of each class in its own subfolder/);
    expect(() => scanImageFolder(make('loose', { 'a.png': 'x', 'b.png': 'y' }))).toThrow(/has no class subfolders\. Put/);
    expect(() => scanImageFolder(make('loose', {}))).toThrow(ImportRefused);
  });

  it('refuses a single class and classes without usable images', async () => {
    expect(() => scanImageFolder(make('single', { 'cat/x.png': 'x' }))).toThrow(/only one class subfolder \("cat"\)\. Add at least one more/);
    expect(() => scanImageFolder(make('txtonly', { 'cat/x.png': 'x', 'dog/readme.txt': 'y' }))).toThrow(/only "cat" has usable images \("dog" has none\)/);
    const good = await solid(8, 8, [1, 2, 3]).png().toBuffer();
    const dir = make('corruptonly', { 'cat/x.png': good, 'dog/y.png': Buffer.from('garbage') });
    await expect(importImageFolder({ folder: dir, outDir: join(tmp, 'out', 'co'), name: 'co', resolution: 16 })).rejects.toThrow(/only "cat" has usable images \("dog" has none\)/);
  });

  it('follows links inside a class, reads a looped folder once and skips links across classes, each reported (#12 item 11)', () => {
    const dir = make('links', { 'cat/1.png': 'x', 'cat/2.png': 'x', 'dog/1.png': 'x', 'dog/2.png': 'x', 'eel/1.png': 'x', 'eel/2.png': 'x' });
    mkdirSync(join(dir, 'cat', 'more'));
    writeFileSync(join(dir, 'cat', 'more', '3.png'), 'x');
    symlinkSync(join(dir, 'cat'), join(dir, 'cat', 'more', 'up')); // a loop back to the class folder
    symlinkSync(join(dir, 'cat', 'self'), join(dir, 'cat', 'self')); // a link to itself (ELOOP)
    symlinkSync(join(dir, 'cat', '1.png'), join(dir, 'dog', 'stolen.png')); // a cat image under dog
    symlinkSync(join(dir, 'cat'), join(dir, 'dog', 'cats')); // the cat folder under dog
    symlinkSync(join(dir, 'eel', '1.png'), join(dir, 'eel', 'again.png')); // a link inside its own class is fine
    symlinkSync(join(dir, 'cat'), join(dir, 'fox')); // a class folder that is another class's folder
    const scan = scanImageFolder(dir);
    const byClass = (c: string) => scan.files.filter((f) => scan.classes[f.label] === c).map((f) => f.rel).sort();
    expect(byClass('cat')).toEqual(['cat/1.png', 'cat/2.png', 'cat/more/3.png']);
    expect(byClass('dog')).toEqual(['dog/1.png', 'dog/2.png']);
    expect(byClass('eel')).toEqual(['eel/1.png', 'eel/2.png', 'eel/again.png']);
    expect(byClass('fox')).toEqual([]);
    const why = Object.fromEntries(scan.skipped.map((x) => [x.file, x.reason]));
    expect(why['cat/more/up']).toMatch(/symlink loop \(folder already read\)/);
    expect(why['cat/self']).toBe('symlink loop');
    expect(why['dog/stolen.png']).toMatch(/links into class "cat": one image cannot have two labels/);
    expect(why['dog/cats']).toMatch(/links into class "cat"/);
    expect(why.fox).toMatch(/the same folder as class "cat"/);
  });

  it('drops a class whose every image is corrupt when two others remain, and reports it', async () => {
    const good = await solid(8, 8, [1, 2, 3]).png().toBuffer();
    const dir = make('dropone', { 'ant/1.png': good, 'ant/2.png': good, 'bee/1.png': Buffer.from('bad'), 'cow/1.png': good, 'cow/2.png': good });
    const m = await importImageFolder({ folder: dir, outDir: join(tmp, 'out', 'drop'), name: 'drop', resolution: 16, valShare: 0.5 });
    expect(m.classes).toEqual(['ant', 'cow']);
    expect(m.splits.train.classCounts).toEqual([1, 1]);
    expect(m.splits.val.classCounts).toEqual([1, 1]);
    expect(m.skipped.map((s) => s.file)).toEqual(['bee/1.png', 'bee/']);
    expect(m.skipped[1].reason).toMatch(/class dropped/);
  });
});
