// The Runs tracker's columns: which exist (run fields, flattened config keys, scores, last metric
// values), the defaults per kind, cell values, sorting with missing values last, free-text search,
// filters, grouping, and the majority protocol of a score column. Pure, so it is tested without a
// browser (test/main/renderer-run-columns.test.ts).
import type { Dataset, JsonValue, RowScore, RunKind, RunRow, RunStatus } from '../../../preload/contract';
import { presetK } from './lp';

export type ColumnGroup = 'run' | 'config' | 'score' | 'metric';

export interface ColumnDef {
  /** `id`, `name`, … for run fields; `config:<dot key>`, `score:<metric>`, `last:<series>`; `K` (derived). */
  id: string;
  label: string;
  /** Tooltip of the header: the full key. */
  title: string;
  group: ColumnGroup;
  /** Right-aligned, sorted as numbers. */
  numeric: boolean;
}

export type CellValue = string | number | null;

/** What a cell needs besides its row: names of datasets and runs for the dataset/parent columns. */
export interface ColumnContext {
  datasets: Map<number, string>;
  runNames: Map<number, string>;
}

export const RUN_COLUMNS: ColumnDef[] = [
  { id: 'id', label: 'id', title: 'run id', group: 'run', numeric: true },
  { id: 'kind', label: 'kind', title: 'kind of run', group: 'run', numeric: false },
  { id: 'name', label: 'name', title: 'run name', group: 'run', numeric: false },
  { id: 'status', label: 'status', title: 'status', group: 'run', numeric: false },
  { id: 'progress', label: 'progress', title: 'progress, rate and ETA', group: 'run', numeric: false },
  { id: 'dataset', label: 'dataset', title: 'dataset', group: 'run', numeric: false },
  { id: 'parent', label: 'parent', title: 'parent run (the tokenizer of an evaluation, …)', group: 'run', numeric: false },
  { id: 'seed', label: 'seed', title: 'seed', group: 'run', numeric: true },
  { id: 'backend', label: 'backend', title: 'engine backend', group: 'run', numeric: false },
  { id: 'created', label: 'created', title: 'created at', group: 'run', numeric: false },
  { id: 'duration', label: 'duration', title: 'started → finished (or now), seconds', group: 'run', numeric: true },
  { id: 'tags', label: 'tags', title: 'tags', group: 'run', numeric: false },
  { id: 'notes', label: 'notes', title: 'notes', group: 'run', numeric: false },
  { id: 'dependents', label: 'dependents', title: 'runs that depend on this one', group: 'run', numeric: true },
];

/** Derived: the codebook size from `overrides.K`, else from the preset's name. */
const K_COLUMN: ColumnDef = { id: 'K', label: 'K', title: 'codebook size (overrides.K, else the preset’s)', group: 'config', numeric: true };

const CONFIG_LABELS: Record<string, string> = {
  'lp.alpha': 'LP α',
  'lp.beta': 'LP β',
  'lp.delta': 'LP δ',
  'lp.deltaMode': 'LP δ mode',
  'overrides.K': 'K (override)',
  'model.D': 'D',
  'model.grid': 'token grid',
  'extractor.id': 'extractor id',
  'extractor.featureDim': 'features',
  batchSize: 'batch',
};

const SCORE_LABELS: Record<string, string> = {
  'tokenizer/psnr': 'PSNR',
  'tokenizer/ssim': 'SSIM',
  'tokenizer/usage': 'usage',
  'tokenizer/perplexity': 'perplexity',
  'eval/rfid': 'rFID',
  'eval/rkid': 'rKID',
  'eval/pfid_mean': 'pFID mean',
  'eval/pfid': 'pFID',
  'eval/pkid': 'pKID',
  'eval/perplexity': 'perplexity (eval)',
  'eval/recon_acc': 'recon acc (eval)',
  'eval/psnr': 'PSNR (eval)',
  'eval/ssim': 'SSIM (eval)',
  'eval/usage': 'usage (eval)',
  'gen/gfid': 'gFID',
  'gen/gkid': 'gKID',
  'gen/is': 'IS',
  'gen/precision': 'precision',
  'gen/recall': 'recall',
};

/**
 * The metric of a score column. The host keys a row's scores by column, which is the metric plus
 * what splits it further: `gen/gfid @cfg 1.5` (one gFID per guidance scale), `eval/pfid α 0.5 δ 4`.
 */
