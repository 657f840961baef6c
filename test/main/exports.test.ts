// Figure and table exports (main/host/exports.ts): every chart kind as vector SVG, opaque PNG at the
// preset's width × dpi and vector PDF with embedded text, the provenance beside them and inside the
// PNG and PDF; tables as RFC 4180 CSV that parses back to the rows, pure-ASCII LaTeX and JSON; and
// the host-side validators refusing bad requests with the field named.
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateSync } from 'node:zlib';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { barFigure, cfgChart, heatmapFigure, lineFigure, pfidCurvesChart, tokenizerCorrelationChart, type ExportFigure } from '../../figures';
import { exportFigure, exportTable, figureExportRequest, tableExportRequest } from '../../main/host/exports';
import { dispatch } from '../../main/host/validate';
import { pngText } from '../../main/report/render';
import { texText } from '../../main/report/tables';
import type { FigureExportRequest, LabApi } from '../../preload/contract';
import { cleanupsAfterEach, tempHome } from './helpers';
import { parseCsv } from '../csv-parse';

const onCleanup = cleanupsAfterEach();
function home(): string {
  const h = tempHome();
  onCleanup(h.cleanup);
  return h.home;
}

const POINTS: [string, number, number][] = [['vq-k256', 12.3, 20.1], ['vq-k512', 11.8, 19.4], ['vq-k1024', 10.2, 16.0], ['lp-k256', 9.1, 14.2], ['lp-k512', 8.7, 14.9], ['lp-k1024', 7.9, 12.1], ['fsq-8', 9.0, 14.5]];
const A = [0.1, 0.5, 0.9];
const D = [4, 16];
const grid = (k: number) => ({ extractorId: 'fx', extractorAccuracy: 0.99, rfid: 3, pfidMean: 10, alphas: A, deltasAbs: D, deltasShare: D.map((d) => d / 64), pfid: A.map((a) => D.map((d) => k + a * 10 + d / 3)), n: 100, K: 64, seed: 0, codeCounts: null });

const FIGURES: Record<string, () => ExportFigure> = {
  correlation: () =>
    tokenizerCorrelationChart({
      points: POINTS.map(([label, x, y]) => ({ label, x, y })), x: 'eval/pfid_mean', y: 'gen/gfid', arch: 'raster', cfg: 0,
      coefficients: [{ method: 'pearson', r: 0.91, ci: [0.56, 0.99] }, { method: 'spearman', r: 0.89, ci: [0.3, 1] }],
    }),
  heatmap: () => heatmapFigure({ colorTitle: 'pFID', title: 'pFID over α × δ', panels: ['a', 'b'].map((t, i) => ({ title: t, alphas: A, deltas: D, values: A.map((a) => D.map((d) => i * 5 + a * 20 + d)) })) }),
  bar: () => barFigure({ title: 'pFID per recipe', yTitle: 'pFID (grid mean) ± SD', rows: POINTS.map(([label, x], i) => ({ label, value: x, spread: i % 2 ? 0.4 : null, group: label.startsWith('lp') ? '+LP' : 'no LP' })) }),
  line: () => lineFigure({ xTitle: 'training step', yTitle: 'training loss', logY: true, series: [{ name: 'a', x: [0, 1, 2, 3], y: [1, 0.5, 0.3, 0.2] }, { name: 'b', x: [0, 1, 2, 3], y: [0.9, 0.4, 0.2, 0.1] }] }),
  'two-axis': () => cfgChart([{ scale: 0, value: 40 }, { scale: 1.5, value: 30 }, { scale: 3, value: 33 }], [{ scale: 0, value: 4 }, { scale: 1.5, value: 6 }, { scale: 3, value: 7 }]),
  curves: () => pfidCurvesChart(['t1', 't2', 't3', 't4', 't5', 't6'].map((name, i) => ({ name, grid: grid(i) })), 'abs'),
};

const PROVENANCE = { runs: [3, 5, 7], n: 100, extractorId: 'fx-1', extractorAccuracy: 0.993, protocol: 'val split · N = 100 · seed 0 · α = {0.1, 0.5, 0.9}' };

