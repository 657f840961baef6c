// Cross-run analysis in the host: pFID sweeps (a grid expanded into evaluation jobs) and the
// correlation of tokenizer scores with gFID at one protocol per side (METHOD §3, §6), with every
// run left out and why; refused when extractor ids differ.
import { randomBytes } from 'node:crypto';
import { lstatSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { correlateAll, FEW_POINTS, shownInterval } from '../../engine/metrics/correlation';
import type { Protocol } from '../../engine/metrics/provenance';
import { describeField, describeProtocol, protocolDiff, protocolFamily, protocolKey, protocolOf } from '../../engine/metrics/provenance';
import type { CorrelationExclusion, CorrelationProtocol, CorrelationRequest, CorrelationResult, CorrelationSide, JsonObject, RunSummary, Score, ScoreRow, Sweep, SweepSpec } from '../../preload/contract';
import type { Repo } from './store/repo';

const TOKENIZER_KINDS = new Set(['tokenizer', 'post-train', 'external-tokenizer']);

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
    ...(spec.dataset !== undefined && spec.dataset !== null && spec.dataset !== '' ? { dataset: spec.dataset } : {}),
    ...(spec.extractor !== undefined && spec.extractor !== null ? { extractor: spec.extractor } : {}),
  };
}

/** Progress and ETA of a sweep from its runs' own progress (queued runs count their full grid). */
export function sweepOf(row: { id: number; name: string; spec: JsonObject; createdAt: string }, runs: RunSummary[]): Sweep {
  const cells = ((row.spec.alphas as number[])?.length ?? 0) * ((row.spec.deltas as number[])?.length ?? 0) + 1;
  let done = 0;
  let total = 0;
  // each run counts its grid (cells + rFID), whatever unit its own progress is in (evaluations report images)
  for (const r of runs) {
    total += cells;
    const p = r.progress;
    done += r.status === 'done' ? cells : p && p.total > 0 ? cells * Math.min(1, p.done / p.total) : 0;
  }
  const started = runs.map((r) => r.startedAt).filter((s): s is string => !!s).sort()[0];
  const elapsed = started ? (Date.now() - Date.parse(started)) / 1000 : 0;
  const etaSeconds = done > 0 && done < total ? (elapsed / done) * (total - done) : done >= total ? 0 : null;
  const open = runs.some((r) => r.status === 'queued' || r.status === 'running');
  const allDone = runs.length > 0 && runs.every((r) => r.status === 'done');
  return { ...row, status: allDone ? 'done' : open ? 'running' : 'partial', runs, progress: { done, total, etaSeconds } };
}

const isGen = (metric: string): boolean => metric.startsWith('gen/');

interface SidePick {
  side: CorrelationSide;
  options: CorrelationProtocol[];
  /** The score used per tokenizer. */
  byTokenizer: Map<number, ScoreRow>;
  /** Tokenizers with at least one candidate score of this metric (before the protocol choice). */
  hadScores: Set<number>;
}

/**
 * Pairs one x score and one y score per tokenizer and correlates them. Only the requested tokenizer
 * runs and score runs take part; gen/* scores only of the requested arch and CFG scale; and per side
 * only scores at one protocol (the requested one, else the one shared by the most tokenizers, ties:
 * newest), the newest if several runs match. Everything left out is listed with its reason.
 */
/**
 * Older pFID rows do not record whether δ was given in codes or as a share of K; the eval run's
 * config (its spec as queued) does, and the protocol compares δ the way the grid gave it. Returns a
 * mapper that fills it in (each run's config read once), for every place that keys scores by protocol.
 */
