// Host analysis: pairing scores per tokenizer across runs at one protocol per side (a second sweep or
// an extra tokenizer cannot move a study's correlation), correlation values against a hand-computed
// Pearson, refusal of mixed extractors, sweep progress, exports.
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { correlateScores, sweepOf, validateSweepSpec, writeExport } from '../../main/host/analysis';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import type { CorrelationResult, JsonObject, RunSummary } from '../../preload/contract';
import { tempHome } from './helpers';

let cleanup = (): void => {};
afterEach(() => cleanup());

function lab(): { repo: Repo; home: string } {
  const t = tempHome();
  cleanup = t.cleanup;
  return { repo: new Repo(openDb(join(t.home, 'lab.db'))), home: t.home };
}

interface Zoo {
  /** Tokenizer run ids. */
  ids: number[];
  /** The eval and eval-generator runs that produced the zoo's scores (what a study passes as scoreRunIds). */
  scoreRuns: number[];
  evalRuns: number[];
}

const pfidProv = (tok: number, extractorId: string, n = 100): Record<string, unknown> => ({
  extractorId, n, seed: 0, split: 'val', tokenizerRun: `runs/${tok}`, alphas: [0.5, 0.9], deltasAbs: [20, 40], deltasShare: [0.3, 0.6], includeSelf: false, selection: 'bernoulli', anchor: 'z', K: 64,
});

/** One more evaluation of a tokenizer (a second sweep): an eval run with an eval/pfid_mean at N = n. */
function evalAgain(repo: Repo, tok: number, value: number, n: number, extractorId = 'fx1', config: JsonObject = {}, prov: Record<string, unknown> = {}): number {
  const ev = repo.createRun({ kind: 'eval', jobKind: 'eval-tokenizer', name: `ev${tok}-n${n}`, config, seed: 0, parentId: tok, appVersion: 't' });
  repo.insertScore(ev.id, 'eval/pfid_mean', value, { ...pfidProv(tok, extractorId, n), ...prov } as JsonObject);
  return ev.id;
}

/** gFID scores of one generator of `tok` (an eval-generator run) at the given CFG scales. */
function gfid(repo: Repo, tok: number, values: [number, number][], arch: 'raster' | 'rar' = 'raster', extra: Record<string, unknown> = {}): number {
  const gen = repo.createRun({ kind: 'generator', jobKind: 'train-generator', name: `${arch} gen`, config: {}, seed: 0, parentId: tok, appVersion: 't' });
  const gev = repo.createRun({ kind: 'eval', jobKind: 'eval-generator', name: `gev`, config: {}, seed: 0, parentId: gen.id, appVersion: 't' });
  for (const [scale, v] of values)
    repo.insertScore(gev.id, 'gen/gfid', v, {
      extractorId: 'fx1', n: 100, nPerClass: 10, seed: 0, split: 'train', cfg: { scale, schedule: scale ? 'constant' : 'none', power: 1 }, temperature: 1, topK: 0, topP: 1,
      tokenizerRun: `runs/${tok}`, decoderRun: `runs/${tok}`, generatorRun: `runs/${gen.id}`, arch, ...extra,
    } as JsonObject);
  return gev.id;
}

/** A zoo: tokenizer i gets pFID x[i] (eval run) and gFID y[i] at CFG 0 and y[i]+1 at CFG 1.5 (eval-generator run of its generator). */
function zoo(repo: Repo, x: number[], y: number[], extractor = (_i: number) => 'fx1'): Zoo {
  const z: Zoo = { ids: [], scoreRuns: [], evalRuns: [] };
  x.forEach((xv, i) => {
    const tok = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: `tok${i}`, config: {}, seed: 0, appVersion: 't' });
    repo.markFinished(tok.id, 'done', null, {});
    const ev = evalAgain(repo, tok.id, xv, 100, extractor(i));
    const gev = gfid(repo, tok.id, [[0, y[i]], [1.5, y[i] + 1]]);
    z.ids.push(tok.id);
    z.evalRuns.push(ev);
    z.scoreRuns.push(ev, gev);
  });
  return z;
}

