// Typed access to the lab database: statements prepared once, one mapper per table
// (snake_case rows → camelCase contract objects), batched metric writes in one transaction.
import type { Db } from './db';
import type {
  Artifact,
  Dataset,
  JobKind,
  JsonObject,
  MetricPoint,
  MetricSeries,
  Progress,
  RunKind,
  RunQuery,
  RunStatus,
  RunSummary,
  Score,
  ScoreQuery,
  ScoreRow,
} from '../../../preload/contract';

/** A `runs` row as SQLite returns it (with the run's tags joined in by RUN_SELECT). */
export interface RunRecord {
  id: number;
  kind: string;
  job_kind: string;
  name: string;
  status: string;
  parent_id: number | null;
  sweep_id: number | null;
  dataset_id: number | null;
  config: string;
  seed: number | null;
  backend: string | null;
  app_version: string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  result: string | null;
  progress: string | null;
  notes: string;
  /** Where an imported run was made (migration 0004); null for a run made here. */
  origin: string | null;
  tags: string | null;
}

/** A `datasets` row as SQLite returns it. */
export interface DatasetRecord {
  id: number;
  name: string;
  kind: string;
  source: string;
  resolution: number;
  channels: number;
  num_classes: number;
  train_n: number;
  val_n: number;
  path: string;
  run_id: number | null;
  meta: string;
  created_at: string;
  origin: string | null;
}

export interface JobRow {
  id: number;
  runId: number;
  kind: JobKind;
  spec: JsonObject;
  status: 'queued' | 'running' | 'finished';
  attempt: number;
}

export interface NewRun {
  kind: RunKind;
  jobKind: JobKind;
  name: string;
  config: JsonObject;
  seed: number | null;
  parentId?: number | null;
  sweepId?: number | null;
  datasetId?: number | null;
  appVersion: string;
}

export interface NewDataset {
  name: string;
  kind: string;
  source: string;
  resolution: number;
  channels: number;
  numClasses: number;
  trainN: number;
  valN: number;
  path: string;
  runId: number | null;
  meta: JsonObject;
}

const now = (): string => new Date().toISOString();
const parse = <T>(s: string | null): T | null => (s === null ? null : (JSON.parse(s) as T));

function toRun(r: RunRecord): RunSummary {
  return {
    id: r.id,
    kind: r.kind as RunKind,
    jobKind: r.job_kind as JobKind,
    name: r.name,
    status: r.status as RunStatus,
    parentId: r.parent_id,
    sweepId: r.sweep_id,
    datasetId: r.dataset_id,
    seed: r.seed,
    backend: r.backend,
    createdAt: r.created_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
    error: r.error,
    tags: r.tags ? r.tags.split('\u001f') : [],
    progress: parse<Progress>(r.progress),
  };
}

function toDataset(r: DatasetRecord): Dataset {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    source: r.source,
    resolution: r.resolution,
    channels: r.channels,
    numClasses: r.num_classes,
    trainN: r.train_n,
    valN: r.val_n,
    runId: r.run_id,
    meta: JSON.parse(r.meta) as JsonObject,
    createdAt: r.created_at,
  };
}

const RUN_SELECT = `SELECT runs.*, (SELECT group_concat(tag, char(31)) FROM run_tags WHERE run_id = runs.id) AS tags FROM runs`;

export class Repo {
  private readonly s;

