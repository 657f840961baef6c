// House style shared by every figure and both back ends (Plotly in the app, Vega headless):
// one palette, one font stack, sizes for a paper figure (6.75 in wide; the SVG is laid out in CSS
// px at 96 px/in, so the default width is 648 px and 12 px text is 9 pt on the page).

/** Okabe–Ito (colour-blind safe), then Tableau 10's remaining hues for more than eight traces. */
export const PALETTE = [
  '#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442',
  '#8C564B', '#7F7F7F', '#BCBD22', '#17BECF', '#9467BD', '#FF9DA7',
];

/** A distinct colour per index; past the palette, hues spaced by the golden angle. */
export function colorAt(i: number): string {
  if (i < PALETTE.length) return PALETTE[i];
  const h = Math.round(((i - PALETTE.length) * 137.508) % 360);
  return `hsl(${h}, 65%, 42%)`;
}

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

export const SIZES = {
  /** Default figure width in CSS px (6.75 in at 96 px/in). */
  width: 648,
  title: 14,
  axisTitle: 12,
  tick: 11,
  label: 11,
  note: 11,
  cell: 10,
} as const;

/** Diverging-free sequential map for heat maps; both back ends know it by this name. */
export const HEAT_SCHEME = 'viridis';

/** Rough width of a string in px: the headless renderer has no canvas to measure text. */
export function textWidth(s: string, fontSize: number): number {
  let w = 0;
  for (const ch of s) w += /[ il.,:;'|!()[\]]/.test(ch) ? 0.32 : /[mwMW@%]/.test(ch) ? 0.9 : /[A-Z0-9]/.test(ch) ? 0.66 : 0.58;
  return w * fontSize;
}

/** A number for a cell or a label: 3 significant digits, no exponent for ordinary magnitudes. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(digits - 1);
  return String(+v.toPrecision(digits));
}
