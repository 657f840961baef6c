// Pure helpers of the Sweeps page: list parsing for the grid builder, the pFID grid read from an
// eval-tokenizer run's result JSON (figures/pfid.ts, shared with `toklab export`) and its provenance text (METHOD §3).
import type { JsonObject, RunSummary } from '../../../preload/contract';
import { extractorText as labExtractorText, type PfidGrid } from '../../../figures/pfid';

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

export { deltaLabel, pfidGrid, type PfidGrid } from '../../../figures/pfid';

/** An ONNX feature extractor added with add-extractor: its id is 'onnx-' + a hash of the model, and it has no test accuracy. */
export function isExternalExtractor(id: unknown, kind?: unknown): boolean {
  return kind === 'onnx' || (typeof id === 'string' && id.startsWith('onnx-'));
}

/**
 * "extractor 3f2a… (test acc 0.93)": every FID-family number is shown with the accuracy of its
 * extractor; an external (ONNX) extractor has none, and says so instead of "unknown".
 */
export function extractorText(id: string, accuracy: number | null | undefined, kind?: unknown): string {
  return isExternalExtractor(id, kind) ? `extractor ${id} (external, no accuracy)` : labExtractorText(id, accuracy);
}

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

/**
 * "key=value · …" of a score's provenance, for `.prov` lines and tooltips (`quote`: strings as JSON
 * too). A score of an external (ONNX) extractor shows "extractor onnx-… (external, no accuracy)" in
 * place of its extractorId, extractorAccuracy (null) and extractorKind entries.
 */
export function provText(p: JsonObject | null | undefined, keys?: string[], quote = false): string {
  if (!p) return '';
  const external = isExternalExtractor(p.extractorId, p.extractorKind);
  const out: string[] = [];
  for (const [k, v] of Object.entries(p)) {
    if (keys && !keys.includes(k)) continue;
    if (external && k === 'extractorId') out.push(extractorText(String(v), null, 'onnx'));
    else if (external && (k === 'extractorAccuracy' || k === 'extractorKind')) continue;
    else out.push(`${k}=${typeof v === 'string' && !quote ? v : JSON.stringify(v)}`);
  }
  return out.join(' · ');
}