  constructor(readonly db: Db) {
    this.s = {
      insertRun: db.prepare(
        `INSERT INTO runs (id, kind, job_kind, name, status, parent_id, sweep_id, dataset_id, config, seed, app_version, created_at)
         VALUES (@id, @kind, @jobKind, @name, 'queued', @parentId, @sweepId, @datasetId, @config, @seed, @appVersion, @createdAt)`,
      ),
      getRun: db.prepare(`${RUN_SELECT} WHERE runs.id = ?`),
      runConfig: db.prepare(`SELECT config, result, notes FROM runs WHERE id = ?`),
      setStatus: db.prepare(`UPDATE runs SET status = ?, error = ? WHERE id = ?`),
      setStarted: db.prepare(`UPDATE runs SET status = 'running', started_at = ?, backend = ?, error = NULL WHERE id = ?`),
      setFinished: db.prepare(`UPDATE runs SET status = ?, finished_at = ?, error = ?, result = ?, progress = COALESCE(?, progress) WHERE id = ?`),
      setProgress: db.prepare(`UPDATE runs SET progress = ? WHERE id = ?`),
      setNotes: db.prepare(`UPDATE runs SET notes = ? WHERE id = ?`),
      deleteTags: db.prepare(`DELETE FROM run_tags WHERE run_id = ?`),
      insertTag: db.prepare(`INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)`),
      insertMetric: db.prepare(`INSERT INTO metrics (run_id, name, step, value, time) VALUES (?, ?, ?, ?, ?)`),
      metrics: db.prepare(`SELECT name, step, value FROM metrics WHERE run_id = ? ORDER BY name, step`),
      trimMetrics: db.prepare(`DELETE FROM metrics WHERE run_id = ? AND step > ?`),
      clearScores: db.prepare(`DELETE FROM scores WHERE run_id = ?`),
      insertScore: db.prepare(`INSERT INTO scores (run_id, metric, value, provenance, created_at) VALUES (?, ?, ?, ?, ?)`),
      scores: db.prepare(`SELECT * FROM scores WHERE run_id = ? ORDER BY id`),
      insertArtifact: db.prepare(`INSERT INTO artifacts (run_id, kind, path, meta, created_at) VALUES (?, ?, ?, ?, ?)`),
      artifacts: db.prepare(`SELECT * FROM artifacts WHERE run_id = ? ORDER BY id`),
      insertJob: db.prepare(`INSERT INTO jobs (run_id, kind, spec, status, attempt, enqueued_at) VALUES (?, ?, ?, 'queued', ?, ?)`),
      nextJob: db.prepare(`SELECT * FROM jobs WHERE status = 'queued' ORDER BY id LIMIT 1`),
      // queued jobs none of whose prerequisite runs is still queued or running, oldest first
      nextRunnable: db.prepare(
        `SELECT * FROM jobs j WHERE j.status = 'queued' AND NOT EXISTS (
           SELECT 1 FROM job_deps d JOIN runs r ON r.id = d.run_id WHERE d.job_id = j.id AND r.status IN ('queued', 'running')
         ) ORDER BY j.id LIMIT 1`,
      ),
      jobForRun: db.prepare(`SELECT * FROM jobs WHERE run_id = ? AND status != 'finished' ORDER BY id DESC LIMIT 1`),
      lastJobForRun: db.prepare(`SELECT * FROM jobs WHERE run_id = ? ORDER BY id DESC LIMIT 1`),
      setJobStatus: db.prepare(`UPDATE jobs SET status = ? WHERE id = ?`),
      runningJobs: db.prepare(`SELECT * FROM jobs WHERE status = 'running'`),
      insertDep: db.prepare(`INSERT OR IGNORE INTO job_deps (job_id, run_id) VALUES (?, ?)`),
      jobDeps: db.prepare(`SELECT run_id FROM job_deps WHERE job_id = ? ORDER BY run_id`),
      insertDataset: db.prepare(
        `INSERT INTO datasets (id, name, kind, source, resolution, channels, num_classes, train_n, val_n, path, run_id, meta, created_at)
         VALUES (@id, @name, @kind, @source, @resolution, @channels, @numClasses, @trainN, @valN, @path, @runId, @meta, @createdAt)`,
      ),
      getDataset: db.prepare(`SELECT * FROM datasets WHERE id = ?`),
      datasetByName: db.prepare(`SELECT * FROM datasets WHERE name = ?`),
      datasetPath: db.prepare(`SELECT path FROM datasets WHERE id = ?`),
      listDatasets: db.prepare(`SELECT * FROM datasets ORDER BY id`),
    };
  }

  createRun(r: NewRun): RunSummary {
    const info = this.s.insertRun.run({
      id: this.nextId('runs'),
      kind: r.kind,
      jobKind: r.jobKind,
      name: r.name,
      parentId: r.parentId ?? null,
      sweepId: r.sweepId ?? null,
      datasetId: r.datasetId ?? null,
      config: JSON.stringify(r.config),
      seed: r.seed,
      appVersion: r.appVersion,
      createdAt: now(),
    });
    return this.getRun(Number(info.lastInsertRowid));
  }

  getRun(id: number): RunSummary {
    const row = this.s.getRun.get(id) as RunRecord | undefined;
    if (!row) throw new Error(`There is no run ${id}. List runs with \`toklab runs list\`.`);
    return toRun(row);
  }

  runExtras(id: number): { config: JsonObject; result: JsonObject | null; notes: string } {
    const row = this.s.runConfig.get(id) as { config: string; result: string | null; notes: string };
    return { config: JSON.parse(row.config) as JsonObject, result: parse<JsonObject>(row.result), notes: row.notes };
  }

