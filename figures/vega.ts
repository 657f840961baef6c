// Figure definition → Vega spec, for headless rendering (main/report/render.ts: vega's renderer
// 'none' → SVG → sharp → PNG, svg-to-pdfkit → PDF). Plain data in, plain JSON out; no DOM, no vega
// import. The layout is explicit (autosize 'none'): margins, wrapped titles and legends are computed
// here with DejaVu Sans's advance widths, so the SVG is exactly the preset's width, nothing is cut,
// and the correlation labels are placed for the plot area actually drawn.
import { annotationFits, labelAnchor, placeLabels } from './correlation';
import { DASHES, FONT, linearTicks, niceDomain, SIZES, textWidth, tickDecimals, tickLabel, tickStep, wrapText } from './style';
import type { BarFigure, CorrelationFigure, FigureDef, HeatmapFigure, LineFigure } from './types';

export type VegaSpec = Record<string, unknown>;

export interface VegaSize {
  /** Total width in CSS px, padding included (default 648 = 6.75 in at 96 px/in). */
  width?: number;
  /** Total height in CSS px; default depends on the figure and the width. */
  height?: number;
}

const PAD = 10;
const TICK = 5;
const LABEL_PAD = 3;
const TITLE_PAD = 5;
const LINE = (size: number): number => Math.round(size * 1.25);

const config = {
  font: FONT,
  background: 'white',
  axis: {
    labelFont: FONT, titleFont: FONT, labelFontSize: SIZES.tick, titleFontSize: SIZES.axisTitle, titleFontWeight: 'normal',
    labelColor: '#222', titleColor: '#111', domainColor: '#444', tickColor: '#444', gridColor: '#e4e4e4', titlePadding: TITLE_PAD, labelPadding: LABEL_PAD, tickSize: TICK,
    titleLineHeight: LINE(SIZES.axisTitle),
  },
  legend: { labelFont: FONT, titleFont: FONT, labelFontSize: SIZES.tick, titleFontSize: SIZES.axisTitle, titleFontWeight: 'normal', labelLimit: 260 },
  text: { font: FONT },
};

export function toVega(def: FigureDef, size: VegaSize = {}): VegaSpec {
  const width = Math.round(size.width ?? SIZES.width);
  switch (def.kind) {
    case 'correlation': return correlationSpec(def, width, size.height);
    case 'heatmap': return heatmapSpec(def, width, size.height);
    case 'bar': return barSpec(def, width, size.height);
    case 'line': return lineSpec(def, width, size.height);
  }
}

/** Default height for a width: flatter at double column, squarer at single column (text does not shrink). */
function defaultHeight(width: number, ratio: number): number {
  return Math.round(width < 400 ? width * Math.max(0.85, ratio + 0.3) : width * ratio);
}

// ---------- legends (drawn as marks, so their size is known before Vega lays anything out) ----------

interface LegendEntry {
  label: string;
  color: string;
  /** 'line' with a dash (and a marker when `marker`), or a filled 'circle' / 'square'. */
  swatch: 'line' | 'circle' | 'square';
  dash?: number[];
  marker?: 'circle' | 'square' | null;
}

interface LegendBox {
  entries: (LegendEntry & { x: number; y: number })[];
  width: number;
  height: number;
}

const SWATCH_W = { line: 22, circle: 10, square: 10 } as const;

/** Entries flowed left to right into rows no wider than `maxWidth` (one column when `column`). */
function flowLegend(entries: LegendEntry[], maxWidth: number, column = false): LegendBox {
  const rowH = LINE(SIZES.tick) + 2;
  const out: LegendBox['entries'] = [];
  let x = 0;
  let y = 0;
  let width = 0;
  for (const e of entries) {
    const w = SWATCH_W[e.swatch] + 5 + textWidth(e.label, SIZES.tick);
    if (x > 0 && (column || x + w > maxWidth)) {
      x = 0;
      y += rowH;
    }
    out.push({ ...e, x, y });
    width = Math.max(width, x + w);
    x += w + 14;
  }
  return { entries: out, width, height: entries.length ? y + rowH : 0 };
}

