// Figure definition → Vega spec, for headless rendering (main/report/render.ts: vega's
// renderer 'none' → SVG → sharp → PNG). Plain data in, plain JSON out; no DOM, no vega import.
import { labelAnchor } from './correlation';
import { FONT, SIZES, textWidth } from './style';
import type { BarFigure, CorrelationFigure, FigureDef, HeatmapFigure, LineFigure } from './types';

export type VegaSpec = Record<string, unknown>;

export interface VegaSize {
  /** Total width in CSS px, padding included (default 648 = 6.75 in at 96 px/in). */
  width?: number;
  /** Total height in CSS px; default depends on the figure (heat maps: from the panels). */
  height?: number;
}

const PADDING = 10;

const config = {
  font: FONT,
  background: 'white',
  axis: {
    labelFont: FONT, titleFont: FONT, labelFontSize: SIZES.tick, titleFontSize: SIZES.axisTitle, titleFontWeight: 'normal',
    labelColor: '#222', titleColor: '#111', domainColor: '#444', tickColor: '#444', gridColor: '#e4e4e4', titlePadding: 6,
  },
  legend: { labelFont: FONT, titleFont: FONT, labelFontSize: SIZES.tick, titleFontSize: SIZES.axisTitle, titleFontWeight: 'normal', labelLimit: 260 },
  title: { font: FONT, fontSize: SIZES.title, fontWeight: 'bold', anchor: 'start', offset: 8 },
  text: { font: FONT },
};

function base(title: string | undefined, width: number, height: number | undefined, defaultHeight: number): VegaSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    background: 'white',
    padding: PADDING,
    // 'fit' with contains 'padding': width and height are the SVG's outer size.
    width,
    height: height ?? defaultHeight,
    autosize: { type: 'fit', contains: 'padding' },
    config,
    ...(title ? { title: { text: title } } : {}),
  };
}

export function toVega(def: FigureDef, size: VegaSize = {}): VegaSpec {
  const width = size.width ?? SIZES.width;
  switch (def.kind) {
    case 'correlation': return correlationSpec(def, width, size.height);
    case 'heatmap': return heatmapSpec(def, width, size.height);
    case 'bar': return barSpec(def, width, size.height);
    case 'line': return lineSpec(def, width, size.height);
  }
}

function correlationSpec(def: CorrelationFigure, width: number, height: number | undefined): VegaSpec {
  const points = def.points.map((p) => ({ ...p, group: p.group ?? '', ...labelAnchor(p.labelPos) }));
  const top = def.corner.startsWith('top');
  const left = def.corner.endsWith('left');
  const lineH = SIZES.note + 4;
  const boxW = Math.max(0, ...def.annotation.map((l) => textWidth(l, SIZES.note))) + 10;
  const boxH = def.annotation.length * lineH + 6;
  const marks: unknown[] = [];
  if (def.fit) {
    marks.push({
      type: 'line', name: 'fit-line', from: { data: 'fit' },
      encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { value: '#555' }, strokeWidth: { value: 1.5 }, strokeDash: { value: [6, 4] } } },
    });
  }
  marks.push(
    {
      type: 'symbol', name: 'point-marks', from: { data: 'points' },
      encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, fill: { field: 'color' }, stroke: { value: 'white' }, strokeWidth: { value: 1 }, size: { value: 80 } } },
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
  if (def.annotation.length) {
    const x = left ? { value: 2 } : { signal: `width - ${boxW + 2}` };
    const y = top ? { value: 2 } : { signal: `height - ${boxH + 2}` };
    marks.push(
      { type: 'rect', name: 'annotation-box', encode: { update: { x, y, width: { value: boxW }, height: { value: boxH }, fill: { value: 'white' }, fillOpacity: { value: 0.9 }, stroke: { value: '#bbb' }, strokeWidth: { value: 0.5 } } } },
      {
        type: 'text', name: 'annotation',
        encode: {
          update: {
            x: left ? { value: 7 } : { signal: `width - ${boxW - 3}` }, y: top ? { value: 5 } : { signal: `height - ${boxH - 1}` },
            align: { value: 'left' }, baseline: { value: 'top' }, lineHeight: { value: lineH }, text: { value: def.annotation }, fontSize: { value: SIZES.note }, fill: { value: '#111' },
          },
        },
      },
    );
  }
  return {
    ...base(def.title, width, height, Math.round(width * 0.66)),
    data: [
      { name: 'points', values: points },
      { name: 'fit', values: def.fit ? [{ x: def.fit.x[0], y: def.fit.y[0] }, { x: def.fit.x[1], y: def.fit.y[1] }] : [] },
    ],
    scales: [
      { name: 'x', type: 'linear', domain: def.xRange, range: 'width', zero: false, nice: false },
      { name: 'y', type: 'linear', domain: def.yRange, range: 'height', zero: false, nice: false },
      { name: 'color', type: 'ordinal', domain: def.groups.map((g) => g.name), range: def.groups.map((g) => g.color) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: def.xTitle, grid: true, tickCount: 6 },
      { orient: 'left', scale: 'y', title: def.yTitle, grid: true, tickCount: 6 },
    ],
    legends: def.groups.length ? [{ fill: 'color', orient: 'top', direction: 'horizontal', symbolType: 'circle' }] : [],
    marks,
  };
}

