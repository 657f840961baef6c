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
  const ys = series.flatMap((s) => s.y);
  return { kind: 'line', title: input.title, xTitle: input.xTitle, yTitle: input.yTitle, logY, series, yTicks: logY && ys.length ? logTicks(Math.min(...ys), Math.max(...ys)) : null };
}

/**
 * Ticks of a log axis: 1-2-5 per decade over short ranges, 1-3 or decades over long ones; the first
 * tick is at or below `min` and the last at or above `max`, so they also bound the axis.
 */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const steps = hi - lo > 4 ? [1] : hi - lo > 2 ? [1, 3] : [1, 2, 5];
  const grid: number[] = [];
  for (let e = lo - 1; e <= hi + 1; e++) for (const s of steps) grid.push(+(s * 10 ** e).toPrecision(6));
  const below = Math.max(...grid.filter((v) => v <= min));
  const above = Math.min(...grid.filter((v) => v >= max));
  return grid.filter((v) => v >= below && v <= above);
}