function legendMarks(name: string, box: LegendBox, x: number | { signal: string }, y: number | { signal: string }): unknown[] {
  if (!box.entries.length) return [];
  const pos = (v: number | { signal: string }): unknown => (typeof v === 'number' ? { value: v } : v);
  const mid = (LINE(SIZES.tick) + 2) / 2;
  const values = box.entries.map((e) => ({ ...e, dashArray: e.dash ?? [], cy: e.y + mid, tx: e.x + SWATCH_W[e.swatch] + 5 }));
  return [
    {
      type: 'group', name,
      encode: { enter: { x: pos(x), y: pos(y), width: { value: box.width }, height: { value: box.height } } },
      data: [{ name: `${name}-entries`, values }, { name: `${name}-lines`, source: `${name}-entries`, transform: [{ type: 'filter', expr: "datum.swatch === 'line'" }] }, { name: `${name}-symbols`, source: `${name}-entries`, transform: [{ type: 'filter', expr: "datum.swatch !== 'line' || datum.marker" }] }],
      marks: [
        {
          type: 'rule', name: `${name}-swatch-lines`, from: { data: `${name}-lines` },
          encode: { enter: { x: { field: 'x' }, x2: { signal: 'datum.x + 22' }, y: { field: 'cy' }, stroke: { field: 'color' }, strokeWidth: { value: 2 }, strokeDash: { field: 'dashArray' } } },
        },
        {
          type: 'symbol', name: `${name}-swatch-symbols`, from: { data: `${name}-symbols` },
          encode: {
            enter: {
              x: { signal: "datum.swatch === 'line' ? datum.x + 11 : datum.x + 5" }, y: { field: 'cy' }, fill: { field: 'color' },
              shape: { signal: "datum.swatch === 'square' || datum.marker === 'square' ? 'square' : 'circle'" }, size: { signal: "datum.swatch === 'line' ? 24 : 60" },
            },
          },
        },
        {
          type: 'text', name: `${name}-labels`, from: { data: `${name}-entries` },
          encode: { enter: { x: { field: 'tx' }, y: { field: 'cy' }, baseline: { value: 'middle' }, text: { field: 'label' }, fontSize: { value: SIZES.tick }, fill: { value: '#111' } } },
        },
      ],
    },
  ];
}

// ---------- frame: title, margins, plot area ----------

interface Frame {
  width: number;
  height: number;
  left: number;
  top: number;
  right: number;
  bottom: number;
  plotW: number;
  plotH: number;
  titleLines: string[];
}

function titleLines(title: string | undefined, width: number): string[] {
  return title ? wrapText(title, SIZES.title, width - 2 * PAD, true) : [];
}
const titleBlock = (lines: string[]): number => (lines.length ? lines.length * LINE(SIZES.title) + 6 : 0);

/** Whole-pixel margins; the plot area is what they leave of the figure. */
function mkFrame(width: number, height: number, m: { left: number; top: number; right: number; bottom: number }, titleLines: string[]): Frame {
  const [left, top, right, bottom] = [m.left, m.top, m.right, m.bottom].map((v) => Math.ceil(v));
  return { width, height, left, top, right, bottom, plotW: width - left - right, plotH: height - top - bottom, titleLines };
}

function frameSpec(f: Frame): VegaSpec {
  const { left, top, right, bottom } = f;
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    background: 'white',
    width: f.plotW,
    height: f.plotH,
    padding: { left, top, right, bottom },
    autosize: 'none',
    config,
  };
}

function titleMark(f: Frame): unknown[] {
  if (!f.titleLines.length) return [];
  return [
    {
      type: 'text', name: 'figure-title',
      encode: { enter: { x: { value: PAD - f.left }, y: { value: PAD - f.top }, baseline: { value: 'top' }, lineHeight: { value: LINE(SIZES.title) }, text: { value: f.titleLines.length === 1 ? f.titleLines[0] : f.titleLines }, fontSize: { value: SIZES.title }, fontWeight: { value: 'bold' }, fill: { value: '#111' } } },
    },
  ];
}

/** Linear axis ticks as drawn, their labels, and the widest label. */
function linearAxis(domain: [number, number], count: number): { values: number[]; format: string; labelW: number } {
  const values = linearTicks(domain[0], domain[1], count);
  const dec = tickDecimals(tickStep(domain[0], domain[1], count));
  const labelW = Math.max(0, ...values.map((v) => textWidth(tickLabel(v, dec), SIZES.tick)));
  return { values, format: `.${dec}f`, labelW };
}