/** Explicit layout (autosize 'none'): panels in a grid, one gradient legend on the right. */
export function heatmapLayout(def: HeatmapFigure, width: number, height?: number) {
  const cols = def.columns;
  const gridRows = Math.ceil(def.panels.length / cols);
  const maxR = Math.max(1, ...def.panels.map((p) => p.rowLabels.length));
  const maxC = Math.max(1, ...def.panels.map((p) => p.colLabels.length));
  const rowLabelW = Math.max(20, ...def.panels.flatMap((p) => p.rowLabels.map((l) => textWidth(l, SIZES.tick)))) + 6;
  const W = width - 2 * PADDING;
  const left = rowLabelW + SIZES.axisTitle + 10;
  const legendW = 74;
  const gapX = rowLabelW + 14;
  const titleH = def.title ? SIZES.title + 12 : 0;
  const panelTitleH = SIZES.axisTitle + 8;
  const xAxisH = SIZES.tick + 6;
  const xTitleH = SIZES.axisTitle + 8;
  const pw = Math.max(40, (W - left - legendW - (cols - 1) * gapX) / cols);
  const rowGap = panelTitleH + xAxisH + 14;
  const ph = height
    ? Math.max(30, (height - 2 * PADDING - titleH - xTitleH - gridRows * rowGap) / gridRows)
    : Math.max(
        Math.round(Math.min(pw * 1.1, Math.max(pw * 0.45, (pw * maxR * 0.8) / maxC), (maxR * (SIZES.cell + 14)))),
        // the rotated y title runs along the panels and is cut to their span ("α (token perturbati…"):
        // give them its length as headless Vega measures it (no canvas: 0.8 × font size per character)
        Math.ceil((0.8 * [...(def.yTitle ?? '')].length * SIZES.axisTitle + 8 - (gridRows - 1) * rowGap) / gridRows),
      );
  const totalH = height ?? Math.round(2 * PADDING + titleH + gridRows * (panelTitleH + ph + xAxisH) + (gridRows - 1) * 14 + xTitleH);
  const originY = titleH + panelTitleH;
  const pos = def.panels.map((_, k) => ({ x: left + (k % cols) * (pw + gapX), y: originY + Math.floor(k / cols) * (ph + rowGap) }));
  return { W, H: totalH - 2 * PADDING, totalH, pw, ph, pos, left, legendX: W - legendW + 12, titleH, gridRows, cols, xTitleH, xAxisH };
}

