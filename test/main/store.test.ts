// The run store: migrations, refusing a newer schema, mapping, batched metrics.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDb, SCHEMA_VERSION } from '../../main/host/store/db';
import * as m0001 from '../../main/host/store/migrations/0001-init';
import { Repo } from '../../main/host/store/repo';
import { tempHome } from './helpers';

let cleanup = (): void => {};
afterEach(() => cleanup());

describe('store', () => {
  it('migrates a new database to the current schema in WAL mode', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const db = openDb(join(t.home, 'lab.db'));
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    for (const t of ['datasets', 'runs', 'run_tags', 'metrics', 'scores', 'artifacts', 'sweeps', 'jobs']) expect(tables).toContain(t);
    db.close();
  });

  it('refuses a database from a newer toklab with a message that says what to do', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const file = join(t.home, 'lab.db');
    const raw = new Database(file);
    raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
    raw.close();
    expect(() => openDb(file)).toThrow(/newer than this toklab.*Update toklab/);
  });

  it('upgrades a version-1 database in place, keeping its runs', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const file = join(t.home, 'lab.db');
    const raw = new Database(file);
    raw.exec(m0001.up);
    raw.pragma('user_version = 1');
    raw.prepare(`INSERT INTO runs (kind, job_kind, name, status, config, app_version, created_at) VALUES ('selftest', 'selftest', 'old', 'done', '{}', '0', 'x')`).run();
    raw.close();
    const db = openDb(file);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(new Repo(db).listRuns({}).map((r) => r.name)).toEqual(['old']);
    expect((db.prepare("SELECT name FROM sqlite_master WHERE name = 'job_deps'").get() as { name: string }).name).toBe('job_deps');
    db.close();
  });

  it('round-trips runs, tags, metrics (NaN as null), scores and artifacts', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const repo = new Repo(openDb(join(t.home, 'lab.db')));
    const run = repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'a', config: { steps: 3 }, seed: 7, appVersion: 'x' });
    expect(run).toMatchObject({ status: 'queued', seed: 7, tags: [], kind: 'selftest' });
    repo.setTags(run.id, ['lp', 'baseline']);
    expect(repo.getRun(run.id).tags.sort()).toEqual(['baseline', 'lp']);
    repo.insertMetrics([{ runId: run.id, points: [{ name: 'train/loss', step: 1, value: 0.5 }, { name: 'train/loss', step: 2, value: NaN }, { name: 'lr', step: 1, value: 1e-3 }] }]);
    const m = repo.metrics(run.id);
    expect(m.find((s) => s.name === 'train/loss')).toEqual({ name: 'train/loss', steps: [1, 2], values: [0.5, null] });
    repo.insertScore(run.id, 'rfid', 12.5, { extractorId: 'f1', n: 100 });
    expect(repo.scores(run.id)[0]).toMatchObject({ metric: 'rfid', value: 12.5, provenance: { extractorId: 'f1', n: 100 } });
    repo.insertArtifact(run.id, 'grid', 'runs/1/a.png', { epoch: 1 });
    expect(repo.artifacts(run.id)[0]).toMatchObject({ kind: 'grid', path: 'runs/1/a.png', meta: { epoch: 1 } });
    expect(repo.listRuns({ tag: 'lp' }).map((r) => r.id)).toEqual([run.id]);
    expect(repo.listRuns({ tag: 'nope' })).toEqual([]);
    expect(() => repo.getRun(999)).toThrow(/no run 999/);
    repo.db.close();
  });

  it('writes 20k metric rows in one batch', () => {
    const t = tempHome();
    cleanup = t.cleanup;
    const repo = new Repo(openDb(join(t.home, 'lab.db')));
    const run = repo.createRun({ kind: 'selftest', jobKind: 'selftest', name: 'a', config: {}, seed: null, appVersion: 'x' });
    const points = Array.from({ length: 20_000 }, (_, i) => ({ name: 'm', step: i, value: i / 2 }));
    repo.insertMetrics([{ runId: run.id, points }]);
    const s = repo.metrics(run.id)[0];
    expect(s.steps.length).toBe(20_000);
    expect(s.values[19_999]).toBe(19_999 / 2);
    repo.db.close();
  });
});
