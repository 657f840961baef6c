// δ is a share only when written as one (CLI `2%` or deltaMode=share); a δ of one code is refused by the
// training validator (with the preset's K), by the host before queueing an eval grid (with the run's K);
// the host fills the extractor-accuracy floor by dataset source (built-in 0.9, user ImageFolder 0).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
// the command table first: commands-train and commands import each other, and the bin loads them in this order
import '../../main/cli/commands';
import { cliDelta, lpFromCli, parseKv, parsePercent, workersOpt } from '../../main/cli/commands-train';
import { accuracyFloor, deltaSpec } from '../../main/cli/commands-eval';
import { isBuiltInDataset, prepareJob, tokenizerK } from '../../main/host/job-prep';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import { validateTrainTokenizerSpec } from '../../engine/specs/train-tokenizer';
import type { JsonObject } from '../../preload/contract';
import { tempHome } from './helpers';

let cleanup = (): void => {};
afterEach(() => cleanup());

describe('CLI δ: codes unless written as a share', () => {
  it('--lp delta=1 is one code, delta=2% a share, deltaMode=share makes a number a share', () => {
    expect(lpFromCli(parseKv('alpha=1,delta=1', 'lp'))).toMatchObject({ delta: 1, deltaMode: 'abs' });
    expect(lpFromCli(parseKv('delta=8', 'lp'))).toMatchObject({ delta: 8, deltaMode: 'abs' });
    expect(lpFromCli(parseKv('delta=2%', 'lp'))).toMatchObject({ delta: 0.02, deltaMode: 'share' });
    expect(lpFromCli(parseKv('delta=2.4%', 'lp'))).toMatchObject({ delta: 0.024, deltaMode: 'share' });
    expect(lpFromCli(parseKv('delta=0.05,deltaMode=share', 'lp'))).toMatchObject({ delta: 0.05, deltaMode: 'share' });
    expect(() => lpFromCli(parseKv('delta=0.025', 'lp'))).toThrow(/not a whole number of codes; write a share of K as delta=2\.5% or add deltaMode=share/);
    expect(() => lpFromCli(parseKv('delta=2%,deltaMode=abs', 'lp'))).toThrow(/deltaMode=abs/);
    expect(() => cliDelta('lots', undefined, '--lp')).toThrow(/neither a number of codes/);
    expect(parsePercent('12.5%')).toBe(0.125);
    expect(parsePercent('12.5')).toBeNull();
  });

  it('eval/sweep --delta: codes, shares with %, or numbers with --delta-mode share', () => {
    expect(deltaSpec('8,16')).toEqual({ deltas: [8, 16], deltaMode: 'abs' });
    expect(deltaSpec('1')).toEqual({ deltas: [1], deltaMode: 'abs' });
    expect(deltaSpec('2%,5%')).toEqual({ deltas: [0.02, 0.05], deltaMode: 'share' });
    expect(deltaSpec('0.02,0.05', 'share')).toEqual({ deltas: [0.02, 0.05], deltaMode: 'share' });
    expect(deltaSpec(undefined)).toEqual({});
    expect(() => deltaSpec('0.02,0.05')).toThrow(/0\.02 is not a whole number of codes; write shares of K as 2% or add --delta-mode share/);
    expect(() => deltaSpec('2%,8')).toThrow(/mixes shares/);
    expect(() => deltaSpec('2%', 'abs')).toThrow(/--delta-mode abs/);
  });

  it('--min-extractor-accuracy sets the floor, absent leaves it to the host, out of range is refused', () => {
    expect(accuracyFloor({ n: 5 }, '0.8')).toEqual({ n: 5, minExtractorAccuracy: 0.8 });
    expect(accuracyFloor({ n: 5 }, undefined)).toEqual({ n: 5 });
    expect(() => accuracyFloor({}, '80')).toThrow(/between 0 and 1/);
  });

  it('--workers (train and eval): a whole count, absent leaves auto to the engine', () => {
    expect(workersOpt({ workers: '2' })).toEqual({ workers: 2 });
    expect(workersOpt({ workers: '0' })).toEqual({ workers: 0 });
    expect(workersOpt({})).toEqual({});
    expect(() => workersOpt({ workers: 'two' })).toThrow(/workers/);
  });
});

