// MNIST from the mnist package: all ~10k real digits, centre-padded to 32, resized to 16/64 on request.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadMnist, mnistDigitsDir, type MnistData } from '../../engine/data/mnist';

describe('mnist', () => {
  let d32: MnistData;
  beforeAll(() => {
    d32 = loadMnist();
  });

  it('has 10 classes, about 10k 32×32×1 images, balanced-ish', () => {
    expect(d32.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    const n = d32.y.length;
    expect(n).toBeGreaterThan(9000);
    expect(n).toBeLessThan(11000);
    expect(d32.x.length).toBe(n * 32 * 32);
    const counts = d32.classes.map((_, c) => d32.y.filter((v) => v === c).length);
    for (const c of counts) {
      expect(c).toBeGreaterThan(0.7 * (n / 10));
      expect(c).toBeLessThan(1.3 * (n / 10));
    }
  });

  it('has sane pixels: black 2-pixel border, bright strokes, MNIST-like mean', () => {
    const n = d32.y.length;
    let sum = 0;
    let borderMax = 0;
    let brightImages = 0;
    for (let i = 0; i < n; i++) {
      const img = d32.x.subarray(i * 1024, (i + 1) * 1024);
      let mx = 0;
      for (let p = 0; p < 1024; p++) {
        const y = p >> 5;
        const x = p & 31;
        sum += img[p];
        mx = Math.max(mx, img[p]);
        if (y < 2 || y >= 30 || x < 2 || x >= 30) borderMax = Math.max(borderMax, img[p]);
      }
      if (mx >= 200) brightImages++;
    }
    expect(borderMax).toBe(0);
    expect(brightImages).toBe(n);
    // MNIST's mean intensity 0.1307 over 28×28, diluted by the padding to 32×32.
    const mean = sum / (n * 1024) / 255;
    expect(mean).toBeCloseTo((0.1307 * 784) / 1024, 1);
  });

  it('places the package bytes exactly, in file order', () => {
    const raw = (JSON.parse(readFileSync(join(mnistDigitsDir(), '3.json'), 'utf8')) as { data: number[] }).data;
    const first3 = d32.y.indexOf(3);
    const img = d32.x.subarray(first3 * 1024, (first3 + 1) * 1024);
    for (let r = 0; r < 28; r++) for (let c = 0; c < 28; c++) expect(img[(r + 2) * 32 + c + 2]).toBe(Math.round(raw[r * 28 + c] * 255));
  });

  it('area-halves to 16, nearest-doubles to 64 and repeats to 3 channels', () => {
    const d16 = loadMnist({ resolution: 16 });
    const d64 = loadMnist({ resolution: 64, channels: 3 });
    const i = 1234;
    const a = d32.x.subarray(i * 1024, (i + 1) * 1024);
    const s = d16.x.subarray(i * 256, (i + 1) * 256);
    for (let y = 0; y < 16; y++)
      for (let x = 0; x < 16; x++) {
        const avg = (a[2 * y * 32 + 2 * x] + a[2 * y * 32 + 2 * x + 1] + a[(2 * y + 1) * 32 + 2 * x] + a[(2 * y + 1) * 32 + 2 * x + 1]) / 4;
        expect(s[y * 16 + x]).toBe(Math.round(avg));
      }
    const b = d64.x.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3);
    const want = new Uint8Array(64 * 64 * 3);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) for (let c = 0; c < 3; c++) want[(y * 64 + x) * 3 + c] = a[(y >> 1) * 32 + (x >> 1)];
    expect(Buffer.from(b).equals(Buffer.from(want))).toBe(true);
    expect(Array.from(d16.y)).toEqual(Array.from(d32.y));
  });

  it('refuses other resolutions clearly', () => {
    expect(() => loadMnist({ resolution: 28 })).toThrow(/resolution 28 is not supported; use 16, 32/);
  });
});
