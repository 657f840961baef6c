// Built-in shapes dataset: determinism, class balance, anti-aliasing and that classes look like their names.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Rng } from '../../engine/rng';
import { SHAPE_CLASSES, coverage, generateShapes, shapeSdf } from '../../engine/data/shapes';

const sha = (a: Uint8Array): string => createHash('sha256').update(a).digest('hex');

describe('shapes dataset', () => {
  it('is byte-identical for the same seed and differs for another seed', () => {
    const a = generateShapes({ count: 60, seed: 7 });
    const b = generateShapes({ count: 60, seed: 7 });
    const c = generateShapes({ count: 60, seed: 8 });
    expect(sha(a.x)).toBe(sha(b.x));
    expect(Array.from(a.y)).toEqual(Array.from(b.y));
    expect(sha(a.x)).not.toBe(sha(c.x));
    expect(a.x.length).toBe(60 * 32 * 32 * 3);
  });

  it('balances classes exactly (count mod C extra items go to the first classes) in shuffled order', () => {
    const d = generateShapes({ count: 103, seed: 1, resolution: 16 });
    expect(d.classes).toEqual([...SHAPE_CLASSES]);
    expect(d.classes.length).toBeGreaterThanOrEqual(10);
    const counts = d.classes.map((_, c) => d.y.filter((v) => v === c).length);
    expect(counts).toEqual([11, 11, 11, 10, 10, 10, 10, 10, 10, 10]);
    // Not left in i mod C order.
    expect(Array.from(d.y.slice(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('varies colour, pose and background between images of one class', () => {
    const d = generateShapes({ count: 200, seed: 3 });
    const per = 32 * 32 * 3;
    const circles = [...d.y.keys()].filter((i) => d.y[i] === 0).map((i) => d.x.subarray(i * per, (i + 1) * per));
    expect(new Set(circles.map(sha)).size).toBe(circles.length);
    const means = circles.map((img) => img.reduce((s, v) => s + v, 0) / per);
    const spread = Math.max(...means) - Math.min(...means);
    expect(spread).toBeGreaterThan(40);
    for (const img of circles) {
      // The shape contrasts with the background: a wide range of values in every image.
      expect(Math.max(...img) - Math.min(...img)).toBeGreaterThan(50);
    }
  });

  it('supports 16/64 and a one-channel variant, and refuses other resolutions', () => {
    expect(generateShapes({ count: 3, seed: 0, resolution: 64 }).x.length).toBe(3 * 64 * 64 * 3);
    const g = generateShapes({ count: 3, seed: 0, resolution: 16, channels: 1 });
    expect(g.x.length).toBe(3 * 16 * 16);
    expect(() => generateShapes({ count: 3, seed: 0, resolution: 28 })).toThrow(/16, 32 or 64/);
  });

  it('edge-only supersampling equals exhaustive 4×4 supersampling for every class (SDFs never overestimate)', () => {
    for (let cls = 0; cls < SHAPE_CLASSES.length; cls++) {
      for (let s = 0; s < 6; s++) {
        const sdf = shapeSdf(cls, new Rng(1000 * cls + s));
        expect(Array.from(coverage(sdf, 32))).toEqual(Array.from(coverage(sdf, 32, true)));
      }
    }
  });

  it('anti-aliases: a circle has fractional edge pixels and the right area', () => {
    const r = 0.5;
    const cov = coverage((x, y) => Math.hypot(x, y) - r, 32);
    const frac = cov.filter((v) => v > 0 && v < 1).length;
    expect(frac).toBeGreaterThan(20);
    const area = cov.reduce((s, v) => s + v, 0) * (2 / 32) ** 2;
    expect(area).toBeCloseTo(Math.PI * r * r, 2);
  });

  it('draws horizontal stripes with horizontal structure and diagonal stripes without', () => {
    const res = 32;
    // Mean absolute difference between horizontal and between vertical neighbours of the coverage map.
    const grad = (c: Float32Array): { dx: number; dy: number } => {
      let dx = 0;
      let dy = 0;
      for (let j = 0; j < res - 1; j++)
        for (let i = 0; i < res - 1; i++) {
          dx += Math.abs(c[j * res + i + 1] - c[j * res + i]);
          dy += Math.abs(c[(j + 1) * res + i] - c[j * res + i]);
        }
      return { dx, dy };
    };
    const h = SHAPE_CLASSES.indexOf('stripes-horizontal');
    const dg = SHAPE_CLASSES.indexOf('stripes-diagonal');
    for (let s = 0; s < 5; s++) {
      const gh = grad(coverage(shapeSdf(h, new Rng(s)), res));
      expect(gh.dy).toBeGreaterThan(3 * gh.dx);
      const gd = grad(coverage(shapeSdf(dg, new Rng(s)), res));
      expect(gd.dy / gd.dx).toBeGreaterThan(0.5);
      expect(gd.dy / gd.dx).toBeLessThan(2);
    }
  });

  it('draws a filled shape inside the frame for every object class', () => {
    for (const name of ['circle', 'square', 'triangle', 'ring', 'cross', 'star', 'diamond'] as const) {
      const cls = SHAPE_CLASSES.indexOf(name);
      for (let s = 0; s < 10; s++) {
        const cov = coverage(shapeSdf(cls, new Rng(s)), 32);
        const filled = cov.reduce((a, v) => a + v, 0) / cov.length;
        expect(filled, `${name} seed ${s}`).toBeGreaterThan(0.02);
        expect(filled, `${name} seed ${s}`).toBeLessThan(0.6);
      }
    }
  });

  it('calls progress and stops when shouldStop throws', () => {
    const seen: number[] = [];
    generateShapes({ count: 300, seed: 0, resolution: 16, onProgress: (d) => seen.push(d) });
    expect(seen.at(-1)).toBe(300);
    let k = 0;
    expect(() =>
      generateShapes({
        count: 300,
        seed: 0,
        resolution: 16,
        shouldStop: () => {
          if (++k > 5) throw new Error('stop');
        },
      }),
    ).toThrow('stop');
    expect(k).toBe(6);
  });
});