/** Lines of an axis title that fit along `length` px. */
const axisTitleLines = (t: string | undefined | null, length: number): string[] => (t ? wrapText(t, SIZES.axisTitle, Math.max(60, length)) : []);
const titleText = (lines: string[]): string | string[] | null => (lines.length === 0 ? null : lines.length === 1 ? lines[0] : lines);
/** Space an axis takes beside the plot: ticks, labels of `labelExtent` px, and its title lines. */
const axisExtent = (labelExtent: number, titleN: number): number => TICK + LABEL_PAD + labelExtent + (titleN ? TITLE_PAD + titleN * LINE(SIZES.axisTitle) : 0) + 2;

// ---------- correlation ----------

function correlationSpec(input: CorrelationFigure, width: number, height: number | undefined): VegaSpec {
  const H = height ?? defaultHeight(width, 0.66);
  const tLines = titleLines(input.title, width);
  const legend = input.groups.length ? flowLegend(input.groups.map((g) => ({ label: g.name, color: g.color, swatch: 'circle' as const })), width - 2 * PAD) : null;
  const count = width < 400 ? 4 : 6;
  const xAxis = linearAxis(input.xRange, count);
  const yAxis = linearAxis(input.yRange, count);
  const lineH = SIZES.note + 4;
  const layout = (noteAbove: boolean): { f: Frame; xTitle: string[]; yTitle: string[]; headH: number } => {
    const headH = titleBlock(tLines) + (legend ? legend.height + 6 : 0) + (noteAbove ? input.annotation.length * lineH + 6 : 0);
    const top = PAD + headH + 4;
    const xTitle = axisTitleLines(input.xTitle, width - 2 * PAD - 60);
    const bottom = PAD + axisExtent(SIZES.tick, xTitle.length);
    // the y title runs along the plot height: wrapped to it
    const yTitle = axisTitleLines(input.yTitle, H - top - bottom);
    const left = PAD + axisExtent(yAxis.labelW, yTitle.length);
    const right = PAD + Math.ceil(textWidth(tickLabel(xAxis.values[xAxis.values.length - 1] ?? 0, 2), SIZES.tick) / 2);
    return { f: mkFrame(width, H, { left, top, right, bottom }, tLines), xTitle, yTitle, headH };
  };
  // labels and the annotation's corner for the plot area drawn here; the annotation moves above the
  // plot when no corner of this plot area has room for it
  let L = layout(false);
  let def = placeLabels(input, { width: L.f.plotW, height: L.f.plotH });
  const above = !annotationFits(def, { width: L.f.plotW, height: L.f.plotH });
  if (above) {
    L = layout(true);
    def = { ...placeLabels({ ...input, annotation: [] }, { width: L.f.plotW, height: L.f.plotH }), annotation: input.annotation };
  }
  const { f, xTitle, yTitle } = L;
  const points = def.points.map((p) => ({ ...p, group: p.group ?? '', far: (p.labelDist ?? 1) > 1, ...labelAnchor(p.labelPos, p.labelDist ?? 1) }));
  const topC = def.corner.startsWith('top');
  const leftC = def.corner.endsWith('left');
  const boxW = Math.max(0, ...def.annotation.map((l) => textWidth(l, SIZES.note))) + 10;
  const boxH = def.annotation.length * lineH + 6;
  const marks: unknown[] = [...titleMark(f), ...(legend ? legendMarks('legend', legend, PAD - f.left, PAD - f.top + titleBlock(tLines)) : [])];
  if (def.fit) {
    marks.push({
      type: 'line', name: 'fit-line', from: { data: 'fit' },
      encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { value: '#555' }, strokeWidth: { value: 1.5 }, strokeDash: { value: [6, 4] } } },
    });
  }
  marks.push(
    {
      type: 'rule', name: 'label-leaders', from: { data: 'far-labels' },
      encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, x2: { signal: "scale('x', datum.x) + datum.dx * 0.8" }, y2: { signal: "scale('y', datum.y) + datum.dy * 0.8" }, stroke: { value: '#888' }, strokeWidth: { value: 0.7 } } },
    },
    {
      type: 'symbol', name: 'point-marks', from: { data: 'points' },
      encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, fill: { field: 'color' }, stroke: { value: 'white' }, strokeWidth: { value: 1 }, size: { value: 70 } } },
    },
    {
      type: 'text', name: 'labels', from: { data: 'points' },
      encode: {
        enter: {
          x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, dx: { field: 'dx' }, dy: { field: 'dy' },
          align: { field: 'align' }, baseline: { field: 'baseline' }, text: { field: 'label' }, fontSize: { value: SIZES.label }, fill: { value: '#111' },
        },
      },
    },
  );
  if (def.annotation.length && above) {
    marks.push({
      type: 'text', name: 'annotation',
      encode: { update: { x: { value: PAD - f.left }, y: { value: PAD - f.top + titleBlock(tLines) + (legend ? legend.height + 6 : 0) }, align: { value: 'left' }, baseline: { value: 'top' }, lineHeight: { value: lineH }, text: { value: def.annotation }, fontSize: { value: SIZES.note }, fill: { value: '#111' } } },
    });
  } else if (def.annotation.length) {
    const x = leftC ? 2 : f.plotW - boxW - 2;
    const y = topC ? 2 : f.plotH - boxH - 2;
    marks.push(
      { type: 'rect', name: 'annotation-box', encode: { update: { x: { value: x }, y: { value: y }, width: { value: boxW }, height: { value: boxH }, fill: { value: 'white' }, fillOpacity: { value: 0.9 }, stroke: { value: '#bbb' }, strokeWidth: { value: 0.5 } } } },
      {
        type: 'text', name: 'annotation',
        encode: { update: { x: { value: x + 5 }, y: { value: y + 4 }, align: { value: 'left' }, baseline: { value: 'top' }, lineHeight: { value: lineH }, text: { value: def.annotation }, fontSize: { value: SIZES.note }, fill: { value: '#111' } } },
      },
    );
  }
  return {
    ...frameSpec(f),
    data: [
      { name: 'points', values: points },
      { name: 'far-labels', source: 'points', transform: [{ type: 'filter', expr: 'datum.far' }] },
      { name: 'fit', values: def.fit ? [{ x: def.fit.x[0], y: def.fit.y[0] }, { x: def.fit.x[1], y: def.fit.y[1] }] : [] },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: def.xRange, range: 'width', zero: false, nice: false },
      { name: 'y', type: 'linear', domain: def.yRange, range: 'height', zero: false, nice: false },
      { name: 'color', type: 'ordinal', domain: def.groups.map((g) => g.name), range: def.groups.map((g) => g.color) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: titleText(xTitle), grid: true, values: xAxis.values, format: xAxis.format },
      { orient: 'left', scale: 'y', title: titleText(yTitle), grid: true, values: yAxis.values, format: yAxis.format },
    ],
    marks,
  };
}

