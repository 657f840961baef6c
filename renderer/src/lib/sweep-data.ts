// Pure helpers of the Sweeps page: list parsing for the grid builder, the pFID grid read from an
// eval-tokenizer run's result JSON (figures/pfid.ts, shared with `toklab export`) and its provenance text (METHOD §3).
import type { JsonObject, RunSummary } from '../../../preload/contract';
import { extractorText, type PfidGrid } from '../../../figures/pfid';

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

export { deltaLabel, extractorText, pfidGrid, type PfidGrid } from '../../../figures/pfid';

export function gridProvenance(g: PfidGrid): string {
  return `${extractorText(g.extractorId, g.extractorAccuracy)} · N ${g.n ?? '?'} · seed ${g.seed ?? '?'} · K ${g.K ?? '?'} · δ abs [${g.deltasAbs.join(', ')}] = share [${g.deltasShare.map((s) => s.toPrecision(3)).join(', ')}]`;
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