/** The decompressed content streams of a PDF (where its drawing operators are). */
function pdfStreams(pdf: Buffer): string {
  const out: string[] = [];
  const s = pdf.toString('latin1');
  const re = /(?<!end)stream\r?\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    const start = m.index + m[0].length;
    const end = s.indexOf('endstream', start);
    if (end < 0) break;
    const head = s.slice(Math.max(0, m.index - 300), m.index);
    const raw = pdf.subarray(start, end);
    try {
      out.push(/FlateDecode/.test(head.slice(head.lastIndexOf('<<'))) ? inflateSync(raw).toString('latin1') : raw.toString('latin1'));
    } catch {
      out.push(raw.toString('latin1'));
    }
    re.lastIndex = end;
  }
  return out.join('\n');
}

function svgElements(svg: string): Set<string> {
  return new Set([...svg.matchAll(/<([a-zA-Z][\w:-]*)[\s>/]/g)].map((m) => m[1]));
}

describe('exportFigure: every chart kind in every format at both presets', () => {
  for (const [kind, make] of Object.entries(FIGURES)) {
    for (const preset of ['single', 'double'] as const) {
      it(`${kind}, ${preset} column`, async () => {
        const h = home();
        const dpi = preset === 'single' ? 300 : 150;
        const req = figureExportRequest({ name: `${kind}-${preset}`, figure: make(), formats: ['svg', 'png', 'pdf'], preset, dpi, provenance: PROVENANCE });
        const paths = await exportFigure(h, req);
        const base = join(h, 'exports', `${kind}-${preset}`);
        expect(paths).toEqual([`${base}.svg`, `${base}.png`, `${base}.pdf`, `${base}.json`]);

        // SVG: vector paths and text, no embedded raster, as wide as the preset
        const svg = readFileSync(`${base}.svg`, 'utf8');
        const els = svgElements(svg);
        expect(els.has('path')).toBe(true);
        expect(els.has('text')).toBe(true);
        expect(els.has('image')).toBe(false);
        expect(svg).not.toMatch(/data:image/);
        const widthPx = preset === 'single' ? 312 : 648;
        expect(svg).toMatch(new RegExp(`^<svg[^>]*\\swidth="${widthPx}"`));

        // PNG: opaque (no alpha channel), preset inches × dpi wide, dpi recorded, provenance in the text chunks
        const png = readFileSync(`${base}.png`);
        const meta = await sharp(png).metadata();
        expect(meta.format).toBe('png');
        expect(meta.hasAlpha).toBe(false);
        expect(meta.channels).toBe(3);
        expect(meta.width).toBe(Math.round((preset === 'single' ? 3.25 : 6.75) * dpi));
        expect(Math.round(meta.density ?? 0)).toBe(dpi);
        const text = pngText(png);
        expect(JSON.parse(text.Description)).toEqual(PROVENANCE);
        expect(text.Software).toMatch(/^toklab /);

        // PDF: valid header and trailer, text drawn as text in an embedded font, no raster image
        const pdf = readFileSync(`${base}.pdf`);
        expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
        expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
        const ops = pdfStreams(pdf);
        expect(ops).toMatch(/\bBT\b[\s\S]*?\bTj\b|\bTJ\b/);
        expect(ops).toMatch(/\b(re|l|c)\b[\s\S]*\b(f|S)\b/);
        expect(pdf.toString('latin1')).toMatch(/\/FontFile2/);
        expect(pdf.toString('latin1')).not.toMatch(/\/Subtype\s*\/Image/);
        expect(pdf.toString('latin1')).toContain('/Title');
        const size = /\/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]/.exec(pdf.toString('latin1'))!;
        expect(Number(size[1])).toBeCloseTo((preset === 'single' ? 3.25 : 6.75) * 72, 1);

        // sidecar
        const side = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
        expect(side.provenance).toEqual(PROVENANCE);
        expect(side.preset).toMatchObject({ name: preset, widthIn: preset === 'single' ? 3.25 : 6.75 });
        expect(side.dpi).toBe(dpi);
        expect(side.files).toEqual([`${kind}-${preset}.svg`, `${kind}-${preset}.png`, `${kind}-${preset}.pdf`]);
      });
    }
  }

  it('the same figure gives the same bytes every time (so the app and toklab export agree)', async () => {
    const h = home();
    const req = (name: string): FigureExportRequest => figureExportRequest({ name, figure: FIGURES.correlation(), formats: ['svg', 'png', 'pdf'], preset: 'single', provenance: PROVENANCE });
    await exportFigure(h, req('one'));
    await exportFigure(h, req('two'));
    for (const ext of ['svg', 'png', 'pdf']) expect(readFileSync(join(h, 'exports', `one.${ext}`)).equals(readFileSync(join(h, 'exports', `two.${ext}`))), ext).toBe(true);
  });

  it('the correlation figure prints ρ and both intervals, and the axis titles say what and in which unit', async () => {
    const h = home();
    await exportFigure(h, figureExportRequest({ name: 'c', figure: FIGURES.correlation(), formats: ['svg'], preset: 'double', provenance: {} }));
    const svg = readFileSync(join(h, 'exports', 'c.svg'), 'utf8');
    expect(svg).toContain('Pearson r = 0.91 [0.56, 0.99], n = 7');
    expect(svg).toContain('Spearman ρ = 0.89 [0.30, 1.00], n = 7');
    expect(svg).toContain('pFID (grid mean, lab features)');
    expect(svg).not.toMatch(/>[^<]*eval\/pfid_mean/);
    expect(svg).not.toContain('…');
  });

  it('a gallery: the run\'s grids side by side with their labels as one opaque PNG; paths must stay in the lab home', async () => {
    const h = home();
    mkdirSync(join(h, 'runs', '9'), { recursive: true });
    const tile = (v: number) => sharp({ create: { width: 32, height: 48, channels: 4, background: { r: v, g: 0, b: 255 - v, alpha: 0.5 } } }).png().toBuffer();
    writeFileSync(join(h, 'runs/9/gen-no-cfg.png'), await tile(0));
    writeFileSync(join(h, 'runs/9/gen-cfg-3.png'), await tile(200));
    const figure: ExportFigure = { kind: 'gallery', title: 'Sample run 9', columns: [{ title: 'without CFG', path: 'runs/9/gen-no-cfg.png' }, { title: 'CFG g=3 (constant)', path: 'runs/9/gen-cfg-3.png' }], rowLabels: ['circle', 'square', 'triangle'], footer: 'sample run 9 · T 1' };
    const paths = await exportFigure(h, figureExportRequest({ name: 'gallery-9', figure, formats: ['png'], preset: 'double', provenance: { sampleRun: 9 } }));
    expect(paths.map((p) => p.slice(h.length))).toEqual(['/exports/gallery-9.png', '/exports/gallery-9.json']);
    const meta = await sharp(paths[0]).metadata();
    expect(meta.hasAlpha).toBe(false);
    expect(meta.width).toBeGreaterThan(2 * 32 * 6);
    expect(JSON.parse(pngText(readFileSync(paths[0])).Description)).toEqual({ sampleRun: 9 });
    // not a PNG of the lab home, an escape, a symlink out of the home
    expect(() => figureExportRequest({ name: 'g', figure: { ...figure, columns: [{ title: 'x', path: '../outside.png' }] }, formats: ['png'], preset: 'double', provenance: {} })).toThrow(/figure\.columns\[0\]\.path/);
    expect(() => figureExportRequest({ name: 'g', figure: { ...figure, columns: [{ title: 'x', path: '/etc/passwd' }] }, formats: ['png'], preset: 'double', provenance: {} })).toThrow(/figure\.columns\[0\]\.path/);
    expect(() => figureExportRequest({ name: 'g', figure, formats: ['svg'], preset: 'double', provenance: {} })).toThrow(/formats of a gallery can only be png/);
    symlinkSync('/etc/hostname', join(h, 'runs/9/link.png'));
    await expect(exportFigure(h, figureExportRequest({ name: 'g', figure: { ...figure, columns: [{ title: 'x', path: 'runs/9/link.png' }] }, formats: ['png'], preset: 'double', provenance: {} }))).rejects.toThrow(/leads outside the lab home/);
  });

  it('refuses a symlinked exports folder', async () => {
    const h = home();
    const other = home();
    symlinkSync(other, join(h, 'exports'));
    await expect(exportFigure(h, figureExportRequest({ name: 'x', figure: FIGURES.line(), formats: ['svg'], preset: 'double', provenance: {} }))).rejects.toThrow(/symbolic link/);
    expect(existsSync(join(other, 'x.svg'))).toBe(false);
  });
});