function heatmapSpec(def: HeatmapFigure, width: number, height: number | undefined): VegaSpec {
  const L = heatmapLayout(def, width, height);
  const plotTop = L.pos[0]?.y ?? L.titleH;
  const plotBottom = (L.pos[L.pos.length - 1]?.y ?? plotTop) + L.ph;
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
        encode: { enter: { x: { value: L.pw / 2 }, y: { value: -6 }, align: { value: 'center' }, baseline: { value: 'bottom' }, text: { value: p.title }, fontSize: { value: SIZES.axisTitle }, fontWeight: { value: 'bold' }, fill: { value: '#111' }, limit: { value: L.pw + 30 } } },
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
            fill: { signal: "datum.dark ? '#ffffff' : '#111111'" },
          },
        },
      },
    ],
  }));
  const texts: unknown[] = [
    {
      type: 'text', name: 'x-title',
      encode: { enter: { x: { value: L.left + (L.W - L.left - 74) / 2 }, y: { value: L.H }, align: { value: 'center' }, baseline: { value: 'bottom' }, text: { value: def.xTitle }, fontSize: { value: SIZES.axisTitle }, fill: { value: '#111' } } },
    },
    {
      type: 'text', name: 'y-title',
      encode: { enter: { x: { value: 2 }, y: { value: (plotTop + plotBottom) / 2 }, angle: { value: -90 }, align: { value: 'center' }, baseline: { value: 'top' }, text: { value: def.yTitle }, fontSize: { value: SIZES.axisTitle }, fill: { value: '#111' }, limit: { value: Math.max(40, plotBottom - plotTop) } } },
    },
  ];
  if (def.title) {
    texts.push({ type: 'text', name: 'figure-title', encode: { enter: { x: { value: 0 }, y: { value: 0 }, baseline: { value: 'top' }, text: { value: def.title }, fontSize: { value: SIZES.title }, fontWeight: { value: 'bold' }, fill: { value: '#111' } } } });
  }
  return {
    $schema: 'https://vega.github.io/schema/vega/v6.json',
    background: 'white',
    padding: PADDING,
    width: L.W,
    height: L.H,
    autosize: 'none',
    config,
    scales: [{ name: 'color', type: 'linear', domain: def.domain, range: { scheme: def.scheme }, zero: false, nice: false, clamp: true }],
    legends: [
      {
        fill: 'color', type: 'gradient', title: def.colorTitle, orient: 'none', legendX: L.legendX, legendY: plotTop,
        gradientLength: Math.max(60, Math.min(240, plotBottom - plotTop - 24)), gradientThickness: 12, direction: 'vertical',
      },
    ],
    marks: [...texts, ...panels],
  };
}

