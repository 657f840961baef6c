// `toklab import <other-home>` and the app's Import: merges another lab home into this one.
//
// Origins. Every lab home has an identity (lab_identity.uuid, migration 0004). A row made here has origin
// NULL, which stands for `<this uuid>:<its id>`; a row taken from another lab records its origin there: the
// source row's own origin when it had one (it came from a third lab), else `<source uuid>:<source id>`. A
// source row whose origin is here already (with the same created_at) maps to that row and is not copied
// again, so importing twice adds nothing and A←B, C←B, C←A copies B's runs into C once. A source id that was
// reused after a delete (same origin, another created_at) is a different row: its origin becomes
// `<origin>@<created_at>`. The same holds for a lab home copied with cp or rsync (same uuid).
//
// Remapping. Every new row gets a fresh id here; parent_id, sweep_id, dataset_id, datasets.run_id, jobs,
// job_deps, study_steps and the ids and paths inside JSON (run configs and results, score provenance,
// artifact paths and meta, dataset meta, sweep specs, and the .json files of the copied folders:
// `runs/<id>/…`, `datasets/<dir>/…`, absolute paths under the source home, numeric run-id fields such as a
// sweep's `tokenizers`) are rewritten to the rows here. Generated run names ("rFID/pFID of tokenizer 3") and
// errors get the new ids too; notes are the user's words and stay as they are.
//
// What is taken. Finished runs only (done, failed, cancelled, interrupted). A queued or running run stays
// in the source and is reported, and so is every run that depends on one (its parent, a job prerequisite,
// a run folder its config, scores or artifacts name): a later import takes them together once they have
// ended, with their links intact. Rows already here are never updated.
//
// Crash safety. Files are copied first, under staging names (`runs/.import-<token>/`,
// `datasets/.import-<token>/`), with nothing written to lab.db. One transaction then writes every row and
// journals the folder renames it owes (import_moves); after the commit the staged folders are renamed to
// their real names and the journal is cleared. A failure before the commit removes the staging folders and
// leaves this lab as it was; a crash after it leaves a journal that the next import, or the next open of
// the lab, finishes. Staging folders of an import that died before its commit are removed by the next one.
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import type { ImportReport, JsonValue, RunKind, RunStatus } from '../../preload/contract';
import type { Db } from './store/db';
import { SCHEMA_VERSION } from './store/db';
import type { DatasetRecord, Repo, RunRecord } from './store/repo';
import { acquireImportLock, queueHolder } from './worker-lock';

/** The first schema with lab identities and origins: older sources must be opened once with this toklab. */
export const ORIGIN_SCHEMA = 4;

const FINISHED: readonly string[] = ['done', 'failed', 'cancelled', 'interrupted'];

/** Fault seams for the tests (a file that cannot be read, a failure before the commit, a crash between renames). */
export interface ImportHooks {
  onCopy?(file: string): void;
  beforeCommit?(): void;
  onMove?(target: string): void;
}

export interface ImportOptions {
  /**
   * Take only these source runs and what they need (parents, job prerequisites, run folders they name,
   * their datasets and the runs that built them): a Slurm sweep task imports one tokenizer this way.
   */
  only?: number[];
  /** better-sqlite3 addon for Electron's ABI (the app opens the source with the same build as its own database). */
  nativeBinding?: string;
  hooks?: ImportHooks;
}

/** Source rows are read with SELECT *: the same shapes as this home's (tags are not joined in). */
type SrcRun = Omit<RunRecord, 'tags'>;
type SrcDataset = DatasetRecord;

interface SrcSweep {
  id: number;
  name: string;
  spec: string;
  status: string;
  created_at: string;
  origin: string | null;
}

interface SrcJob {
  id: number;
  run_id: number;
  kind: string;
  spec: string;
  attempt: number;
  enqueued_at: string;
}

interface SrcScore {
  id: number;
  run_id: number;
  metric: string;
  value: number;
  provenance: string;
  created_at: string;
}

interface SrcArtifact {
  id: number;
  run_id: number;
  kind: string;
  path: string;
  meta: string;
  created_at: string;
}

/** A source row that is here already (its id here), or one to add with this origin. */
type Decision = { existing: number } | { origin: string };

interface Plan {
  datasets: Map<number, Decision>;
  runs: Map<number, Decision>;
  sweeps: Map<number, Decision>;
  skipped: Map<number, string>;
  /** Source dataset id → the feature-net folder (home-relative) of the dataset here, which has none: the source's is copied there. */
  featureNets: Map<number, string>;
}

/** Where an artifact's file is here: inside a run or dataset folder of the source (by source id), in the run's own folder, or nowhere. */
type ArtifactPlace = { run: number; rest: string } | { dataset: number; rest: string } | { drop: true };

const isNew = (d: Decision | undefined): d is { origin: string } => d !== undefined && 'origin' in d;

interface Source {
  db: Database.Database;
  home: string;
  uuid: string;
  version: number;
  tables: Set<string>;
}

function fail(message: string): never {
  throw new Error(message);
}

const isDir = (p: string): boolean => {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
};