// ---------- heat maps ----------

/** Explicit layout: panels in a grid (fewer per row when narrow), one gradient legend on the right. */
export function heatmapLayout(def: HeatmapFigure, width: number, height?: number, yTitleN = 1): ReturnType<typeof heatmapLayoutOnce> {
  const first = heatmapLayoutOnce(def, width, height, yTitleN);
  return first.yTitleLines.length === yTitleN ? first : heatmapLayoutOnce(def, width, height, first.yTitleLines.length);
}

function heatmapLayoutOnce(def: HeatmapFigure, width: number, height: number | undefined, yTitleN: number) {
  const maxR = Math.max(1, ...def.panels.map((p) => p.rowLabels.length));
  const maxC = Math.max(1, ...def.panels.map((p) => p.colLabels.length));
  const rowLabelW = Math.max(14, ...def.panels.flatMap((p) => p.rowLabels.map((l) => textWidth(l, SIZES.tick)))) + 6;
  const W = width - 2 * PAD;
  const legendW = 64;
  const gapX = rowLabelW + 12;
  const cellMin = Math.max(26, ...def.panels.flatMap((p) => p.cells.map((c) => textWidth(c.text, SIZES.cell) + 6)));
  const left = rowLabelW + Math.max(1, yTitleN) * LINE(SIZES.axisTitle) + 8;
  // as many panels per row as fit with readable cells, up to the figure's own number
  let cols = Math.max(1, Math.min(def.columns, def.panels.length || 1));
  while (cols > 1 && (W - left - legendW - (cols - 1) * gapX) / cols < maxC * cellMin) cols--;
  const gridRows = Math.ceil(def.panels.length / cols);
  const tLines = titleLines(def.title, width);
  const titleH = titleBlock(tLines);
  const panelTitleH = LINE(SIZES.axisTitle) + 4;
  const xAxisH = SIZES.tick + LABEL_PAD + 4;
  const pw = Math.max(40, (W - left - legendW - (cols - 1) * gapX) / cols);
  const rowGap = panelTitleH + xAxisH + 10;
  const xTitleLines = axisTitleLines(def.xTitle, W - left - legendW);
  const xTitleH = xTitleLines.length * LINE(SIZES.axisTitle) + 6;
  const ph = height
    ? Math.max(30, (height - 2 * PAD - titleH - xTitleH - gridRows * (panelTitleH + xAxisH) - (gridRows - 1) * 10) / gridRows)
    : Math.round(Math.min(pw * 1.1, Math.max(pw * 0.45, (pw * maxR * 0.8) / maxC), maxR * (SIZES.cell + 14)));
  const plotTop = titleH + panelTitleH;
  const plotBottom = plotTop + gridRows * ph + (gridRows - 1) * rowGap;
  const yTitleLines = axisTitleLines(def.yTitle, plotBottom - plotTop);
  const totalH = height ?? Math.round(2 * PAD + titleH + gridRows * (panelTitleH + ph + xAxisH) + (gridRows - 1) * 10 + xTitleH);
  const pos = def.panels.map((_, k) => ({ x: left + (k % cols) * (pw + gapX), y: plotTop + Math.floor(k / cols) * (ph + rowGap) }));
  return { W, H: totalH - 2 * PAD, totalH, pw, ph, pos, left, legendX: W - legendW + 10, legendW, titleH, titleLines: tLines, gridRows, cols, xTitleH, xTitleLines, yTitleLines, xAxisH, plotTop, plotBottom };
}

