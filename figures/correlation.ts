// Tokenizers as labelled points against two scores, the least-squares line and the correlation
// coefficient with its CI printed on the plot. Label positions are chosen here (greedy, on an
// assumed plot area) so both back ends place them the same way and they do not collide.
import { colorAt, SIZES, textWidth } from './style';
import type { CorrelationFigure, CorrelationInput, Corner, LabelPos, Legend } from './types';

/** Plot area the label placer assumes (px); close to the default report size. */
export const PLACER_AREA = { width: 540, height: 330 };
const LABEL_OFFSET = 7;
const MARKER_R = 5;

const METHODS: Record<string, string> = { pearson: 'Pearson r', spearman: 'Spearman ρ', kendall: 'Kendall τ' };

/** Ordinary least squares y = intercept + slope·x; null with fewer than 2 distinct x. */
export function leastSquares(xs: number[], ys: number[]): { slope: number; intercept: number } | null {
  const n = xs.length;
  if (n < 2) return null;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  if (!(sxx > 0)) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

/** "Pearson r = 0.91 [0.56, 0.99], n = 7" (or without the interval). */
export function coefficientText(c: NonNullable<CorrelationInput['coefficient']>): string {
  const name = METHODS[c.method.toLowerCase()] ?? c.method;
  const ci = c.ci ? ` [${c.ci[0].toFixed(2)}, ${c.ci[1].toFixed(2)}]` : '';
  return `${name} = ${Number.isFinite(c.r) ? c.r.toFixed(2) : '—'}${ci}, n = ${c.n}`;
}

function paddedRange(vs: number[], pad: number): [number, number] {
  let lo = Math.min(...vs);
  let hi = Math.max(...vs);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
  if (hi - lo < 1e-12) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    lo -= d;
    hi += d;
  }
  const d = (hi - lo) * pad;
  return [lo - d, hi + d];
}

interface Box {
  x0: number;
  y0: number;
  x1: number;
  y1: number;
}
const overlap = (a: Box, b: Box): number => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
const area = (a: Box): number => (a.x1 - a.x0) * (a.y1 - a.y0);

const POSITIONS: LabelPos[] = ['right', 'top-right', 'bottom-right', 'top', 'bottom', 'left', 'top-left', 'bottom-left'];
/** Where a crowded point's label may move out to (× the offset), with a leader line back to its point. */
export const FAR_LABEL = 3;

/** The label's box in px (y down) for a point at (px, py). */
export function labelBox(px: number, py: number, w: number, h: number, pos: LabelPos, dist = 1): Box {
  const o = LABEL_OFFSET * dist;
  const d = o * 0.7;
  switch (pos) {
    case 'right': return { x0: px + o, x1: px + o + w, y0: py - h / 2, y1: py + h / 2 };
    case 'left': return { x0: px - o - w, x1: px - o, y0: py - h / 2, y1: py + h / 2 };
    case 'top': return { x0: px - w / 2, x1: px + w / 2, y0: py - o - h, y1: py - o };
    case 'bottom': return { x0: px - w / 2, x1: px + w / 2, y0: py + o, y1: py + o + h };
    case 'top-right': return { x0: px + d, x1: px + d + w, y0: py - d - h, y1: py - d };
    case 'top-left': return { x0: px - d - w, x1: px - d, y0: py - d - h, y1: py - d };
    case 'bottom-right': return { x0: px + d, x1: px + d + w, y0: py + d, y1: py + d + h };
    case 'bottom-left': return { x0: px - d - w, x1: px - d, y0: py + d, y1: py + d + h };
  }
}

/** Pixel offset of a label's anchor from its point, with the text alignment that goes with it. */
export function labelAnchor(pos: LabelPos, dist = 1): { dx: number; dy: number; align: 'left' | 'center' | 'right'; baseline: 'top' | 'middle' | 'bottom' } {
  const o = LABEL_OFFSET * dist;
  const d = o * 0.7;
  switch (pos) {
    case 'right': return { dx: o, dy: 0, align: 'left', baseline: 'middle' };
    case 'left': return { dx: -o, dy: 0, align: 'right', baseline: 'middle' };
    case 'top': return { dx: 0, dy: -o, align: 'center', baseline: 'bottom' };
    case 'bottom': return { dx: 0, dy: o, align: 'center', baseline: 'top' };
    case 'top-right': return { dx: d, dy: -d, align: 'left', baseline: 'bottom' };
    case 'top-left': return { dx: -d, dy: -d, align: 'right', baseline: 'bottom' };
    case 'bottom-right': return { dx: d, dy: d, align: 'left', baseline: 'top' };
    case 'bottom-left': return { dx: -d, dy: d, align: 'right', baseline: 'top' };
  }
}

