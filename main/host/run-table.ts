// The Runs tracker's host side: rows with config and score columns, compare, dependents and delete.
// A row's scores are its own and those of its evaluation children (an eval run's rFID shows on its
// tokenizer's row), each with the protocol it was computed at, so the table never silently lines up
// numbers computed differently.
import { existsSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describeProtocol, protocolDiff, protocolKey, protocolOf } from '../../engine/metrics/provenance';
import type { JsonObject, JsonValue } from '../../engine/protocol';
import type { Artifact, DeleteRequest, DeleteResult, RowScore, RunComparison, RunQuery, RunRow, RunSummary, Score, ScoreComparison } from '../../preload/contract';
import { withDeltaMode } from './analysis';
import type { Repo } from './store/repo';

/** Child kinds whose scores describe their parent (the tokenizer of an eval, the generator of a gFID run). */
const SCORE_CHILD_KINDS = new Set(['eval', 'sample']);

/** Dot keys for nested objects; arrays and scalars are leaves (arrays as JSON text keep a column sortable as text). */
export function flattenConfig(o: JsonObject, prefix = '', out: Record<string, JsonValue> = {}): Record<string, JsonValue> {
  for (const [k, v] of Object.entries(o)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenConfig(v, key, out);
    else out[key] = Array.isArray(v) ? JSON.stringify(v) : v;
  }
  return out;
}

/**
 * The column a score goes in: its metric, plus the CFG scale for generation scores (a generator has
 * one gFID per guidance setting) and the cell for single pFID cells.
 */
export function scoreColumn(s: Pick<Score, 'metric' | 'provenance'>): string {
  const p = s.provenance as Record<string, unknown>;
  if (s.metric.startsWith('gen/')) {
    const cfg = p.cfg as { scale?: unknown } | undefined;
    const scale = typeof cfg?.scale === 'number' ? cfg.scale : null;
    return scale === null ? s.metric : `${s.metric} @cfg ${scale}`;
  }
  if (s.metric === 'eval/pfid' || s.metric === 'eval/pkid') {
    const delta = p.deltaMode === 'share' && typeof p.deltaShare === 'number' ? `${+(p.deltaShare * 100).toFixed(3)}%` : p.deltaAbs;
    return `${s.metric} α ${String(p.alpha)} δ ${String(delta)}`;
  }
  return s.metric;
}

function rowScore(s: Score): RowScore {
  const protocol = protocolOf(s.metric, s.provenance as Record<string, unknown>);
  return { value: s.value, scoreId: s.id, runId: s.runId, protocolKey: protocolKey(protocol), protocol: describeProtocol(protocol) };
}

interface RawRun {
  id: number;
  kind: string;
  config: string;
  notes: string;
  parent_id: number | null;
  dataset_id: number | null;
}

/** A string value of a config that names a run folder: `"runs/12"` or `"runs/12/tokens"`. */
const RUN_FOLDER = /"runs\/(\d+)(?=[/"])/g;

/**
 * Every run of the lab with its direct dependents, read in one pass: children, runs whose config names
 * its folder (a generator's token cache, an eval's tokenizer …), queued jobs waiting for it, and runs on
 * a dataset it built.
 */
class RunIndex {
  readonly runs = new Map<number, RawRun>();
  private readonly dependents = new Map<number, Set<number>>();

