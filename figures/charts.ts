// The lab's named charts, built from plain numbers the same way in the app, in the headless report
// (toklab study) and by `toklab export`, so all of them draw one definition: axis titles that say
// what was measured and in which unit, the least-squares line, Pearson r and Spearman ρ with their
// intervals (or the reason one is not shown), and the provenance written beside an exported file.
import { barFigure } from './bar';
import { correlationFigure } from './correlation';
import { lineFigure } from './line';
import type { BarFigure, Coefficient, CorrelationFigure, LineFigure } from './types';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type JsonRecord = { [k: string]: Json };

const METRIC_TITLES: Record<string, string> = {
  // tokenizer evaluation (held-out split)
  'eval/pfid_mean': 'pFID (grid mean, lab features)',
  'eval/pfid': 'pFID (one α × δ cell, lab features)',
  'eval/pkid': 'pKID (lab features)',
  'eval/rfid': 'rFID (lab features)',
  'eval/rkid': 'rKID (lab features)',
  'eval/psnr': 'PSNR (dB)',
  'eval/ssim': 'SSIM (0–1)',
  'eval/recon_acc': 'reconstruction class accuracy (0–1)',
  'eval/usage': 'codebook usage (share of K)',
  'eval/perplexity': 'codebook perplexity (codes)',
  // generation
  'gen/gfid': 'gFID (lab features)',
  'gen/gkid': 'gKID (lab features)',
  'gen/is': 'IS (lab classifier)',
  'gen/precision': 'precision (k = 3, lab features)',
  'gen/recall': 'recall (k = 3, lab features)',
  'gen/sample_acc': 'sample class accuracy (0–1)',
  'gen/fid_vs_cfg': 'gFID (lab features)',
  'gen/is_vs_cfg': 'IS (lab classifier)',
  // training curves
  'train/loss': 'training loss',
  'train/recon': 'reconstruction loss (MSE)',
  'train/codebook': 'codebook loss (MSE)',
  'train/commit': 'commitment loss (MSE)',
  'train/lr': 'learning rate',
  'train/usage': 'codebook usage (share of K)',
  'train/perplexity': 'codebook perplexity (codes)',
  'train/dead_codes': 'dead codes (count)',
  'train/nll_bits': 'training NLL (bits/token)',
  'train/grad_norm': 'gradient norm (L2)',
  'train/train_acc': 'training accuracy (0–1)',
  'train/token_error': 'token error rate (0–1)',
  'val/loss': 'validation loss (nats/token)',
  'val/nll_bits': 'validation NLL (bits/token)',
  'val/uniform_loss': 'uniform-guess loss (nats/token)',
  'lp/alpha': 'α (share of positions perturbed)',
  'lp/delta': 'δ (nearest codes, count)',
  'lp/flip_rate': 'token flip rate, measured (0–1)',
  'lp/expected_flip_rate': 'token flip rate, expected (0–1)',
  'rar/permute_prob': 'RAR permutation probability',
  'featnet/heldout_acc': 'held-out accuracy (0–1)',
  'featnet/val_acc': 'validation accuracy (0–1)',
  // scores of other runs
  'featnet/test_accuracy': 'extractor test accuracy (0–1)',
  'featnet/split_half_fid': 'split-half FID (lab features)',
  'featnet/selftest_passed': 'metric self-test passed (1 = yes)',
  'tokenizer/psnr': 'PSNR (dB)',
  'tokenizer/ssim': 'SSIM (0–1)',
  'tokenizer/usage': 'codebook usage (share of K)',
  'tokenizer/perplexity': 'codebook perplexity (codes)',
  'tokens/usage': 'codebook usage of the extracted tokens (share of K)',
  'tokens/perplexity': 'perplexity of the extracted tokens (codes)',
  'posttrain/psnr_before': 'PSNR before post-training (dB)',
  'posttrain/psnr_after': 'PSNR after post-training (dB)',
  'posttrain/ssim_before': 'SSIM before post-training (0–1)',
  'posttrain/ssim_after': 'SSIM after post-training (0–1)',
  'posttrain/gen_mse_before': 'generated-token decode MSE before post-training',
  'posttrain/gen_mse_after': 'generated-token decode MSE after post-training',
};

const PREFIXES: Record<string, string> = { train: 'training', val: 'validation', eval: 'evaluation', gen: 'generation', lp: 'latent perturbation', featnet: 'feature network', posttrain: 'post-training' };

/** A readable axis title for a metric key ("eval/pfid_mean" → "pFID (grid mean, lab features)"); unknown keys are spelled out. */
export function metricTitle(metric: string): string {
  const known = METRIC_TITLES[metric];
  if (known) return known;
  const m = /^([a-z]+)\/(.+)$/.exec(metric);
  if (!m) return metric.replace(/_/g, ' ');
  return `${m[2].replace(/_/g, ' ')} (${PREFIXES[m[1]] ?? m[1]})`;
}