function cornerBox(corner: Corner, lines: string[], W: number, H: number, note: number = SIZES.note): Box {
  const w = Math.max(0, ...lines.map((l) => textWidth(l, note))) + 10;
  const h = lines.length * (note + 4) + 6;
  const left = corner.endsWith('left');
  const top = corner.startsWith('top');
  return { x0: left ? 0 : W - w, x1: left ? w : W, y0: top ? 0 : H - h, y1: top ? h : H };
}

export function correlationFigure(input: CorrelationInput): CorrelationFigure {
  const pts = input.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const groupNames = [...new Set(pts.map((p) => p.group ?? ''))];
  const groups: Legend[] = groupNames.filter((g) => g !== '').map((g) => ({ name: g, color: colorAt(groupNames.indexOf(g)) }));
  const colorOf = (g: string | undefined): string => colorAt(groupNames.indexOf(g ?? ''));

  const ls = input.fit ? leastSquares(pts.map((p) => p.x), pts.map((p) => p.y)) : null;
  const xRange = paddedRange(pts.map((p) => p.x), 0.12);
  const xs = pts.map((p) => p.x);
  const fit = ls
    ? (() => {
        const x: [number, number] = [Math.min(...xs), Math.max(...xs)];
        return { ...ls, x, y: [ls.intercept + ls.slope * x[0], ls.intercept + ls.slope * x[1]] as [number, number] };
      })()
    : null;
  const yRange = paddedRange([...pts.map((p) => p.y), ...(fit ? fit.y : [])], 0.14);

  const annotation: string[] = [];
  if (input.coefficient) annotation.push(coefficientText(input.coefficient));
  for (const c of input.coefficients ?? []) annotation.push(coefficientText(c));
  if (input.note) annotation.push(input.note);

  return placeLabels(
    {
      kind: 'correlation',
      title: input.title,
      xTitle: input.xTitle,
      yTitle: input.yTitle,
      points: pts.map((p) => ({ ...p, color: colorOf(p.group), labelPos: 'right' as LabelPos })),
      groups,
      fit,
      xRange,
      yRange,
      annotation,
      corner: 'top-left',
    },
    PLACER_AREA,
  );
}

/**
 * Chooses the annotation's corner and each point label's position for a plot area of `area` px:
 * the corner with the fewest points and least of the fitted line near it, then labels greedily
 * (crowded points first) so they neither overlap each other, the points, the line or the
 * annotation, nor leave the plot area. The headless renderer calls it again with the plot area
 * of the preset it draws.
 */