function pearson(x: number[], y: number[]): number {
  const mx = x.reduce((a, b) => a + b) / x.length;
  const my = y.reduce((a, b) => a + b) / y.length;
  const sxy = x.reduce((a, v, i) => a + (v - mx) * (y[i] - my), 0);
  const sxx = x.reduce((a, v) => a + (v - mx) ** 2, 0);
  const syy = y.reduce((a, v) => a + (v - my) ** 2, 0);
  return sxy / Math.sqrt(sxx * syy);
}

const base = { x: 'eval/pfid_mean', y: 'gen/gfid', cfgScale: 0, arch: 'raster' as const, resamples: 300 };
const X = [3, 5, 2, 8, 6, 4];
const Y = [10, 14, 9, 20, 13, 12];
const coef = (r: CorrelationResult, m = 'pearson'): CorrelationResult['coefficients'][number] => r.coefficients.find((c) => c.method === m)!;

describe('correlation across tokenizers', () => {
  it('pairs each tokenizer’s pFID with the gFID of its generator at the chosen CFG', () => {
    const { repo } = lab();
    const { ids } = zoo(repo, X, Y);
    const r = correlateScores(repo, { ...base, resamples: 200 });
    expect(r.points.map((p) => p.tokenizerId)).toEqual(ids);
    expect(r.points.map((p) => p.y)).toEqual(Y);
    const pe = coef(r);
    expect(pe.r).toBeCloseTo(pearson(X, Y), 12);
    expect(pe.loo).toHaveLength(6);
    expect(pe.ci![0]).toBeLessThanOrEqual(pe.r);
    expect(pe.ciNote).toBeNull();
    expect(coef(r, 'spearman').r).toBeCloseTo(0.9428571428571428, 12);
    const at15 = correlateScores(repo, { ...base, cfgScale: 1.5, resamples: 0 });
    expect(at15.points.map((p) => p.y)).toEqual(Y.map((v) => v + 1));
    expect(r.extractorId).toBe('fx1');
    expect(r.used).toEqual(r.points.map((p) => ({ tokenizerId: p.tokenizerId, xRunId: p.xRunId, yRunId: p.yRunId })));
    expect(r.excluded).toEqual([]);
    expect(r.warnings).toEqual([]);
    expect(r.protocols.x).toHaveLength(1);
    expect(r.protocols.x[0].tokenizers).toBe(6);
    expect(r.chosen.x).toMatchObject({ key: r.protocols.x[0].key, chosen: 'majority' });
  });

  it('a second sweep at another N changes nothing when the study restricts to its runs, and is not mixed in when unrestricted', () => {
    const { repo } = lab();
    const z = zoo(repo, X, Y);
    const study = { ...base, runIds: z.ids, scoreRunIds: z.scoreRuns };
    const before = correlateScores(repo, study);
    // a later sweep at N = 200 over four of the six tokenizers, with numbers that would wreck the correlation
    const late = z.ids.slice(0, 4).map((t, i) => evalAgain(repo, t, [50, 1, 40, 2][i], 200));
    const after = correlateScores(repo, study);
    expect(after.coefficients).toEqual(before.coefficients);
    expect(after.used).toEqual(before.used);
    expect(after.excluded.map((e) => e.runId).sort()).toEqual([...late].sort());
    for (const e of after.excluded) expect(e.reason).toMatch(/not from the requested score runs/);

    // unrestricted: the protocol six tokenizers share wins over the one four share; the late runs are listed with the mismatch
    const open = correlateScores(repo, base);
    expect(open.protocols.x.map((p) => p.tokenizers)).toEqual([6, 4]);
    expect(open.chosen.x.key).toBe(before.chosen.x.key);
    expect(coef(open).r).toBe(coef(before).r);
    expect(open.points.map((p) => p.x)).toEqual(X);
    for (const run of late) {
      const e = open.excluded.find((x) => x.runId === run);
      expect(e?.reason).toBe(`run ${run}: eval/pfid_mean at N = 200, the chosen protocol has N = 100`);
    }
    expect(open.warnings.join('\n')).toMatch(/no protocol chosen.*6 of 6/);

    // asking for the N = 200 protocol uses exactly those four tokenizers at N = 200
    const n200 = open.protocols.x[1];
    const chosen = correlateScores(repo, { ...base, xProtocol: n200.key });
    expect(chosen.chosen.x).toMatchObject({ key: n200.key, chosen: 'requested' });
    expect(chosen.points.map((p) => p.x)).toEqual([50, 1, 40, 2]);
    expect(chosen.excluded.filter((e) => /N = 100, the chosen protocol has N = 200/.test(e.reason))).toHaveLength(6);
    expect(chosen.warnings[0]).toMatch(/only 4 tokenizers/);
    expect(() => correlateScores(repo, { ...base, xProtocol: 'nonsense' })).toThrow(/xProtocol: no eval\/pfid_mean score .* has that protocol; available: .*N = 100.*\(6 tokenizers\).*N = 200.*\(4 tokenizers\)/);
  });

  it('a grid given as shares of K compares tokenizers of different K on the shares; a grid in codes on the codes', () => {
    const { repo } = lab();
    const toks = X.map((_, i) => {
      const t = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: `k${i % 2 ? 256 : 64}`, config: {}, seed: 0, appVersion: 't' });
      repo.markFinished(t.id, 'done', null, {});
      const K = i % 2 ? 256 : 64;
      // δ = 10% of K: 6 codes for K = 64, 26 for K = 256; the mode is only in the eval run's config, as in older rows
      evalAgain(repo, t.id, X[i], 100, 'fx1', { deltaMode: 'share', deltas: [0.1] }, { deltasAbs: [Math.round(0.1 * K)], deltasShare: [0.1], K });
      gfid(repo, t.id, [[0, Y[i]]]);
      return t.id;
    });
    const r = correlateScores(repo, { ...base, runIds: toks });
    expect(r.points.map((p) => p.tokenizerId)).toEqual(toks);
    expect(r.chosen.x.description).toContain('δ (share of K) = {0.1}');
    expect(coef(r).r).toBeCloseTo(pearson(X, Y), 12);
    // a grid in codes: δ = 7 codes is another protocol than δ = 6 whatever the share; the four at 6 codes are used
    const { repo: repo2 } = lab();
    const toks2 = X.map((_, i) => {
      const t = repo2.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: `t${i}`, config: {}, seed: 0, appVersion: 't' });
      repo2.markFinished(t.id, 'done', null, {});
      const K = i < 4 ? 64 : 256;
      evalAgain(repo2, t.id, X[i], 100, 'fx1', { deltaMode: 'abs', deltas: [6] }, { deltasAbs: [i < 4 ? 6 : 7], deltasShare: [6 / K], K });
      gfid(repo2, t.id, [[0, Y[i]]]);
      return t.id;
    });
    const r2 = correlateScores(repo2, { ...base, runIds: toks2 });
    expect(r2.points.map((p) => p.tokenizerId)).toEqual(toks2.slice(0, 4));
    expect(r2.excluded.filter((e) => /δ \(codes\) = \{7\}, the chosen protocol has δ \(codes\) = \{6\}/.test(e.reason))).toHaveLength(2);
  });

  it('a tie between protocols goes to the newest', () => {
    const { repo } = lab();
    const z = zoo(repo, X, Y);
    z.ids.slice(3).forEach((t, i) => evalAgain(repo, t, [1, 2, 3][i], 200));
    const r = correlateScores(repo, { ...base, runIds: z.ids.slice(3) });
    expect(r.protocols.x.map((p) => p.tokenizers)).toEqual([3, 3]);
    expect(r.points.map((p) => p.x)).toEqual([1, 2, 3]);
    expect(r.chosen.x.description).toMatch(/N = 200/);
    expect(r.warnings.join('\n')).toMatch(/newest of a tie/);
  });

  it('a tokenizer outside the study changes nothing when restricted, and is excluded with its reason when its protocol differs', () => {
    const { repo } = lab();
    const z = zoo(repo, X, Y);
    const before = correlateScores(repo, { ...base, runIds: z.ids });
    const extra = zoo(repo, [30], [1]).ids[0];
    const restricted = correlateScores(repo, { ...base, runIds: z.ids });
    expect(restricted.coefficients).toEqual(before.coefficients);
    expect(restricted.excluded).toEqual([{ tokenizerId: extra, runId: extra, side: null, reason: `run ${extra}: not in the requested runs` }]);
    // another extra tokenizer, evaluated only at N = 50: unrestricted, it is left out and said so
    const odd = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: 'odd', config: {}, seed: 0, appVersion: 't' });
    repo.markFinished(odd.id, 'done', null, {});
    const oddEval = evalAgain(repo, odd.id, 99, 50);
    gfid(repo, odd.id, [[0, 1]]);
    const open = correlateScores(repo, base);
    expect(open.points.map((p) => p.tokenizerId)).toEqual([...z.ids, extra]);
    expect(open.excluded.map((e) => e.reason)).toEqual([
      `run ${oddEval}: eval/pfid_mean at N = 50, the chosen protocol has N = 100`,
      `tokenizer run ${odd.id} (odd): no eval/pfid_mean at the chosen protocol (its other scores are listed above)`,
    ]);
    expect(() => correlateScores(repo, { ...base, runIds: [z.scoreRuns[0]] })).toThrow(/runIds: run \d+ is a (queued|running|done) eval run; give finished tokenizer/);
  });

  it('several runs at the chosen protocol: the newest is used and the older one reported', () => {
    const { repo } = lab();
    const z = zoo(repo, X, Y);
    const again = evalAgain(repo, z.ids[1], 4.5, 100);
    const r = correlateScores(repo, base);
    expect(r.points[1].x).toBe(4.5);
    expect(r.used[1].xRunId).toBe(again);
    expect(r.excluded).toEqual([{ tokenizerId: z.ids[1], runId: z.evalRuns[1], side: 'x', reason: `run ${z.evalRuns[1]}: an older eval/pfid_mean of tokenizer run ${z.ids[1]} at the chosen protocol; the newest, from run ${again}, is used` }]);
    expect(r.warnings.join('\n')).toContain(`runs ${z.evalRuns[1]}, ${again}`);
  });

  it('gFID needs an arch and never mixes raster and RAR; other CFG settings and schedules are kept apart', () => {
    const { repo } = lab();
    const z = zoo(repo, X, Y);
    expect(() => correlateScores(repo, { ...base, arch: undefined })).toThrow(/arch: gen\/gfid is computed per generator architecture; choose 'raster' or 'rar'/);
    expect(() => correlateScores(repo, { ...base, cfgScale: undefined })).toThrow(/cfgScale: gen\/gfid is computed per CFG setting/);
    const raster = correlateScores(repo, base);
    // RAR generators for three tokenizers, with gFIDs anti-correlated with pFID
    z.ids.slice(0, 3).forEach((t, i) => gfid(repo, t, [[0, [1, 2, 3][i]]], 'rar'));
    expect(correlateScores(repo, base).coefficients).toEqual(raster.coefficients);
    const rar = correlateScores(repo, { ...base, arch: 'rar' });
    expect(rar.points.map((p) => p.y)).toEqual([1, 2, 3]);
    expect(rar.excluded.filter((e) => e.side === 'y').map((e) => e.reason)).toEqual(z.ids.slice(3).map((t, i) => `tokenizer run ${t} (tok${i + 3}): no gen/gfid for arch rar at CFG 0 (without CFG)`));
    expect(() => correlateScores(repo, { ...base, cfgScale: 2 })).toThrow(/at least 3 tokenizers.*no gen\/gfid for arch raster at CFG 2/);
    // the same scale with another temperature is another protocol: the majority wins, the odd one is named
    const hot = gfid(repo, z.ids[5], [[0, 100]], 'raster', { temperature: 1.3 });
    const r = correlateScores(repo, base);
    expect(r.points.map((p) => p.y)).toEqual(Y);
    expect(r.excluded.find((e) => e.runId === hot)?.reason).toBe(`run ${hot}: gen/gfid at temperature = 1.3, the chosen protocol has temperature = 1`);
  });

  it('fewer than 6 tokenizers carry a warning, and an interval collapsed to a point is not shown', () => {
    const { repo } = lab();
    zoo(repo, [1, 2, 3, 4], [2, 4, 6, 8]);
    const r = correlateScores(repo, base);
    expect(r.warnings[0]).toMatch(/^only 4 tokenizers: a correlation over fewer than 6/);
    const pe = coef(r);
    expect(pe.r).toBe(1);
    expect(pe.ci).toBeNull();
    expect(pe.ciNote).toMatch(/collapsed to the single value 1\.00/);
  });

  it('refuses to correlate scores from different feature extractors, and leaves an odd extractor out by protocol', () => {
    const { repo } = lab();
    zoo(repo, [1, 2, 3, 4], [2, 3, 5, 4], () => 'fx2');
    expect(() => correlateScores(repo, base)).toThrow(/different feature extractors \(ids fx2, fx1\)/);
    const { repo: repo2 } = lab();
    const z = zoo(repo2, X, Y, (i) => (i === 2 ? 'fx2' : 'fx1'));
    const r = correlateScores(repo2, base);
    expect(r.points.map((p) => p.tokenizerId)).toEqual(z.ids.filter((_, i) => i !== 2));
    expect(r.excluded[0].reason).toBe(`run ${z.evalRuns[2]}: eval/pfid_mean at extractor = fx2, the chosen protocol has extractor = fx1`);
  });

  it('says which tokenizers lack a score when too few pairs remain', () => {
    const { repo } = lab();
    zoo(repo, [1, 2], [2, 3]);
    expect(() => correlateScores(repo, { ...base, cfgScale: 7 })).toThrow(/at least 3 tokenizers.*no gen\/gfid for arch raster at CFG 7/);
  });
});