export const scoreBase = (column: string): string => column.split(' ')[0];

/** "gen/gfid @cfg 1.5" → "gFID @cfg 1.5". */
export function scoreLabel(column: string): string {
  const base = scoreBase(column);
  const rest = column.slice(base.length);
  return `${SCORE_LABELS[base] ?? base}${rest}`;
}

const DEFAULTS: Record<'all' | 'tokenizer' | 'generator' | 'external-tokenizer' | 'extractor', string[]> = {
  tokenizer: ['id', 'name', 'status', 'progress', 'config:preset', 'K', 'config:lp.alpha', 'config:lp.beta', 'config:epochs', 'score:tokenizer/psnr', 'score:eval/rfid', 'score:eval/pfid_mean', 'tags'],
  generator: ['id', 'name', 'status', 'progress', 'config:arch', 'config:preset', 'config:epochs', 'parent', 'score:gen/gfid', 'tags'],
  // imported ONNX tokenizers: no training, so no preset, LP or PSNR; the import's options and the evaluations' scores
  'external-tokenizer': ['id', 'name', 'status', 'K', 'config:model.D', 'config:model.grid', 'config:l2', 'config:layout', 'config:range', 'score:eval/rfid', 'score:eval/pfid_mean', 'tags', 'created'],
  // ONNX feature extractors: the model and how it is fed
  extractor: ['id', 'name', 'status', 'config:extractor.id', 'config:extractor.featureDim', 'config:model', 'config:input', 'config:range', 'config:layout', 'tags', 'created'],
  all: ['id', 'kind', 'name', 'status', 'progress', 'dataset', 'parent', 'score:tokenizer/psnr', 'score:eval/rfid', 'score:eval/pfid_mean', 'score:gen/gfid', 'tags', 'created'],
};

/** The columns shown until the user picks others: per kind filter (post-train runs are tokenizers). */
export function defaultColumns(kind: RunKind | ''): string[] {
  if (kind === 'tokenizer' || kind === 'post-train') return [...DEFAULTS.tokenizer];
  if (kind === 'generator') return [...DEFAULTS.generator];
  if (kind === 'external-tokenizer' || kind === 'extractor') return [...DEFAULTS[kind]];
  return [...DEFAULTS.all];
}

export function columnFor(id: string): ColumnDef {
  const base = RUN_COLUMNS.find((c) => c.id === id);
  if (base) return base;
  if (id === 'K') return K_COLUMN;
  const [prefix, ...rest] = id.split(':');
  const key = rest.join(':');
  if (prefix === 'config') return { id, label: CONFIG_LABELS[key] ?? key, title: `config ${key}`, group: 'config', numeric: false };
  if (prefix === 'score') return { id, label: scoreLabel(key), title: `score ${key} (newest, over the run and its evaluations)`, group: 'score', numeric: true };
  if (prefix === 'last') return { id, label: `${key} (last)`, title: `last logged value of ${key}`, group: 'metric', numeric: true };
  return { id, label: id, title: id, group: 'run', numeric: false };
}

/**
 * The shown columns with a metric the rows have only split replaced by its splits: the default
 * `score:gen/gfid` becomes `score:gen/gfid @cfg 0`, `score:gen/gfid @cfg 1.5` (in that order) when
 * those are the columns on offer. A metric with no score anywhere stays (its cells show —).
 */
export function expandColumns(shown: string[], available: string[]): string[] {
  const have = new Set(available);
  const out: string[] = [];
  for (const id of shown) {
    const splits = id.startsWith('score:') && !have.has(id) ? available.filter((a) => a.startsWith('score:') && a !== id && scoreBase(a.slice(6)) === id.slice(6)) : [];
    for (const c of splits.length ? splits : [id]) if (!out.includes(c)) out.push(c);
  }
  return out;
}