  constructor(repo: Repo) {
    const rows = repo.db.prepare(`SELECT id, kind, config, notes, parent_id, dataset_id FROM runs`).all() as RawRun[];
    const add = (of: number, dep: number): void => {
      if (of === dep) return;
      const set = this.dependents.get(of) ?? new Set<number>();
      set.add(dep);
      this.dependents.set(of, set);
    };
    const builtBy = new Map((repo.db.prepare(`SELECT id, run_id FROM datasets WHERE run_id IS NOT NULL`).all() as { id: number; run_id: number }[]).map((d) => [d.id, d.run_id]));
    for (const r of rows) {
      this.runs.set(r.id, r);
      if (r.parent_id !== null) add(r.parent_id, r.id);
      for (const m of r.config.matchAll(RUN_FOLDER)) add(Number(m[1]), r.id);
      const builder = r.dataset_id !== null ? builtBy.get(r.dataset_id) : undefined;
      if (builder !== undefined) add(builder, r.id);
    }
    const waiting = repo.db.prepare(`SELECT DISTINCT d.run_id AS of, j.run_id AS dep FROM job_deps d JOIN jobs j ON j.id = d.job_id WHERE j.status != 'finished'`).all() as { of: number; dep: number }[];
    for (const w of waiting) add(w.of, w.dep);
  }

  direct(id: number): number[] {
    return [...(this.dependents.get(id) ?? [])];
  }

  /** A score of a child run (eval, sample) also describes its parent: the runs a score shows on. */
  owners(runId: number): number[] {
    const r = this.runs.get(runId);
    return r && r.parent_id !== null && SCORE_CHILD_KINDS.has(r.kind) ? [runId, r.parent_id] : [runId];
  }
}

/** Tracker rows for these runs: flattened config, the newest score per column (own and children's), last metric values. */
function rowsFor(repo: Repo, runs: RunSummary[], index: RunIndex): RunRow[] {
  const ids = new Set(runs.map((r) => r.id));
  const scoresByRun = new Map<number, (RowScore & { column: string })[]>();
  const withMode = withDeltaMode(repo);
  for (const s of repo.listScores({}).map(withMode)) {
    const owners = index.owners(s.runId).filter((o) => ids.has(o));
    if (owners.length === 0) continue;
    const entry = { ...rowScore(s), column: scoreColumn(s) };
    for (const o of owners) {
      const list = scoresByRun.get(o) ?? [];
      list.push(entry);
      scoresByRun.set(o, list);
    }
  }
  const last = new Map<number, Record<string, number>>();
  const lastRows = repo.db
    .prepare(
      `SELECT m.run_id, m.name, m.value FROM metrics m JOIN (SELECT run_id, name, MAX(step) AS step FROM metrics GROUP BY run_id, name) x
         ON x.run_id = m.run_id AND x.name = m.name AND x.step = m.step WHERE m.value IS NOT NULL`,
    )
    .all() as { run_id: number; name: string; value: number }[];
  for (const r of lastRows) if (ids.has(r.run_id)) last.set(r.run_id, { ...(last.get(r.run_id) ?? {}), [r.name]: r.value });
  return runs.map((run) => {
    const r = index.runs.get(run.id);
    const scores: Record<string, RowScore> = {};
    for (const { column, ...rest } of scoresByRun.get(run.id) ?? []) {
      const prev = scores[column];
      if (!prev || rest.scoreId > prev.scoreId) scores[column] = rest;
    }
    return {
      ...run,
      notes: r?.notes ?? '',
      config: r ? flattenConfig(JSON.parse(r.config) as JsonObject) : {},
      scores,
      last: last.get(run.id) ?? {},
      dependents: index.direct(run.id).length,
    };
  });
}

export function listRunRows(repo: Repo, q: RunQuery): RunRow[] {
  const runs = repo.listRuns(q);
  return runs.length === 0 ? [] : rowsFor(repo, runs, new RunIndex(repo));
}

