// Curves over steps or a parameter (loss curves, pFID against α, gFID/IS against the CFG scale).
// Every series can be told apart: its own colour, or, past the palette or when grouped, its group's
// colour with a dash pattern per variant; short series get markers; series on the right-hand axis
// are dashed with square markers, so neither axis's line hides the other.
import { colorAt, DASH_ORDER, PALETTE } from './style';
import type { Dash, LineFigure, LineInput } from './types';

/** Series with at most this many points get a marker on every point. */
export const MARKER_MAX_POINTS = 40;

/** Colours used before cycling dash patterns when series are not grouped. */
const CYCLE = 8;

export function lineFigure(input: LineInput): LineFigure {
  const logY = input.logY ?? false;
  const hasRight = input.series.some((s) => s.axis === 'right');
  if (hasRight && !input.y2Title) throw new Error('lineFigure: a series on the right axis needs y2Title');
  const grouped = input.series.some((s) => s.group !== undefined);
  const groups = [...new Set(input.series.map((s) => s.group ?? s.name))];
  const variants = [...new Set(input.series.map((s) => s.variant ?? ''))].filter((v) => v !== '');
  const many = !grouped && input.series.length > PALETTE.length;
  const series = input.series.map((s, i) => {
    const x: number[] = [];
    const y: number[] = [];
    s.x.forEach((xv, k) => {
      const yv = s.y[k];
      if (Number.isFinite(xv) && Number.isFinite(yv) && (!logY || s.axis === 'right' || yv > 0)) {
        x.push(xv);
        y.push(yv);
      }
    });
    const axis = s.axis === 'right' ? 'right' : 'left';
    let color: string;
    let dash: Dash;
    if (grouped) {
      color = colorAt(groups.indexOf(s.group ?? s.name));
      dash = s.variant !== undefined ? DASH_ORDER[variants.indexOf(s.variant) % DASH_ORDER.length] : 'solid';
    } else if (many) {
      // more series than distinct colours: (colour, dash) pairs stay unique up to CYCLE × 6
      color = colorAt(i % CYCLE);
      dash = DASH_ORDER[Math.floor(i / CYCLE) % DASH_ORDER.length];
      if (i >= CYCLE * DASH_ORDER.length) color = colorAt(PALETTE.length + i);
    } else {
      color = colorAt(i);
      dash = 'solid';
    }
    if (axis === 'right' && dash === 'solid' && hasRight) dash = 'dash';
    const out: LineFigure['series'][number] = { name: s.name, x, y, color, dash, markers: x.length <= MARKER_MAX_POINTS, axis, step: s.step === true };
    if (s.group !== undefined) out.group = s.group;
    if (s.variant !== undefined) out.variant = s.variant;
    return out;
  });
  const ys = series.filter((s) => s.axis === 'left').flatMap((s) => s.y);
  return {
    kind: 'line',
    title: input.title,
    xTitle: input.xTitle,
    yTitle: input.yTitle,
    y2Title: hasRight ? (input.y2Title as string) : null,
    logY,
    series,
    yTicks: logY && ys.length ? logTicks(Math.min(...ys), Math.max(...ys)) : null,
    yRange: input.yRange ? [input.yRange[0], input.yRange[1]] : null,
  };
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