const isFile = (p: string): boolean => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** Opens the other home's lab.db read-only (never migrated, never locked) in one read transaction: a consistent snapshot. */
function openSource(home: string, source: string, nativeBinding?: string): Source {
  let dir = resolve(source);
  if (!existsSync(dir)) fail(`${dir}: no such folder. Give the path of the other lab home (the folder that holds its lab.db); nothing was imported.`);
  if (!isDir(dir)) {
    if (basename(dir) !== 'lab.db') fail(`${dir} is a file, not a lab home. Give the folder that holds lab.db; nothing was imported.`);
    dir = dirname(dir);
  }
  const file = join(dir, 'lab.db');
  if (!isFile(file)) fail(`${dir} has no lab.db, so it is not a toklab lab home. Give the folder that holds lab.db (the folder given as \`toklab --home DIR\`); nothing was imported.`);
  const here = join(home, 'lab.db');
  const a = statSync(file);
  const b = existsSync(here) ? statSync(here) : null;
  if (realpathSync(dir) === realpathSync(home) || (b && a.dev === b.dev && a.ino === b.ino)) fail(`${dir} is this lab home. Give another lab home to import from.`);
  let db: Database.Database;
  try {
    db = new Database(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  } catch (e) {
    fail(`cannot open ${file} read-only (${(e as Error).message}). Make it readable, then import again; nothing was imported.`);
  }
  try {
    db.pragma('busy_timeout = 5000');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION)
      fail(`${file} has schema version ${version}, newer than this toklab understands (${SCHEMA_VERSION}): it was written by a newer toklab. Update toklab here, then import again; nothing was imported.`);
    const tables = new Set((db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table'`).all() as { name: string }[]).map((r) => r.name));
    if (!tables.has('runs') || !tables.has('datasets')) fail(`${file} is not a toklab lab database (it has no runs table); nothing was imported.`);
    if (version < ORIGIN_SCHEMA || !tables.has('lab_identity'))
      fail(
        `${file} has schema version ${version}, older than this toklab's ${SCHEMA_VERSION}, and no lab identity yet. Open it once with this toklab ` +
          `(e.g. \`toklab --home ${dir} runs list\`, which upgrades it), then import again; nothing was imported.`,
      );
    if (tables.has('import_moves') && (db.prepare(`SELECT count(*) AS n FROM import_moves`).get() as { n: number }).n > 0)
      fail(`${dir} has an import of its own that has not finished moving its folders. Open it once with toklab (e.g. \`toklab --home ${dir} runs list\`), which finishes it, then import again; nothing was imported.`);
    const id = db.prepare(`SELECT uuid FROM lab_identity WHERE id = 1`).get() as { uuid: string } | undefined;
    if (!id) fail(`${file} has no lab identity (its lab_identity table is empty); open it once with this toklab, then import again.`);
    db.exec('BEGIN');
    // the first read starts the snapshot
    db.prepare('SELECT count(*) FROM runs').get();
    return { db, home: dir, uuid: id.uuid, version, tables };
  } catch (e) {
    db.close();
    throw e;
  }
}

function closeSource(src: Source): void {
  try {
    if (src.db.inTransaction) src.db.exec('ROLLBACK');
  } finally {
    src.db.close();
  }
}

/** This lab's identity (migration 0004). */
export function labIdentity(db: Db): string {
  return (db.prepare(`SELECT uuid FROM lab_identity WHERE id = 1`).get() as { uuid: string }).uuid;
}

/**
 * Finishes the folder renames of an import whose rows were committed (a crash, or a failure between the
 * commit and the renames). Returns what it could not do. Safe beside another process doing the same.
 */
export function finishPendingImports(repo: Repo, home: string, hooks: ImportHooks = {}): string[] {
  const db = repo.db;
  const rows = db.prepare(`SELECT id, staging, target FROM import_moves ORDER BY id`).all() as { id: number; staging: string; target: string }[];
  const notes: string[] = [];
  const roots = new Set<string>();
  for (const r of rows) {
    const from = join(home, r.staging);
    const to = join(home, r.target);
    roots.add(join(home, ...r.staging.split('/').slice(0, 2)));
    hooks.onMove?.(r.target);
    if (existsSync(from)) {
      if (existsSync(to)) {
        // only a dataset's feature network can appear meanwhile (trained here): keep that one
        notes.push(`${r.target} appeared during the import; this home's copy was kept and the imported one dropped`);
        rmSync(from, { recursive: true, force: true });
      } else {
        mkdirSync(dirname(to), { recursive: true });
        try {
          renameSync(from, to);
        } catch (e) {
          // another process finishing the same journal may have moved it first
          if (!existsSync(to) || existsSync(from)) throw e;
        }
      }
    } else if (!existsSync(to)) notes.push(`${r.target}: its staged copy is gone; the rows that point into it have no files`);
    db.prepare(`DELETE FROM import_moves WHERE id = ?`).run(r.id);
  }
  for (const root of roots) removeIfEmpty(root);
  return notes;
}

function removeIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // not empty, or gone
  }
}

/** Staging folders of imports that died before their commit (no journal row names them). The import lock is held. */
function removeStaleStaging(db: Db, home: string): void {
  const pending = new Set((db.prepare(`SELECT staging FROM import_moves`).all() as { staging: string }[]).map((r) => r.staging.split('/').slice(0, 2).join('/')));
  for (const top of ['runs', 'datasets']) {
    const dir = join(home, top);
    if (!isDir(dir)) continue;
    for (const name of readdirSync(dir)) if (name.startsWith('.import-') && !pending.has(`${top}/${name}`)) rmSync(join(dir, name), { recursive: true, force: true });
  }
}

/** Files a copy leaves out: a live writer's lock, half-written temporaries, a feature network being swapped in. */
const SKIP_FILE = /^\.writer\.lock$|\.tmp$|\.tmp-|\.old-/;

/** Numeric JSON fields that hold run ids, and arrays of them. */
const RUN_ID_KEYS = new Set(['tokenizer', 'generator', 'decoder', 'featureNet', 'extractor', 'parentId', 'runId', 'tokenizerRunId', 'generatorRunId', 'decoderRunId']);
const RUN_ID_LIST_KEYS = new Set(['tokenizers', 'generators', 'runIds', 'scoreRunIds', 'parentIds']);
const DATASET_ID_KEYS = new Set(['dataset', 'datasetId']);