function barSpec(def: BarFigure, width: number, height: number | undefined): VegaSpec {
  const rows = def.rows.map((r) => ({ ...r, group: r.group ?? '' }));
  const avail = width - 2 * PADDING - 70;
  const labelW = Math.max(...rows.map((r) => textWidth(r.key, SIZES.tick)), 0);
  const rotate = labelW + 8 > avail / Math.max(1, rows.length);
  // Vega's headless bounds of rotated labels push a spec title off the top; draw it as a mark above
  // the legend instead (the 'fit' layout includes it).
  const titleMark = def.title
    ? [{ type: 'text', name: 'figure-title', encode: { enter: { x: { value: -50 }, y: { value: def.groups.length ? -34 : -14 }, baseline: { value: 'bottom' }, text: { value: def.title }, fontSize: { value: SIZES.title }, fontWeight: { value: 'bold' }, fill: { value: '#111' } } } }]
    : [];
  return {
    ...base(undefined, width, height, Math.round(width * 0.55)),
    data: [{ name: 'rows', values: rows }, { name: 'errors', values: rows.filter((r) => r.lo !== null && r.hi !== null) }],
    scales: [
      { name: 'x', type: 'band', domain: rows.map((r) => r.key), range: 'width', paddingInner: 0.25, paddingOuter: 0.15 },
      { name: 'y', type: 'linear', domain: def.yRange, range: 'height', zero: false, nice: true },
      { name: 'color', type: 'ordinal', domain: def.groups.map((g) => g.name), range: def.groups.map((g) => g.color) },
    ],
    axes: [
      {
        orient: 'bottom', scale: 'x', title: def.xTitle ?? null, labelAngle: rotate ? -35 : 0, labelAlign: rotate ? 'right' : 'center', labelBaseline: 'top', labelLimit: 200,
      },
      { orient: 'left', scale: 'y', title: def.yTitle, grid: true },
    ],
    legends: def.groups.length ? [{ fill: 'color', orient: 'top', direction: 'horizontal', symbolType: 'square' }] : [],
    marks: [
      ...titleMark,
      {
        type: 'rect', name: 'bar-marks', from: { data: 'rows' },
        encode: { enter: { x: { scale: 'x', field: 'key' }, width: { scale: 'x', band: 1 }, y: { scale: 'y', field: 'value' }, y2: { scale: 'y', value: Math.max(def.yRange[0], 0) }, fill: { field: 'color' } } },
      },
      {
        type: 'rule', name: 'error-bars', from: { data: 'errors' },
        encode: { enter: { x: { scale: 'x', field: 'key', band: 0.5 }, y: { scale: 'y', field: 'lo' }, y2: { scale: 'y', field: 'hi' }, stroke: { value: '#111' }, strokeWidth: { value: 1.3 } } },
      },
      ...(['lo', 'hi'] as const).map((f) => ({
        type: 'rule', name: `error-cap-${f}`, from: { data: 'errors' },
        encode: {
          enter: {
            x: { scale: 'x', field: 'key', band: 0.5, offset: -5 }, x2: { scale: 'x', field: 'key', band: 0.5, offset: 5 },
            y: { scale: 'y', field: f }, stroke: { value: '#111' }, strokeWidth: { value: 1.3 },
          },
        },
      })),
    ],
  };
}

function lineSpec(def: LineFigure, width: number, height: number | undefined): VegaSpec {
  const pts = def.series.flatMap((s) => s.x.map((x, k) => ({ series: s.name, x, y: s.y[k], markers: s.markers })));
  return {
    ...base(def.title, width, height, Math.round(width * 0.55)),
    data: [{ name: 'points', values: pts }, { name: 'markers', source: 'points', transform: [{ type: 'filter', expr: 'datum.markers' }] }],
    scales: [
      { name: 'x', type: 'linear', domain: { data: 'points', field: 'x' }, range: 'width', zero: false, nice: true },
      def.yTicks
        ? { name: 'y', type: 'log', domain: [def.yTicks[0], def.yTicks[def.yTicks.length - 1]], range: 'height', nice: false }
        : { name: 'y', type: def.logY ? 'log' : 'linear', domain: { data: 'points', field: 'y' }, range: 'height', zero: false, nice: true },
      { name: 'color', type: 'ordinal', domain: def.series.map((s) => s.name), range: def.series.map((s) => s.color) },
    ],
    axes: [
      { orient: 'bottom', scale: 'x', title: def.xTitle, grid: true, tickCount: 6, labelOverlap: 'greedy', labelSeparation: 6 },
      { orient: 'left', scale: 'y', title: def.yTitle, grid: true, ...(def.yTicks ? { values: def.yTicks, format: '~g' } : {}) },
    ],
    legends: def.series.length > 1 ? [{ stroke: 'color', orient: 'right', symbolType: 'stroke', symbolStrokeWidth: 2.5 }] : [],
    marks: [
      {
        type: 'group', name: 'series', from: { facet: { name: 'one', data: 'points', groupby: 'series' } },
        marks: [{ type: 'line', from: { data: 'one' }, sort: { field: 'datum.x' }, encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, stroke: { scale: 'color', field: 'series' }, strokeWidth: { value: 2 } } } }],
      },
      {
        type: 'symbol', name: 'marker-marks', from: { data: 'markers' },
        encode: { enter: { x: { scale: 'x', field: 'x' }, y: { scale: 'y', field: 'y' }, fill: { scale: 'color', field: 'series' }, size: { value: 30 } } },
      },
    ],
  };
}