export function compareRuns(repo: Repo, ids: number[]): RunComparison {
  const unique = [...new Set(ids)];
  if (unique.length < 2) throw new Error('Compare needs at least two different runs.');
  const index = new RunIndex(repo);
  // getRun names a missing id
  const rows = rowsFor(repo, unique.map((id) => repo.getRun(id)), index);

  const keys = [...new Set(rows.flatMap((r) => Object.keys(r.config)))].sort();
  const configDiff: RunComparison['configDiff'] = [];
  let sameKeys = 0;
  for (const key of keys) {
    const values = rows.map((r) => (key in r.config ? r.config[key] : null));
    if (values.every((v) => JSON.stringify(v) === JSON.stringify(values[0]))) sameKeys++;
    else configDiff.push({ key, values });
  }

  // every score of every run (own + eval children), grouped by column and protocol
  const scoreRows = repo.listScores({}).map(withDeltaMode(repo));
  const owner = (runId: number): number[] => index.owners(runId).filter((o) => unique.includes(o));
  // column → protocolKey → run index → newest score
  const grid = new Map<string, Map<string, Map<number, Score>>>();
  for (const s of scoreRows) {
    for (const o of owner(s.runId)) {
      const col = scoreColumn(s);
      const key = protocolKey(s.metric, s.provenance as Record<string, unknown>);
      const byKey = grid.get(col) ?? new Map<string, Map<number, Score>>();
      const byRun = byKey.get(key) ?? new Map<number, Score>();
      const i = unique.indexOf(o);
      const prev = byRun.get(i);
      if (!prev || s.id > prev.id) byRun.set(i, s);
      byKey.set(key, byRun);
      grid.set(col, byKey);
    }
  }
  const scores: ScoreComparison[] = [];
  const mismatches: RunComparison['mismatches'] = [];
  for (const [column, byKey] of [...grid.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    const shared = [...byKey.entries()].filter(([, byRun]) => byRun.size >= 2).sort(([, a], [, b]) => b.size - a.size);
    for (const [key, byRun] of shared) {
      const values = unique.map((_, i) => byRun.get(i)?.value ?? null);
      const first = values[0];
      const any = [...byRun.values()][0];
      scores.push({
        metric: column,
        values,
        deltas: values.map((v) => (v === null || first === null ? null : v - first)),
        protocolKey: key,
        protocol: describeProtocol(protocolOf(any.metric, any.provenance as Record<string, unknown>)),
      });
    }
    // runs that have this column only at a protocol no other compared run shares
    const covered = new Set(shared.flatMap(([, byRun]) => [...byRun.keys()]));
    const lonely = [...byKey.values()].flatMap((byRun) => [...byRun.entries()]).filter(([i]) => !covered.has(i));
    if (byKey.size > 1 && (lonely.length > 0 || shared.length === 0)) {
      const entries = [...byKey.values()].flatMap((byRun) => [...byRun.entries()]);
      const [ia, sa] = entries[0];
      const other = entries.find(([i, s]) => i !== ia && protocolKey(s.metric, s.provenance as Record<string, unknown>) !== protocolKey(sa.metric, sa.provenance as Record<string, unknown>));
      if (other) {
        const [ib, sb] = other;
        const diff = protocolDiff(protocolOf(sa.metric, sa.provenance as Record<string, unknown>), protocolOf(sb.metric, sb.provenance as Record<string, unknown>));
        const text = diff.map((d) => `${d.field} ${JSON.stringify(d.a ?? null)} vs ${JSON.stringify(d.b ?? null)}`).join(', ');
        mismatches.push({ metric: column, reason: `run ${unique[ia]} and run ${unique[ib]} computed ${column} differently (${text}); their values are not compared` });
      }
    }
  }

  const images = unique.map((id) => {
    const children = [...index.runs.values()].filter((c) => c.parent_id === id && SCORE_CHILD_KINDS.has(c.kind));
    const arts: Artifact[] = [...repo.artifacts(id), ...children.flatMap((c) => repo.artifacts(c.id))].filter((a) => a.path.endsWith('.png'));
    return { runId: id, artifacts: arts };
  });
  return { runs: rows, configDiff, sameKeys, scores, mismatches, images };
}

/** Every run a cascading delete would take, dependents before what they depend on (the run itself last). */
function deletionOrder(repo: Repo, id: number): number[] {
  const index = new RunIndex(repo);
  const order: number[] = [];
  const seen = new Set<number>();
  const visit = (x: number): void => {
    if (seen.has(x)) return;
    seen.add(x);
    for (const d of index.direct(x)) visit(d);
    order.push(x);
  };
  visit(id);
  return order;
}

export function runDependents(repo: Repo, id: number): RunSummary[] {
  repo.getRun(id);
  return deletionOrder(repo, id)
    .filter((x) => x !== id)
    .map((x) => repo.getRun(x));
}

/** A run folder moved aside before its rows go: a failed transaction moves it back, a crash after commit leaves a `.deleted-*` folder that the next delete or start clears. */
const TRASH_PREFIX = '.deleted-';

export function clearDeletedFolders(home: string): void {
  const dir = join(home, 'runs');
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) if (name.startsWith(TRASH_PREFIX)) rmSync(join(dir, name), { recursive: true, force: true });
}

