// Figure definition → Plotly data + layout, for the app (renderer/src/lib/plot.ts draws it).
// The same derived data as figures/vega.ts: same points, fitted line, label positions, colour
// domain and colours, so a chart in the app and in the report agree.
import { labelAnchor } from './correlation';
import { fmtNum, FONT, SIZES } from './style';
import type { BarFigure, CorrelationFigure, Dash, FigureDef, HeatmapFigure, LabelPos, LineFigure } from './types';

export type PlotlyTrace = Record<string, unknown>;
export type PlotlyLayout = Record<string, unknown>;
export interface PlotlyFigure {
  data: PlotlyTrace[];
  layout: PlotlyLayout;
}

const TEXT_POSITION: Record<LabelPos, string> = {
  right: 'middle right', left: 'middle left', top: 'top center', bottom: 'bottom center',
  'top-right': 'top right', 'top-left': 'top left', 'bottom-right': 'bottom right', 'bottom-left': 'bottom left',
};

/** An axis title; automargin makes Plotly widen the margin instead of cutting the title or the tick labels. */
const axisTitle = (text: string | undefined | null): Record<string, unknown> => ({ automargin: true, ...(text ? { title: { text, font: { size: SIZES.axisTitle } } } : {}) });

/** Title at the top left, the (horizontal) legend between it and the plot. */
function baseLayout(title: string | undefined, legend = false): PlotlyLayout {
  return {
    font: { family: FONT, size: SIZES.tick },
    ...(title ? { title: { text: title, x: 0, xref: 'container', xanchor: 'left', y: 1, yref: 'container', yanchor: 'top', pad: { l: 8, t: 8 }, font: { size: SIZES.title } } } : {}),
    margin: { l: 64, r: 16, t: (title ? 36 : 12) + (legend ? 26 : 0), b: 52 },
    legend: { orientation: 'h', x: 0, y: 1.01, yanchor: 'bottom' },
  };
}

export function toPlotly(def: FigureDef): PlotlyFigure {
  switch (def.kind) {
    case 'correlation': return correlationPlotly(def);
    case 'heatmap': return heatmapPlotly(def);
    case 'bar': return barPlotly(def);
    case 'line': return linePlotly(def);
  }
}

function correlationPlotly(def: CorrelationFigure): PlotlyFigure {
  const data: PlotlyTrace[] = [];
  if (def.fit) {
    data.push({ type: 'scatter', mode: 'lines', name: 'least-squares fit', x: [...def.fit.x], y: [...def.fit.y], line: { color: '#555', dash: 'dash', width: 1.5 }, hoverinfo: 'skip', showlegend: false });
  }
  const groups = def.groups.length ? def.groups.map((g) => g.name) : [''];
  for (const g of groups) {
    const pts = def.points.filter((p) => (p.group ?? '') === g);
    if (!pts.length) continue;
    data.push({
      type: 'scatter', mode: 'markers+text', name: g || 'tokenizers', showlegend: g !== '',
      // a label moved out from a crowded point is an annotation with a leader line (below); the trace keeps it for hovering
      x: pts.map((p) => p.x), y: pts.map((p) => p.y), text: pts.map((p) => p.label), texttemplate: pts.map((p) => ((p.labelDist ?? 1) > 1 ? ' ' : '%{text}')),
      textposition: pts.map((p) => TEXT_POSITION[p.labelPos]), textfont: { size: SIZES.label }, cliponaxis: false,
      marker: { color: pts.map((p) => p.color), size: 10, line: { color: 'white', width: 1 } },
      hovertemplate: `%{text}<br>${def.xTitle}: %{x:.4g}<br>${def.yTitle}: %{y:.4g}<extra></extra>`,
    });
  }
  const leaders = def.points.filter((p) => (p.labelDist ?? 1) > 1).map((p) => {
    const a = labelAnchor(p.labelPos, p.labelDist);
    return { x: p.x, y: p.y, xref: 'x', yref: 'y', text: p.label, showarrow: true, arrowhead: 0, arrowwidth: 0.7, arrowcolor: '#888', ax: a.dx, ay: a.dy, xanchor: a.align, yanchor: a.baseline, font: { size: SIZES.label } };
  });
  const left = def.corner.endsWith('left');
  const top = def.corner.startsWith('top');
  const layout: PlotlyLayout = {
    ...baseLayout(def.title, def.groups.length > 0),
    xaxis: { ...axisTitle(def.xTitle), range: [...def.xRange], zeroline: false },
    yaxis: { ...axisTitle(def.yTitle), range: [...def.yRange], zeroline: false },
    annotations: def.annotation.length
      ? [{ xref: 'paper', yref: 'paper', x: left ? 0.01 : 0.99, y: top ? 0.99 : 0.01, xanchor: left ? 'left' : 'right', yanchor: top ? 'top' : 'bottom', align: 'left', showarrow: false, text: def.annotation.join('<br>'), font: { size: SIZES.note }, bgcolor: 'rgba(255,255,255,0.9)', bordercolor: '#bbb', borderwidth: 0.5 }]
      : [],
  };
  (layout.annotations as unknown[]).push(...leaders);
  return { data, layout };
}

