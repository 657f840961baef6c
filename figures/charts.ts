// The lab's named charts, built from plain numbers the same way in the app (Analysis page) and in the
// headless report (toklab study), so both draw one definition: axis titles with what was measured,
// the least-squares line, and Pearson r with its interval or the reason it is not shown.
import { correlationFigure } from './correlation';
import type { CorrelationFigure } from './types';

const METRIC_TITLES: Record<string, string> = {
  'eval/pfid_mean': 'pFID (grid mean, lab features)',
  'eval/rfid': 'rFID (lab features)',
  'eval/psnr': 'PSNR (dB)',
  'eval/recon_acc': 'reconstruction class accuracy',
  'gen/gfid': 'gFID (lab features)',
  'gen/sample_acc': 'sample class accuracy',
};

/** A readable axis title for a metric key ("eval/pfid_mean" → "pFID (grid mean, lab features)"). */
export function metricTitle(metric: string): string {
  return METRIC_TITLES[metric] ?? metric;
}

export interface TokenizerCorrelationInput {
  points: { label: string; x: number; y: number; group?: string }[];
  /** Metric keys of the two sides. */
  x: string;
  y: string;
  arch: string;
  /** 0 = without CFG. */
  cfg: number;
  pearson: { r: number; ci: [number, number] | null; ciNote: string | null } | null;
}

/** Tokenizer score vs gFID across tokenizers, for one generator architecture and CFG setting. */
export function tokenizerCorrelationChart(i: TokenizerCorrelationInput): CorrelationFigure {
  const n = i.points.length;
  const cfgText = i.cfg === 0 ? 'without CFG' : `CFG ${i.cfg}`;
  const short = (m: string): string => metricTitle(m).replace(/ \(.*$/, '');
  const note = n < 6 ? `only ${n} tokenizers (fewer than 6): fragile` : i.pearson && !i.pearson.ci ? 'interval not shown (collapsed to a point)' : undefined;
  return correlationFigure({
    points: i.points,
    xTitle: metricTitle(i.x),
    yTitle: `${metricTitle(i.y)}, ${i.arch}, ${cfgText}`,
    fit: true,
    coefficient: i.pearson ? { method: 'pearson', r: i.pearson.r, ci: i.pearson.ci, n } : undefined,
    note,
    title: `${short(i.x)} vs ${short(i.y)} (${i.arch}, ${cfgText})`,
  });
}
