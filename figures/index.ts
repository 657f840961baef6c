// Figure definitions shared by the app (figures/plotly.ts) and the headless report
// (figures/vega.ts, rendered by main/report/render.ts). Pure TypeScript: no DOM, no Node.
export * from './types';
export { correlationFigure, coefficientText, leastSquares, labelAnchor } from './correlation';
export { heatmapFigure, sharedDomain, DEFAULT_HEATMAP_TITLES } from './heatmap';
export { barFigure } from './bar';
export { lineFigure, logTicks, MARKER_MAX_POINTS } from './line';
export { PALETTE, colorAt, fmtNum, FONT, SIZES } from './style';
export { tokenizerCorrelationChart, metricTitle, type TokenizerCorrelationInput } from './charts';