/** Rewrites source ids and paths to this home's. */
class Remap {
  readonly unknown = new Set<string>();

  constructor(
    private readonly runs: Map<number, number>,
    private readonly datasetIds: Map<number, number>,
    /** `datasets/<dir>` in the source → the dataset's path here. */
    private readonly datasetPaths: Map<string, string>,
    /** The source home's absolute forms, longest first. */
    private readonly prefixes: string[],
    private readonly home: string,
  ) {}

  /** A home-relative path of the source → here, or null when it names nothing the import knows. */
  private rel(p: string): string | null {
    const r = /^runs\/(\d+)(\/.*)?$/.exec(p);
    if (r) {
      const to = this.runs.get(Number(r[1]));
      if (to === undefined) {
        this.unknown.add(`runs/${r[1]}`);
        return null;
      }
      return `runs/${to}${r[2] ?? ''}`;
    }
    const d = /^(datasets\/[^/]+)(\/.*)?$/.exec(p);
    if (d) {
      const to = this.datasetPaths.get(d[1]);
      if (to === undefined) {
        this.unknown.add(d[1]);
        return null;
      }
      return `${to}${d[2] ?? ''}`;
    }
    return null;
  }

  path(s: string): string {
    for (const p of this.prefixes) {
      if (s.startsWith(p + '/')) {
        const r = this.rel(s.slice(p.length + 1));
        return r === null ? s : join(this.home, r);
      }
    }
    return this.rel(s) ?? s;
  }

  /** Free text the host generated (run names, errors): "tokenizer 3", "run 3", "runs/3/…" and source-home paths. */
  text(s: string): string {
    let out = s;
    for (const p of this.prefixes) out = out.split(p + '/').join(this.home + '/');
    out = out.replace(/\bruns\/(\d+)\b/g, (m, n: string) => {
      const to = this.runs.get(Number(n));
      return to === undefined ? m : `runs/${to}`;
    });
    return this.words(out);
  }

  /** The ids in generated run and sweep names: "rFID/pFID of tokenizer 3", "tokens of run 3", "gFID of generator 7 decoded by 5". */
  words(s: string): string {
    return s.replace(/\b(tokenizer|generator|run|decoded by|decoder of) (\d+)\b/g, (m, w: string, n: string) => {
      const to = this.runs.get(Number(n));
      return to === undefined ? m : `${w} ${to}`;
    });
  }

  json(v: JsonValue, key?: string): JsonValue {
    if (typeof v === 'string') return this.path(v);
    if (typeof v === 'number' && key !== undefined) {
      if (RUN_ID_KEYS.has(key)) return this.runs.get(v) ?? v;
      if (DATASET_ID_KEYS.has(key)) return this.datasetIds.get(v) ?? v;
      return v;
    }
    if (Array.isArray(v)) {
      const itemKey = key !== undefined && RUN_ID_LIST_KEYS.has(key) ? 'runId' : undefined;
      return v.map((x) => this.json(x, itemKey));
    }
    if (v !== null && typeof v === 'object') {
      const out: Record<string, JsonValue> = {};
      for (const [k, x] of Object.entries(v)) out[k] = this.json(x, k);
      return out;
    }
    return v;
  }

  jsonText(s: string): string;
  jsonText(s: string | null): string | null;
  jsonText(s: string | null): string | null {
    if (s === null) return null;
    try {
      return JSON.stringify(this.json(JSON.parse(s) as JsonValue));
    } catch {
      return s;
    }
  }
}

/** The source run ids a run's recorded text names (`runs/<id>`), besides its own. */
function runRefs(text: string | null, self: number, into: Set<number>): void {
  if (!text) return;
  for (const m of text.matchAll(/\bruns\/(\d+)\b/g)) if (Number(m[1]) !== self) into.add(Number(m[1]));
}

const sameBytes = (a: string, b: string): boolean => {
  if (!isFile(a) || !isFile(b)) return false;
  if (statSync(a).size !== statSync(b).size) return false;
  return readFileSync(a).equals(readFileSync(b));
};

class Importer {
  private readonly db: Db;
  private readonly myUuid: string;
  private readonly token = randomBytes(6).toString('hex');
  private readonly warnings: string[] = [];
  private files = 0;
  /** Staged .json files that name runs, datasets or the source home: rewritten in the transaction. */
  private readonly jsonFiles: string[] = [];
  private readonly prefixes: string[];
  private runs: SrcRun[];
  private datasets: SrcDataset[];
  private readonly sweeps: SrcSweep[];
  private jobs: SrcJob[];
  private deps: { job_id: number; run_id: number }[];
  private readonly artifactPlaces = new Map<number, ArtifactPlace>();
  /** The live toklab holding the source's queue, or null. */
  private readonly busy: number | null;

  constructor(
    private readonly repo: Repo,
    private readonly home: string,
    private readonly src: Source,
    private readonly hooks: ImportHooks,
    only?: number[],
  ) {
    this.db = repo.db;
    this.myUuid = labIdentity(this.db);
    const s = src.db;
    this.runs = s.prepare(`SELECT * FROM runs ORDER BY id`).all() as SrcRun[];
    this.datasets = s.prepare(`SELECT * FROM datasets ORDER BY id`).all() as SrcDataset[];
    this.sweeps = s.prepare(`SELECT * FROM sweeps ORDER BY id`).all() as SrcSweep[];
    this.jobs = s.prepare(`SELECT id, run_id, kind, spec, attempt, enqueued_at FROM jobs ORDER BY id`).all() as SrcJob[];
    this.deps = src.tables.has('job_deps') ? (s.prepare(`SELECT job_id, run_id FROM job_deps ORDER BY job_id, run_id`).all() as { job_id: number; run_id: number }[]) : [];
    if (only) this.restrictTo(only);
    this.prefixes = this.sourcePrefixes();
    this.busy = queueHolder(src.home);
  }

