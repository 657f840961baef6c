// Figure definitions as plain data: what a chart shows, with everything derived from the inputs
// (fitted line, label positions, colour domain, colours) computed once here, so the Plotly
// adapter (app) and the Vega adapter (headless report) draw the same thing.

export type LabelPos = 'right' | 'left' | 'top' | 'bottom' | 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left';
export type Corner = 'top-left' | 'top-right' | 'bottom-left' | 'bottom-right';

export interface Legend {
  name: string;
  color: string;
}

export interface CorrelationPoint {
  label: string;
  x: number;
  y: number;
  /** e.g. "+LP" / "−LP"; points of one group share a colour. */
  group?: string;
}

export interface Coefficient {
  /** "pearson" | "spearman" | "kendall" (others are printed as given). */
  method: string;
  r: number;
  /** Confidence interval, or null when there are too few points for one (the note says why). */
  ci: [number, number] | null;
  n: number;
}

export interface CorrelationInput {
  points: CorrelationPoint[];
  xTitle: string;
  yTitle: string;
  /** Draw the least-squares line y = a + b·x through the points. */
  fit: boolean;
  coefficient?: Coefficient;
  /** Several coefficients (e.g. Pearson r and Spearman ρ), one annotation line each, after `coefficient`. */
  coefficients?: Coefficient[];
  title?: string;
  /** Printed under the coefficient (always when the CI is null). */
  note?: string;
}

export interface CorrelationFigure {
  kind: 'correlation';
  title?: string;
  xTitle: string;
  yTitle: string;
  /** `labelDist`: the label sits that many times farther out than usual, with a leader line (crowded points). */
  points: (CorrelationPoint & { color: string; labelPos: LabelPos; labelDist?: number })[];
  groups: Legend[];
  fit: { slope: number; intercept: number; x: [number, number]; y: [number, number] } | null;
  xRange: [number, number];
  yRange: [number, number];
  /** Lines printed in `corner` of the plot area: the coefficient with its CI, then the note. */
  annotation: string[];
  corner: Corner;
}

export interface HeatmapPanelInput {
  /** Usually the tokenizer's name. */
  title: string;
  alphas: number[];
  /** δ in codes. */
  deltas: number[];
  /** α rows × δ columns; null/NaN cells are drawn grey with "—". */
  values: (number | null)[][];
  /** Column labels to show instead of the δ values (e.g. "2.4% K"). */
  deltaLabels?: string[];
}

export interface HeatmapInput {
  panels: HeatmapPanelInput[];
  /** Colour bar title, e.g. "pFID". */
  colorTitle: string;
  title?: string;
  xTitle?: string;
  yTitle?: string;
  /** Override the shared colour domain (default: min..max over all panels). */
  domain?: [number, number];
  /** Panels per row (default: up to 3). */
  columns?: number;
}

export interface HeatmapCell {
  row: number;
  col: number;
  rowLabel: string;
  colLabel: string;
  value: number | null;
  text: string;
  /** The cell's fill is dark: print its value in white. */
  dark: boolean;
}

export interface HeatmapPanel {
  title: string;
  /** Bottom to top (α increases upwards). */
  rowLabels: string[];
  colLabels: string[];
  /** α rows × δ columns, as given (null for missing). */
  z: (number | null)[][];
  cells: HeatmapCell[];
}

export interface HeatmapFigure {
  kind: 'heatmap';
  title?: string;
  colorTitle: string;
  xTitle: string;
  yTitle: string;
  /** ONE colour scale for every panel. */
  domain: [number, number];
  scheme: string;
  columns: number;
  panels: HeatmapPanel[];
}

export interface BarRowInput {
  label: string;
  value: number;
  /** Half-width of the error bar (e.g. std over seeds); the bar shows value ± spread. */
  spread?: number | null;
  /** e.g. "+LP" / "−LP". */
  group?: string;
}

export interface BarInput {
  rows: BarRowInput[];
  yTitle: string;
  title?: string;
  xTitle?: string;
  /** Fixed value range (e.g. [0, 1] for a share); default from the bars and their error bars. */
  yRange?: [number, number];
}

export interface BarFigure {
  kind: 'bar';
  title?: string;
  xTitle?: string;
  yTitle: string;
  /** `key`: the unique category drawn under the bar (the label, disambiguated if repeated). */
  rows: (BarRowInput & { key: string; color: string; lo: number | null; hi: number | null })[];
  groups: Legend[];
  yRange: [number, number];
}

export interface LineSeriesInput {
  name: string;
  x: number[];
  y: number[];
  /** Series of one group share a colour (e.g. the tokenizer); without groups every series gets its own. */
  group?: string;
  /** Series of one variant share a dash pattern (e.g. the δ), within their group's colour. */
  variant?: string;
  /** 'right': drawn against the second y axis (`y2Title`). */
  axis?: 'left' | 'right';
  /** Draw the line as steps (the value holds until the next x). */
  step?: boolean;
}

export interface LineInput {
  series: LineSeriesInput[];
  xTitle: string;
  yTitle: string;
  /** Title of the right-hand axis; required when a series has axis 'right'. */
  y2Title?: string;
  logY?: boolean;
  title?: string;
  /** Fixed range of the left axis (e.g. [0, 1] for a share). */
  yRange?: [number, number];
}

export type Dash = 'solid' | 'dash' | 'dot' | 'dashdot' | 'longdash' | 'longdashdot';

export interface LineFigure {
  kind: 'line';
  title?: string;
  xTitle: string;
  yTitle: string;
  /** null: one y axis. */
  y2Title: string | null;
  logY: boolean;
  /** Points with a non-finite value (or ≤ 0 on a log axis) are dropped. */
  series: (Omit<LineSeriesInput, 'axis' | 'step'> & { color: string; dash: Dash; markers: boolean; axis: 'left' | 'right'; step: boolean })[];
  /** Labelled y ticks on a log axis (both back ends), null on a linear one. */
  yTicks: number[] | null;
  yRange: [number, number] | null;
}

export type FigureDef = CorrelationFigure | HeatmapFigure | BarFigure | LineFigure;

/**
 * Image grids (e.g. a sample run's galleries without and with CFG) side by side as one labelled
 * PNG, composed in the host from the run's PNG artifacts (paths relative to the lab home).
 */
export interface GalleryFigure {
  kind: 'gallery';
  title?: string;
  /** One column per grid, left to right, each with its label (e.g. "without CFG", "CFG g=3 (constant)"). */
  columns: { title: string; path: string }[];
  /** Labels of the grids' rows (the class names), top to bottom. */
  rowLabels: string[];
  /** A line under the grids (seeds, temperature, run). */
  footer?: string;
}

/** Anything that exports as a figure file. */
export type ExportFigure = FigureDef | GalleryFigure;