describe('sweeps', () => {
  it('validates the grid and refuses unfinished or non-tokenizer runs', () => {
    const { repo } = lab();
    const [t] = zoo(repo, [1], [1]).ids;
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
    // an evaluation reports images (of N): it counts as that share of its grid
    const images = { ...run('running'), progress: { done: 100, total: 200 } } as RunSummary;
    expect(sweepOf(base, [run('done', 5), images]).progress).toMatchObject({ done: 7.5, total: 10 });
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

  it('replaces a symlink at the export name instead of writing through it out of the lab home (#12 item 11)', () => {
    const { home } = lab();
    const outside = join(home, '..', `outside-${process.pid}.csv`);
    writeFileSync(outside, 'precious');
    try {
      mkdirSync(join(home, 'exports'), { recursive: true });
      symlinkSync(outside, join(home, 'exports', 'evil.csv'));
      const file = writeExport(home, 'evil.csv', 'a\n1\n');
      expect(readFileSync(outside, 'utf8')).toBe('precious');
      expect(lstatSync(file).isSymbolicLink()).toBe(false);
      expect(readFileSync(file, 'utf8')).toBe('a\n1\n');
      expect(readdirSync(join(home, 'exports')).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    } finally {
      rmSync(outside, { force: true });
    }
  });

  it('refuses an exports folder that is a symlink', () => {
    const { home } = lab();
    const elsewhere = mkdtempSync(join(tmpdir(), 'toklab-elsewhere-'));
    try {
      symlinkSync(elsewhere, join(home, 'exports'));
      expect(() => writeExport(home, 'x.csv', 'x')).toThrow(/exports is a symbolic link; exports stay inside the lab home/);
      expect(readdirSync(elsewhere)).toEqual([]);
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });
});