  /** Narrows the source to `only` and everything it needs, so the plan never sees the rest. */
  private restrictTo(only: number[]): void {
    const byId = new Map(this.runs.map((r) => [r.id, r]));
    const missing = only.filter((id) => !byId.has(id));
    if (missing.length) fail(`${this.src.home} has no run ${missing.join(', ')}; nothing was imported.`);
    const keep = new Set<number>();
    const keepDs = new Set<number>();
    const todo = [...only];
    while (todo.length) {
      const id = todo.pop()!;
      if (keep.has(id)) continue;
      keep.add(id);
      const r = byId.get(id);
      if (!r) continue;
      for (const n of this.needs(r)) todo.push(n);
      if (r.dataset_id !== null && !keepDs.has(r.dataset_id)) {
        keepDs.add(r.dataset_id);
        const built = this.datasets.find((d) => d.id === r.dataset_id)?.run_id;
        if (built != null) todo.push(built);
      }
    }
    this.runs = this.runs.filter((r) => keep.has(r.id));
    this.datasets = this.datasets.filter((d) => keepDs.has(d.id) || (d.run_id !== null && keep.has(d.run_id)));
    this.jobs = this.jobs.filter((j) => keep.has(j.run_id));
    const jobIds = new Set(this.jobs.map((j) => j.id));
    this.deps = this.deps.filter((d) => jobIds.has(d.job_id) && keep.has(d.run_id));
  }

  private get runStage(): string {
    return `runs/.import-${this.token}`;
  }

  private get datasetStage(): string {
    return `datasets/.import-${this.token}`;
  }

  /**
   * The source home's absolute forms: as given, its real path, and where it was when its datasets were built
   * (a dataset-build run records absolute folders; the home may have moved since).
   */
  private sourcePrefixes(): string[] {
    const out = new Set([this.src.home, realpathSync(this.src.home)]);
    for (const d of this.datasets) {
      const r = this.runs.find((x) => x.id === d.run_id);
      for (const text of [r?.result, r?.config]) {
        if (!text) continue;
        try {
          const o = JSON.parse(text) as Record<string, unknown>;
          for (const v of [o.dir, o.outDir]) if (typeof v === 'string' && isAbsolute(v) && v.endsWith('/' + d.path)) out.add(v.slice(0, -(d.path.length + 1)));
        } catch {
          // not JSON: nothing to learn
        }
      }
    }
    return [...out].filter((p) => p !== '' && p !== '/').sort((a, b) => b.length - a.length);
  }

  /** The row here that a source row's origin names, by origin and created_at. */
  private decide(table: 'runs' | 'datasets' | 'sweeps', id: number, ownOrigin: string | null, createdAt: string): Decision {
    const origin = ownOrigin ?? `${this.src.uuid}:${id}`;
    const find = (o: string): { id: number } | 'conflict' | null => {
      const m = /^(.+):(\d+)(?:@(.+))?$/.exec(o);
      if (m && m[1] === this.myUuid) {
        const local = this.db.prepare(`SELECT id, created_at FROM ${table} WHERE id = ? AND origin IS NULL`).get(Number(m[2])) as { id: number; created_at: string } | undefined;
        if (local && local.created_at === (m[3] ?? createdAt)) return { id: local.id };
        if (local && m[3] === undefined) return 'conflict';
      }
      const row = this.db.prepare(`SELECT id, created_at FROM ${table} WHERE origin = ?`).get(o) as { id: number; created_at: string } | undefined;
      if (!row) return null;
      return row.created_at === createdAt ? { id: row.id } : 'conflict';
    };
    const first = find(origin);
    if (first && first !== 'conflict') return { existing: first.id };
    if (first === null) return { origin };
    // the same origin but another row (its id was reused after a delete, or the source is a copy of this home)
    const second = `${origin}@${createdAt}`;
    const again = find(second);
    return again && again !== 'conflict' ? { existing: again.id } : { origin: second };
  }

  /** Which source rows are here already, which to add, which to leave. Reads this home only; the same snapshot gives the same plan. */
  plan(): Plan {
    const plan: Plan = { datasets: new Map(), runs: new Map(), sweeps: new Map(), skipped: new Map(), featureNets: new Map() };
    for (const d of this.datasets) plan.datasets.set(d.id, this.decide('datasets', d.id, d.origin, d.created_at));
    const byId = new Map(this.runs.map((r) => [r.id, r]));
    const candidates: SrcRun[] = [];
    for (const r of this.runs) {
      const d = this.decide('runs', r.id, r.origin, r.created_at);
      if (!isNew(d)) plan.runs.set(r.id, d);
      else if (!FINISHED.includes(r.status))
        plan.skipped.set(
          r.id,
          r.status === 'running' && this.busy === null
            ? 'running, but no toklab holds the source\'s queue (it stopped during the run): open the source with toklab once, which marks the run interrupted, then import again'
            : `${r.status}: not finished yet; a later import takes it once it has ended`,
        );
      else {
        candidates.push(r);
        plan.runs.set(r.id, d);
      }
    }
    // a run that needs a skipped one waits with it, so that no link points at a run that is not here
    const needs = new Map(candidates.map((r) => [r.id, this.needs(r)]));
    for (let changed = true; changed; ) {
      changed = false;
      for (const r of candidates) {
        if (plan.skipped.has(r.id)) continue;
        const dep = [...(needs.get(r.id) ?? [])].find((x) => plan.skipped.has(x));
        if (dep === undefined) continue;
        const other = byId.get(dep);
        plan.skipped.set(r.id, `needs source run ${dep}${other ? ` (${other.kind}, ${other.status})` : ''}, which is not imported yet; a later import takes both`);
        plan.runs.delete(r.id);
        changed = true;
      }
    }
    for (const r of candidates)
      if (plan.runs.has(r.id) && r.sweep_id !== null && !plan.sweeps.has(r.sweep_id)) {
        const s = this.sweeps.find((x) => x.id === r.sweep_id);
        if (s) plan.sweeps.set(s.id, this.decide('sweeps', s.id, s.origin, s.created_at));
      }
    for (const d of this.datasets) {
      const dec = plan.datasets.get(d.id);
      if (isNew(dec) || dec === undefined) continue;
      const here = this.datasetPathHere(dec.existing);
      if (!isDir(join(this.home, here, 'feature-net')) && isFile(join(this.src.home, d.path, 'feature-net', 'meta.json'))) plan.featureNets.set(d.id, `${here}/feature-net`);
    }
    return plan;
  }