function heatmapSpec(def: HeatmapFigure, width: number, height: number | undefined): VegaSpec {
  const L = heatmapLayout(def, width, height);
  const panels = def.panels.map((p, k) => ({
    type: 'group', name: `panel-${k}`,
    encode: { enter: { x: { value: L.pos[k].x }, y: { value: L.pos[k].y }, width: { value: L.pw }, height: { value: L.ph } } },
    data: [{ name: `cells-${k}`, values: p.cells }],
    scales: [
      { name: 'x', type: 'band', domain: p.colLabels, range: [0, L.pw], paddingInner: 0.04 },
      { name: 'y', type: 'band', domain: p.rowLabels, range: [L.ph, 0], paddingInner: 0.04 },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', domain: false, ticks: false, labelPadding: 3, labelOverlap: true },
      { orient: 'left', scale: 'y', domain: false, ticks: false, labelPadding: 3 },
    ],
    marks: [
      {
        type: 'text', name: `panel-title-${k}`,
        encode: { enter: { x: { value: L.pw / 2 }, y: { value: -4 }, align: { value: 'center' }, baseline: { value: 'bottom' }, text: { value: p.title }, fontSize: { value: SIZES.axisTitle }, fontWeight: { value: 'bold' }, fill: { value: '#111' }, limit: { value: L.pw + 10 } } },
      },
      {
        type: 'rect', from: { data: `cells-${k}` },
        encode: {
          enter: {
            x: { scale: 'x', field: 'colLabel' }, width: { scale: 'x', band: 1 }, y: { scale: 'y', field: 'rowLabel' }, height: { scale: 'y', band: 1 },
            fill: [{ test: 'datum.value === null', value: '#cccccc' }, { scale: 'color', field: 'value' }],
          },
        },
      },
      {
        type: 'text', from: { data: `cells-${k}` },
        encode: {
          enter: {
            x: { scale: 'x', field: 'colLabel', band: 0.5 }, y: { scale: 'y', field: 'rowLabel', band: 0.5 },
            align: { value: 'center' }, baseline: { value: 'middle' }, text: { field: 'text' }, fontSize: { value: SIZES.cell },
            fill: { signal: "datum.dark ? '#ffffff' : '#111111'" }, limit: { scale: 'x', band: 1 },
          },
        },
      },
    ],
  }));
  const lh = LINE(SIZES.axisTitle);
  const texts: unknown[] = [
    {
      type: 'text', name: 'x-title',
      encode: { enter: { x: { value: L.left + (L.W - L.left - L.legendW) / 2 }, y: { value: L.H - L.xTitleH + 6 }, align: { value: 'center' }, baseline: { value: 'top' }, lineHeight: { value: lh }, text: { value: L.xTitleLines.length === 1 ? L.xTitleLines[0] : L.xTitleLines }, fontSize: { value: SIZES.axisTitle }, fill: { value: '#111' } } },
    },
    {
      type: 'text', name: 'y-title',
      encode: { enter: { x: { value: 0 }, y: { value: (L.plotTop + L.plotBottom) / 2 }, angle: { value: -90 }, align: { value: 'center' }, baseline: { value: 'top' }, lineHeight: { value: lh }, text: { value: L.yTitleLines.length === 1 ? L.yTitleLines[0] : L.yTitleLines }, fontSize: { value: SIZES.axisTitle }, fill: { value: '#111' } } },
    },
  ];
  if (L.titleLines.length) {
    texts.push({ type: 'text', name: 'figure-title', encode: { enter: { x: { value: 0 }, y: { value: 0 }, baseline: { value: 'top' }, lineHeight: { value: LINE(SIZES.title) }, text: { value: L.titleLines.length === 1 ? L.titleLines[0] : L.titleLines }, fontSize: { value: SIZES.title }, fontWeight: { value: 'bold' }, fill: { value: '#111' } } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    background: 'white',
    padding: PAD,
    width: L.W,
    height: L.H,
    autosize: 'none',
    config,
    scales: [{ name: 'color', type: 'linear', domain: def.domain, range: { scheme: def.scheme }, zero: false, nice: false, clamp: true }],
    legends: [
      {
        fill: 'color', type: 'gradient', title: def.colorTitle, orient: 'none', legendX: L.legendX, legendY: L.plotTop,
        gradientLength: Math.max(60, Math.min(240, L.plotBottom - L.plotTop - 24)), gradientThickness: 12, direction: 'vertical',
      },
    ],
    marks: [...texts, ...panels],
  };
}

// ---------- bars ----------

function barSpec(def: BarFigure, width: number, height: number | undefined): VegaSpec {
  const H = height ?? defaultHeight(width, 0.55);
  const rows = def.rows.map((r) => ({ ...r, group: r.group ?? '' }));
  const tLines = titleLines(def.title, width);
  const legend = def.groups.length ? flowLegend(def.groups.map((g) => ({ label: g.name, color: g.color, swatch: 'square' as const })), width - 2 * PAD) : null;
  const count = width < 400 ? 4 : 6;
  const yDomain = niceDomain(def.yRange[0], def.yRange[1], count);
  const domain: [number, number] = [Math.min(yDomain[0], def.yRange[0]), Math.max(yDomain[1], def.yRange[1])];
  const yAxis = linearAxis(def.yRange[0] === 0 && def.yRange[1] === 1 ? [0, 1] : domain, count);
  const yDom: [number, number] = def.yRange[0] === 0 && def.yRange[1] === 1 ? [0, 1] : domain;
  const top = PAD + titleBlock(tLines) + (legend ? legend.height + 6 : 0) + 4;
  const yTitle0 = axisTitleLines(def.yTitle, H * 0.6);
  const left = PAD + axisExtent(yAxis.labelW, yTitle0.length);
  const plotW = width - left - PAD - 4;
  const labelLimit = Math.min(200, H * 0.3);
  const labelW = Math.min(labelLimit, Math.max(0, ...rows.map((r) => textWidth(r.key, SIZES.tick))));
  const rotate = labelW + 6 > plotW / Math.max(1, rows.length);
  const labelExtent = rotate ? Math.sin((35 * Math.PI) / 180) * labelW + Math.cos((35 * Math.PI) / 180) * SIZES.tick : SIZES.tick;
  const xTitle = axisTitleLines(def.xTitle, plotW);
  const bottom = PAD + axisExtent(labelExtent, xTitle.length);
  const yTitle = axisTitleLines(def.yTitle, H - top - bottom);
  const f = mkFrame(width, H, { left: PAD + axisExtent(yAxis.labelW, yTitle.length), top, right: PAD + 4, bottom }, tLines);
  return {
    ...frameSpec(f),
    data: [{ name: 'rows', values: rows }, { name: 'errors', values: rows.filter((r) => r.lo !== null && r.hi !== null) }],
    scales: [
      { name: 'x', type: 'band', domain: rows.map((r) => r.key), range: 'width', paddingInner: 0.25, paddingOuter: 0.15 },
      { name: 'y', type: 'linear', domain: yDom, range: 'height', zero: false, nice: false },
      { name: 'color', type: 'ordinal', domain: def.groups.map((g) => g.name), range: def.groups.map((g) => g.color) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: titleText(xTitle), labelAngle: rotate ? -35 : 0, labelAlign: rotate ? 'right' : 'center', labelBaseline: 'top', labelLimit },
      { orient: 'left', scale: 'y', title: titleText(yTitle), grid: true, values: yAxis.values, format: yAxis.format },
    ],
    marks: [
      ...titleMark(f),
      ...(legend ? legendMarks('legend', legend, PAD - f.left, PAD - f.top + titleBlock(tLines)) : []),
      {
        type: 'rect', name: 'bar-marks', from: { data: 'rows' },
        encode: { enter: { x: { scale: 'x', field: 'key' }, width: { scale: 'x', band: 1 }, y: { scale: 'y', field: 'value' }, y2: { scale: 'y', value: Math.max(yDom[0], 0) }, fill: { field: 'color' } } },
      },
      {
        type: 'rule', name: 'error-bars', from: { data: 'errors' },
        encode: { enter: { x: { scale: 'x', field: 'key', band: 0.5 }, y: { scale: 'y', field: 'lo' }, y2: { scale: 'y', field: 'hi' }, stroke: { value: '#111' }, strokeWidth: { value: 1.3 } } },
      },
      ...(['lo', 'hi'] as const).map((fld) => ({
        type: 'rule', name: `error-cap-${fld}`, from: { data: 'errors' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'key', band: 0.5, offset: -5 }, x2: { scale: 'x', field: 'key', band: 0.5, offset: 5 },
            y: { scale: 'y', field: fld }, stroke: { value: '#111' }, strokeWidth: { value: 1.3 },
          },
        },
      })),
    ],
  };
}

// ---------- lines ----------

function lineSpec(def: LineFigure, width: number, height: number | undefined): VegaSpec {
  const H0 = height ?? defaultHeight(width, 0.55);
  const pts = def.series.flatMap((s, i) =>
    s.x.map((x, k) => ({ series: s.name, idx: i, x, y: s.y[k], markers: s.markers, axis: s.axis, color: s.color, dashArray: [...DASHES[s.dash]], interp: s.step ? 'step-after' : 'linear' })),
  );
  const tLines = titleLines(def.title, width);
  const count = width < 400 ? 4 : 6;
  const xs = pts.map((p) => p.x);
  const xDomain = xs.length ? niceDomain(Math.min(...xs), Math.max(...xs), count) : ([0, 1] as [number, number]);
  const xAxis = linearAxis(xDomain, count);
  const side = (axis: 'left' | 'right'): { domain: [number, number]; values: number[]; format: string; labelW: number } | null => {
    const ys = pts.filter((p) => p.axis === axis).map((p) => p.y);
    if (!ys.length) return null;
    if (axis === 'left' && def.yTicks) {
      const v = def.yTicks;
      return { domain: [v[0], v[v.length - 1]], values: v, format: '~g', labelW: Math.max(...v.map((t) => textWidth(String(+t.toPrecision(6)), SIZES.tick))) };
    }
    const dom = axis === 'left' && def.yRange ? def.yRange : niceDomain(Math.min(...ys), Math.max(...ys), count);
    const a = linearAxis(dom, count);
    return { domain: dom, ...a };
  };
  const yL = side('left') ?? { domain: [0, 1] as [number, number], ...linearAxis([0, 1], count) };
  const yR = def.y2Title ? side('right') : null;
  // legend: at the right when it fits in a third of the width, else under the plot
  const entries: LegendEntry[] = def.series.map((s) => ({ label: s.name, color: s.color, swatch: 'line', dash: [...DASHES[s.dash]], marker: s.markers ? (s.axis === 'right' ? 'square' : 'circle') : null }));
  const showLegend = def.series.length > 1;
  const rightLegend = showLegend ? flowLegend(entries, Infinity, true) : null;
  const legendAtRight = rightLegend !== null && rightLegend.width <= width / 3 && !yR;
  const bottomLegend = showLegend && !legendAtRight ? flowLegend(entries, width - 2 * PAD) : null;
  const top = PAD + titleBlock(tLines) + 4;
  const xTitle = axisTitleLines(def.xTitle, width - 2 * PAD - 80);
  const bottom = PAD + axisExtent(SIZES.tick, xTitle.length) + (bottomLegend ? bottomLegend.height + 8 : 0);
  // a legend under the plot does not squeeze it: the figure grows instead (unless a height was asked for)
  const H = height ?? (bottomLegend ? Math.max(H0, Math.round(top + bottom + 0.55 * (width - 2 * PAD - 60))) : H0);
  const yTitle = axisTitleLines(def.yTitle, H - top - bottom);
  const y2Title = yR ? axisTitleLines(def.y2Title, H - top - bottom) : [];
  const left = PAD + axisExtent(yL.labelW, yTitle.length);
  const lastX = textWidth(tickLabel(xAxis.values[xAxis.values.length - 1] ?? 0, 2), SIZES.tick) / 2;
  const right = PAD + (yR ? axisExtent(yR.labelW, y2Title.length) : Math.ceil(lastX)) + (legendAtRight && rightLegend ? rightLegend.width + 14 : 0);
  const f = mkFrame(width, H, { left, top, right, bottom }, tLines);
  const legend = legendAtRight && rightLegend
    ? legendMarks('legend', rightLegend, f.plotW + (yR ? 0 : 0) + 14, 0)
    : bottomLegend
      ? legendMarks('legend', bottomLegend, PAD - f.left, f.plotH + axisExtent(SIZES.tick, xTitle.length) + 6)
      : [];
  const scales: unknown[] = [
    { name: 'x', type: 'linear', domain: xDomain, range: 'width', zero: false, nice: false },
    { name: 'y', type: def.yTicks ? 'log' : def.logY ? 'log' : 'linear', domain: yL.domain, range: 'height', zero: false, nice: false, clamp: true },
    { name: 'color', type: 'ordinal', domain: def.series.map((s) => s.name), range: def.series.map((s) => s.color) },
  ];
  if (yR) scales.push({ name: 'y2', type: 'linear', domain: yR.domain, range: 'height', zero: false, nice: false });
  const axes: unknown[] = [
    { orient: 'bottom', scale: 'x', title: titleText(xTitle), grid: true, values: xAxis.values, format: xAxis.format },
    { orient: 'left', scale: 'y', title: titleText(yTitle), grid: true, values: yL.values, format: yL.format },
  ];
  if (yR) axes.push({ orient: 'right', scale: 'y2', title: titleText(y2Title), grid: false, values: yR.values, format: yR.format });
  const yEnc = { signal: yR ? "datum.axis === 'right' ? scale('y2', datum.y) : scale('y', datum.y)" : "scale('y', datum.y)" };
  return {
    ...frameSpec(f),
    data: [{ name: 'points', values: pts }, { name: 'markers', source: 'points', transform: [{ type: 'filter', expr: 'datum.markers' }] }],
    scales,
    axes,
    marks: [
      ...titleMark(f),
      {
        type: 'group', name: 'series', from: { facet: { name: 'one', data: 'points', groupby: 'idx' } },
        marks: [
          {
            type: 'line', from: { data: 'one' }, sort: { field: 'datum.x' },
            encode: { enter: { x: { scale: 'x', field: 'x' }, y: yEnc, stroke: { field: 'color' }, strokeWidth: { value: 1.8 }, strokeDash: { field: 'dashArray' }, interpolate: { field: 'interp' } } },
          },
        ],
      },
      {
        type: 'symbol', name: 'marker-marks', from: { data: 'markers' },
        encode: { enter: { x: { scale: 'x', field: 'x' }, y: yEnc, fill: { field: 'color' }, shape: { signal: "datum.axis === 'right' ? 'square' : 'circle'" }, size: { value: 22 } } },
      },
      ...legend,
    ],
  };
}
