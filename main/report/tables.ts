// Tables for a paper, written the same way by the app (exportTable), `toklab export table` and the
// study report: CSV quoted as RFC 4180 says (no comment rows: the provenance goes beside the file),
// LaTeX that is pure ASCII (every special character escaped, Greek letters and symbols as math),
// and JSON in pandas' "split" layout ({"columns": [...], "data": [[...]]}).

export type Cell = string | number | null;

export interface Table {
  columns: string[];
  rows: Cell[][];
}

/** One CSV field: quoted when it holds a comma, a double quote, CR or LF (quotes doubled); numbers at full precision. */
export function csvField(v: Cell | boolean | undefined | object): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'string' ? v : typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : typeof v === 'boolean' ? String(v) : JSON.stringify(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** RFC 4180: a header line, one record per row, CRLF line ends. */
export function toCsv(t: Table): string {
  return [t.columns, ...t.rows].map((r) => r.map(csvField).join(',')).join('\r\n') + '\r\n';
}

const TEX_SPECIAL: Record<string, string> = {
  '\\': '\\textbackslash{}',
  '{': '\\{',
  '}': '\\}',
  '&': '\\&',
  '%': '\\%',
  $: '\\$',
  '#': '\\#',
  _: '\\_',
  '~': '\\textasciitilde{}',
  '^': '\\textasciicircum{}',
  '<': '\\textless{}',
  '>': '\\textgreater{}',
  '|': '\\textbar{}',
};

const GREEK: Record<string, string> = {
  α: 'alpha', β: 'beta', γ: 'gamma', δ: 'delta', ε: 'epsilon', ζ: 'zeta', η: 'eta', θ: 'theta', ι: 'iota', κ: 'kappa', λ: 'lambda', μ: 'mu', ν: 'nu', ξ: 'xi',
  π: 'pi', ρ: 'rho', σ: 'sigma', ς: 'varsigma', τ: 'tau', υ: 'upsilon', φ: 'phi', ϕ: 'phi', χ: 'chi', ψ: 'psi', ω: 'omega', ϵ: 'epsilon',
  Γ: 'Gamma', Δ: 'Delta', Θ: 'Theta', Λ: 'Lambda', Ξ: 'Xi', Π: 'Pi', Σ: 'Sigma', Υ: 'Upsilon', Φ: 'Phi', Ψ: 'Psi', Ω: 'Omega',
};
/** Greek capitals that look like Latin ones. */
const GREEK_LATIN: Record<string, string> = { Α: 'A', Β: 'B', Ε: 'E', Ζ: 'Z', Η: 'H', Ι: 'I', Κ: 'K', Μ: 'M', Ν: 'N', Ο: 'O', Ρ: 'P', Τ: 'T', Χ: 'X', ο: 'o' };

const SYMBOLS: Record<string, string> = {
  '±': '$\\pm$', '∓': '$\\mp$', '−': '$-$', '→': '$\\to$', '←': '$\\leftarrow$', '↔': '$\\leftrightarrow$', '⇒': '$\\Rightarrow$', '×': '$\\times$', '÷': '$\\div$',
  '·': '$\\cdot$', '•': '$\\bullet$', '…': '\\ldots{}', '–': '--', '—': '---', '≤': '$\\leq$', '≥': '$\\geq$', '≠': '$\\neq$', '≈': '$\\approx$', '∼': '$\\sim$',
  '°': '$^\\circ$', 'µ': '$\\mu$', '‰': '\\textperthousand{}', '∞': '$\\infty$', '√': '$\\surd$', '∆': '$\\Delta$', '∑': '$\\sum$', '∈': '$\\in$',
  '′': "$'$", '″': "$''$", '¹': '$^1$', '²': '$^2$', '³': '$^3$', '½': '$\\frac{1}{2}$', '¼': '$\\frac{1}{4}$', '¾': '$\\frac{3}{4}$',
  '€': '\\texteuro{}', '£': '\\pounds{}', '§': '\\S{}', '¶': '\\P{}', '©': '\\copyright{}', '‘': '`', '’': "'", '“': '``', '”': "''", '«': '<<', '»': '>>',
  '\u00a0': '~', '\u2009': '\\,', '\u202f': '\\,', 'ß': '\\ss{}', 'æ': '\\ae{}', 'Æ': '\\AE{}', 'ø': '\\o{}', 'Ø': '\\O{}', 'å': '\\aa{}', 'Å': '\\AA{}', 'ł': '\\l{}', 'Ł': '\\L{}',
};

/** Text for a LaTeX table cell: pure ASCII, every TeX special escaped, Greek and symbols as math, accents dropped. */
export function texText(s: string): string {
  let out = '';
  for (const ch of s) {
    if (TEX_SPECIAL[ch] !== undefined) out += TEX_SPECIAL[ch];
    else if (ch === '\n' || ch === '\r' || ch === '\t') out += ' ';
    else if (ch >= ' ' && ch <= '~') out += ch;
    else if (GREEK[ch]) out += `$\\${GREEK[ch]}$`;
    else if (GREEK_LATIN[ch]) out += GREEK_LATIN[ch];
    else if (SYMBOLS[ch]) out += SYMBOLS[ch];
    else {
      // é → e: decompose and keep the ASCII base letter; anything else is named by its code point
      const base = ch.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
      out += /^[ -~]+$/.test(base) ? texText(base) : ch.codePointAt(0)! < 0x20 ? ' ' : `[U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}]`;
    }
  }
  return out;
}

/** A number for a LaTeX cell: `digits` significant digits, a real minus, powers of ten as math. */
export function texNumber(v: number, digits = 4): string {
  if (!Number.isFinite(v)) return '--';
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return v < 0 ? `$-$${-v}` : String(v);
  const a = Math.abs(v);
  let s: string;
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) {
    const [m, e] = a.toExponential(digits - 1).split('e');
    s = `$${m}\\times10^{${Number(e)}}$`;
  } else s = String(+a.toPrecision(digits));
  return v < 0 ? `$-$${s}` : s;
}

export interface TexOptions {
  booktabs?: boolean;
  /** Significant digits of numbers (default 4). */
  digits?: number;
  /** A comment line at the top (made ASCII). */
  comment?: string;
}

/** A tabular: text columns left-aligned, numeric ones right-aligned; `--` for a missing value. */
export function toTex(t: Table, o: TexOptions = {}): string {
  const numeric = t.columns.map((_, j) => t.rows.some((r) => typeof r[j] === 'number') && t.rows.every((r) => r[j] === null || typeof r[j] === 'number'));
  const cell = (v: Cell): string => (v === null ? '--' : typeof v === 'number' ? texNumber(v, o.digits ?? 4) : texText(v));
  const rule = (kind: 'top' | 'mid' | 'bottom'): string => (o.booktabs ? `\\${kind}rule` : '\\hline');
  const lines = [
    ...(o.comment ? [`% ${texText(o.comment).replace(/[\r\n]/g, ' ')}`] : []),
    `\\begin{tabular}{${numeric.map((n) => (n ? 'r' : 'l')).join('')}}`,
    rule('top'),
    `${t.columns.map(texText).join(' & ')} \\\\`,
    rule('mid'),
    ...t.rows.map((r) => `${r.map(cell).join(' & ')} \\\\`),
    rule('bottom'),
    '\\end{tabular}',
    '',
  ];
  return lines.join('\n');
}

/** pandas' "split" orient: `pd.read_json(path, orient='split')`. */
export function toJsonTable(t: Table): string {
  return JSON.stringify({ columns: t.columns, data: t.rows }, null, 1) + '\n';
}
