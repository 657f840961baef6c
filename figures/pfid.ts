// The α × δ pFID grid of one evaluation (an eval-tokenizer run's result JSON), read the same way by
// the app's Sweeps page and by `toklab export figure heatmap`, and the figures drawn from grids:
// heat maps on one colour scale and pFID-against-α curves (colour per tokenizer, dash per δ).
import { heatmapFigure, sharedDomain } from './heatmap';
import { lineFigure } from './line';
import type { HeatmapFigure, LineFigure } from './types';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

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

const nums = (v: Json | undefined): number[] | null => (Array.isArray(v) && v.every((x) => typeof x === 'number') ? (v as number[]) : null);
const numOr = (v: Json | undefined): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** Reads an eval-tokenizer result; null when it has no well-formed grid (other job, older format). */
export function pfidGrid(result: { [k: string]: Json } | null | undefined, config?: { [k: string]: Json } | null): PfidGrid | null {
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

export const DELTA_TITLES = { share: 'δ (nearest codes, share of K)', abs: 'δ (nearest codes sampled from)' } as const;

export interface PfidItem {
  name: string;
  grid: PfidGrid;
  /** The tokenizer and its evaluation run, for the provenance. */
  tokenizerId?: number;
  evalRunId?: number;
}

/**
 * One heat-map panel per tokenizer on ONE colour scale (min..max over all panels unless `domain`
 * is given); δ labelled as codes or shares of K.
 */
export function pfidHeatmapChart(items: PfidItem[], mode: 'abs' | 'share', opts: { domain?: [number, number]; title?: string; panelTitle?: (i: PfidItem) => string } = {}): HeatmapFigure {
  return heatmapFigure({
    colorTitle: 'pFID',
    title: opts.title,
    xTitle: DELTA_TITLES[mode],
    domain: opts.domain ?? sharedDomain(items.map((i) => ({ values: i.grid.pfid }))),
    panels: items.map((i) => ({
      title: opts.panelTitle ? opts.panelTitle(i) : i.name,
      alphas: i.grid.alphas,
      deltas: i.grid.deltasAbs,
      values: i.grid.pfid,
      deltaLabels: i.grid.deltasAbs.map((_, j) => deltaLabel(i.grid, j, mode)),
    })),
  });
}

/** pFID against α: one line per (tokenizer, δ), coloured by tokenizer and dashed by δ. */
export function pfidCurvesChart(items: PfidItem[], mode: 'abs' | 'share'): LineFigure {
  return lineFigure({
    title: 'pFID vs α',
    xTitle: 'α (share of positions perturbed)',
    yTitle: 'pFID (lab features)',
    series: items.flatMap(({ name, grid }) =>
      grid.deltasAbs.map((_, j) => ({ name: `${name} · δ ${deltaLabel(grid, j, mode)}`, group: name, variant: `δ ${deltaLabel(grid, j, mode)}`, x: grid.alphas, y: grid.pfid.map((row) => row[j]) })),
    ),
  });
}

/** What a pFID figure shows and how it was computed, for the export's sidecar. */
export function pfidProvenance(items: PfidItem[], mode: 'abs' | 'share'): { [k: string]: Json } {
  return {
    figure: 'pFID over α × δ',
    deltaShownAs: mode === 'share' ? 'share of K' : 'codes',
    tokenizers: items.map((i) => ({
      name: i.name,
      tokenizerRun: i.tokenizerId ?? null,
      evalRun: i.evalRunId ?? null,
      extractorId: i.grid.extractorId,
      extractorAccuracy: i.grid.extractorAccuracy,
      n: i.grid.n,
      seed: i.grid.seed,
      K: i.grid.K,
      alphas: i.grid.alphas,
      deltasAbs: i.grid.deltasAbs,
      deltasShare: i.grid.deltasShare,
      rfid: i.grid.rfid,
      pfidMean: i.grid.pfidMean,
    })),
    extractors: [...new Set(items.map((i) => i.grid.extractorId))],
  };
}
