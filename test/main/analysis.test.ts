// Host analysis: pairing scores per tokenizer across runs, correlation values against a
// hand-computed Pearson, refusal of mixed extractors, sweep progress, exports.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { correlateScores, sweepOf, validateSweepSpec, writeExport } from '../../main/host/analysis';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import type { RunSummary } from '../../preload/contract';
import { tempHome } from './helpers';

let cleanup = (): void => {};
afterEach(() => cleanup());

function lab(): { repo: Repo; home: string } {
  const t = tempHome();
  cleanup = t.cleanup;
  return { repo: new Repo(openDb(join(t.home, 'lab.db'))), home: t.home };
}

/** A zoo: tokenizer i gets pFID x[i] (eval run) and gFID y[i] at CFG 0 and y[i]+1 at CFG 1.5 (eval-generator run of its generator). */
function zoo(repo: Repo, x: number[], y: number[], extractor = (_i: number) => 'fx1'): number[] {
  const ids: number[] = [];
  x.forEach((xv, i) => {
    const tok = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: `tok${i}`, config: {}, seed: 0, appVersion: 't' });
    repo.markFinished(tok.id, 'done', null, {});
    const ev = repo.createRun({ kind: 'eval', jobKind: 'eval-tokenizer', name: `ev${i}`, config: {}, seed: 0, parentId: tok.id, appVersion: 't' });
    repo.insertScore(ev.id, 'eval/pfid_mean', xv, { extractorId: extractor(i), n: 100, seed: 0, split: 'val', tokenizerRun: `runs/${tok.id}` });
    const gen = repo.createRun({ kind: 'generator', jobKind: 'train-generator', name: `gen${i}`, config: {}, seed: 0, parentId: tok.id, appVersion: 't' });
    const gev = repo.createRun({ kind: 'eval', jobKind: 'eval-generator', name: `gev${i}`, config: {}, seed: 0, parentId: gen.id, appVersion: 't' });
    for (const [scale, v] of [[0, y[i]], [1.5, y[i] + 1]])
      repo.insertScore(gev.id, 'gen/gfid', v, { extractorId: 'fx1', n: 100, seed: 0, split: 'train', cfg: { scale, schedule: scale ? 'constant' : 'none' }, tokenizerRun: `runs/${tok.id}`, decoderRun: `runs/${tok.id}`, arch: 'raster' });
    ids.push(tok.id);
  });
  return ids;
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  const sxy = x.reduce((a, v, i) => a + (v - mx) * (y[i] - my), 0);
  const sxx = x.reduce((a, v) => a + (v - mx) ** 2, 0);
  const syy = y.reduce((a, v) => a + (v - my) ** 2, 0);
  return sxy / Math.sqrt(sxx * syy);
}

describe('correlation across tokenizers', () => {
  it('pairs each tokenizer’s pFID with the gFID of its generator at the chosen CFG', () => {
    const { repo } = lab();
    const x = [3, 5, 2, 8, 6, 4];
    const y = [10, 14, 9, 20, 13, 12];
    const ids = zoo(repo, x, y);
    const r = correlateScores(repo, { x: 'eval/pfid_mean', y: 'gen/gfid', cfgScale: 0, resamples: 200 });
    expect(r.points.map((p) => p.tokenizerId)).toEqual(ids);
    expect(r.points.map((p) => p.y)).toEqual(y);
    const pe = r.coefficients.find((c) => c.method === 'pearson')!;
    expect(pe.r).toBeCloseTo(pearson(x, y), 12);
    expect(pe.loo).toHaveLength(6);
    expect(pe.ci![0]).toBeLessThanOrEqual(pe.r);
    expect(r.coefficients.find((c) => c.method === 'spearman')!.r).toBeCloseTo(0.9428571428571428, 12);
    const at15 = correlateScores(repo, { x: 'eval/pfid_mean', y: 'gen/gfid', cfgScale: 1.5, resamples: 0 });
    expect(at15.points.map((p) => p.y)).toEqual(y.map((v) => v + 1));
    expect(r.extractorId).toBe('fx1');
  });

  it('refuses to correlate scores from different feature extractors', () => {
    const { repo } = lab();
    zoo(repo, [1, 2, 3, 4], [2, 3, 5, 4], (i) => (i === 2 ? 'fx2' : 'fx1'));
    expect(() => correlateScores(repo, { x: 'eval/pfid_mean', y: 'gen/gfid', cfgScale: 0 })).toThrow(/different feature extractors \(ids fx1, fx2\)/);
  });

  it('says which tokenizers lack a score when too few pairs remain', () => {
    const { repo } = lab();
    zoo(repo, [1, 2], [2, 3]);
    expect(() => correlateScores(repo, { x: 'eval/pfid_mean', y: 'gen/gfid', cfgScale: 7 })).toThrow(/at least 3 tokenizers.*no gen\/gfid score at CFG 7/);
  });
});

describe('sweeps', () => {
  it('validates the grid and refuses unfinished or non-tokenizer runs', () => {
    const { repo } = lab();
    const [t] = zoo(repo, [1], [1]);
    expect(validateSweepSpec(repo, { tokenizers: [t], alphas: [0.3, 0.9], deltas: [0.1, 0.3], deltaMode: 'share' })).toMatchObject({ n: 0, seed: 0 });
    expect(() => validateSweepSpec(repo, { tokenizers: [t], alphas: [1.5], deltas: [0.1], deltaMode: 'share' })).toThrow(/alphas/);
    expect(() => validateSweepSpec(repo, { tokenizers: [t], alphas: [0.5], deltas: [2.5], deltaMode: 'abs' })).toThrow(/whole numbers/);
    expect(() => validateSweepSpec(repo, { tokenizers: [t + 1], alphas: [0.5], deltas: [0.1], deltaMode: 'share' })).toThrow(/pick finished tokenizer runs/);
  });

  it('computes progress over runs, counting queued runs at their full grid, and an ETA', () => {
    const base = { id: 1, name: 's', spec: { alphas: [0.3, 0.9], deltas: [0.1, 0.3] }, createdAt: '' };
    const run = (status: RunSummary['status'], done?: number): RunSummary =>
      ({ status, progress: done === undefined ? null : { done, total: 5 }, startedAt: new Date(Date.now() - 10_000).toISOString() }) as RunSummary;
    const s = sweepOf(base, [run('done', 5), run('running', 2), run('queued')]);
    expect(s.progress.done).toBe(7);
    expect(s.progress.total).toBe(15);
    expect(s.progress.etaSeconds).toBeGreaterThan(5);
    expect(s.status).toBe('running');
    expect(sweepOf(base, [run('done', 5), run('interrupted', 1)]).status).toBe('partial');
    expect(sweepOf(base, [run('done', 5)]).status).toBe('done');
  });
});

describe('exports', () => {
  it('writes text and data-URL exports under exports/ and refuses unsafe names', () => {
    const { home } = lab();
    const csv = writeExport(home, 'table.csv', 'a,b\n1,2\n');
    expect(readFileSync(csv, 'utf8')).toBe('a,b\n1,2\n');
    const png = writeExport(home, 'fig.png', `data:image/png;base64,${Buffer.from('PNGDATA').toString('base64')}`);
    expect(readFileSync(png, 'utf8')).toBe('PNGDATA');
    expect(() => writeExport(home, '../evil.csv', 'x')).toThrow(/export name/);
    expect(() => writeExport(home, 'x.exe', 'x')).toThrow(/export name/);
    expect(existsSync(join(home, 'exports', 'table.csv'))).toBe(true);
  });
});
