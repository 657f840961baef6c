// The Runs tracker's host side on a real lab database (no engine): rows carry config and the scores of
// eval children with their protocol; search is case-insensitive over name, tags, notes and config;
// compare lists only differing keys and never subtracts scores of different protocols; delete refuses
// while dependents exist, cascades children first, removes folders and leaves no orphan rows.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Lab } from '../../main/host/lab';
import { dispatch } from '../../main/host/validate';
import type { JsonObject } from '../../preload/contract';
import { cleanupsAfterEach, tempHome } from './helpers';

const later = cleanupsAfterEach();

function openLab(): { lab: Lab; home: string } {
  const t = tempHome();
  // queueHolder false: nothing here runs a job, rows are written directly
  const lab = new Lab({ home: t.home, frontDoor: 'cli', queueHolder: false });
  later(t.cleanup);
  later(() => lab.close());
  return { lab, home: t.home };
}

const prov = (n: number, extra: JsonObject = {}): JsonObject => ({ extractorId: 'fx1', extractorAccuracy: 0.99, split: 'val', n, seed: 0, ...extra });

function seed(lab: Lab, home: string) {
  const r = lab.repo;
  const mk = (kind: 'tokenizer' | 'eval' | 'generator', name: string, config: JsonObject, parentId: number | null = null): number => {
    const run = r.createRun({ kind, jobKind: kind === 'tokenizer' ? 'train-tokenizer' : kind === 'eval' ? 'eval-tokenizer' : 'train-generator', name, config, seed: 0, parentId, appVersion: 'test' });
    r.markFinished(run.id, 'done', null, {});
    mkdirSync(join(home, 'runs', String(run.id)), { recursive: true });
    writeFileSync(join(home, 'runs', String(run.id), 'checkpoint.bin'), 'x');
    return run.id;
  };
  const tokA = mk('tokenizer', 'tok A', { preset: 'vq-f2-k256', model: { codebookSize: 256, dim: 8 }, lr: 0.001, epochs: 2 });
  const tokB = mk('tokenizer', 'tok B', { preset: 'vq-f2-k256', model: { codebookSize: 1024, dim: 8 }, lr: 0.001, epochs: 4 });
  const evA = mk('eval', 'eval A', { tokenizerRunDir: `runs/${tokA}`, n: 400 }, tokA);
  const evB = mk('eval', 'eval B', { tokenizerRunDir: `runs/${tokB}`, n: 400 }, tokB);
  const evB2 = mk('eval', 'eval B small', { tokenizerRunDir: `runs/${tokB}`, n: 200 }, tokB);
  const gen = mk('generator', 'gen on A', { tokensRunDir: `runs/${tokA}/tokens`, arch: 'raster' });
  r.insertScore(evA, 'eval/rfid', 12.5, prov(400));
  r.insertScore(evB, 'eval/rfid', 8.25, prov(400));
  r.insertScore(evA, 'eval/psnr', 20, prov(400));
  // B's PSNR only at N = 200: not comparable with A's
  r.insertScore(evB2, 'eval/psnr', 23, prov(200));
  r.insertMetrics([{ runId: tokA, points: [{ name: 'train/loss', step: 1, value: 2 }, { name: 'train/loss', step: 9, value: 0.5 }] }]);
  r.setTags(tokA, ['study:quick-shapes', 'Baseline']);
  r.setNotes(tokB, 'wider Codebook');
  r.insertArtifact(evA, 'recon-grid', `runs/${evA}/recon.png`, { seed: 0 });
  return { tokA, tokB, evA, evB, evB2, gen };
}

describe('run rows', () => {
  it('carry flattened config, the newest score per column from eval children with its protocol, and last metric values', async () => {
    const { lab, home } = openLab();
    const { tokA, tokB, evB2 } = seed(lab, home);
    const rows = await lab.listRunRows({ kind: 'tokenizer' });
    const a = rows.find((x) => x.id === tokA)!;
    const b = rows.find((x) => x.id === tokB)!;
    expect(a.config['model.codebookSize']).toBe(256);
    expect(b.config['model.codebookSize']).toBe(1024);
    expect(a.scores['eval/rfid'].value).toBe(12.5);
    expect(b.scores['eval/rfid'].value).toBe(8.25);
    expect(a.scores['eval/rfid'].protocolKey).toBe(b.scores['eval/rfid'].protocolKey);
    expect(b.scores['eval/psnr'].runId).toBe(evB2);
    expect(b.scores['eval/psnr'].protocolKey).not.toBe(a.scores['eval/psnr'].protocolKey);
    expect(b.scores['eval/psnr'].protocol).toMatch(/N = 200/);
    expect(a.last['train/loss']).toBe(0.5);
    // one eval child and a generator whose config points into runs/A
    expect(a.dependents).toBe(2);
  });

  it('search is case-insensitive over name, tags, notes and config values; tag filters match substrings', async () => {
    const { lab, home } = openLab();
    const { tokA, tokB } = seed(lab, home);
    const ids = async (q: object): Promise<number[]> => (await lab.listRunRows(q)).map((r) => r.id).sort();
    expect(await ids({ tag: 'quick' })).toEqual([tokA]);
    expect(await ids({ tag: 'baseline' })).toEqual([tokA]);
    expect(await ids({ search: 'codebook', kind: 'tokenizer' })).toEqual([tokB]);
    expect(await ids({ search: 'TOK B' })).toEqual([tokB]);
    expect(await ids({ search: '1024' })).toEqual([tokB]);
    expect(await ids({ parentId: tokB })).toHaveLength(2);
  });
});