export function withDeltaMode(repo: Repo): <S extends Pick<Score, 'metric' | 'runId' | 'provenance'>>(s: S) => S {
  const modes = new Map<number, string | null>();
  return (s) => {
    if (protocolFamily(s.metric) !== 'pfid-grid' && protocolFamily(s.metric) !== 'pfid-cell') return s;
    if (typeof s.provenance.deltaMode === 'string') return s;
    if (!modes.has(s.runId)) {
      let mode: string | null = null;
      try {
        const m = repo.runExtras(s.runId).config.deltaMode;
        mode = typeof m === 'string' ? m : null;
      } catch {
        // no config: the mode stays unknown
      }
      modes.set(s.runId, mode);
    }
    const mode = modes.get(s.runId);
    return mode ? { ...s, provenance: { ...s.provenance, deltaMode: mode } } : s;
  };
}

export function correlateScores(repo: Repo, req: CorrelationRequest): CorrelationResult {
  for (const m of [req.x, req.y]) {
    if (!isGen(m)) continue;
    if (!req.arch) throw new Error(`arch: ${m} is computed per generator architecture; choose 'raster' or 'rar' (the two are never mixed in one correlation).`);
    if (req.cfgScale === undefined) throw new Error(`cfgScale: ${m} is computed per CFG setting; give the CFG scale to correlate (0 = without CFG).`);
  }
  const tokenizers = repo.listRuns({ limit: 10_000 }).filter((r) => TOKENIZER_KINDS.has(r.kind) && r.status === 'done');
  const finished = new Map(tokenizers.map((t) => [t.id, t]));
  let requested: Set<number> | null = null;
  if (req.runIds) {
    for (const id of req.runIds) {
      if (finished.has(id)) continue;
      let what = 'does not exist';
      try {
        const r = repo.getRun(id);
        what = `is a ${r.status} ${r.kind} run`;
      } catch {
        // keep "does not exist"
      }
      throw new Error(`runIds: run ${id} ${what}; give finished tokenizer or post-train runs.`);
    }
    requested = new Set(req.runIds);
  }
  const scoreRuns = req.scoreRunIds ? new Set(req.scoreRunIds) : null;
  const inScope = tokenizers.filter((t) => !requested || requested.has(t.id)).sort((a, b) => a.id - b.id);
  const excluded: CorrelationExclusion[] = [];
  const warnings: string[] = [];
  const outside = new Set<number>();
  const unfinished = new Set<number>();

  // A score belongs to a tokenizer when it was computed on it (eval runs), on its decoder (gFID of a
  // generator trained on it, or decoded with a post-trained decoder), or on the tokenizer run itself.
  const owner = (s: ScoreRow): number | null => {
    const p = s.provenance;
    return runIdOf(p.decoderRun) ?? runIdOf(p.tokenizerRun) ?? (TOKENIZER_KINDS.has(s.runKind) ? s.runId : s.parentId);
  };
  const withMode = withDeltaMode(repo);
  const genWhere = `for arch ${req.arch ?? '?'} at ${req.cfgScale === 0 ? 'CFG 0 (without CFG)' : `CFG ${req.cfgScale}`}`;

  const pick = (which: 'x' | 'y', metric: string, wanted: string | undefined): SidePick => {
    const candidates = new Map<number, ScoreRow[]>();
    for (const s of repo.listScores({ metric }).map(withMode)) {
      const o = owner(s);
      if (o === null) continue;
      if (requested && !requested.has(o)) {
        outside.add(o);
        continue;
      }
      if (!finished.has(o)) {
        unfinished.add(o);
        continue;
      }
      if (scoreRuns && !scoreRuns.has(s.runId)) {
        excluded.push({ tokenizerId: o, runId: s.runId, side: which, reason: `run ${s.runId}: ${metric} of tokenizer run ${o} is not from the requested score runs` });
        continue;
      }
      if (isGen(metric)) {
        const arch = s.provenance.arch;
        if (typeof arch !== 'string') {
          excluded.push({ tokenizerId: o, runId: s.runId, side: which, reason: `run ${s.runId}: ${metric} records no generator arch, so it cannot be kept apart from the other arch; re-run its eval-generator` });
          continue;
        }
        const cfg = s.provenance.cfg as { scale?: unknown } | undefined;
        if (arch !== req.arch || cfg?.scale !== req.cfgScale) continue; // another generator or CFG setting: the request chose this one
      }
      const list = candidates.get(o) ?? [];
      list.push(s);
      candidates.set(o, list);
    }
    const groups = new Map<string, { protocol: Protocol; tokenizers: Set<number>; newest: number }>();
    for (const [o, list] of candidates) {
      for (const s of list) {
        const protocol = protocolOf(metric, s.provenance);
        const key = protocolKey(protocol);
        const g = groups.get(key) ?? { protocol, tokenizers: new Set<number>(), newest: 0 };
        g.tokenizers.add(o);
        g.newest = Math.max(g.newest, s.id);
        groups.set(key, g);
      }
    }
    const options: CorrelationProtocol[] = [...groups.entries()]
      .map(([key, g]) => ({ key, description: describeProtocol(g.protocol), protocol: g.protocol as JsonObject, tokenizers: g.tokenizers.size, newestScoreId: g.newest }))
      .sort((a, b) => b.tokenizers - a.tokenizers || b.newestScoreId - a.newestScoreId);
    const optionList = (): string => options.map((o) => `${o.description} (${o.tokenizers} tokenizers)`).join('; ') || 'none';
    let chosen: CorrelationProtocol | undefined;
    if (wanted !== undefined) {
      chosen = options.find((o) => o.key === wanted);
      if (!chosen)
        throw new Error(`${which}Protocol: no ${metric} score of the requested runs${isGen(metric) ? ` ${genWhere}` : ''} has that protocol; available: ${optionList()}. Pick one of the listed protocols, or leave ${which}Protocol out to use the one most tokenizers share.`);
    } else {
      chosen = options[0];
      if (chosen && options.length > 1) {
        const tie = options[1].tokenizers === chosen.tokenizers ? ', the newest of a tie' : '';
        warnings.push(`${which} = ${metric}: no protocol chosen, so the one shared by the most tokenizers was used (${chosen.tokenizers} of ${candidates.size}${tie}): ${chosen.description}. ${options.length - 1} other protocol(s) are left out; their runs are listed as excluded.`);
      }
    }
    const byTokenizer = new Map<number, ScoreRow>();
    if (chosen) {
      const target = chosen.protocol as Protocol;
      for (const [o, list] of candidates) {
        const matching = list.filter((s) => protocolKey(metric, s.provenance) === chosen.key).sort((a, b) => b.id - a.id);
        if (matching.length) {
          byTokenizer.set(o, matching[0]);
          if (new Set(matching.map((s) => s.runId)).size > 1)
            warnings.push(`tokenizer run ${o}: ${matching.length} ${metric} scores at the chosen protocol (runs ${[...new Set(matching.map((s) => s.runId))].reverse().join(', ')}); the newest, from run ${matching[0].runId}, is used.`);
          for (const s of matching.slice(1))
            excluded.push({ tokenizerId: o, runId: s.runId, side: which, reason: `run ${s.runId}: an older ${metric} of tokenizer run ${o} at the chosen protocol; the newest, from run ${matching[0].runId}, is used` });
        }
        for (const s of list) {
          const diff = protocolDiff(protocolOf(metric, s.provenance), target);
          if (diff.length === 0) continue;
          excluded.push({
            tokenizerId: o,
            runId: s.runId,
            side: which,
            reason: `run ${s.runId}: ${metric} at ${diff.map((d) => describeField(d.field, d.a)).join(', ')}, the chosen protocol has ${diff.map((d) => describeField(d.field, d.b)).join(', ')}`,
          });
        }
      }
    }
    const side: CorrelationSide = { metric, key: chosen?.key ?? '', description: chosen?.description ?? 'none', chosen: wanted !== undefined ? 'requested' : 'majority' };
    return { side, options, byTokenizer, hadScores: new Set(candidates.keys()) };
  };

  const xs = pick('x', req.x, req.xProtocol);
  const ys = pick('y', req.y, req.yProtocol);
  for (const o of [...outside].sort((a, b) => a - b)) excluded.push({ tokenizerId: o, runId: o, side: null, reason: `run ${o}: not in the requested runs` });
  for (const o of [...unfinished].sort((a, b) => a - b)) excluded.push({ tokenizerId: o, runId: o, side: null, reason: `run ${o}: not a finished tokenizer run` });

  const points: CorrelationResult['points'] = [];
  const missing = (s: SidePick, which: 'x' | 'y', t: RunSummary): CorrelationExclusion => {
    const m = s.side.metric;
    const what = isGen(m) ? `no ${m} ${genWhere}` : `no ${m} score`;
    const reason = s.hadScores.has(t.id) ? `no ${m} at the chosen protocol (its other scores are listed above)` : what;
    return { tokenizerId: t.id, runId: t.id, side: which, reason: `tokenizer run ${t.id} (${t.name}): ${reason}` };
  };
  for (const t of inScope) {
    const x = xs.byTokenizer.get(t.id);
    const y = ys.byTokenizer.get(t.id);
    if (!x) excluded.push(missing(xs, 'x', t));
    if (!y) excluded.push(missing(ys, 'y', t));
    if (x && y) points.push({ tokenizerId: t.id, tokenizerName: t.name, x: x.value, y: y.value, xRunId: x.runId, yRunId: y.runId });
  }
  const ids = new Set<string>();
  let extractorAccuracy: number | null = null;
  for (const p of points)
    for (const s of [xs.byTokenizer.get(p.tokenizerId), ys.byTokenizer.get(p.tokenizerId)]) {
      if (typeof s?.provenance.extractorId === 'string') ids.add(s.provenance.extractorId);
      if (typeof s?.provenance.extractorAccuracy === 'number') extractorAccuracy = s.provenance.extractorAccuracy;
    }
  if (ids.size > 1)
    throw new Error(`cannot correlate scores from different feature extractors (ids ${[...ids].join(', ')}): recompute them with the same extractor.`);
  if (points.length < 3)
    throw new Error(
      `correlation needs at least 3 tokenizers with both scores at one protocol; found ${points.length} (${excluded.map((e) => e.reason).join('; ') || 'no tokenizer runs'}).`,
    );
  if (points.length < FEW_POINTS)
    warnings.unshift(`only ${points.length} tokenizers: a correlation over fewer than ${FEW_POINTS} is fragile (one tokenizer can move it a lot); read it with the leave-one-out bars, and add tokenizers before drawing conclusions.`);
  const all = correlateAll(points.map((p) => p.x), points.map((p) => p.y), { resamples: req.resamples ?? 2000, seed: req.seed ?? 0 });
  return {
    request: req,
    points,
    used: points.map((p) => ({ tokenizerId: p.tokenizerId, xRunId: p.xRunId, yRunId: p.yRunId })),
    extractorId: [...ids][0] ?? '',
    extractorAccuracy,
    coefficients: Object.values(all).map((c) => ({ method: c.method, r: c.r, ...shownInterval(c), level: c.level, resamples: c.resamples, loo: c.loo, looDelta: c.looDelta })),
    protocols: { x: xs.options, y: ys.options },
    chosen: { x: xs.side, y: ys.side },
    excluded,
    warnings,
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
  if (lstatSync(dir).isSymbolicLink()) throw new Error(`${dir} is a symbolic link; exports stay inside the lab home. Replace it with a folder.`);
  const file = join(dir, name);
  let data: string | Buffer = content;
  if (EXPORT_TYPES[ext] === 'base64') {
    const m = /^data:[\w/+.-]+;base64,([A-Za-z0-9+/=]+)$/.exec(content);
    if (!m) throw new Error(`export ${name}: expected a base64 data URL`);
    data = Buffer.from(m[1], 'base64');
  }
  // a fresh file renamed over the name: a symlink already at that name is replaced, never followed out of the home
  const tmp = join(dir, `.${name}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  writeFileSync(tmp, data, { flag: 'wx' });
  renameSync(tmp, file);
  return file;
}
