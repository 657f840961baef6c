// The Analysis page's comparison table: tokenizers × (rFID, pFID mean, gFID per CFG scale) from
// score rows, and its CSV / LaTeX exports. Pure, so it is tested without a browser.
import type { JsonObject, RunSummary, ScoreRow } from '../../../preload/contract';

export interface Cell {
  value: number;
  extractorId: string;
  /** How the number was computed, for a tooltip. */
  prov: string;
  runId: number;
}

export interface ScoreTable {
  columns: string[];
  rows: { tokenizerId: number; name: string; cells: (Cell | null)[] }[];
  /** Every extractor id seen; more than one means the columns are not comparable. */
  extractors: string[];
}

const cfgScale = (p: JsonObject): number => {
  const cfg = p.cfg as JsonObject | undefined;
  return typeof cfg?.scale === 'number' ? cfg.scale : 0;
};

/** Architecture of a generator run, from its name ("raster gpt-nano on tokenizer 2"). */
export function archOf(run: RunSummary | undefined): 'raster' | 'rar' | null {
  const m = /^(raster|rar)\b/.exec(run?.name ?? '');
  return m ? (m[1] as 'raster' | 'rar') : null;
}

function cell(s: ScoreRow): Cell {
  const p = s.provenance;
  const keys = ['extractorId', 'n', 'seed', 'split', 'alphas', 'deltas', 'cfg', 'temperature'];
  const prov = keys.filter((k) => p[k] !== undefined).map((k) => `${k}=${typeof p[k] === 'string' ? p[k] : JSON.stringify(p[k])}`).join(' · ');
  return { value: s.value, extractorId: typeof p.extractorId === 'string' ? p.extractorId : '?', prov: `run ${s.runId} · ${prov}`, runId: s.runId };
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
function tokenizerOf(s: ScoreRow, viaGenerator: RunSummary | undefined): number | null {
  const p = s.provenance;
  return runIdOf(p.decoderRun) ?? runIdOf(p.tokenizerRun) ?? (viaGenerator ? viaGenerator.parentId : s.parentId);
}

/** Newest score wins per (tokenizer, column). `runs` maps generator runs to their tokenizer. */
export function buildScoreTable(evalRows: ScoreRow[], genRows: ScoreRow[], runs: RunSummary[], arch: 'raster' | 'rar' | '' = ''): ScoreTable {
  const byId = new Map(runs.map((r) => [r.id, r]));
  const table = new Map<number, Map<string, ScoreRow>>();
  const put = (tok: number, col: string, s: ScoreRow): void => {
    const m = table.get(tok) ?? new Map<string, ScoreRow>();
    table.set(tok, m);
    const prev = m.get(col);
    if (!prev || s.id > prev.id) m.set(col, s);
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
  const rows = [...table.keys()]
    .sort((a, b) => a - b)
    .map((tok) => ({ tokenizerId: tok, name: byId.get(tok)?.name ?? `run ${tok}`, cells: columns.map((c) => (table.get(tok)?.has(c) ? cell(table.get(tok)?.get(c) as ScoreRow) : null)) }));
  const extractors = [...new Set(rows.flatMap((r) => r.cells.filter((c): c is Cell => c !== null).map((c) => c.extractorId)))];
  return { columns, rows, extractors };
}

export const gfidColumn = (scale: number): string => (scale === 0 ? 'gFID (no CFG)' : `gFID (CFG ${scale})`);

const num = (c: Cell | null, digits: number): string => (c ? c.value.toFixed(digits) : '');

export function toCsv(t: ScoreTable, digits = 4): string {
  const q = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [['tokenizer_id', 'tokenizer', ...t.columns].map(q).join(',')];
  for (const r of t.rows) lines.push([String(r.tokenizerId), q(r.name), ...r.cells.map((c) => num(c, digits))].join(','));
  lines.push(`# feature extractor: ${t.extractors.join(' / ') || '-'}`);
  return lines.join('\n') + '\n';
}

const texEscape = (s: string): string => s.replace(/\\/g, '\\textbackslash{}').replace(/([&%$#_{}])/g, '\\$1').replace(/~/g, '\\textasciitilde{}').replace(/\^/g, '\\textasciicircum{}');

export function toLatex(t: ScoreTable, digits = 2): string {
  const head = ['Tokenizer', ...t.columns].map(texEscape).join(' & ');
  const body = t.rows.map((r) => [texEscape(r.name), ...r.cells.map((c) => (c ? num(c, digits) : '--'))].join(' & ') + ' \\\\');
  return [
    `% feature extractor: ${t.extractors.join(' / ') || '-'}`,
    `\\begin{tabular}{l${'r'.repeat(t.columns.length)}}`,
    '\\toprule',
    `${head} \\\\`,
    '\\midrule',
    ...body,
    '\\bottomrule',
    '\\end{tabular}',
    '',
  ].join('\n');
}
