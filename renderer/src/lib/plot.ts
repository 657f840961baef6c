// Plotly as a Svelte attachment: newPlot once, react on change, purge on teardown.
import Plotly from 'plotly.js-dist-min';
import type { Attachment } from 'svelte/attachments';
import { toPlotly } from '../../../figures/plotly';
import type { FigureDef } from '../../../figures/types';

export type PlotData = Record<string, unknown>[];
export type PlotLayout = Record<string, unknown>;

const BASE_LAYOUT: PlotLayout = {
  margin: { l: 50, r: 10, t: 30, b: 40 },
  paper_bgcolor: 'rgba(0,0,0,0)',
  plot_bgcolor: 'rgba(0,0,0,0)',
  font: { size: 11 },
};

export function plot(data: PlotData, layout: PlotLayout = {}): Attachment<HTMLElement> {
  return (node) => {
    void Plotly.react(node, data, { ...BASE_LAYOUT, ...layout }, { displaylogo: false, responsive: true });
    return () => Plotly.purge(node);
  };
}

/** A shared figure definition (figures/) drawn with Plotly: the same chart the report renders. */
export function plotFigure(def: FigureDef): Attachment<HTMLElement> {
  const { data, layout } = toPlotly(def);
  return plot(data, layout);
}

export async function plotToPng(node: HTMLElement): Promise<string> {
  return Plotly.toImage(node, { format: 'png', width: 900, height: 500 });
}
