// Curves over steps or a parameter (loss curves, pFID against α); markers on short series.
import { colorAt } from './style';
import type { LineFigure, LineInput } from './types';

/** Series with at most this many points get a marker on every point. */
export const MARKER_MAX_POINTS = 40;

export function lineFigure(input: LineInput): LineFigure {
  const logY = input.logY ?? false;
  const series = input.series.map((s, i) => {
    const x: number[] = [];
    const y: number[] = [];
    s.x.forEach((xv, k) => {
      const yv = s.y[k];
      if (Number.isFinite(xv) && Number.isFinite(yv) && (!logY || yv > 0)) {
        x.push(xv);
        y.push(yv);
      }
    });
    return { name: s.name, x, y, color: colorAt(i), markers: x.length <= MARKER_MAX_POINTS };
  });
  return { kind: 'line', title: input.title, xTitle: input.xTitle, yTitle: input.yTitle, logY, series };
}
