// α × δ heat maps, one panel per tokenizer, on ONE colour scale (min..max over every panel) so a
// colour means the same pFID in every panel; the values are printed in the cells.
import { fmtNum, HEAT_SCHEME } from './style';
import type { HeatmapCell, HeatmapFigure, HeatmapInput, HeatmapPanel, HeatmapPanelInput } from './types';

export const DEFAULT_HEATMAP_TITLES = { x: 'δ (nearest codes sampled from)', y: 'α (token perturbation rate)' };

const finite = (v: number | null | undefined): v is number => typeof v === 'number' && Number.isFinite(v);

/** Min..max over every finite value of every panel; [0, 1] when there is none. */
export function sharedDomain(panels: Pick<HeatmapPanelInput, 'values'>[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of panels) for (const row of p.values) for (const v of row) if (finite(v)) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
  if (lo === Infinity) return [0, 1];
  if (lo === hi) return [lo - (Math.abs(lo) * 0.05 || 0.5), hi + (Math.abs(hi) * 0.05 || 0.5)];
  return [lo, hi];
}

export function heatmapFigure(input: HeatmapInput): HeatmapFigure {
  const domain = input.domain ?? sharedDomain(input.panels);
  const panels: HeatmapPanel[] = input.panels.map((p) => {
    const rowLabels = p.alphas.map((a) => String(a));
    const colLabels = p.deltas.map((d, j) => p.deltaLabels?.[j] ?? String(d));
    const cells: HeatmapCell[] = [];
    p.alphas.forEach((_, i) =>
      p.deltas.forEach((_, j) => {
        const v = p.values[i]?.[j];
        const value = finite(v) ? v : null;
        const t = value === null ? 1 : (value - domain[0]) / (domain[1] - domain[0] || 1);
        // viridis is dark below ~0.55 of its range.
        cells.push({ row: i, col: j, rowLabel: rowLabels[i], colLabel: colLabels[j], value, text: fmtNum(value), dark: value !== null && t < 0.55 });
      }),
    );
    return { title: p.title, rowLabels, colLabels, z: p.alphas.map((_, i) => p.deltas.map((_, j) => (finite(p.values[i]?.[j]) ? (p.values[i][j] as number) : null))), cells };
  });
  return {
    kind: 'heatmap',
    title: input.title,
    colorTitle: input.colorTitle,
    xTitle: input.xTitle ?? DEFAULT_HEATMAP_TITLES.x,
    yTitle: input.yTitle ?? DEFAULT_HEATMAP_TITLES.y,
    domain,
    scheme: HEAT_SCHEME,
    columns: Math.max(1, Math.min(input.columns ?? 3, panels.length || 1)),
    panels,
  };
}