  private datasetPathHere(id: number): string {
    return (this.db.prepare(`SELECT path FROM datasets WHERE id = ?`).get(id) as { path: string }).path;
  }

  /** Source runs this run links to: parent, job prerequisites, and run folders its config, result, scores or artifacts name. */
  private needs(r: SrcRun): Set<number> {
    const out = new Set<number>();
    if (r.parent_id !== null) out.add(r.parent_id);
    const jobIds = new Set(this.jobs.filter((j) => j.run_id === r.id).map((j) => j.id));
    for (const d of this.deps) if (jobIds.has(d.job_id)) out.add(d.run_id);
    runRefs(r.config, r.id, out);
    runRefs(r.result, r.id, out);
    for (const row of this.src.db.prepare(`SELECT provenance AS t FROM scores WHERE run_id = ? UNION ALL SELECT path || ' ' || meta FROM artifacts WHERE run_id = ?`).all(r.id, r.id) as { t: string }[])
      runRefs(row.t, r.id, out);
    out.delete(r.id);
    return out;
  }

  run(): ImportReport {
    const plan = this.plan();
    const busy = this.busy;
    let report: ImportReport;
    try {
      this.stage(plan);
      report = this.commit(plan);
    } catch (e) {
      this.removeStaging();
      throw e;
    }
    report.sourceBusy = busy;
    if (busy !== null && [...plan.skipped.keys()].some((id) => this.runs.find((r) => r.id === id)?.status === 'running'))
      report.warnings.push(`${this.src.home} is in use by toklab (pid ${busy}): its running runs were skipped; import again once they have ended.`);
    let notes: string[];
    try {
      notes = finishPendingImports(this.repo, this.home, this.hooks);
    } catch (e) {
      throw new Error(
        `the import's rows were recorded, but moving its folders into place failed (${(e as Error).message}). ` +
          'Run the same import again (or reopen the lab) to finish it; nothing is copied twice.',
      );
    }
    report.warnings.push(...notes);
    return report;
  }

  private removeStaging(): void {
    for (const s of [this.runStage, this.datasetStage]) rmSync(join(this.home, s), { recursive: true, force: true });
  }

  // ---- files ----

