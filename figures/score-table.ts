// The Analysis page's comparison table: tokenizers × (rFID, pFID mean, gFID per CFG scale) from
// score rows, one protocol per column, and the rows it exports (the host writes them as CSV, LaTeX or
// JSON, with the provenance in a sidecar). Pure, shared by the app and `toklab export table tokenizers`.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

/** The parts of a run (preload/contract RunLike) the table needs. */
export interface RunLike {
  id: number;
  name: string;
  parentId: number | null;
}

/** The parts of a score row (preload/contract ScoreRowLike) the table needs. */
export interface ScoreRowLike {
  id: number;
  runId: number;
  metric: string;
  value: number;
  provenance: JsonObject;
  parentId: number | null;
}

export interface Cell {
  value: number;
  extractorId: string;
  /** How the number was computed, for a tooltip. */
  prov: string;
  runId: number;
  /** Set when the cell's protocol differs from its column's (the one most tokenizers share): the differing fields. */
  offProtocol: string | null;
}

export interface ScoreTable {
  columns: string[];
  rows: { tokenizerId: number; name: string; cells: (Cell | null)[] }[];
  /** Every extractor id seen; more than one means the columns are not comparable. */
  extractors: string[];
  /** One line per column whose cells were not all computed the same way. */
  warnings: string[];
}

/**
 * The fields that define how a number was computed, as engine/metrics/provenance.ts protocolOf
 * (the renderer may not import engine/): a column compares tokenizers only at one of them.
 */
const PROTOCOL_FIELDS = ['extractorId', 'split', 'n', 'seed', 'alphas', 'deltaMode', 'deltasAbs', 'deltasShare', 'includeSelf', 'selection', 'anchor', 'arch', 'cfg', 'temperature', 'topK', 'topP', 'nPerClass'] as const;
const LABEL: Record<string, string> = { extractorId: 'extractor', n: 'N', alphas: 'α', deltaMode: 'δ given as', deltasAbs: 'δ (codes)', deltasShare: 'δ (share of K)', nPerClass: 'samples per class', cfg: 'CFG', topK: 'top-k', topP: 'top-p' };

function protocolFields(metric: string, p: JsonObject): Record<string, string> {
  const grid = metric === 'eval/pfid_mean';
  const gen = metric.startsWith('gen/');
  const out: Record<string, string> = {};
  for (const f of PROTOCOL_FIELDS) {
    if (!grid && ['alphas', 'deltaMode', 'deltasAbs', 'deltasShare', 'includeSelf', 'selection', 'anchor'].includes(f)) continue;
    // δ as the grid gave it (codes or shares of K). Rows that do not record the mode leave δ to the
    // correlation, which reads it from the eval run's config: a share grid over tokenizers of
    // different K has different codes and must not be flagged.
    if (f === 'deltasAbs' && p.deltaMode !== 'abs') continue;
    if (f === 'deltasShare' && p.deltaMode !== 'share') continue;
    if (f === 'deltaMode' && p.deltaMode === undefined) continue;
    if (!gen && ['arch', 'cfg', 'temperature', 'topK', 'topP', 'nPerClass'].includes(f)) continue;
    let v: unknown = p[f];
    if (Array.isArray(v)) v = [...(v as number[])].sort((a, b) => a - b);
    if (f === 'cfg' && v && typeof v === 'object') {
      const c = v as { scale?: unknown; schedule?: unknown; power?: unknown };
      v = { scale: c.scale ?? null, schedule: c.schedule ?? null, power: c.schedule === 'cosine-power' ? (c.power ?? null) : null };
    }
    out[f] = v === undefined ? 'unknown' : typeof v === 'string' ? v : JSON.stringify(v);
  }
  return out;
}
const signature = (fields: Record<string, string>): string => JSON.stringify(fields);

const cfgScale = (p: JsonObject): number => {
  const cfg = p.cfg as JsonObject | undefined;
  return typeof cfg?.scale === 'number' ? cfg.scale : 0;
};

/** Architecture of a generator run, from its name ("raster gpt-nano on tokenizer 2"). */
export function archOf(run: RunLike | undefined): 'raster' | 'rar' | null {
  const m = /^(raster|rar)\b/.exec(run?.name ?? '');
  return m ? (m[1] as 'raster' | 'rar') : null;
}