/** RFC 4180 parser: quoted fields with doubled quotes, commas and line breaks inside; CRLF records. */

describe('exportTable', () => {
  const columns = ['run_id', 'run name', 'metric', 'value', 'protocol'];
  const rows: (string | number | null)[][] = [
    [12, 'vq, "K" 64', 'eval/pfid_mean', 12.345678901234567, 'extractor fx · α = {0.1, 0.9} · δ = 4\ncodes'],
    [13, 'ρ & α_δ ± 1 − 2 → 3 % $ # _ { } ~ ^ \\', 'gen/gfid', -0.000012, null],
    [14, '', 'eval/rfid', 1e21, 'plain'],
  ];

  it('CSV: RFC 4180 quoting, parses back to the rows, no comment rows; provenance in the sidecar; TeX and JSON', () => {
    const h = home();
    const paths = exportTable(h, tableExportRequest({ name: 'scores', columns, rows, formats: ['csv', 'tex', 'json'], booktabs: true, provenance: { extractorId: 'fx', n: 100 } }));
    expect(paths.map((p) => p.slice(h.length))).toEqual(['/exports/scores.csv', '/exports/scores.tex', '/exports/scores.json', '/exports/scores.provenance.json']);
    const csv = readFileSync(paths[0], 'utf8');
    expect(csv.split('\r\n').some((l) => l.startsWith('#'))).toBe(false);
    const parsed = parseCsv(csv);
    expect(parsed[0]).toEqual(columns);
    expect(parsed.slice(1)).toEqual(rows.map((r) => r.map((c) => (c === null ? '' : String(c)))));
    expect(parsed.slice(1).map((r) => Number(r[3]))).toEqual(rows.map((r) => r[3]));
    const json = JSON.parse(readFileSync(paths[2], 'utf8'));
    expect(json).toEqual({ columns, data: rows });
    const side = JSON.parse(readFileSync(paths[3], 'utf8'));
    expect(side.provenance).toEqual({ extractorId: 'fx', n: 100 });
    expect(side.rows).toBe(3);

    const tex = readFileSync(paths[1], 'utf8');
    expect(/^[\x20-\x7e\n]*$/.test(tex), 'pure printable ASCII').toBe(true);
    expect(tex).toContain('\\toprule');
    expect(tex).toContain('\\begin{tabular}{rllrl}');
    expect(tex).toContain('vq, "K" 64');
    expect(tex).toContain('$\\rho$ \\& $\\alpha$\\_$\\delta$ $\\pm$ 1 $-$ 2 $\\to$ 3 \\% \\$ \\# \\_ \\{ \\} \\textasciitilde{} \\textasciicircum{} \\textbackslash{}');
    expect(tex).toContain('$-$$1.200\\times10^{-5}$');
    expect(tex).toContain('extractor fx $\\cdot$ $\\alpha$ = \\{0.1, 0.9\\} $\\cdot$ $\\delta$ = 4 codes');
    const noBooktabs = readFileSync(exportTable(h, tableExportRequest({ name: 't2', columns, rows, formats: ['tex'], booktabs: false, provenance: {} }))[0], 'utf8');
    expect(noBooktabs).toContain('\\hline');
    expect(noBooktabs).not.toContain('rule');
  });

  it('TeX text: every special character escaped, Unicode as math or ASCII', () => {
    for (const ch of '&%$#_{}~^\\') {
      const t = texText(`a${ch}b`);
      expect(t, ch).not.toBe(`a${ch}b`);
      expect(/^[\x20-\x7e]*$/.test(t)).toBe(true);
    }
    expect(texText('ρ α δ τ ± − → × · … ≤ ≥ é ü µ °')).toBe('$\\rho$ $\\alpha$ $\\delta$ $\\tau$ $\\pm$ $-$ $\\to$ $\\times$ $\\cdot$ \\ldots{} $\\leq$ $\\geq$ e u $\\mu$ $^\\circ$');
    expect(texText('✓')).toBe('[U+2713]');
  });
});