describe('train-tokenizer validator refuses an LP δ of one code', () => {
  const base = { datasetPath: 'datasets/x', preset: 'vq-f4-k64' };
  it('absolute δ = 1, and a share that is one code of the preset or override K', () => {
    expect(() => validateTrainTokenizerSpec({ ...base, lp: { delta: 1, deltaMode: 'abs' } })).toThrow(/lp\.delta: is 1 code: .*perturbs nothing\. Use δ ≥ 2 codes/);
    // vq-f4-k64: 0.02·64 = 1.28 → 1 code; 0.03·64 = 1.92 → 2 codes
    expect(() => validateTrainTokenizerSpec({ ...base, lp: { delta: 0.02, deltaMode: 'share' } })).toThrow(/lp\.delta: is 0\.02 of K = 64, which is 1 code: a cell with one code perturbs nothing\. Use δ ≥ 2\/K \(0\.0313 of K = 64\)/);
    expect(validateTrainTokenizerSpec({ ...base, lp: { delta: 0.03, deltaMode: 'share' } }).lp).toMatchObject({ delta: 0.03, deltaMode: 'share' });
    // the same share is fine with a larger K from the overrides
    expect(validateTrainTokenizerSpec({ ...base, overrides: { K: 256 }, lp: { delta: 0.02, deltaMode: 'share' } }).lp).toMatchObject({ delta: 0.02 });
    expect(() => validateTrainTokenizerSpec({ ...base, preset: 'vq-f4-k1024', overrides: { K: 32 }, lp: { delta: 0.02, deltaMode: 'share' } })).toThrow(/K = 32/);
  });
});

describe('job-prep of eval-tokenizer / eval-generator', () => {
  function lab(source: string) {
    const t = tempHome();
    cleanup = t.cleanup;
    const repo = new Repo(openDb(join(t.home, 'lab.db')));
    const d = repo.createDataset({ name: 'd', kind: 'shapes', source, resolution: 16, channels: 1, numClasses: 4, trainN: 10, valN: 10, path: 'datasets/d', runId: null, meta: {} });
    mkdirSync(join(t.home, 'datasets/d/feature-net'), { recursive: true });
    writeFileSync(join(t.home, 'datasets/d/feature-net/meta.json'), '{}');
    const tok = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: 'tok', config: {}, seed: 0, datasetId: d.id, appVersion: 't' });
    repo.markFinished(tok.id, 'done', null, {});
    mkdirSync(join(t.home, `runs/${tok.id}`), { recursive: true });
    writeFileSync(join(t.home, `runs/${tok.id}/config.json`), JSON.stringify({ kind: 'vq-tokenizer', model: { K: 64, D: 4 }, dataset: 'datasets/d' }));
    const gen = repo.createRun({ kind: 'generator', jobKind: 'train-generator', name: 'gen', config: {}, seed: 0, parentId: tok.id, datasetId: d.id, appVersion: 't' });
    repo.markFinished(gen.id, 'done', null, {});
    return { env: { repo, home: t.home }, tok: tok.id, gen: gen.id };
  }

  it('reads K from the tokenizer run and refuses a grid δ that is one code, before queueing', () => {
    const { env, tok } = lab('builtin:shapes');
    expect(tokenizerK(env.home, tok)).toBe(64);
    expect(() => prepareJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok, deltas: [0.1, 0.02], deltaMode: 'share' } }, env)).toThrow(
      /deltas\[1\]: is 0\.02 of K = 64, which is 1 code: a cell with one code perturbs nothing\. Use δ ≥ 2\/K/,
    );
    expect(() => prepareJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok, deltas: [1], deltaMode: 'abs' } }, env)).toThrow(/deltas\[0\]: is 1 code/);
    const ok = prepareJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok, deltas: [0.1, 0.03], deltaMode: 'share' } }, env);
    expect(ok.spec).toMatchObject({ deltas: [0.1, 0.03], deltaMode: 'share' });
  });

  it('fills minExtractorAccuracy by dataset source: 0.9 built-in, 0 user ImageFolder; an explicit value is kept', () => {
    expect(isBuiltInDataset({ source: 'builtin:mnist', kind: 'mnist' })).toBe(true);
    expect(isBuiltInDataset({ source: 'shapes', kind: 'shapes' })).toBe(true);
    expect(isBuiltInDataset({ source: '/home/me/pets', kind: 'imagefolder' })).toBe(false);
    const floor = (source: string, extra: JsonObject = {}) => {
      const { env, tok, gen } = lab(source);
      return [
        prepareJob({ kind: 'eval-tokenizer', spec: { tokenizer: tok, ...extra } }, env).spec.minExtractorAccuracy,
        prepareJob({ kind: 'eval-generator', spec: { generator: gen, ...extra } }, env).spec.minExtractorAccuracy,
        prepareJob({ kind: 'posttrain', spec: { tokenizer: tok, generator: gen, ...extra } }, env).spec.minExtractorAccuracy,
      ];
    };
    expect(floor('builtin:shapes')).toEqual([0.9, 0.9, 0.9]);
    expect(floor('/data/my-folder')).toEqual([0, 0, 0]);
    expect(floor('/data/my-folder', { minExtractorAccuracy: 0.7 })).toEqual([0.7, 0.7, 0.7]);
    expect(floor('builtin:mnist', { minExtractorAccuracy: 0 })).toEqual([0, 0, 0]);
  });
});