/** Every column on offer for these rows (plus the defaults, so a default column never vanishes from the picker). */
export function availableColumns(rows: RunRow[], kind: RunKind | ''): ColumnDef[] {
  const config = new Set<string>();
  const scores = new Set<string>();
  const last = new Set<string>();
  for (const r of rows) {
    for (const k of Object.keys(r.config)) config.add(k);
    for (const k of Object.keys(r.scores)) scores.add(k);
    for (const k of Object.keys(r.last)) last.add(k);
  }
  for (const id of defaultColumns(kind)) {
    if (id.startsWith('config:')) config.add(id.slice(7));
    // a default metric the rows have only split (gFID per CFG scale) is offered as its splits
    if (id.startsWith('score:') && ![...scores].some((k) => scoreBase(k) === id.slice(6))) scores.add(id.slice(6));
  }
  const sorted = (s: Set<string>): string[] => [...s].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return [
    ...RUN_COLUMNS,
    K_COLUMN,
    ...sorted(config).map((k) => columnFor(`config:${k}`)),
    ...sorted(scores).map((k) => columnFor(`score:${k}`)),
    ...sorted(last).map((k) => columnFor(`last:${k}`)),
  ];
}

const jsonCell = (v: JsonValue | undefined): CellValue => {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
};

/** The codebook size: overrides.K (however the host flattened it), an imported tokenizer's model.K, else the preset's K; null for runs without any. */
export function codebookK(row: RunRow): number | null {
  const o = row.config['overrides.K'] ?? row.config.K ?? row.config['model.K'];
  if (typeof o === 'number') return o;
  const preset = row.config.preset;
  return typeof preset === 'string' ? presetK(preset) : null;
}

const seconds = (a: string | null, b: string | null, now: number): number | null => {
  if (!a) return null;
  const t0 = Date.parse(a);
  const t1 = b ? Date.parse(b) : now;
  return Number.isFinite(t0) && Number.isFinite(t1) ? Math.max(0, (t1 - t0) / 1000) : null;
};

/** The value a cell shows and sorts by (null = missing). */
export function cellValue(row: RunRow, id: string, ctx: ColumnContext, now = Date.now()): CellValue {
  switch (id) {
    case 'id': return row.id;
    case 'kind': return row.kind;
    case 'name': return row.name;
    case 'status': return row.status;
    case 'progress': return row.progress && row.progress.total > 0 ? row.progress.done / row.progress.total : null;
    case 'dataset': return row.datasetId === null ? null : (ctx.datasets.get(row.datasetId) ?? `dataset ${row.datasetId}`);
    case 'parent': return row.parentId === null ? null : `${row.parentId}: ${ctx.runNames.get(row.parentId) ?? '?'}`;
    case 'seed': return row.seed;
    case 'backend': return row.backend;
    case 'created': return row.createdAt;
    case 'duration': return seconds(row.startedAt, row.finishedAt, now);
    case 'tags': return row.tags.length ? row.tags.join(', ') : null;
    case 'notes': return row.notes ? row.notes : null;
    case 'dependents': return row.dependents;
    case 'K': return codebookK(row);
  }
  if (id.startsWith('config:')) return jsonCell(row.config[id.slice(7)]);
  if (id.startsWith('score:')) return row.scores[id.slice(6)]?.value ?? null;
  if (id.startsWith('last:')) {
    const v = row.last[id.slice(5)];
    return typeof v === 'number' && Number.isFinite(v) ? v : null;
  }
  return null;
}

export type SortDir = 'asc' | 'desc';
export interface SortSpec {
  column: string;
  dir: SortDir;
}

const missing = (v: CellValue): boolean => v === null || v === '' || (typeof v === 'number' && !Number.isFinite(v));

/**
 * Compares two cells: numbers numerically, text naturally ("run 9" before "run 10"), numbers before
 * text; missing values are not compared here (sortRows puts them last in both directions).
 */
export function compareCells(a: CellValue, b: CellValue): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'number') return -1;
  if (typeof b === 'number') return 1;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

/** Sorted copy: by the column, missing values last whatever the direction, ties by id (newest first). */
export function sortRows(rows: RunRow[], sort: SortSpec, ctx: ColumnContext, now = Date.now()): RunRow[] {
  const sign = sort.dir === 'asc' ? 1 : -1;
  const keyed = rows.map((r) => ({ r, v: cellValue(r, sort.column, ctx, now) }));
  keyed.sort((x, y) => {
    const mx = missing(x.v);
    const my = missing(y.v);
    if (mx !== my) return mx ? 1 : -1;
    const c = mx ? 0 : sign * compareCells(x.v, y.v);
    return c !== 0 ? c : y.r.id - x.r.id;
  });
  return keyed.map((k) => k.r);
}