  private copyFile(from: string, to: string): void {
    try {
      this.hooks.onCopy?.(from);
      mkdirSync(dirname(to), { recursive: true });
      copyFileSync(from, to);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(
        `cannot copy ${from} (${code ?? (e as Error).message}); nothing was imported. ` +
          (code === 'ENOSPC' ? 'Free disk space in this lab home' : 'Make the file readable (or this lab home writable)') +
          ', then run the import again.',
      );
    }
    this.files++;
    if (to.endsWith('.json') && statSync(to).size < 64 * 1024 * 1024) {
      const text = readFileSync(to, 'utf8');
      if (/runs\/\d|datasets\//.test(text) || this.prefixes.some((p) => text.includes(p))) this.jsonFiles.push(to);
    }
  }

  private copyTree(from: string, to: string): void {
    mkdirSync(to, { recursive: true });
    for (const e of readdirSync(from, { withFileTypes: true })) {
      if (SKIP_FILE.test(e.name) || e.name.startsWith('.import-')) continue;
      const a = join(from, e.name);
      if (e.isDirectory()) this.copyTree(a, join(to, e.name));
      else if (e.isFile()) this.copyFile(a, join(to, e.name));
      else this.warnings.push(`${relative(this.src.home, a)} is not a regular file (a symlink, socket, …) and was not copied`);
    }
  }

  /** Copies every new dataset and run folder (and feature networks this home's datasets lack) under staging names. */
  private stage(plan: Plan): void {
    const dsStage = join(this.home, this.datasetStage);
    const runStage = join(this.home, this.runStage);
    for (const d of this.datasets) {
      if (isNew(plan.datasets.get(d.id))) {
        const from = join(this.src.home, d.path);
        if (!isDir(from)) fail(`source dataset ${d.id} ("${d.name}") has no folder ${from}: the source is damaged. Restore that folder there (or delete the dataset in the source), then import again; nothing was imported.`);
        this.copyTree(from, join(dsStage, `d${d.id}`));
      }
      if (plan.featureNets.has(d.id)) this.copyTree(join(this.src.home, d.path, 'feature-net'), join(dsStage, `fn${d.id}`));
    }
    for (const r of this.runs) {
      if (!isNew(plan.runs.get(r.id))) continue;
      const from = join(this.src.home, 'runs', String(r.id));
      if (isDir(from)) this.copyTree(from, join(runStage, String(r.id)));
      else mkdirSync(join(runStage, String(r.id)), { recursive: true });
    }
    const dsByPath = new Map(this.datasets.map((d) => [d.path, d]));
    const arts = this.src.db.prepare(`SELECT * FROM artifacts WHERE run_id = ? ORDER BY id`);
    for (const r of this.runs) {
      if (!isNew(plan.runs.get(r.id))) continue;
      for (const a of arts.all(r.id) as SrcArtifact[]) this.artifactPlaces.set(a.id, this.placeArtifact(plan, a, dsByPath));
    }
  }

  /** Where an artifact's file will be here; a file that would not be where its path says is copied into the run's own folder. */
  private placeArtifact(plan: Plan, a: SrcArtifact, dsByPath: Map<string, SrcDataset>): ArtifactPlace {
    let p = a.path;
    const prefix = this.prefixes.find((x) => p.startsWith(x + '/'));
    if (prefix) p = p.slice(prefix.length + 1);
    const srcFile = isAbsolute(p) ? p : join(this.src.home, p);
    const run = /^runs\/(\d+)\/(.+)$/.exec(p);
    if (run) {
      const id = Number(run[1]);
      const dec = plan.runs.get(id);
      if (isNew(dec) && isFile(join(this.home, this.runStage, String(id), run[2]))) return { run: id, rest: run[2] };
      if (dec && !isNew(dec) && sameBytes(srcFile, join(this.home, 'runs', String(dec.existing), run[2]))) return { run: id, rest: run[2] };
    }
    const ds = /^(datasets\/[^/]+)\/(.+)$/.exec(p);
    const d = ds ? dsByPath.get(ds[1]) : undefined;
    if (ds && d) {
      const dec = plan.datasets.get(d.id);
      if (isNew(dec) && isFile(join(this.home, this.datasetStage, `d${d.id}`, ds[2]))) return { dataset: d.id, rest: ds[2] };
      if (dec && !isNew(dec)) {
        const fn = /^feature-net\/(.+)$/.exec(ds[2]);
        if (fn && plan.featureNets.has(d.id) && isFile(join(this.home, this.datasetStage, `fn${d.id}`, fn[1]))) return { dataset: d.id, rest: ds[2] };
        if (sameBytes(srcFile, join(this.home, this.datasetPathHere(dec.existing), ds[2]))) return { dataset: d.id, rest: ds[2] };
      }
    }
    // the file is not (or not the same) where its path would point here: keep it with the run
    if (!isFile(srcFile)) {
      this.warnings.push(`artifact ${a.id} of source run ${a.run_id} (${a.kind}): ${a.path} is missing in the source; that artifact was left out`);
      return { drop: true };
    }
    const rest = `imported-files/${!isAbsolute(p) && !p.split('/').includes('..') ? p : basename(p)}`;
    this.copyFile(srcFile, join(this.home, this.runStage, String(a.run_id), rest));
    return { run: a.run_id, rest };
  }

  // ---- rows ----

  private commit(plan: Plan): ImportReport {
    const db = this.db;
    const src = this.src.db;
    const report: ImportReport = {
      source: this.src.home,
      sourceLab: this.src.uuid,
      datasets: { added: 0, existing: 0 },
      runs: { added: 0, existing: 0 },
      sweeps: { added: 0, existing: 0 },
      metrics: 0,
      scores: 0,
      artifacts: 0,
      files: 0,
      runIds: {},
      datasetIds: {},
      renamed: [],
      skipped: [],
      sourceBusy: null,
      warnings: this.warnings,
    };
    db.transaction(() => {
      db.pragma('defer_foreign_keys = ON');
      // this home may have changed since the plan (a delete, another dataset): the files staged for it would not fit
      const again = this.plan();
      if (planKey(again) !== planKey(plan)) fail('this lab home changed while the import was copying files (a run or dataset was added or deleted); nothing was imported. Run the import again.');

      // ids and names here
      const runMap = new Map<number, number>();
      const datasetMap = new Map<number, number>();
      const datasetPaths = new Map<string, string>();
      let nextRun = this.repo.nextId('runs');
      for (const r of this.runs) {
        const dec = plan.runs.get(r.id);
        if (!dec) continue;
        if (isNew(dec)) {
          while (existsSync(join(this.home, 'runs', String(nextRun)))) nextRun++;
          runMap.set(r.id, nextRun++);
        } else runMap.set(r.id, dec.existing);
      }
      let nextDataset = this.repo.nextId('datasets');
      const newDatasetPath = new Map<number, string>();
      for (const d of this.datasets) {
        const dec = plan.datasets.get(d.id) as Decision;
        if (isNew(dec)) {
          const id = nextDataset++;
          datasetMap.set(d.id, id);
          const path = this.freeDatasetFolder(basename(d.path));
          newDatasetPath.set(d.id, path);
          datasetPaths.set(d.path, path);
        } else {
          datasetMap.set(d.id, dec.existing);
          datasetPaths.set(d.path, this.datasetPathHere(dec.existing));
        }
      }
      const remap = new Remap(runMap, datasetMap, datasetPaths, this.prefixes, this.home);

      // sweeps
      const sweepMap = new Map<number, number>();
      for (const s of this.sweeps) {
        const dec = plan.sweeps.get(s.id);
        if (!dec) continue;
        if (!isNew(dec)) {
          sweepMap.set(s.id, dec.existing);
          report.sweeps.existing++;
          continue;
        }
        const info = db
          .prepare(`INSERT INTO sweeps (name, spec, status, created_at, origin) VALUES (?, ?, ?, ?, ?)`)
          .run(remap.words(s.name), remap.jsonText(s.spec), s.status, s.created_at, dec.origin);
        sweepMap.set(s.id, Number(info.lastInsertRowid));
        report.sweeps.added++;
      }

      // datasets
      const insertDataset = db.prepare(
        `INSERT INTO datasets (id, name, kind, source, resolution, channels, num_classes, train_n, val_n, path, run_id, meta, created_at, origin)
         VALUES (@id, @name, @kind, @source, @resolution, @channels, @num_classes, @train_n, @val_n, @path, @run_id, @meta, @created_at, @origin)`,
      );
      for (const d of this.datasets) {
        const dec = plan.datasets.get(d.id) as Decision;
        report.datasetIds[String(d.id)] = datasetMap.get(d.id) as number;
        if (!isNew(dec)) {
          report.datasets.existing++;
          continue;
        }
        const name = this.freeDatasetName(d.name);
        if (name !== d.name) report.renamed.push({ sourceId: d.id, from: d.name, to: name });
        const runId = d.run_id === null ? null : (runMap.get(d.run_id) ?? null);
        if (d.run_id !== null && runId === null) this.warnings.push(`dataset "${name}": the source run that built it (${d.run_id}) is not imported; its build run is left empty`);
        insertDataset.run({ ...d, id: datasetMap.get(d.id), name, path: newDatasetPath.get(d.id), run_id: runId, meta: remap.jsonText(d.meta), origin: dec.origin });
        report.datasets.added++;
      }

      // runs and everything that hangs off them
      const insertRun = db.prepare(
        `INSERT INTO runs (id, kind, job_kind, name, status, parent_id, sweep_id, dataset_id, config, seed, backend, app_version, created_at, started_at, finished_at, error, result, progress, notes, origin)
         VALUES (@id, @kind, @job_kind, @name, @status, @parent_id, @sweep_id, @dataset_id, @config, @seed, @backend, @app_version, @created_at, @started_at, @finished_at, @error, @result, @progress, @notes, @origin)`,
      );
      const tags = src.prepare(`SELECT tag FROM run_tags WHERE run_id = ? ORDER BY tag`);
      const insertTag = db.prepare(`INSERT OR IGNORE INTO run_tags (run_id, tag) VALUES (?, ?)`);
      const metrics = src.prepare(`SELECT name, step, value, time FROM metrics WHERE run_id = ? ORDER BY rowid`);
      const insertMetric = db.prepare(`INSERT INTO metrics (run_id, name, step, value, time) VALUES (?, ?, ?, ?, ?)`);
      const scores = src.prepare(`SELECT * FROM scores WHERE run_id = ? ORDER BY id`);
      const insertScore = db.prepare(`INSERT INTO scores (run_id, metric, value, provenance, created_at) VALUES (?, ?, ?, ?, ?)`);
      const artifacts = src.prepare(`SELECT * FROM artifacts WHERE run_id = ? ORDER BY id`);
      const insertArtifact = db.prepare(`INSERT INTO artifacts (run_id, kind, path, meta, created_at) VALUES (?, ?, ?, ?, ?)`);
      const insertJob = db.prepare(`INSERT INTO jobs (run_id, kind, spec, status, attempt, enqueued_at) VALUES (?, ?, ?, 'finished', ?, ?)`);
      const insertDep = db.prepare(`INSERT OR IGNORE INTO job_deps (job_id, run_id) VALUES (?, ?)`);
      const jobMap = new Map<number, number>();
      for (const r of this.runs) {
        const dec = plan.runs.get(r.id);
        if (!dec) continue;
        const id = runMap.get(r.id) as number;
        report.runIds[String(r.id)] = id;
        if (!isNew(dec)) {
          report.runs.existing++;
          continue;
        }
        const parent = r.parent_id === null ? null : (runMap.get(r.parent_id) ?? null);
        if (r.parent_id !== null && parent === null) this.warnings.push(`source run ${r.id} names parent run ${r.parent_id}, which the source does not have; imported without a parent`);
        insertRun.run({
          ...r,
          id,
          name: remap.words(r.name),
          parent_id: parent,
          sweep_id: r.sweep_id === null ? null : (sweepMap.get(r.sweep_id) ?? null),
          dataset_id: r.dataset_id === null ? null : (datasetMap.get(r.dataset_id) ?? null),
          config: remap.jsonText(r.config),
          result: remap.jsonText(r.result),
          error: r.error === null ? null : remap.text(r.error),
          origin: dec.origin,
        });
        report.runs.added++;
        for (const t of tags.all(r.id) as { tag: string }[]) insertTag.run(id, t.tag);
        for (const m of metrics.iterate(r.id) as Iterable<{ name: string; step: number; value: number | null; time: number }>) {
          insertMetric.run(id, m.name, m.step, m.value, m.time);
          report.metrics++;
        }
        for (const s of scores.all(r.id) as SrcScore[]) {
          insertScore.run(id, s.metric, s.value, remap.jsonText(s.provenance), s.created_at);
          report.scores++;
        }
        for (const a of artifacts.all(r.id) as SrcArtifact[]) {
          const place = this.artifactPlaces.get(a.id);
          if (!place || 'drop' in place) continue;
          const path = 'run' in place ? `runs/${runMap.get(place.run) as number}/${place.rest}` : `${datasetPaths.get((this.datasets.find((d) => d.id === place.dataset) as SrcDataset).path) as string}/${place.rest}`;
          insertArtifact.run(id, a.kind, path, remap.jsonText(a.meta), a.created_at);
          report.artifacts++;
        }
        for (const j of this.jobs) {
          if (j.run_id !== r.id) continue;
          // an imported job never runs here: the run has ended (a resume queues a new one)
          const info = insertJob.run(id, j.kind, remap.jsonText(j.spec), j.attempt, j.enqueued_at);
          jobMap.set(j.id, Number(info.lastInsertRowid));
        }
      }
      for (const d of this.deps) {
        const job = jobMap.get(d.job_id);
        const run = runMap.get(d.run_id);
        if (job !== undefined && run !== undefined) insertDep.run(job, run);
      }
      if (this.src.tables.has('study_steps')) {
        const insertStep = db.prepare(`INSERT OR IGNORE INTO study_steps (study, step, spec_hash, run_id) VALUES (?, ?, ?, ?)`);
        for (const s of src.prepare(`SELECT study, step, spec_hash, run_id FROM study_steps`).all() as { study: string; step: string; spec_hash: string; run_id: number }[])
          if (isNew(plan.runs.get(s.run_id))) insertStep.run(s.study, s.step, s.spec_hash, runMap.get(s.run_id));
      }
      for (const [id, reason] of plan.skipped) {
        const r = this.runs.find((x) => x.id === id) as SrcRun;
        report.skipped.push({ sourceId: id, name: r.name, kind: r.kind as RunKind, status: r.status as RunStatus, reason });
      }

      // the staged JSON files name the new ids and folders
      for (const f of this.jsonFiles) this.rewriteJsonFile(f, remap);
      if (remap.unknown.size) this.warnings.push(`references to ${[...remap.unknown].sort().join(', ')}, which the source does not have (or which were not imported), were left as they were`);

      // the renames this commit owes
      const journal = db.prepare(`INSERT INTO import_moves (staging, target) VALUES (?, ?)`);
      const move = (staging: string, target: string): void => {
        if (!existsSync(join(this.home, staging))) return;
        if (existsSync(join(this.home, target)) && !target.endsWith('/feature-net')) fail(`${target} exists already in this lab home; nothing was imported. Move it away, then import again.`);
        journal.run(staging, target);
      };
      for (const d of this.datasets) {
        if (newDatasetPath.has(d.id)) move(`${this.datasetStage}/d${d.id}`, newDatasetPath.get(d.id) as string);
        const fn = plan.featureNets.get(d.id);
        if (fn) move(`${this.datasetStage}/fn${d.id}`, fn);
      }
      for (const r of this.runs) if (isNew(plan.runs.get(r.id))) move(`${this.runStage}/${r.id}`, `runs/${runMap.get(r.id) as number}`);
      report.files = this.files;
      this.hooks.beforeCommit?.();
      // IMMEDIATE: the write lock first (waiting out the app's writes), so the plan read above is still true when the rows go in
    }).immediate();
    return report;
  }

  private rewriteJsonFile(file: string, remap: Remap): void {
    const text = readFileSync(file, 'utf8');
    let parsed: JsonValue;
    try {
      parsed = JSON.parse(text) as JsonValue;
    } catch {
      return;
    }
    const out = remap.json(parsed);
    const indent = /^[[{]\s*\n(\s+)/.exec(text)?.[1] ?? '';
    const next = JSON.stringify(out, null, indent || undefined);
    if (next !== JSON.stringify(parsed, null, indent || undefined)) writeFileSync(file, next);
  }

  /** `<folder>` if nothing here uses it, else `<folder>-imported[-n]`. */
  private freeDatasetFolder(folder: string): string {
    const used = (p: string): boolean => existsSync(join(this.home, p)) || this.db.prepare(`SELECT 1 FROM datasets WHERE path = ?`).get(p) !== undefined;
    for (let i = 1; ; i++) {
      const p = `datasets/${i === 1 ? folder : i === 2 ? `${folder}-imported` : `${folder}-imported-${i - 1}`}`;
      if (!used(p)) return p;
    }
  }

  /** The source's name, or "<name> (imported from <folder>)" when a different dataset here has it. */
  private freeDatasetName(name: string): string {
    const taken = (n: string): boolean => this.db.prepare(`SELECT 1 FROM datasets WHERE name = ?`).get(n) !== undefined;
    if (!taken(name)) return name;
    const b = basename(this.src.home);
    const label = b.startsWith('.') ? `${basename(dirname(this.src.home))}/${b}` : b;
    for (let i = 1; ; i++) {
      const n = `${name} (imported from ${label}${i === 1 ? '' : ` ${i}`})`;
      if (!taken(n)) return n;
    }
  }
}

function planKey(p: Plan): string {
  const m = (x: Map<number, unknown>): unknown[] => [...x.entries()].sort((a, b) => a[0] - b[0]);
  return JSON.stringify([m(p.datasets), m(p.runs), m(p.sweeps), m(p.skipped), m(p.featureNets)]);
}

/**
 * Merges the lab home `source` into `home` (whose database `repo` holds): see the top of this file.
 * Reads the source only; never queues anything here.
 */
export function importLab(repo: Repo, home: string, source: string, opts: ImportOptions = {}): ImportReport {
  const src = openSource(home, source, opts.nativeBinding);
  try {
    const lock = acquireImportLock(home);
    if ('heldBy' in lock) fail(`another toklab import into ${home} is running (pid ${lock.heldBy}); wait for it to finish, then import again.`);
    try {
      const notes = finishPendingImports(repo, home, opts.hooks);
      removeStaleStaging(repo.db, home);
      const report = new Importer(repo, resolve(home), src, opts.hooks ?? {}, opts.only).run();
      report.warnings.unshift(...notes);
      return report;
    } finally {
      lock.release();
    }
  } finally {
    closeSource(src);
  }
}