export function deleteRun(repo: Repo, home: string, id: number, req: DeleteRequest): DeleteResult {
  const run = repo.getRun(id);
  const order = deletionOrder(repo, id);
  const dependents = order.filter((x) => x !== id).map((x) => repo.getRun(x));
  if (dependents.length > 0 && !req.cascade) {
    const list = dependents.slice(0, 8).map((d) => `${d.id} (${d.kind} "${d.name}")`).join(', ');
    throw new Error(
      `Run ${id} has ${dependents.length} dependent run${dependents.length === 1 ? '' : 's'}: ${list}${dependents.length > 8 ? ', …' : ''}. ` +
        'Delete them first, or delete with cascade (`toklab runs delete --cascade`) to remove them too.',
    );
  }
  const busyError = (ids: number[]): Error => new Error(`Run ${ids.join(', ')} is running; cancel it first (the Cancel button, or Ctrl-C in the toklab that runs it), then delete.`);
  const busy = [run, ...dependents].filter((r) => r.status === 'running');
  if (busy.length > 0) throw busyError(busy.map((r) => r.id));

  const datasets = order.flatMap((x) => repo.db.prepare(`SELECT id, path FROM datasets WHERE run_id = ?`).all(x) as { id: number; path: string }[]);
  const moved: { from: string; to: string }[] = [];
  const stash = (rel: string): void => {
    const from = join(home, rel);
    if (!existsSync(from)) return;
    const to = join(home, 'runs', `${TRASH_PREFIX}${rel.replace(/[/\\]/g, '_')}-${process.pid}-${Date.now()}`);
    renameSync(from, to);
    moved.push({ from, to });
  };
  try {
    for (const x of order) stash(`runs/${x}`);
    for (const d of datasets) stash(d.path);
    repo.db.transaction(() => {
      const ph = order.map(() => '?').join(',');
      // another toklab may have started one of them since the check above
      const started = (repo.db.prepare(`SELECT id FROM runs WHERE id IN (${ph}) AND status = 'running'`).all(...order) as { id: number }[]).map((r) => r.id);
      if (started.length > 0) throw busyError(started);
      // study steps, tags, metrics, scores, artifacts and jobs go with their run (ON DELETE CASCADE);
      // sweeps keep their spec; a dataset built by a deleted run goes with it
      repo.db.prepare(`UPDATE datasets SET run_id = NULL WHERE run_id IN (${ph})`).run(...order);
      for (const x of order) repo.db.prepare(`DELETE FROM runs WHERE id = ?`).run(x);
      for (const d of datasets) repo.db.prepare(`DELETE FROM datasets WHERE id = ?`).run(d.id);
      repo.raiseIdFloor('runs', Math.max(...order));
      if (datasets.length) repo.raiseIdFloor('datasets', Math.max(...datasets.map((d) => d.id)));
    })();
  } catch (e) {
    for (const m of moved.reverse()) if (existsSync(m.to)) renameSync(m.to, m.from);
    throw e;
  }
  for (const m of moved) rmSync(m.to, { recursive: true, force: true });
  return { deleted: order, folders: moved.map((m) => m.from) };
}