/** The text a search looks through: name, tags, notes and config values (as the host's `search`), plus id and kind. */
export function searchText(row: RunRow): string {
  const config = Object.values(row.config).map((v) => (typeof v === 'string' ? v : JSON.stringify(v)));
  return [`#${row.id}`, row.kind, row.name, ...row.tags, row.notes, ...config].join('\n').toLowerCase();
}

/** Every whitespace-separated term must occur (case-insensitive substring); an empty query matches all. */
export function matchesSearch(row: RunRow, query: string): boolean {
  const terms = query.toLowerCase().split(/\s+/).filter(Boolean);
  if (!terms.length) return true;
  const text = searchText(row);
  return terms.every((t) => text.includes(t));
}

export interface RowFilter {
  search: string;
  kind: RunKind | '';
  status: RunStatus | '';
  datasetId: number | null;
  parentId: number | null;
}

export function filterRows(rows: RunRow[], f: RowFilter): RunRow[] {
  return rows.filter(
    (r) =>
      (!f.kind || r.kind === f.kind) &&
      (!f.status || r.status === f.status) &&
      (f.datasetId === null || r.datasetId === f.datasetId) &&
      (f.parentId === null || r.parentId === f.parentId) &&
      matchesSearch(r, f.search),
  );
}

export type GroupBy = '' | 'kind' | 'dataset' | 'tokenizer';

export interface RowGroup {
  key: string;
  label: string;
  rows: RunRow[];
}

const KIND_ORDER: RunKind[] = ['dataset', 'feature-net', 'extractor', 'tokenizer', 'post-train', 'external-tokenizer', 'tokens', 'generator', 'eval', 'sample', 'study', 'selftest'];

/** Kinds whose runs are tokenizers of their own (an evaluation's parent): trained here or imported (ONNX). */
const TOKENIZER_KINDS: readonly RunKind[] = ['tokenizer', 'external-tokenizer'];

/** The tokenizer a run belongs to: itself, else the nearest tokenizer up its parent chain (an eval's, a generator's, a gFID run's). */
export function tokenizerOf(row: RunRow, byId: Map<number, RunRow>): RunRow | null {
  const seen = new Set<number>();
  let r: RunRow | undefined = row;
  while (r && !seen.has(r.id)) {
    if (TOKENIZER_KINDS.includes(r.kind)) return r;
    seen.add(r.id);
    r = r.parentId === null ? undefined : byId.get(r.parentId);
  }
  return null;
}

/**
 * Groups in a stable order (kinds in pipeline order, datasets and tokenizers by id, the "none"
 * group last); rows keep their order within a group. `all` resolves parent chains (it may hold
 * rows the filter hides).
 */
export function groupRows(rows: RunRow[], by: GroupBy, ctx: ColumnContext, all: RunRow[] = rows): RowGroup[] {
  if (!by) return [{ key: '', label: '', rows }];
  const byId = new Map(all.map((r) => [r.id, r]));
  const groups = new Map<string, { label: string; order: number; rows: RunRow[] }>();
  for (const r of rows) {
    let key: string;
    let label: string;
    let order: number;
    if (by === 'kind') {
      key = r.kind;
      label = r.kind;
      order = KIND_ORDER.indexOf(r.kind) < 0 ? KIND_ORDER.length : KIND_ORDER.indexOf(r.kind);
    } else if (by === 'dataset') {
      key = r.datasetId === null ? 'none' : String(r.datasetId);
      label = r.datasetId === null ? 'no dataset' : `dataset ${r.datasetId}: ${ctx.datasets.get(r.datasetId) ?? '?'}`;
      order = r.datasetId ?? Number.MAX_SAFE_INTEGER;
    } else {
      const t = tokenizerOf(r, byId);
      key = t ? String(t.id) : 'none';
      label = t ? `tokenizer ${t.id}: ${t.name}` : 'no tokenizer';
      order = t ? t.id : Number.MAX_SAFE_INTEGER;
    }
    const g = groups.get(key) ?? { label, order, rows: [] };
    g.rows.push(r);
    groups.set(key, g);
  }
  return [...groups.entries()].sort((a, b) => a[1].order - b[1].order).map(([key, g]) => ({ key, label: g.label, rows: g.rows }));
}

export interface ColumnProtocol {
  /** The protocol most rows of the column share (ties: the one with the newest score). */
  key: string;
  protocol: string;
  /** Rows with a score at it / with a score at all. */
  count: number;
  total: number;
}

