// Plotly as a Svelte attachment: newPlot once, react on change, purge on teardown. The mode bar
// shows on hover only and its buttons are taken out of the tab order after every render, so
// keyboard users tab through the page's controls, not through every chart's toolbar.
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

const CONFIG = { displaylogo: false, responsive: true, displayModeBar: 'hover' as const };

/** Every focusable element of the chart's mode bar leaves the tab order. */
export function untabModebar(node: HTMLElement): void {
  for (const el of node.querySelectorAll<HTMLElement>('.modebar button, .modebar a, .modebar [tabindex], .modebar-btn')) el.tabIndex = -1;
}

export function plot(data: PlotData, layout: PlotLayout = {}): Attachment<HTMLElement> {
  return (node) => {
    let live = true;
    void Plotly.react(node, data, { ...BASE_LAYOUT, ...layout }, CONFIG).then(() => {
      if (!live) return;
      untabModebar(node);
      (node as unknown as { on?: (ev: string, f: () => void) => void }).on?.('plotly_afterplot', () => untabModebar(node));
    });
    return () => {
      live = false;
      Plotly.purge(node);
    };
  };
}

/** A shared figure definition (figures/) drawn with Plotly: the same chart the report and the exports render. */
export function plotFigure(def: FigureDef): Attachment<HTMLElement> {
  const { data, layout } = toPlotly(def);
  return plot(data, layout);
}
