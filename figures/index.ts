// Figure definitions shared by the app (figures/plotly.ts) and the headless report
// (figures/vega.ts, rendered by main/report/render.ts). Pure TypeScript: no DOM, no Node.
export * from './types';
export { correlationFigure, coefficientText, leastSquares, labelAnchor, placeLabels } from './correlation';
export { heatmapFigure, sharedDomain, DEFAULT_HEATMAP_TITLES } from './heatmap';
export { barFigure } from './bar';
export { lineFigure, logTicks, MARKER_MAX_POINTS } from './line';
export { PALETTE, colorAt, fmtNum, FONT, SIZES, PRESETS, textWidth, wrapText, type PresetName } from './style';
export {
  tokenizerCorrelationChart,
  correlationExport,
  metricTitle,
  metricShort,
  metricCurvesChart,
  cfgChart,
  annealChart,
  usageChart,
  codeRankChart,
  leaveOneOutChart,
  slug,
  TITLED_METRICS,
  type TokenizerCorrelationInput,
  type CorrelationResultLike,
} from './charts';
export { pfidGrid, pfidHeatmapChart, pfidCurvesChart, pfidProvenance, deltaLabel, extractorText, type PfidGrid, type PfidItem } from './pfid';
export { galleryGrids, galleryExport, cfgLabel, classNames, gridOf, type GalleryGrid } from './gallery';
