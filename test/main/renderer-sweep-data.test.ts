// Sweeps page helpers: list parsing refusals, the pFID grid read from an eval result (and refused
// when malformed), heat map and curve traces oriented α rows × δ columns.
import { describe, expect, it } from 'vitest';
import type { JsonObject } from '../../preload/contract';
import { latestByParent, parseNumberList, pfidGrid } from '../../renderer/src/lib/sweep-data';
import { pfidCurvesChart, pfidHeatmapChart } from '../../figures/pfid';

const result: JsonObject = {
  extractorId: 'lab-1', rfid: 5, pfidMean: 7.5, alphas: [0.3, 0.9], deltasAbs: [6, 19], deltasShare: [0.1, 0.3],
  pfid: [[6, 7], [8, 9]], pkid: [[0, 0], [0, 0]], n: 64, K: 64,
};

describe('parseNumberList', () => {
  it('parses commas and spaces and refuses bad lists', () => {
    expect(parseNumberList('0.3, 0.9 0.5', { min: 0, max: 1 })).toEqual({ values: [0.3, 0.9, 0.5], error: '' });
    expect(parseNumberList('0.3, 1.2', { min: 0, max: 1 }).error).toMatch(/outside/);
    expect(parseNumberList('2, 2', { min: 1, max: 9 }).error).toMatch(/twice/);
    expect(parseNumberList('2.5', { min: 1, max: 9, integer: true }).error).toMatch(/whole/);
    expect(parseNumberList('x', { min: 0, max: 1 }).error).toMatch(/not a number/);
    expect(parseNumberList('  ', { min: 0, max: 1 }).error).toMatch(/at least one/);
  });
});

describe('pfidGrid', () => {
  it('reads the grid and takes the seed from the config when the result lacks it', () => {
    const g = pfidGrid(result, { seed: 7 });
    expect(g?.pfid).toEqual([[6, 7], [8, 9]]);
    expect(g?.seed).toBe(7);
    expect(g?.rfid).toBe(5);
  });
  it('refuses a grid whose shape does not match its axes', () => {
    expect(pfidGrid({ ...result, pfid: [[6, 7]] })).toBeNull();
    expect(pfidGrid({ ...result, pfid: [[6], [8]] })).toBeNull();
    expect(pfidGrid({ rfid: 3 })).toBeNull();
  });
  it('derives δ shares from K when the result has no shares', () => {
    const g = pfidGrid({ ...result, deltasShare: null });
    expect(g?.deltasShare).toEqual([6 / 64, 19 / 64]);
  });
});

describe('figures of a grid', () => {
  const g = pfidGrid(result)!;
  it('heat map: rows are α, columns δ (codes or shares of K)', () => {
    const p = pfidHeatmapChart([{ name: 'A', grid: g }], 'abs').panels[0];
    expect(p.z).toEqual([[6, 7], [8, 9]]);
    expect(p.colLabels).toEqual(['6', '19']);
    expect(p.rowLabels).toEqual(['0.3', '0.9']);
    expect(pfidHeatmapChart([{ name: 'A', grid: g }], 'share').panels[0].colLabels).toEqual(['10% K', '30% K']);
  });
  it('curves: one line per δ with pFID over α (a column of the grid), coloured by tokenizer, dashed by δ', () => {
    const c = pfidCurvesChart([{ name: 'A', grid: g }, { name: 'B', grid: g }], 'abs').series;
    expect(c).toHaveLength(4);
    expect(c[1]).toMatchObject({ x: [0.3, 0.9], y: [7, 9], name: 'A · δ 19' });
    expect(c[0].color).toBe(c[1].color);
    expect(c[0].dash).not.toBe(c[1].dash);
    expect(c[2].color).not.toBe(c[0].color);
    expect(c[2].dash).toBe(c[0].dash);
  });
});

describe('misc', () => {
  it('latestByParent keeps the newest run per parent', () => {
    const r = (id: number, parentId: number | null) => ({ id, parentId }) as Parameters<typeof latestByParent>[0][number];
    const m = latestByParent([r(3, 1), r(5, 1), r(4, 2), r(6, null)]);
    expect([...m.entries()].map(([k, v]) => [k, v.id])).toEqual([[1, 5], [2, 4]]);
  });
});