function cell(s: ScoreRowLike): Cell {
  const p = s.provenance;
  const keys = ['extractorId', 'extractorAccuracy', 'n', 'seed', 'split', 'alphas', 'deltas', 'cfg', 'temperature'];
  const prov = keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${typeof p[k] === 'string' ? p[k] : JSON.stringify(p[k])}`).join(' · ');
  return { value: s.value, extractorId: typeof p.extractorId === 'string' ? `${p.extractorId}${typeof p.extractorAccuracy === 'number' ? ` (test acc ${p.extractorAccuracy.toFixed(2)})` : ''}` : '?', prov: `run ${s.runId} · ${prov}`, runId: s.runId, offProtocol: null };
}

/** `runs/12` → 12. */
const runIdOf = (v: unknown): number | null => {
  const m = typeof v === 'string' ? /(?:^|\/)runs\/(\d+)$/.exec(v) : null;
  return m ? Number(m[1]) : null;
};

/**
 * The tokenizer a score belongs to, as the host's correlation pairs them: the decoder or tokenizer
 * run its provenance names, else the evaluated run's parent (eval) or the generator's parent (gFID).
 */
function tokenizerOf(s: ScoreRowLike, viaGenerator: RunLike | undefined): number | null {
  const p = s.provenance;
  return runIdOf(p.decoderRun) ?? runIdOf(p.tokenizerRun) ?? (viaGenerator ? viaGenerator.parentId : s.parentId);
}

/**
 * Per column, the protocol most tokenizers share (ties: newest) and per tokenizer the newest score at
 * it; a tokenizer with scores only at another protocol shows its newest one, marked `offProtocol`
 * with the differing fields, and the column gets a warning. `runs` maps generator runs to their
 * tokenizer; gFID columns are of one generator arch (raster and RAR are never mixed; '' only for
 * callers that filtered already).
 */
export function buildScoreTable(evalRows: ScoreRowLike[], genRows: ScoreRowLike[], runs: RunLike[], arch: 'raster' | 'rar' | '' = ''): ScoreTable {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const table = new Map<number, Map<string, ScoreRowLike[]>>();
  const put = (tok: number, col: string, s: ScoreRowLike): void => {
    const m = table.get(tok) ?? new Map<string, ScoreRowLike[]>();
    table.set(tok, m);
    m.set(col, [...(m.get(col) ?? []), s]);
  };
  for (const s of evalRows) {
    const tok = tokenizerOf(s, undefined);
    if (tok === null) continue;
    if (s.metric === 'eval/rfid') put(tok, 'rFID', s);
    if (s.metric === 'eval/pfid_mean') put(tok, 'pFID mean', s);
  }
  const scales = new Set<number>();
  for (const s of genRows) {
    if (s.metric !== 'gen/gfid' || s.parentId === null) continue;
    const gen = byId.get(s.parentId);
    const tok = tokenizerOf(s, gen);
    if (tok === null) continue;
    const a = typeof s.provenance.arch === 'string' ? s.provenance.arch : archOf(gen);
    if (arch && a !== arch) continue;
    const g = cfgScale(s.provenance);
    scales.add(g);
    put(tok, gfidColumn(g), s);
  }
  const columns = ['rFID', 'pFID mean', ...[...scales].sort((a, b) => a - b).map(gfidColumn)];
  const warnings: string[] = [];
  const chosen = new Map<string, Map<number, Cell>>();
  for (const col of columns) {
    // tokenizers and newest score id per protocol of this column
    const groups = new Map<string, { fields: Record<string, string>; toks: Set<number>; newest: number }>();
    for (const [tok, m] of table)
      for (const s of m.get(col) ?? []) {
        const fields = protocolFields(s.metric, s.provenance);
        const key = signature(fields);
        const g = groups.get(key) ?? { fields, toks: new Set<number>(), newest: 0 };
        g.toks.add(tok);
        g.newest = Math.max(g.newest, s.id);
        groups.set(key, g);
      }
    const ranked = [...groups.entries()].sort((a, b) => b[1].toks.size - a[1].toks.size || b[1].newest - a[1].newest);
    const main = ranked[0];
    const cells = new Map<number, Cell>();
    let off = 0;
    for (const [tok, m] of table) {
      const list = [...(m.get(col) ?? [])].sort((a, b) => b.id - a.id);
      if (!list.length || !main) continue;
      const at = list.find((s) => signature(protocolFields(s.metric, s.provenance)) === main[0]);
      const s = at ?? list[0];
      const c = cell(s);
      if (!at) {
        const fields = protocolFields(s.metric, s.provenance);
        c.offProtocol = Object.keys(fields)
          .filter((f) => fields[f] !== main[1].fields[f])
          .map((f) => `${LABEL[f] ?? f} ${fields[f]} (column: ${main[1].fields[f]})`)
          .join(', ');
        off++;
      }
      cells.set(tok, c);
    }
    if (off) warnings.push(`${col}: ${off} tokenizer(s) have this score only at another protocol than the column's (marked *); do not compare them with the rest`);
    chosen.set(col, cells);
  }
  const rows = [...table.keys()]
    .sort((a, b) => a - b)
    .map((tok) => ({ tokenizerId: tok, name: byId.get(tok)?.name ?? `run ${tok}`, cells: columns.map((c) => chosen.get(c)?.get(tok) ?? null) }));
  const extractors = [...new Set(rows.flatMap((r) => r.cells.filter((c): c is Cell => c !== null).map((c) => c.extractorId)))];
  return { columns, rows, extractors, warnings };
}

export const gfidColumn = (scale: number): string => (scale === 0 ? 'gFID (no CFG)' : `gFID (CFG ${scale})`);

/** The table as export rows: tokenizer id and name, then one column per score (full precision; null = no score). */
export function scoreTableRows(t: ScoreTable): { columns: string[]; rows: (string | number | null)[][] } {
  return {
    columns: ['tokenizer_id', 'tokenizer', ...t.columns],
    rows: t.rows.map((r) => [r.tokenizerId, r.name, ...r.cells.map((c) => (c ? c.value : null))]),
  };
}

/** Where every cell came from (its score's run and how it was computed), for the export's sidecar. */
export function scoreTableProvenance(t: ScoreTable, arch: string): JsonObject {
  return {
    table: 'tokenizers: rFID, pFID mean and gFID per CFG scale',
    generatorArch: arch || 'any',
    rule: 'per column the protocol most tokenizers share, newest score per cell at it; offProtocol names the fields of a cell at another protocol',
    extractors: t.extractors,
    warnings: t.warnings,
    cells: t.rows.map((r) => ({
      tokenizerRun: r.tokenizerId,
      tokenizer: r.name,
      scores: Object.fromEntries(t.columns.map((c, i) => [c, r.cells[i] ? { value: r.cells[i]!.value, run: r.cells[i]!.runId, extractor: r.cells[i]!.extractorId, provenance: r.cells[i]!.prov, offProtocol: r.cells[i]!.offProtocol } : null])),
    })),
  };
}