describe('compare', () => {
  it('lists only the differing config keys, subtracts scores at one protocol and names the mismatched ones', async () => {
    const { lab, home } = openLab();
    const { tokA, tokB } = seed(lab, home);
    const c = await lab.compareRuns([tokA, tokB]);
    expect(c.configDiff.map((d) => d.key)).toEqual(['epochs', 'model.codebookSize']);
    expect(c.configDiff[1].values).toEqual([256, 1024]);
    expect(c.sameKeys).toBe(3);
    const rfid = c.scores.find((s) => s.metric === 'eval/rfid')!;
    expect(rfid.values).toEqual([12.5, 8.25]);
    expect(rfid.deltas).toEqual([0, -4.25]);
    expect(c.scores.find((s) => s.metric === 'eval/psnr')).toBeUndefined();
    expect(c.mismatches.map((m) => m.metric)).toEqual(['eval/psnr']);
    expect(c.mismatches[0].reason).toMatch(/"n"|n 400 vs 200|400 vs 200/);
    expect(c.images[0].artifacts.map((a) => a.kind)).toEqual(['recon-grid']);
  });

  it('refuses fewer than two runs through the validator', async () => {
    const { lab } = openLab();
    await expect(dispatch(lab, 'compareRuns', [[1]])).rejects.toThrow(/2 to 20/);
  });
});

describe('delete', () => {
  it('refuses a run with dependents and names them; cascade deletes children first and removes every folder', async () => {
    const { lab, home } = openLab();
    const { tokA, evA, gen, tokB } = seed(lab, home);
    expect((await lab.runDependents(tokA)).map((r) => r.id).sort()).toEqual([evA, gen].sort());
    await expect(lab.deleteRun(tokA, {})).rejects.toThrow(new RegExp(`dependent runs: .*${evA}.*cascade`));
    expect(existsSync(join(home, 'runs', String(tokA)))).toBe(true);
    const res = await lab.deleteRun(tokA, { cascade: true });
    expect(res.deleted[res.deleted.length - 1]).toBe(tokA);
    expect(res.deleted.sort()).toEqual([tokA, evA, gen].sort());
    for (const id of res.deleted) {
      expect(existsSync(join(home, 'runs', String(id)))).toBe(false);
      expect(() => lab.repo.getRun(id)).toThrow(/no run/);
    }
    const orphans = lab.repo.db.prepare(`SELECT (SELECT count(*) FROM scores WHERE run_id NOT IN (SELECT id FROM runs)) + (SELECT count(*) FROM metrics WHERE run_id NOT IN (SELECT id FROM runs)) + (SELECT count(*) FROM artifacts WHERE run_id NOT IN (SELECT id FROM runs)) + (SELECT count(*) FROM run_tags WHERE run_id NOT IN (SELECT id FROM runs)) AS n`).get() as { n: number };
    expect(orphans.n).toBe(0);
    expect(lab.repo.getRun(tokB).status).toBe('done');
    expect(existsSync(join(home, 'runs', String(tokB)))).toBe(true);
  });

  it('a folder a crashed delete left moved aside is removed when the lab next opens', async () => {
    const t = tempHome();
    later(t.cleanup);
    const aside = join(t.home, 'runs', '.deleted-runs_7-1-2');
    mkdirSync(aside, { recursive: true });
    writeFileSync(join(aside, 'checkpoint.bin'), 'x');
    const lab = new Lab({ home: t.home, frontDoor: 'cli', queueHolder: false });
    later(() => lab.close());
    expect(existsSync(aside)).toBe(false);
  });

  it('never hands a deleted run id to a new run', async () => {
    const { lab, home } = openLab();
    const { gen } = seed(lab, home);
    await lab.deleteRun(gen, {});
    const next = lab.repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name: 'after', config: {}, seed: 0, appVersion: 'test' });
    expect(next.id).toBe(gen + 1);
  });

  it('refuses a running run, and a failed transaction puts the folder back', async () => {
    const { lab, home } = openLab();
    const { tokB, evB } = seed(lab, home);
    lab.repo.setStatus(evB, 'running');
    await expect(lab.deleteRun(evB, {})).rejects.toThrow(/is running; cancel it first/);
    lab.repo.setStatus(evB, 'done');
    // a foreign key the delete does not know about makes the transaction fail
    lab.repo.db.exec(`CREATE TABLE pin (run_id INTEGER REFERENCES runs(id)); INSERT INTO pin VALUES (${evB});`);
    await expect(lab.deleteRun(evB, {})).rejects.toThrow(/FOREIGN KEY/);
    expect(existsSync(join(home, 'runs', String(evB), 'checkpoint.bin'))).toBe(true);
    expect(lab.repo.getRun(evB).status).toBe('done');
    expect(lab.repo.getRun(tokB).status).toBe('done');
  });
});