describe('validators name the field they refuse', () => {
  const good = (): Record<string, unknown> => ({ name: 'fig', figure: FIGURES.correlation(), formats: ['png'], preset: 'single', provenance: {} });
  const cases: [string, (r: Record<string, unknown>) => void, RegExp][] = [
    ['no request', () => undefined, /./],
    ['bad name', (r) => (r.name = '../x'), /^name /],
    ['name with extension', (r) => (r.name = 'fig.png'), /^name /],
    ['unknown format', (r) => (r.formats = ['jpg']), /^formats\[0\] must be one of png, svg, pdf/],
    ['no format', (r) => (r.formats = []), /^formats must have at least 1/],
    ['twice', (r) => (r.formats = ['png', 'png']), /^formats lists a format twice/],
    ['preset', (r) => (r.preset = 'triple'), /^preset must be one of single, double/],
    ['dpi', (r) => (r.dpi = 5000), /^dpi must be a whole number from 50 to 1200/],
    ['dpi NaN', (r) => (r.dpi = Number.NaN), /^dpi must be a finite number/],
    ['figure kind', (r) => (r.figure = { kind: 'pie' }), /^figure\.kind must be one of/],
    ['point x', (r) => ((r.figure as { points: { x: unknown }[] }).points[2].x = Infinity), /^figure\.points\[2\]\.x must be a finite number/],
    ['point label', (r) => ((r.figure as { points: { label: unknown }[] }).points[0].label = 'x'.repeat(5000)), /^figure\.points\[0\]\.label must be at most 200/],
    ['colour', (r) => ((r.figure as { points: { color: unknown }[] }).points[1].color = 'red" onload="x'), /^figure\.points\[1\]\.color must be a colour/],
    ['label pos', (r) => ((r.figure as { points: { labelPos: unknown }[] }).points[1].labelPos = 'middle'), /^figure\.points\[1\]\.labelPos must be one of/],
    ['range', (r) => ((r.figure as { xRange: unknown }).xRange = [3, 1]), /^figure\.xRange must be \[low, high\]/],
    ['too many points', (r) => ((r.figure as { points: unknown[] }).points = Array.from({ length: 6000 }, () => ({}))), /^figure\.points must have at most 5000/],
    ['annotation', (r) => ((r.figure as { annotation: unknown }).annotation = [1]), /^figure\.annotation\[0\] must be a string/],
    ['provenance not an object', (r) => (r.provenance = [1]), /^provenance must be an object/],
    ['provenance NaN', (r) => (r.provenance = { n: Number.NaN }), /^provenance\.n must be a finite number/],
    ['provenance too deep', (r) => (r.provenance = JSON.parse('{"a":'.repeat(12) + '1' + '}'.repeat(12))), /^provenance\.a\.a.* nests deeper than 8 levels/],
    ['provenance too big', (r) => (r.provenance = { s: Array.from({ length: 20 }, () => 'x'.repeat(19_000)) }), /^provenance must be at most 256 KiB/],
  ];
  for (const [what, mutate, re] of cases) {
    it(`figure: ${what}`, () => {
      if (what === 'no request') {
        expect(() => figureExportRequest(undefined)).toThrow(/^request must be an object/);
        return;
      }
      const r = good();
      mutate(r);
      expect(() => figureExportRequest(r)).toThrow(re);
    });
  }

  it('line and heat-map figures: mismatched lengths, bad dashes, cells out of the grid, a right axis without a title', () => {
    const line = FIGURES['two-axis']() as unknown as { series: { y: number[]; dash: string }[]; y2Title: unknown };
    const bad1 = structuredClone(line);
    bad1.series[0].y = [1];
    expect(() => figureExportRequest({ ...good(), figure: bad1 })).toThrow(/^figure\.series\[0\]\.y must have as many values as figure\.series\[0\]\.x \(3\); got 1/);
    const bad2 = structuredClone(line);
    bad2.series[1].dash = 'zigzag';
    expect(() => figureExportRequest({ ...good(), figure: bad2 })).toThrow(/^figure\.series\[1\]\.dash must be one of/);
    const bad3 = structuredClone(line);
    bad3.y2Title = null;
    expect(() => figureExportRequest({ ...good(), figure: bad3 })).toThrow(/^figure\.y2Title must name the right-hand axis/);
    const heat = FIGURES.heatmap() as unknown as { panels: { cells: { row: number }[]; z: unknown[] }[] };
    const bad4 = structuredClone(heat);
    bad4.panels[1].cells[0].row = 7;
    expect(() => figureExportRequest({ ...good(), figure: bad4 })).toThrow(/^figure\.panels\[1\]\.cells\[0\]\.row must be a row index below 3/);
    const bad5 = structuredClone(heat);
    bad5.panels[0].z = [[1, 2]];
    expect(() => figureExportRequest({ ...good(), figure: bad5 })).toThrow(/^figure\.panels\[0\]\.z must have at least 3 entries/);
  });

  it('keeps only the fields it knows (an extra key does not reach the renderer)', () => {
    const r = good();
    (r.figure as Record<string, unknown>).onload = 'alert(1)';
    (r.figure as { points: Record<string, unknown>[] }).points[0].href = 'javascript:';
    const v = figureExportRequest(r);
    expect(JSON.stringify(v.figure)).not.toContain('alert');
    expect(JSON.stringify(v.figure)).not.toContain('javascript');
    expect(v.figure).toEqual(FIGURES.correlation());
  });

  it('tables: columns, rows, cells, formats', () => {
    const t = (): Record<string, unknown> => ({ name: 't', columns: ['a', 'b'], rows: [[1, 'x'], [null, 2]], formats: ['csv'], provenance: {} });
    expect(tableExportRequest(t()).rows).toEqual([[1, 'x'], [null, 2]]);
    const bad: [(r: Record<string, unknown>) => void, RegExp][] = [
      [(r) => (r.columns = []), /^columns must have at least 1/],
      [(r) => (r.columns = ['a', 'a']), /^columns\[1\] repeats "a"/],
      [(r) => (r.rows = [[1]]), /^rows\[0\] must have at least 2 entries/],
      [(r) => (r.rows = [[1, 2, 3]]), /^rows\[0\] must have at most 2 entries/],
      [(r) => (r.rows = [[1, Infinity]]), /^rows\[0\]\[1\] must be a finite number/],
      [(r) => (r.rows = [[1, { a: 1 }]]), /^rows\[0\]\[1\] must be a string/],
      [(r) => (r.rows = [[1, 'a\u0000b']]), /^rows\[0\]\[1\] must not contain control characters/],
      [(r) => (r.formats = ['xlsx']), /^formats\[0\] must be one of csv, tex, json/],
      [(r) => (r.booktabs = 'yes'), /^booktabs must be true or false/],
      [(r) => (r.rows = Array.from({ length: 600_000 }, () => [1, 2])), /^rows must have at most 500000/],
    ];
    for (const [mutate, re] of bad) {
      const r = t();
      mutate(r);
      expect(() => tableExportRequest(r)).toThrow(re);
    }
  });

  it('the lab dispatcher runs them before the handler', async () => {
    let called = false;
    const api = { exportFigure: async () => ((called = true), []), exportTable: async () => ((called = true), []) } as unknown as LabApi;
    await expect(dispatch(api, 'exportFigure', [{ ...good(), dpi: -1 }])).rejects.toThrow(/^dpi /);
    await expect(dispatch(api, 'exportTable', [{ name: 't', columns: ['a'], rows: [['x', 'y']], formats: ['csv'], provenance: {} }])).rejects.toThrow(/^rows\[0\] must have at most 1/);
    expect(called).toBe(false);
  });
});
