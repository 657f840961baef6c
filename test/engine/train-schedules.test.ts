// Warmup + cosine learning rate and the METHOD §2 annealing ratio.
import { describe, expect, it } from 'vitest';
import { annealBounds, annealRatio, lrAt } from '../../engine/train/schedules';

describe('lrAt', () => {
  const s = { base: 1e-3, warmup: 10, total: 110, min: 1e-5 };
  it('warms up linearly from the first step', () => {
    expect(lrAt(0, s)).toBeCloseTo(1e-4, 12);
    expect(lrAt(4, s)).toBeCloseTo(5e-4, 12);
    expect(lrAt(9, s)).toBeCloseTo(1e-3, 12);
  });
  it('follows the cosine to min', () => {
    expect(lrAt(10, s)).toBeCloseTo(1e-3, 12);
    expect(lrAt(60, s)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5), 12);
    expect(lrAt(35, s)).toBeCloseTo(1e-5 + 0.5 * (1e-3 - 1e-5) * (1 + Math.cos(Math.PI / 4)), 12);
    expect(lrAt(110, s)).toBeCloseTo(1e-5, 12);
    expect(lrAt(500, s)).toBeCloseTo(1e-5, 12);
  });
  it('no warmup starts at base', () => {
    expect(lrAt(0, { base: 2, warmup: 0, total: 10 })).toBe(2);
    expect(lrAt(10, { base: 2, warmup: 0, total: 10 })).toBeCloseTo(0, 12);
  });
});

describe('annealRatio', () => {
  it('reference recipe in absolute epochs: 1 before 40, 0.75 at 80, 0.5 from 120', () => {
    const a = { start: 40, end: 120, endRatio: 0.5, unit: 'epoch' as const };
    expect(annealRatio(0, 200, a)).toBe(1);
    expect(annealRatio(40, 200, a)).toBe(1);
    expect(annealRatio(80, 200, a)).toBeCloseTo(0.75, 12);
    expect(annealRatio(119.999, 200, a)).toBeCloseTo(0.5, 4);
    expect(annealRatio(120, 200, a)).toBe(0.5);
    expect(annealRatio(199, 200, a)).toBe(0.5);
  });
  it('fractions scale with the run length and do not jump at end', () => {
    const a = { start: 0.2, end: 0.6, endRatio: 0.1 };
    expect(annealBounds(10, a)).toEqual({ start: 2, end: 6 });
    expect(annealRatio(2, 10, a)).toBe(1);
    expect(annealRatio(4, 10, a)).toBeCloseTo(0.55, 12);
    expect(annealRatio(6, 10, a)).toBeCloseTo(0.1, 12);
    expect(Math.abs(annealRatio(5.999, 10, a) - annealRatio(6.001, 10, a))).toBeLessThan(1e-3);
  });
});