export function placeLabels(def: CorrelationFigure, plotArea: { width: number; height: number }, sizes: { label: number; note: number } = SIZES): CorrelationFigure {
  const pts = def.points;
  const { xRange, yRange, fit, annotation } = def;
  const W = plotArea.width;
  const H = plotArea.height;
  const px = (x: number): number => ((x - xRange[0]) / (xRange[1] - xRange[0])) * W;
  const py = (y: number): number => H - ((y - yRange[0]) / (yRange[1] - yRange[0])) * H;
  const P = pts.map((p) => ({ x: px(p.x), y: py(p.y) }));

  // The coefficient goes in the corner with the fewest points near it.
  const corners: Corner[] = ['top-left', 'bottom-right', 'top-right', 'bottom-left'];
  const corner = corners
    .map((c) => {
      const b = cornerBox(c, annotation.length ? annotation : ['x'], W, H, sizes.note);
      const grow = { x0: b.x0 - 40, y0: b.y0 - 20, x1: b.x1 + 40, y1: b.y1 + 20 };
      const hits = P.filter((q) => q.x >= grow.x0 && q.x <= grow.x1 && q.y >= grow.y0 && q.y <= grow.y1).length;
      const inBox = P.filter((q) => q.x >= b.x0 - MARKER_R && q.x <= b.x1 + MARKER_R && q.y >= b.y0 - MARKER_R && q.y <= b.y1 + MARKER_R).length;
      const lineHits = fit ? segmentHits(px(fit.x[0]), py(fit.y[0]), px(fit.x[1]), py(fit.y[1]), grow) : 0;
      return { c, cost: inBox * 100 + hits * 10 + lineHits };
    })
    .sort((a, b) => a.cost - b.cost)[0].c;

  // a label over a marker hides a point: that costs more than touching another label or the annotation
  const markers: Box[] = P.map((q) => ({ x0: q.x - MARKER_R, x1: q.x + MARKER_R, y0: q.y - MARKER_R, y1: q.y + MARKER_R }));
  const obstacles: Box[] = annotation.length ? [cornerBox(corner, annotation, W, H, sizes.note)] : [];
  const placed: Box[] = [];
  const positions: { pos: LabelPos; dist: number }[] = [];
  // Crowded points first: they have the fewest good options.
  const order = P.map((q, i) => ({ i, crowd: P.reduce((s, r) => s + 1 / (1 + Math.hypot(q.x - r.x, q.y - r.y)), 0) })).sort((a, b) => b.crowd - a.crowd);
  for (const { i } of order) {
    const w = textWidth(pts[i].label, sizes.label);
    const h = sizes.label + 2;
    let best: { pos: LabelPos; dist: number; cost: number } = { pos: 'right', dist: 1, cost: Infinity };
    const candidates = [...POSITIONS.map((pos, k) => ({ pos, dist: 1, base: k * 0.5 })), ...POSITIONS.map((pos, k) => ({ pos, dist: FAR_LABEL, base: 30 + k * 0.5 }))];
    candidates.forEach(({ pos, dist, base }) => {
      const b = labelBox(P[i].x, P[i].y, w, h, pos, dist);
      let cost = base;
      for (const p of placed) cost += overlap(b, p) * 10;
      for (const o of obstacles) cost += overlap(b, o) * 4;
      for (const m of markers) cost += overlap(b, m) * 25;
      const inside = overlap(b, { x0: 0, y0: 0, x1: W, y1: H });
      cost += (area(b) - inside) * 20;
      if (fit) cost += segmentHits(px(fit.x[0]), py(fit.y[0]), px(fit.x[1]), py(fit.y[1]), b) * 30;
      // A label nearer another point than its own reads as that point's.
      const own = boxDistance(b, P[i].x, P[i].y);
      P.forEach((q, j) => { if (j !== i && boxDistance(b, q.x, q.y) < own + 2) cost += 60; });
      if (cost < best.cost) best = { pos, dist, cost };
    });
    positions[i] = best;
    placed.push(labelBox(P[i].x, P[i].y, w, h, best.pos, best.dist));
  }
  return {
    ...def,
    points: pts.map((p, i) => {
      const { labelDist: _old, ...rest } = p;
      return positions[i].dist === 1 ? { ...rest, labelPos: positions[i].pos } : { ...rest, labelPos: positions[i].pos, labelDist: positions[i].dist };
    }),
    corner,
  };
}

/**
 * Whether the annotation fits in its corner of a plot area of this size without covering a point or
 * much of the fitted line (else the headless renderer prints it above the plot).
 */
export function annotationFits(def: CorrelationFigure, plotArea: { width: number; height: number }, note: number = SIZES.note): boolean {
  if (!def.annotation.length) return true;
  const W = plotArea.width;
  const H = plotArea.height;
  const b = cornerBox(def.corner, def.annotation, W, H, note);
  if ((b.x1 - b.x0) > W * 0.7 || (b.y1 - b.y0) > H * 0.3) return false;
  const px = (x: number): number => ((x - def.xRange[0]) / (def.xRange[1] - def.xRange[0])) * W;
  const py = (y: number): number => H - ((y - def.yRange[0]) / (def.yRange[1] - def.yRange[0])) * H;
  const grow = { x0: b.x0 - MARKER_R, y0: b.y0 - MARKER_R, x1: b.x1 + MARKER_R, y1: b.y1 + MARKER_R };
  if (def.points.some((p) => px(p.x) >= grow.x0 && px(p.x) <= grow.x1 && py(p.y) >= grow.y0 && py(p.y) <= grow.y1)) return false;
  return !def.fit || segmentHits(px(def.fit.x[0]), py(def.fit.y[0]), px(def.fit.x[1]), py(def.fit.y[1]), b) < 15;
}

function boxDistance(b: Box, x: number, y: number): number {
  const dx = Math.max(b.x0 - x, 0, x - b.x1);
  const dy = Math.max(b.y0 - y, 0, y - b.y1);
  return Math.hypot(dx, dy);
}

/** How many of 101 samples along a segment fall inside a box. */
function segmentHits(x0: number, y0: number, x1: number, y1: number, b: Box): number {
  let n = 0;
  for (let k = 0; k <= 100; k++) {
    const x = x0 + ((x1 - x0) * k) / 100;
    const y = y0 + ((y1 - y0) * k) / 100;
    if (x >= b.x0 && x <= b.x1 && y >= b.y0 && y <= b.y1) n++;
  }
  return n;
}