function heatmapPlotly(def: HeatmapFigure): PlotlyFigure {
  const cols = def.columns;
  const rows = Math.ceil(def.panels.length / cols);
  const data: PlotlyTrace[] = [];
  const layout: PlotlyLayout = {
    ...baseLayout(def.title),
    margin: { l: 70, r: 16, t: (def.title ? 44 : 8) + 20, b: 52 },
    coloraxis: { cmin: def.domain[0], cmax: def.domain[1], colorscale: capitalize(def.scheme), colorbar: { title: { text: def.colorTitle }, thickness: 12 } },
    annotations: [] as unknown[],
  };
  if (def.panels.length > 1) layout.grid = { rows, columns: cols, pattern: 'independent', xgap: 0.12, ygap: 0.28 };
  def.panels.forEach((p, k) => {
    const sfx = k === 0 ? '' : String(k + 1);
    const bottomRow = Math.floor(k / cols) === rows - 1 || k + cols >= def.panels.length;
    data.push({
      type: 'heatmap', name: p.title, xaxis: `x${sfx}`, yaxis: `y${sfx}`, coloraxis: 'coloraxis',
      x: p.colLabels, y: p.rowLabels, z: p.z,
      text: p.z.map((row, i) => row.map((_, j) => p.cells.find((c) => c.row === i && c.col === j)?.text ?? '')),
      texttemplate: '%{text}', textfont: { size: SIZES.cell }, xgap: 1, ygap: 1,
      hovertemplate: `${p.title}<br>α %{y}, δ %{x}: ${def.colorTitle} %{z:.4g}<extra></extra>`,
    });
    layout[`xaxis${sfx}`] = { type: 'category', ticks: '', showgrid: false, ...(bottomRow ? axisTitle(def.xTitle) : {}) };
    layout[`yaxis${sfx}`] = { type: 'category', ticks: '', showgrid: false, ...(k % cols === 0 ? axisTitle(def.yTitle) : {}) };
    (layout.annotations as unknown[]).push({ xref: `x${sfx} domain`, yref: `y${sfx} domain`, x: 0.5, y: 1, yanchor: 'bottom', xanchor: 'center', showarrow: false, text: `<b>${p.title}</b>`, font: { size: SIZES.axisTitle } });
  });
  return { data, layout };
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

function barPlotly(def: BarFigure): PlotlyFigure {
  const groups = def.groups.length ? def.groups.map((g) => g.name) : [''];
  const data: PlotlyTrace[] = groups.map((g) => {
    const rs = def.rows.filter((r) => (r.group ?? '') === g);
    return {
      type: 'bar', name: g || def.yTitle, showlegend: g !== '',
      x: rs.map((r) => r.key), y: rs.map((r) => r.value), marker: { color: rs.map((r) => r.color) },
      error_y: { type: 'data', array: rs.map((r) => r.spread ?? 0), visible: rs.some((r) => r.spread !== null && r.spread !== undefined), color: '#111', thickness: 1.3, width: 5 },
      hovertemplate: '%{x}: %{y:.4g} ± %{error_y.array:.3g}<extra></extra>',
    };
  });
  const layout: PlotlyLayout = {
    ...baseLayout(def.title, def.groups.length > 0),
    barmode: 'overlay',
    xaxis: { type: 'category', categoryorder: 'array', categoryarray: def.rows.map((r) => r.key), tickangle: def.rows.length > 8 ? -35 : 'auto', ...axisTitle(def.xTitle) },
    yaxis: { ...axisTitle(def.yTitle), range: [...def.yRange] },
  };
  return { data, layout };
}

const PLOTLY_DASH: Record<Dash, string> = { solid: 'solid', dash: 'dash', dot: 'dot', dashdot: 'dashdot', longdash: 'longdash', longdashdot: 'longdashdot' };

function linePlotly(def: LineFigure): PlotlyFigure {
  const data: PlotlyTrace[] = def.series.map((s) => ({
    type: 'scatter', mode: s.markers ? 'lines+markers' : 'lines', name: s.name, x: [...s.x], y: [...s.y],
    line: { color: s.color, width: 2, dash: PLOTLY_DASH[s.dash], shape: s.step ? 'hv' : 'linear' },
    marker: { color: s.color, size: 6, symbol: s.axis === 'right' ? 'square' : 'circle' },
    cliponaxis: false,
    ...(s.axis === 'right' ? { yaxis: 'y2' } : {}),
  }));
  const right = def.y2Title !== null;
  const layout: PlotlyLayout = {
    ...baseLayout(def.title),
    showlegend: def.series.length > 1,
    legend: right ? { orientation: 'h', x: 0, y: -0.22, yanchor: 'top' } : { orientation: 'v', x: 1.02, y: 1, xanchor: 'left' },
    margin: { l: 64, r: right ? 64 : 16, t: def.title ? 44 : 16, b: right ? 84 : 52 },
    xaxis: { ...axisTitle(def.xTitle), zeroline: false },
    yaxis: {
      ...axisTitle(def.yTitle), type: def.logY ? 'log' : 'linear', zeroline: false,
      ...(def.yTicks ? { tickvals: def.yTicks, ticktext: def.yTicks.map((v) => fmtNum(v)), range: [Math.log10(def.yTicks[0]), Math.log10(def.yTicks[def.yTicks.length - 1])] } : {}),
      ...(def.yRange && !def.logY ? { range: [...def.yRange] } : {}),
    },
    ...(right ? { yaxis2: { ...axisTitle(def.y2Title), overlaying: 'y', side: 'right', zeroline: false, showgrid: false } } : {}),
  };
  return { data, layout };
}