  listRuns(q: RunQuery = {}): RunSummary[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, v: string | undefined): void => {
      if (v === undefined || v === '') return;
      where.push(clause);
      args.push(v);
    };
    add('runs.kind = ?', q.kind);
    add('runs.status = ?', q.status);
    // tags and free text: case-insensitive substrings ("quick" finds "study:quick-shapes"); config values, not keys
    add("EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND instr(lower(t.tag), lower(?)) > 0)", q.tag);
    if (q.search !== undefined && q.search.trim() !== '') {
      const needle = q.search.trim().toLowerCase();
      where.push(
        `(instr(lower(runs.name), ?) > 0 OR instr(lower(runs.notes), ?) > 0 OR EXISTS (SELECT 1 FROM json_tree(runs.config) j WHERE j.type NOT IN ('object', 'array') AND instr(lower(CAST(j.value AS TEXT)), ?) > 0)
          OR CAST(runs.id AS TEXT) = ?
          OR EXISTS (SELECT 1 FROM run_tags t WHERE t.run_id = runs.id AND instr(lower(t.tag), ?) > 0))`,
      );
      args.push(needle, needle, needle, needle, needle);
    }
    if (q.datasetId !== undefined) {
      where.push('runs.dataset_id = ?');
      args.push(q.datasetId);
    }
    if (q.parentId !== undefined) {
      where.push('runs.parent_id = ?');
      args.push(q.parentId);
    }
    const sql = `${RUN_SELECT}${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY runs.id DESC LIMIT ?`;
    args.push(q.limit ?? 500);
    return (this.db.prepare(sql).all(...args) as RunRecord[]).map(toRun);
  }

  markStarted(id: number, backend: string | null): void {
    this.s.setStarted.run(now(), backend, id);
  }

  markFinished(id: number, status: RunStatus, error: string | null, result: JsonObject | null, progress?: Progress): void {
    this.s.setFinished.run(status, now(), error, result ? JSON.stringify(result) : null, progress ? JSON.stringify(progress) : null, id);
  }

  setStatus(id: number, status: RunStatus, error: string | null = null): void {
    this.s.setStatus.run(status, error, id);
  }

  setProgress(id: number, p: Progress): void {
    this.s.setProgress.run(JSON.stringify(p), id);
  }

  setNotes(id: number, notes: string): void {
    this.s.setNotes.run(notes, id);
  }

  setTags(id: number, tags: string[]): void {
    this.db.transaction(() => {
      this.s.deleteTags.run(id);
      for (const t of tags) this.s.insertTag.run(id, t);
    })();
  }

  /** All points of all runs in one transaction: the host calls this from a short flush timer. */
  insertMetrics(batch: { runId: number; points: MetricPoint[] }[]): void {
    const t = Date.now() / 1000;
    this.db.transaction(() => {
      for (const { runId, points } of batch)
        for (const p of points) this.s.insertMetric.run(runId, p.name, Math.round(p.step), Number.isFinite(p.value) ? p.value : null, t);
    })();
  }

  metrics(runId: number): MetricSeries[] {
    const out = new Map<string, MetricSeries>();
    for (const r of this.s.metrics.iterate(runId) as Iterable<{ name: string; step: number; value: number | null }>) {
      let s = out.get(r.name);
      if (!s) out.set(r.name, (s = { name: r.name, steps: [], values: [] }));
      s.steps.push(r.step);
      s.values.push(r.value);
    }
    return [...out.values()];
  }

  /**
   * Before a resumed attempt: drops the metric points past `keepThrough` (the resume checkpoint's step; the
   * job logs them again) and the run's scores (the job emits them again), so a resume adds no duplicates.
   */
  resetForResume(runId: number, keepThrough: number): void {
    this.db.transaction(() => {
      this.s.trimMetrics.run(runId, keepThrough);
      this.s.clearScores.run(runId);
    })();
  }

  insertScore(runId: number, metric: string, value: number, provenance: JsonObject): Score {
    const createdAt = now();
    const info = this.s.insertScore.run(runId, metric, value, JSON.stringify(provenance), createdAt);
    return { id: Number(info.lastInsertRowid), runId, metric, value, provenance, createdAt };
  }

  scores(runId: number): Score[] {
    return (this.s.scores.all(runId) as { id: number; run_id: number; metric: string; value: number; provenance: string; created_at: string }[]).map(
      (r) => ({ id: r.id, runId: r.run_id, metric: r.metric, value: r.value, provenance: JSON.parse(r.provenance) as JsonObject, createdAt: r.created_at }),
    );
  }

  listScores(q: ScoreQuery): ScoreRow[] {
    const where: string[] = [];
    const args: (string | number)[] = [];
    const add = (clause: string, ...v: (string | number)[]): void => {
      where.push(clause);
      args.push(...v);
    };
    if (q.metric) add('s.metric = ?', q.metric);
    if (q.metricPrefix) add("s.metric LIKE ? ESCAPE '\\'", q.metricPrefix.replace(/[\\%_]/g, (c) => `\\${c}`) + '%');
    if (q.runIds?.length) add(`s.run_id IN (${q.runIds.map(() => '?').join(',')})`, ...q.runIds);
    if (q.parentIds?.length) add(`r.parent_id IN (${q.parentIds.map(() => '?').join(',')})`, ...q.parentIds);
    const sql = `SELECT s.*, r.name AS run_name, r.kind AS run_kind, r.parent_id AS parent_id,
        (SELECT group_concat(tag, char(31)) FROM run_tags WHERE run_id = r.id) AS tags
      FROM scores s JOIN runs r ON r.id = s.run_id ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY s.id LIMIT ?`;
    args.push(q.limit ?? 20_000);
    type Row = { id: number; run_id: number; metric: string; value: number; provenance: string; created_at: string; run_name: string; run_kind: string; parent_id: number | null; tags: string | null };
    return (this.db.prepare(sql).all(...args) as Row[]).map((r) => ({
      id: r.id,
      runId: r.run_id,
      metric: r.metric,
      value: r.value,
      provenance: JSON.parse(r.provenance) as JsonObject,
      createdAt: r.created_at,
      runName: r.run_name,
      runKind: r.run_kind as RunKind,
      parentId: r.parent_id,
      tags: r.tags ? r.tags.split('\u001f') : [],
    }));
  }

  createSweep(name: string, spec: JsonObject): number {
    const info = this.db.prepare(`INSERT INTO sweeps (name, spec, status, created_at) VALUES (?, ?, 'running', ?)`).run(name, JSON.stringify(spec), now());
    return Number(info.lastInsertRowid);
  }

  listSweepRows(): { id: number; name: string; spec: JsonObject; status: string; createdAt: string }[] {
    return (this.db.prepare(`SELECT * FROM sweeps ORDER BY id DESC`).all() as { id: number; name: string; spec: string; status: string; created_at: string }[]).map((r) => ({
      id: r.id,
      name: r.name,
      spec: JSON.parse(r.spec) as JsonObject,
      status: r.status,
      createdAt: r.created_at,
    }));
  }

  runsOfSweep(sweepId: number): RunSummary[] {
    return (this.db.prepare(`${RUN_SELECT} WHERE runs.sweep_id = ? ORDER BY runs.id`).all(sweepId) as RunRecord[]).map(toRun);
  }

  insertArtifact(runId: number, kind: string, path: string, meta: JsonObject): Artifact {
    const createdAt = now();
    const info = this.s.insertArtifact.run(runId, kind, path, JSON.stringify(meta), createdAt);
    return { id: Number(info.lastInsertRowid), runId, kind, path, meta, createdAt };
  }

  artifacts(runId: number): Artifact[] {
    return (this.s.artifacts.all(runId) as { id: number; run_id: number; kind: string; path: string; meta: string; created_at: string }[]).map((r) => ({
      id: r.id,
      runId: r.run_id,
      kind: r.kind,
      path: r.path,
      meta: JSON.parse(r.meta) as JsonObject,
      createdAt: r.created_at,
    }));
  }

  /** Queues a job for the run; `after` are runs that must end `done` before it may start. */
  enqueue(runId: number, kind: JobKind, spec: JsonObject, attempt = 1, after: number[] = []): void {
    const info = this.s.insertJob.run(runId, kind, JSON.stringify(spec), attempt, now());
    for (const dep of after) this.s.insertDep.run(Number(info.lastInsertRowid), dep);
  }

  /** The runs a job waits for. */
  jobDeps(jobId: number): number[] {
    return (this.s.jobDeps.all(jobId) as { run_id: number }[]).map((r) => r.run_id);
  }

  /** The oldest queued job that can start now: its prerequisites have all ended (several engines take jobs in parallel). */
  nextRunnableJob(): JobRow | null {
    const r = this.s.nextRunnable.get() as Parameters<typeof toJob>[0] | undefined;
    return r ? toJob(r) : null;
  }

  nextQueuedJob(): JobRow | null {
    const r = this.s.nextJob.get() as { id: number; run_id: number; kind: string; spec: string; status: string; attempt: number } | undefined;
    return r ? toJob(r) : null;
  }

  openJobForRun(runId: number): JobRow | null {
    const r = this.s.jobForRun.get(runId) as Parameters<typeof toJob>[0] | undefined;
    return r ? toJob(r) : null;
  }

  lastJobForRun(runId: number): JobRow | null {
    const r = this.s.lastJobForRun.get(runId) as Parameters<typeof toJob>[0] | undefined;
    return r ? toJob(r) : null;
  }

  setJobStatus(jobId: number, status: JobRow['status']): void {
    this.s.setJobStatus.run(status, jobId);
  }

  runningJobs(): JobRow[] {
    return (this.s.runningJobs.all() as Parameters<typeof toJob>[0][]).map(toJob);
  }

  createDataset(d: NewDataset): Dataset {
    const info = this.s.insertDataset.run({ ...d, id: this.nextId('datasets'), meta: JSON.stringify(d.meta), createdAt: now() });
    return this.getDataset(Number(info.lastInsertRowid));
  }

  getDataset(id: number): Dataset {
    const row = this.s.getDataset.get(id) as DatasetRecord | undefined;
    if (!row) throw new Error(`There is no dataset ${id}. List datasets with \`toklab datasets list\`.`);
    return toDataset(row);
  }

  findDataset(idOrName: string | number): (Dataset & { path: string }) | null {
    const row = (
      typeof idOrName === 'number' || /^\d+$/.test(idOrName)
        ? this.s.getDataset.get(Number(idOrName))
        : this.s.datasetByName.get(idOrName)
    ) as DatasetRecord | undefined;
    return row ? { ...toDataset(row), path: row.path } : null;
  }

  datasetNameTaken(name: string): boolean {
    return this.s.datasetByName.get(name) !== undefined;
  }

  /** The id a new run or dataset gets: above every row there is and every row there was (ids are never reused). */
  nextId(tbl: 'runs' | 'datasets'): number {
    const r = this.db.prepare(`SELECT max(coalesce((SELECT max(id) FROM ${tbl}), 0), coalesce((SELECT max_id FROM id_floor WHERE tbl = ?), 0)) + 1 AS id`).get(tbl) as { id: number };
    return r.id;
  }

  /** Keeps the highest id a deleted row had, so no later row takes it. */
  raiseIdFloor(tbl: 'runs' | 'datasets', id: number): void {
    this.db.prepare(`INSERT INTO id_floor (tbl, max_id) VALUES (?, ?) ON CONFLICT (tbl) DO UPDATE SET max_id = max(max_id, excluded.max_id)`).run(tbl, id);
  }

  /** The run recorded for a study step at this spec hash, if any. */
  studyStep(study: string, step: string, specHash: string): number | null {
    const r = this.db.prepare(`SELECT run_id FROM study_steps WHERE study = ? AND step = ? AND spec_hash = ?`).get(study, step, specHash) as { run_id: number } | undefined;
    return r ? r.run_id : null;
  }

  /** Records (or moves) a study step to a run: the step's identity is (study, step, spec hash), never a tag. */
  setStudyStep(study: string, step: string, specHash: string, runId: number): void {
    this.db.prepare(`INSERT INTO study_steps (study, step, spec_hash, run_id) VALUES (?, ?, ?, ?) ON CONFLICT (study, step, spec_hash) DO UPDATE SET run_id = excluded.run_id`).run(study, step, specHash, runId);
  }

  /** Every run recorded for a study with its step name, in run id order. */
  studyRuns(study: string): { runId: number; step: string }[] {
    return (this.db.prepare(`SELECT run_id, step FROM study_steps WHERE study = ? ORDER BY run_id`).all(study) as { run_id: number; step: string }[]).map((r) => ({ runId: r.run_id, step: r.step }));
  }

  listDatasets(): Dataset[] {
    return (this.s.listDatasets.all() as DatasetRecord[]).map(toDataset);
  }
}

function toJob(r: { id: number; run_id: number; kind: string; spec: string; status: string; attempt: number }): JobRow {
  return { id: r.id, runId: r.run_id, kind: r.kind as JobKind, spec: JSON.parse(r.spec) as JsonObject, status: r.status as JobRow['status'], attempt: r.attempt };
}