/** Per score metric, the protocol most of these rows' scores share: a cell at another one is marked. */
export function majorityProtocols(rows: RunRow[]): Map<string, ColumnProtocol> {
  const tally = new Map<string, Map<string, { protocol: string; count: number; newest: number }>>();
  const totals = new Map<string, number>();
  for (const r of rows) {
    for (const [metric, s] of Object.entries(r.scores)) {
      const m = tally.get(metric) ?? new Map();
      const t = m.get(s.protocolKey) ?? { protocol: s.protocol, count: 0, newest: -1 };
      t.count++;
      t.newest = Math.max(t.newest, s.scoreId);
      m.set(s.protocolKey, t);
      tally.set(metric, m);
      totals.set(metric, (totals.get(metric) ?? 0) + 1);
    }
  }
  const out = new Map<string, ColumnProtocol>();
  for (const [metric, m] of tally) {
    const [key, best] = [...m.entries()].sort((a, b) => b[1].count - a[1].count || b[1].newest - a[1].newest)[0];
    out.set(metric, { key, protocol: best.protocol, count: best.count, total: totals.get(metric) ?? 0 });
  }
  return out;
}

/** Whether a score cell was computed differently from its column's majority (then it is marked †). */
export function offProtocol(score: RowScore | undefined, column: ColumnProtocol | undefined): boolean {
  return !!score && !!column && score.protocolKey !== column.key;
}

export function columnContext(datasets: Dataset[], rows: { id: number; name: string }[]): ColumnContext {
  return { datasets: new Map(datasets.map((d) => [d.id, d.name])), runNames: new Map(rows.map((r) => [r.id, r.name])) };
}

// ---- persisted choices (localStorage) ----

export interface StoreLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

const columnsKey = (kind: RunKind | ''): string => `toklab.runs.columns.${kind || 'all'}`;

/** The shown columns for a kind filter: the stored choice if it is a list of strings, else the defaults. */
export function loadColumns(store: StoreLike | null, kind: RunKind | ''): string[] {
  try {
    const raw = store?.getItem(columnsKey(kind));
    const v: unknown = raw ? JSON.parse(raw) : null;
    if (Array.isArray(v) && v.length && v.every((x) => typeof x === 'string')) return v as string[];
  } catch {
    // unreadable or not JSON: the defaults
  }
  return defaultColumns(kind);
}

export function saveColumns(store: StoreLike | null, kind: RunKind | '', columns: string[]): void {
  try {
    store?.setItem(columnsKey(kind), JSON.stringify(columns));
  } catch {
    // storage full or disabled: the choice lasts for this session only
  }
}

export function resetColumns(store: StoreLike | null, kind: RunKind | ''): string[] {
  try {
    store?.removeItem(columnsKey(kind));
  } catch {
    // as above
  }
  return defaultColumns(kind);
}

/** Shows or hides one column, keeping the order of the others; a shown column goes where the full list has it. */
export function toggleColumn(shown: string[], id: string, order: string[]): string[] {
  if (shown.includes(id)) return shown.filter((c) => c !== id);
  const rank = (c: string): number => {
    const i = order.indexOf(c);
    return i < 0 ? order.length : i;
  };
  const next = [...shown];
  const at = next.findIndex((c) => rank(c) > rank(id));
  next.splice(at < 0 ? next.length : at, 0, id);
  return next;
}

/** Which way a metric improves, for colouring deltas; null where it is not a quality number (lr, counts, …). */
export function betterDirection(metric: string): 'lower' | 'higher' | null {
  const s = (metric.split('/').pop() ?? metric).toLowerCase();
  if (/acc$|psnr|ssim|usage|perplexity|^is(_|$)|precision|recall/.test(s)) return 'higher';
  if (/fid|kid|loss|mse|^recon$|^commit$|^codebook$|dead_codes/.test(s)) return 'lower';
  return null;
}

/** "+1.23", "−0.0450" (a real minus sign), "±0" for no change; "—" when missing. */
export function formatDelta(d: number | null | undefined, digits = 3): string {
  if (d === null || d === undefined || !Number.isFinite(d)) return '—';
  if (d === 0) return '±0';
  const a = Math.abs(d);
  const body = a >= 1000 || a < 1e-3 ? a.toExponential(digits - 1) : a.toPrecision(digits);
  return `${d > 0 ? '+' : '−'}${body}`;
}