/** The title without its unit or qualifier: "pFID (grid mean, lab features)" → "pFID". */
export const metricShort = (metric: string): string => metricTitle(metric).replace(/ \(.*$/, '');

/** Every metric key with a title (for tests and pickers). */
export const TITLED_METRICS = Object.keys(METRIC_TITLES);

export interface CoefficientLike {
  method: string;
  r: number;
  ci: [number, number] | null;
  ciNote?: string | null;
}

export interface TokenizerCorrelationInput {
  points: { label: string; x: number; y: number; group?: string }[];
  /** Metric keys of the two sides. */
  x: string;
  y: string;
  arch: string;
  /** 0 = without CFG. */
  cfg: number;
  /** Pearson and Spearman are printed (in that order), each with its interval or why there is none. */
  coefficients: CoefficientLike[];
}

const cfgWords = (cfg: number): string => (cfg === 0 ? 'without CFG' : `CFG ${cfg}`);

/** Tokenizer score vs gFID across tokenizers, for one generator architecture and CFG setting. */
export function tokenizerCorrelationChart(i: TokenizerCorrelationInput): CorrelationFigure {
  const n = i.points.length;
  const cfgText = cfgWords(i.cfg);
  const shown = ['pearson', 'spearman'].map((m) => i.coefficients.find((c) => c.method === m)).filter((c): c is CoefficientLike => c !== undefined);
  const coefficients: Coefficient[] = shown.map((c) => ({ method: c.method, r: c.r, ci: c.ci, n }));
  const noCi = shown.filter((c) => !c.ci).map((c) => c.method);
  const note = n < 6 ? `only ${n} tokenizers (fewer than 6): fragile` : noCi.length ? `interval of ${noCi.join(', ')} not shown (${shown.find((c) => !c.ci)?.ciNote ?? 'collapsed to a point'})` : undefined;
  return correlationFigure({
    points: i.points,
    xTitle: metricTitle(i.x),
    yTitle: `${metricTitle(i.y)}, ${i.arch}, ${cfgText}`,
    fit: true,
    coefficients,
    note,
    title: `${metricShort(i.x)} vs ${metricShort(i.y)} (${i.arch}, ${cfgText})`,
  });
}

/** The part of a correlation result (preload/contract CorrelationResult) a figure needs. */
export interface CorrelationResultLike {
  request: { x: string; y: string; arch?: string; cfgScale?: number; resamples?: number; seed?: number };
  points: { tokenizerId: number; tokenizerName: string; x: number; y: number; xRunId: number; yRunId: number }[];
  extractorId: string;
  extractorAccuracy: number | null;
  coefficients: (CoefficientLike & { level: number; resamples: number })[];
  chosen: { x: { metric: string; key: string; description: string; chosen: string }; y: { metric: string; key: string; description: string; chosen: string } };
  excluded: { runId: number | null; side: string | null; reason: string }[];
  warnings: string[];
}

export const slug = (s: string): string => s.replace(/[^A-Za-z0-9.]+/g, '_').replace(/^_+|_+$/g, '');

/** The correlation chart of a result, its export file name and its provenance (app and CLI alike). */
export function correlationExport(r: CorrelationResultLike, groupOf?: (tokenizerId: number) => string | undefined): { name: string; figure: CorrelationFigure; provenance: JsonRecord } {
  const arch = r.request.arch ?? '';
  const cfg = r.request.cfgScale ?? 0;
  const figure = tokenizerCorrelationChart({
    points: r.points.map((p) => {
      const g = groupOf?.(p.tokenizerId);
      return g === undefined ? { label: p.tokenizerName, x: p.x, y: p.y } : { label: p.tokenizerName, x: p.x, y: p.y, group: g };
    }),
    x: r.request.x,
    y: r.request.y,
    arch,
    cfg,
    coefficients: r.coefficients,
  });
  const provenance: JsonRecord = {
    figure: 'correlation across tokenizers',
    x: { metric: r.request.x, title: metricTitle(r.request.x), protocol: r.chosen.x.description, protocolKey: r.chosen.x.key, protocolChosen: r.chosen.x.chosen },
    y: { metric: r.request.y, title: metricTitle(r.request.y), protocol: r.chosen.y.description, protocolKey: r.chosen.y.key, protocolChosen: r.chosen.y.chosen },
    arch,
    cfgScale: cfg,
    n: r.points.length,
    extractorId: r.extractorId,
    extractorAccuracy: r.extractorAccuracy,
    coefficients: r.coefficients.map((c) => ({ method: c.method, r: c.r, ci: c.ci, ciNote: c.ciNote ?? null, level: c.level, resamples: c.resamples })),
    bootstrap: { resamples: r.request.resamples ?? 2000, seed: r.request.seed ?? 0 },
    runs: r.points.map((p) => ({ tokenizerRun: p.tokenizerId, tokenizer: p.tokenizerName, xRun: p.xRunId, yRun: p.yRunId, x: p.x, y: p.y })),
    excluded: r.excluded.map((e) => ({ run: e.runId, side: e.side, reason: e.reason })),
    warnings: r.warnings,
  };
  return { name: `correlation-${slug(r.request.x)}-vs-${slug(r.request.y)}-${slug(arch)}-cfg${cfg}`, figure, provenance };
}

export interface MetricSeriesLike {
  name: string;
  steps: number[];
  values: (number | null)[];
}

/**
 * Training curves: one line per series against the step. The y title is the metric's (with its unit)
 * when every series is one metric, else `yTitle`; `label` names a series in the legend (default: its
 * metric's title).
 */
export function metricCurvesChart(series: MetricSeriesLike[], opts: { title?: string; yTitle?: string; label?: (s: MetricSeriesLike, i: number) => string; logY?: boolean } = {}): LineFigure {
  const metrics = [...new Set(series.map((s) => s.name))];
  // a chart titled by its metric key ("train/loss") gets the metric's words instead
  const title = opts.title && /^[a-z]+\/[a-z0-9_]+$/.test(opts.title) ? metricTitle(opts.title) : opts.title;
  const yTitle = metrics.length === 1 ? metricTitle(metrics[0]) : (opts.yTitle ?? title ?? 'value');
  return lineFigure({
    title,
    xTitle: 'training step',
    yTitle,
    logY: opts.logY,
    series: series.map((s, i) => ({ name: opts.label ? opts.label(s, i) : metricTitle(s.name), x: s.steps, y: s.values.map((v) => (v === null ? NaN : v)) })),
  });
}

/** gFID (left axis) and IS (right axis) against the CFG scale of one evaluation. */
export function cfgChart(fid: { scale: number; value: number }[], is: { scale: number; value: number }[]): LineFigure {
  return lineFigure({
    title: 'gFID and IS vs CFG scale',
    xTitle: 'CFG scale g (0 = without CFG)',
    yTitle: metricTitle('gen/gfid'),
    y2Title: metricTitle('gen/is'),
    series: [
      { name: 'gFID', x: fid.map((p) => p.scale), y: fid.map((p) => p.value) },
      ...(is.length ? [{ name: 'IS', x: is.map((p) => p.scale), y: is.map((p) => p.value), axis: 'right' as const }] : []),
    ],
  });
}

/** α_e and the flip rate (left axis, 0–1) and δ_e in codes (right axis, steps) per epoch of an annealing schedule. */
export function annealChart(rows: { epoch: number; alpha: number; delta: number; flip: number }[], K: number): LineFigure {
  const x = rows.map((r) => r.epoch + 1);
  return lineFigure({
    xTitle: 'epoch',
    yTitle: 'α and flip rate (0–1)',
    y2Title: `δ (nearest codes of K = ${K})`,
    yRange: [0, 1.05],
    series: [
      { name: 'α_e', x, y: rows.map((r) => r.alpha) },
      { name: 'flip rate', x, y: rows.map((r) => r.flip) },
      { name: 'δ_e', x, y: rows.map((r) => r.delta), axis: 'right', step: true },
    ],
  });
}

/** Codebook usage per tokenizer (eval/usage) as bars on [0, 1]. */
export function usageChart(items: { label: string; value: number }[]): BarFigure {
  return barFigure({ title: 'Codebook usage on the held-out split', yTitle: metricTitle('eval/usage'), rows: items.map((i) => ({ label: i.label, value: i.value })), yRange: [0, 1] });
}

/** Tokens per code, most used first, on a log axis: one line per tokenizer. */
export function codeRankChart(items: { name: string; counts: number[] }[]): LineFigure {
  return lineFigure({
    title: 'Tokens per code, most used first',
    xTitle: 'code rank',
    yTitle: 'tokens per code (count, held-out split)',
    logY: true,
    series: items.map((i) => {
      const c = [...i.counts].sort((a, b) => b - a);
      return { name: i.name, x: c.map((_, k) => k + 1), y: c };
    }),
  });
}

/** Change of a correlation coefficient when one tokenizer is left out. */
export function leaveOneOutChart(names: string[], deltas: number[], method: string): BarFigure {
  const sym = method === 'spearman' ? 'ρ' : method === 'kendall' ? 'τ' : 'r';
  return barFigure({ title: `Leave-one-out: change of ${method} ${sym}`, yTitle: `Δ${sym} when the tokenizer is left out`, xTitle: 'tokenizer left out', rows: names.map((n, i) => ({ label: n, value: deltas[i] })) });
}
