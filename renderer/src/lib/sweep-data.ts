// Pure helpers of the Sweeps page: list parsing for the grid builder, the pFID grid read from an
// eval-tokenizer run's result JSON, and the Plotly traces drawn from it (METHOD §3).
import type { JsonObject, JsonValue, RunSummary } from '../../../preload/contract';

export interface ListRule {
  min: number;
  max: number;
  integer?: boolean;
}

/** "0.3, 0.9 0.5" → [0.3, 0.9, 0.5], or the first reason it is not a valid list. */
export function parseNumberList(text: string, rule: ListRule): { values: number[]; error: string } {
  const parts = text.split(/[\s,;]+/).filter(Boolean);
  if (!parts.length) return { values: [], error: 'give at least one value' };
  const values: number[] = [];
  for (const p of parts) {
    const v = Number(p);
    if (!Number.isFinite(v)) return { values: [], error: `"${p}" is not a number` };
    if (v < rule.min || v > rule.max) return { values: [], error: `${v} is outside ${rule.min}…${rule.max}` };
    if (rule.integer && !Number.isInteger(v)) return { values: [], error: `${v} is not a whole number` };
    if (values.includes(v)) return { values: [], error: `${v} is listed twice` };
    values.push(v);
  }
  return { values, error: '' };
}

/** The α × δ pFID grid of one evaluation, with what is needed to say how it was computed. */
export interface PfidGrid {
  extractorId: string;
  /** The extractor's test accuracy, shown beside every FID (null for old evaluations). */
  extractorAccuracy: number | null;
  rfid: number | null;
  pfidMean: number | null;
  alphas: number[];
  deltasAbs: number[];
  deltasShare: number[];
  /** α rows × δ columns. */
  pfid: number[][];
  n: number | null;
  K: number | null;
  seed: number | null;
  /** Per-code usage counts over the held-out set, when the evaluation kept them. */
  codeCounts: number[] | null;
}

const nums = (v: JsonValue | undefined): number[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null;
const numOr = (v: JsonValue | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Reads an eval-tokenizer result; null when it has no well-formed grid (other job, older format). */
export function pfidGrid(result: JsonObject | null | undefined, config?: JsonObject | null): PfidGrid | null {
  if (!result) return null;
  const alphas = nums(result.alphas);
  const deltasAbs = nums(result.deltasAbs);
  const deltasShare = nums(result.deltasShare);
  const rows = Array.isArray(result.pfid) ? result.pfid.map((r) => nums(r)) : null;
  if (!alphas || !deltasAbs || !rows || rows.length !== alphas.length) return null;
  if (rows.some((r) => !r || r.length !== deltasAbs.length)) return null;
  const K = numOr(result.K);
  return {
    extractorId: typeof result.extractorId === 'string' ? result.extractorId : '?',
    extractorAccuracy: numOr(result.extractorAccuracy),
    rfid: numOr(result.rfid),
    pfidMean: numOr(result.pfidMean),
    alphas,
    deltasAbs,
    deltasShare: deltasShare && deltasShare.length === deltasAbs.length ? deltasShare : deltasAbs.map((d) => (K ? d / K : NaN)),
    pfid: rows as number[][],
    n: numOr(result.n),
    K,
    seed: numOr(result.seed) ?? numOr(config?.seed),
    codeCounts: nums(result.codeCounts) ?? nums(result.usageCounts),
  };
}

/** A δ as the user asked for it: share of K ('share') or number of codes ('abs'). */
export function deltaLabel(g: PfidGrid, j: number, mode: 'abs' | 'share'): string {
  return mode === 'share' ? `${+(g.deltasShare[j] * 100).toPrecision(3)}% K` : `${g.deltasAbs[j]}`;
}

/** "extractor 3f2a… (test acc 0.93)": every FID-family number is shown with the accuracy of its extractor. */
export function extractorText(id: string, accuracy: number | null | undefined): string {
  return `extractor ${id} (test acc ${typeof accuracy === 'number' ? accuracy.toFixed(2) : 'unknown'})`;
}

export function gridProvenance(g: PfidGrid): string {
  return `${extractorText(g.extractorId, g.extractorAccuracy)} · N ${g.n ?? '?'} · seed ${g.seed ?? '?'} · K ${g.K ?? '?'} · δ abs [${g.deltasAbs.join(', ')}] = share [${g.deltasShare.map((s) => s.toPrecision(3)).join(', ')}]`;
}

export function heatmapTrace(g: PfidGrid, mode: 'abs' | 'share'): Record<string, unknown>[] {
  return [
    {
      type: 'heatmap',
      z: g.pfid,
      x: g.deltasAbs.map((_, j) => deltaLabel(g, j, mode)),
      y: g.alphas.map((a) => `α ${a}`),
      colorscale: 'Viridis',
      colorbar: { title: { text: 'pFID' } },
      hovertemplate: '%{y}, δ %{x}: pFID %{z:.4g}<extra></extra>',
    },
  ];
}

/** One line per (tokenizer, δ): pFID against α. */
export function curveTraces(items: { name: string; grid: PfidGrid }[], mode: 'abs' | 'share'): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const { name, grid } of items) {
    grid.deltasAbs.forEach((_, j) => {
      out.push({
        type: 'scatter',
        mode: 'lines+markers',
        name: `${name} · δ ${deltaLabel(grid, j, mode)}`,
        x: grid.alphas,
        y: grid.pfid.map((row) => row[j]),
      });
    });
  }
  return out;
}

/** The newest run of each parent among `runs` (e.g. the latest evaluation of each tokenizer). */
export function latestByParent(runs: RunSummary[]): Map<number, RunSummary> {
  const out = new Map<number, RunSummary>();
  for (const r of runs) {
    if (r.parentId === null) continue;
    const prev = out.get(r.parentId);
    if (!prev || r.id > prev.id) out.set(r.parentId, r);
  }
  return out;
}

/** "key=value · …" of a score's provenance, for `.prov` lines and tooltips. */
export function provText(p: JsonObject | null | undefined, keys?: string[]): string {
  if (!p) return '';
  const entries = Object.entries(p).filter(([k]) => !keys || keys.includes(k));
  return entries.map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' · ');
}
