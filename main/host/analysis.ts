// Cross-run analysis in the host: pFID sweeps (a grid expanded into evaluation jobs) and the
// correlation of tokenizer scores with gFID, refused when extractor ids differ.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { correlateAll } from '../../engine/metrics/correlation';
import type { CorrelationRequest, CorrelationResult, JsonObject, RunSummary, ScoreRow, Sweep, SweepSpec } from '../../preload/contract';
import type { Repo } from './store/repo';

const TOKENIZER_KINDS = new Set(['tokenizer', 'post-train']);

/** `runs/12` → 12. */
const runIdOf = (v: unknown): number | null => {
  const m = typeof v === 'string' ? /(?:^|\/)runs\/(\d+)$/.exec(v) : null;
  return m ? Number(m[1]) : null;
};

export function validateSweepSpec(repo: Repo, spec: SweepSpec): SweepSpec {
  if (!Array.isArray(spec.tokenizers) || spec.tokenizers.length === 0) throw new Error('tokenizers: pick at least one finished tokenizer run.');
  for (const id of spec.tokenizers) {
    const r = repo.getRun(id);
    if (!TOKENIZER_KINDS.has(r.kind) || r.status !== 'done') throw new Error(`tokenizers: run ${id} is a ${r.status} ${r.kind} run; pick finished tokenizer runs.`);
  }
  const list = (xs: unknown, what: string, ok: (x: number) => boolean, hint: string): number[] => {
    if (!Array.isArray(xs) || xs.length === 0 || xs.length > 20 || !xs.every((x) => typeof x === 'number' && ok(x))) throw new Error(`${what}: ${hint}`);
    return xs as number[];
  };
  const mode = spec.deltaMode;
  if (mode !== 'share' && mode !== 'abs') throw new Error("deltaMode: use 'share' (of K) or 'abs' (codes).");
  return {
    name: spec.name,
    tokenizers: spec.tokenizers,
    alphas: list(spec.alphas, 'alphas', (a) => a >= 0 && a <= 1, 'give 1–20 values in [0, 1].'),
    deltas: list(spec.deltas, 'deltas', mode === 'share' ? (d) => d > 0 && d <= 1 : (d) => Number.isInteger(d) && d >= 1, mode === 'share' ? 'give 1–20 shares of K in (0, 1].' : 'give 1–20 whole numbers of codes ≥ 1.'),
    deltaMode: mode,
    n: spec.n ?? 0,
    seed: spec.seed ?? 0,
  };
}

/** Progress and ETA of a sweep from its runs' own progress (queued runs count their full grid). */
export function sweepOf(row: { id: number; name: string; spec: JsonObject; createdAt: string }, runs: RunSummary[]): Sweep {
  const cells = ((row.spec.alphas as number[])?.length ?? 0) * ((row.spec.deltas as number[])?.length ?? 0) + 1;
  let done = 0;
  let total = 0;
  for (const r of runs) {
    const t = r.progress?.total ?? cells;
    total += t;
    done += r.status === 'done' ? t : Math.min(t, r.progress?.done ?? 0);
  }
  const started = runs.map((r) => r.startedAt).filter((s): s is string => !!s).sort()[0];
  const elapsed = started ? (Date.now() - Date.parse(started)) / 1000 : 0;
  const etaSeconds = done > 0 && done < total ? (elapsed / done) * (total - done) : done >= total ? 0 : null;
  const open = runs.some((r) => r.status === 'queued' || r.status === 'running');
  const allDone = runs.length > 0 && runs.every((r) => r.status === 'done');
  return { ...row, status: allDone ? 'done' : open ? 'running' : 'partial', runs, progress: { done, total, etaSeconds } };
}

