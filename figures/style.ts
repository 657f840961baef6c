// House style shared by every figure and both back ends (Plotly in the app, Vega headless):
// one palette, dash patterns, one font stack, text measured with DejaVu Sans's own advance widths,
// and the paper presets (single column 3.25 in, double column 6.75 in). The SVG is laid out in
// CSS px at 96 px/in, so 12 px text is 9 pt on the page at either preset.

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

/** Line dash patterns by name, with the Vega/SVG dash array (px) each one draws. */
export const DASHES = {
  solid: [] as number[],
  dash: [6, 3],
  dot: [1.5, 2.5],
  dashdot: [6, 2.5, 1.5, 2.5],
  longdash: [11, 3],
  longdashdot: [11, 2.5, 1.5, 2.5],
} as const;
export type DashName = keyof typeof DASHES;
export const DASH_ORDER: DashName[] = ['solid', 'dash', 'dot', 'dashdot', 'longdash', 'longdashdot'];

export const FONT = 'DejaVu Sans, Liberation Sans, Arial, Helvetica, sans-serif';

export const SIZES = {
  /** Default figure width in CSS px (6.75 in at 96 px/in). */
  width: 648,
  /** 10.5 pt */
  title: 14,
  /** 9 pt */
  axisTitle: 12,
  /** 8.25 pt */
  tick: 11,
  label: 11,
  note: 11,
  /** 7.5 pt: values printed in heat-map cells */
  cell: 10,
} as const;

export const PX_PER_IN = 96;

export type PresetName = 'single' | 'double';

/** Paper presets: the figure's width on the page; the font sizes (SIZES) are the same in points at both. */
export const PRESETS: Record<PresetName, { widthIn: number; width: number; label: string }> = {
  single: { widthIn: 3.25, width: 3.25 * PX_PER_IN, label: 'single column (3.25 in)' },
  double: { widthIn: 6.75, width: 6.75 * PX_PER_IN, label: 'double column (6.75 in)' },
};

/** Diverging-free sequential map for heat maps; both back ends know it by this name. */
export const HEAT_SCHEME = 'viridis';

// Advance widths of DejaVu Sans (the font both back ends ask for first, and the one embedded in PDFs)
// in 1/1000 em, regular and bold, for the characters below; others count as an 'n'.
const ADV_CHARS = ' !"#$%&\'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~αβγδεζηθικλμνξοπρστυφχψωΓΔΘΛΞΠΣΦΨΩ±−→←×·…–—≤≥≈°µ‰∞√′″²³½€£§';
const ADV_REGULAR =
  '318,401,460,838,636,950,780,275,390,390,500,838,318,361,318,337,636,636,636,636,636,636,636,636,636,636,337,337,838,838,838,531,1000,684,686,698,770,632,575,775,752,295,295,656,557,863,748,787,603,787,695,635,611,732,684,989,685,611,685,390,337,390,838,500,500,613,635,550,635,615,352,635,634,278,278,579,278,974,634,612,635,635,411,521,392,634,592,818,592,592,525,636,337,636,838,659,638,592,612,541,544,634,612,338,589,592,636,559,558,612,602,635,634,602,579,660,578,660,837,557,684,787,684,632,752,632,787,787,764,838,838,838,838,838,318,1000,500,1000,838,838,838,500,636,1342,833,637,227,374,401,401,969,636,636,500';
const ADV_BOLD =
  '348,456,521,838,696,1002,872,306,457,457,523,838,380,415,380,365,696,696,696,696,696,696,696,696,696,696,400,400,838,838,838,580,1000,774,762,734,830,683,683,821,837,372,372,775,637,995,837,850,733,850,770,720,682,812,774,1103,771,724,725,457,365,457,838,500,500,675,716,593,716,678,435,716,712,343,343,665,343,1042,712,687,716,716,493,595,478,712,652,924,645,652,582,712,365,712,838,687,716,681,687,557,591,712,687,390,710,633,736,681,591,687,791,716,779,638,675,782,645,794,869,637,774,850,774,632,837,683,850,850,850,838,838,838,838,838,380,1000,500,1000,838,838,838,500,736,1440,833,667,264,447,438,438,1035,696,696,500';
const table = (csv: string): Map<string, number> => {
  const w = csv.split(',').map(Number);
  return new Map([...ADV_CHARS].map((ch, i) => [ch, w[i]]));
};
const ADVANCE = { regular: table(ADV_REGULAR), bold: table(ADV_BOLD) };

/** Width of a string in px at `fontSize` px in DejaVu Sans (kerning ignored: a slight overestimate). */
export function textWidth(s: string, fontSize: number, bold = false): number {
  const t = bold ? ADVANCE.bold : ADVANCE.regular;
  const n = t.get('n') as number;
  let w = 0;
  for (const ch of s) w += t.get(ch) ?? n;
  return (w / 1000) * fontSize;
}

/** Splits text into lines no wider than `maxWidth` px, at spaces (a word longer than a line stays whole). */
export function wrapText(s: string, fontSize: number, maxWidth: number, bold = false): string[] {
  const words = s.split(/\s+/).filter(Boolean);
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const next = cur ? `${cur} ${w}` : w;
    if (cur && textWidth(next, fontSize, bold) > maxWidth) {
      lines.push(cur);
      cur = w;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines.length ? lines : [''];
}

/** A number for a cell or a label: 3 significant digits, no exponent for ordinary magnitudes. */
export function fmtNum(v: number | null | undefined, digits = 3): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e5 || a < 1e-3)) return v.toExponential(digits - 1);
  return String(+v.toPrecision(digits));
}

/** Ticks of a linear axis as d3 computes them (1, 2, 5 × 10^k steps, about `count` of them). */
export function linearTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const step = tickStep(lo, hi, count);
  const start = Math.ceil(lo / step - 1e-9);
  const stop = Math.floor(hi / step + 1e-9);
  const out: number[] = [];
  for (let k = start; k <= stop; k++) out.push(+(k * step).toPrecision(12));
  return out;
}

export function tickStep(lo: number, hi: number, count: number): number {
  const raw = (hi - lo) / Math.max(1, count);
  const p = 10 ** Math.floor(Math.log10(raw));
  const e = raw / p;
  return (e >= Math.sqrt(50) ? 10 : e >= Math.sqrt(10) ? 5 : e >= Math.SQRT2 ? 2 : 1) * p;
}

/** The domain widened to whole ticks (as a nice scale does). */
export function niceDomain(lo: number, hi: number, count = 6): [number, number] {
  if (!(hi > lo)) {
    const d = Math.abs(lo) > 0 ? Math.abs(lo) * 0.1 : 1;
    return niceDomain(lo - d, hi + d, count);
  }
  const step = tickStep(lo, hi, count);
  return [Math.floor(lo / step + 1e-9) * step, Math.ceil(hi / step - 1e-9) * step];
}

/** Decimals a tick label needs at this step ("0.25" → 2). */
export function tickDecimals(step: number): number {
  return Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
}

/** Tick label text as drawn on both back ends. */
export function tickLabel(v: number, decimals: number): string {
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-4)) return v.toExponential(1).replace('e+', 'e');
  return v.toFixed(decimals);
}