/** Pairs one x score and one y score per tokenizer and correlates them. */
export function correlateScores(repo: Repo, req: CorrelationRequest): CorrelationResult {
  const tokenizers = repo.listRuns({ limit: 10_000 }).filter((r) => TOKENIZER_KINDS.has(r.kind) && r.status === 'done');
  const latest = (rows: ScoreRow[], owner: (s: ScoreRow) => number | null): Map<number, ScoreRow> => {
    const m = new Map<number, ScoreRow>();
    for (const s of rows) {
      const o = owner(s);
      if (o !== null) m.set(o, s);
    }
    return m;
  };
  // A score belongs to a tokenizer when it was computed on it (eval runs), on its decoder (gFID of a
  // generator trained on it, or decoded with a post-trained decoder), or on the tokenizer run itself.
  const owner = (s: ScoreRow): number | null => {
    const p = s.provenance;
    return runIdOf(p.decoderRun) ?? runIdOf(p.tokenizerRun) ?? (TOKENIZER_KINDS.has(s.runKind) ? s.runId : s.parentId);
  };
  const genFilter = (s: ScoreRow): boolean => {
    const cfg = s.provenance.cfg as { scale?: number } | undefined;
    if (req.cfgScale !== undefined && cfg && (cfg.scale ?? 0) !== req.cfgScale) return false;
    if (req.arch && s.provenance.arch !== undefined && s.provenance.arch !== req.arch) return false;
    return true;
  };
  const xs = latest(repo.listScores({ metric: req.x }).filter(genFilter), owner);
  const ys = latest(repo.listScores({ metric: req.y }).filter(genFilter), owner);
  const points: CorrelationResult['points'] = [];
  const skipped: CorrelationResult['skipped'] = [];
  for (const t of tokenizers.sort((a, b) => a.id - b.id)) {
    const x = xs.get(t.id);
    const y = ys.get(t.id);
    if (!x || !y) {
      skipped.push({ tokenizerId: t.id, reason: !x ? `no ${req.x} score` : `no ${req.y} score${req.cfgScale !== undefined ? ` at CFG ${req.cfgScale}` : ''}` });
      continue;
    }
    points.push({ tokenizerId: t.id, tokenizerName: t.name, x: x.value, y: y.value, xRunId: x.runId, yRunId: y.runId });
  }
  const ids = new Set<string>();
  for (const p of points) for (const s of [xs.get(p.tokenizerId), ys.get(p.tokenizerId)]) if (typeof s?.provenance.extractorId === 'string') ids.add(s.provenance.extractorId);
  if (ids.size > 1)
    throw new Error(`cannot correlate scores from different feature extractors (ids ${[...ids].join(', ')}): recompute them with the same extractor.`);
  if (points.length < 3) throw new Error(`correlation needs at least 3 tokenizers with both scores; found ${points.length} (${skipped.map((s) => `run ${s.tokenizerId}: ${s.reason}`).join('; ') || 'no tokenizer runs'}).`);
  const all = correlateAll(points.map((p) => p.x), points.map((p) => p.y), { resamples: req.resamples ?? 2000, seed: req.seed ?? 0 });
  return {
    request: req,
    points,
    extractorId: [...ids][0] ?? '',
    coefficients: Object.values(all).map((c) => ({ method: c.method, r: c.r, ci: c.ci, level: c.level, resamples: c.resamples, loo: c.loo, looDelta: c.looDelta })),
    skipped,
  };
}

const EXPORT_TYPES: Record<string, 'base64' | 'text'> = { png: 'base64', pdf: 'base64', svg: 'text', csv: 'text', json: 'text', tex: 'text', txt: 'text' };

/** Writes an export under <home>/exports/; `content` is a data URL for binary types. */
export function writeExport(home: string, name: string, content: string): string {
  const ext = /\.([a-z]+)$/.exec(name)?.[1] ?? '';
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,120}$/.test(name) || !(ext in EXPORT_TYPES))
    throw new Error(`export name "${name}": use letters, digits, . _ - and one of .${Object.keys(EXPORT_TYPES).join(' .')}`);
  const dir = join(home, 'exports');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, name);
  if (EXPORT_TYPES[ext] === 'base64') {
    const m = /^data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)$/.exec(content);
    if (!m) throw new Error(`export ${name}: expected a base64 data URL`);
    writeFileSync(file, Buffer.from(m[1], 'base64'));
  } else writeFileSync(file, content);
  return file;
}
