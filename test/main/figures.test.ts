// Shared figure definitions (figures/): headless Vega → SVG/PNG (main/report/render.ts), the
// Plotly adapter agreeing with the Vega spec, and image composition (main/report/images.ts).
import { mkdtempSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { barFigure, correlationFigure, heatmapFigure, leastSquares, lineFigure, logTicks, sharedDomain, type FigureDef } from '../../figures';
import { labelBox, PLACER_AREA } from '../../figures/correlation';
import { toPlotly } from '../../figures/plotly';
import { toVega } from '../../figures/vega';
import { composeGrid, gridLayout, triptych } from '../../main/report/images';
import { renderFigure, writeFigure } from '../../main/report/render';

const tmp = mkdtempSync(join(tmpdir(), 'toklab-figures-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const POINTS = [
  { label: 'vq-k256', x: 12.3, y: 20.1, group: '−LP' },
  { label: 'vq-k512', x: 11.8, y: 19.4, group: '−LP' },
  { label: 'vq-k1024', x: 10.2, y: 16.0, group: '−LP' },
  { label: 'vq-k256-lp', x: 9.1, y: 14.2, group: '+LP' },
  { label: 'vq-k512-lp', x: 8.7, y: 14.9, group: '+LP' },
  { label: 'vq-k1024-lp', x: 7.9, y: 12.1, group: '+LP' },
  { label: 'fsq-8', x: 9.0, y: 14.5, group: '+LP' },
];
const corr = () =>
  correlationFigure({
    points: POINTS, xTitle: 'pFID (grid mean, lab features)', yTitle: 'gFID (10k samples, lab features)', fit: true,
    coefficient: { method: 'pearson', r: 0.9123, ci: [0.561, 0.987], n: 7 }, title: 'pFID against gFID',
  });
const ALPHAS = [0.5, 0.7, 0.9];
const DELTAS = [200, 280, 360];
const heat = () =>
  heatmapFigure({
    colorTitle: 'pFID',
    panels: [
      { title: 'vq-k256', alphas: ALPHAS, deltas: DELTAS, values: ALPHAS.map((a) => DELTAS.map((d) => 10 + a * 10 + d / 100)) },
      { title: 'vq-k512', alphas: ALPHAS, deltas: DELTAS, values: ALPHAS.map((a) => DELTAS.map((d) => 30 + a * 10 + d / 100)) },
      { title: 'fsq-8', alphas: [0.5, 0.9], deltas: [200, 360], values: [[5, null], [8, 9]] },
    ],
  });
const bar = () =>
  barFigure({ title: 'gFID per tokenizer', yTitle: 'gFID (10k samples, lab features)', rows: POINTS.map((p, i) => ({ label: p.label, value: p.y, spread: i % 3 === 0 ? null : 0.7, group: p.group })) });
const line = () =>
  lineFigure({
    xTitle: 'training step', yTitle: 'loss (MSE)', logY: true,
    series: [
      { name: 'short', x: [0, 1, 2, 3], y: [1, 0.5, 0.25, 0.125] },
      { name: 'long', x: Array.from({ length: 100 }, (_, i) => i), y: Array.from({ length: 100 }, (_, i) => Math.exp(-i / 30)) },
    ],
  });

/** Tags balance and attributes are quoted: enough to call the SVG well-formed here. */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const re = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"]*")*)\s*(\/?)>/g;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(svg))) {
    const between = svg.slice(consumed, m.index);
    expect(between.includes('<'), `stray "<" before ${m[0].slice(0, 40)}`).toBe(false);
    consumed = m.index + m[0].length;
    if (m[1]) expect(stack.pop()).toBe(m[2]);
    else if (!m[4]) stack.push(m[2]);
  }
  expect(svg.slice(consumed).trim()).toBe('');
  expect(stack).toEqual([]);
}

async function assertOpaque(png: Buffer): Promise<void> {
  const meta = await sharp(png).metadata();
  if (meta.hasAlpha) {
    const stats = await sharp(png).stats();
    expect(stats.channels[3].min).toBe(255);
  } else {
    expect(meta.channels).toBe(3);
  }
}

describe('figures render headless (vega → SVG → sharp PNG)', () => {
  const cases: [string, () => FigureDef][] = [['correlation', corr], ['heatmap', heat], ['bar', bar], ['line', line]];
  for (const [name, make] of cases) {
    it(`${name}: vector SVG with paths and text, opaque PNG of the requested width`, async () => {
      const { svg, png } = await renderFigure(make(), { width: 600, scale: 2 });
      expect(svg.startsWith('<svg')).toBe(true);
      assertWellFormed(svg);
      expect(svg).toMatch(/<path[\s>]/);
      expect(svg).toMatch(/<text[\s>]/);
      expect(svg).not.toMatch(/<image[\s>]/);
      expect(svg).toMatch(/^<svg[^>]*\swidth="600"/);
      const meta = await sharp(png).metadata();
      expect(meta.format).toBe('png');
      expect(meta.width).toBe(1200);
      await assertOpaque(png);
    });
  }

  it('defaults to 6.75 in at 150 dpi and writes name.svg + name.png', async () => {
    const paths = await writeFigure(tmp, 'corr', corr());
    expect(paths).toEqual([join(tmp, 'corr.svg'), join(tmp, 'corr.png')]);
    for (const p of paths) expect(existsSync(p)).toBe(true);
    const meta = await sharp(paths[1]).metadata();
    expect(meta.width).toBe(Math.round(648 * (150 / 96)));
    await expect(writeFigure(tmp, '../escape', corr())).rejects.toThrow(/figure name/);
  });
});

describe('correlation figure', () => {
  it('fits least squares and prints the coefficient with its CI', () => {
    const ls = leastSquares([0, 1, 2, 3], [1, 3, 5, 7])!;
    expect(ls.slope).toBeCloseTo(2, 12);
    expect(ls.intercept).toBeCloseTo(1, 12);
    const def = corr();
    expect(def.annotation[0]).toBe('Pearson r = 0.91 [0.56, 0.99], n = 7');
    const fit = leastSquares(POINTS.map((p) => p.x), POINTS.map((p) => p.y))!;
    expect(def.fit!.slope).toBeCloseTo(fit.slope, 12);
    expect(def.fit!.y[0]).toBeCloseTo(fit.intercept + fit.slope * 7.9, 12);
  });

  it('prints the note when there is no CI', async () => {
    const def = correlationFigure({ points: POINTS.slice(0, 3), xTitle: 'a', yTitle: 'b', fit: true, coefficient: { method: 'spearman', r: 1, ci: null, n: 3 }, note: 'no CI: n = 3' });
    expect(def.annotation).toEqual(['Spearman ρ = 1.00, n = 3', 'no CI: n = 3']);
    const { svg } = await renderFigure(def, { scale: 1 });
    expect(svg).toContain('no CI: n = 3');
    expect(svg).toContain('Spearman ρ = 1.00, n = 3');
  });

  it('places labels so they neither overlap each other nor leave the plot', () => {
    const def = corr();
    const W = PLACER_AREA.width;
    const H = PLACER_AREA.height;
    const boxes = def.points.map((p) => {
      const px = ((p.x - def.xRange[0]) / (def.xRange[1] - def.xRange[0])) * W;
      const py = H - ((p.y - def.yRange[0]) / (def.yRange[1] - def.yRange[0])) * H;
      return labelBox(px, py, p.label.length * 11 * 0.6, 13, p.labelPos);
    });
    for (let i = 0; i < boxes.length; i++) {
      expect(boxes[i].x0).toBeGreaterThanOrEqual(-1);
      expect(boxes[i].x1).toBeLessThanOrEqual(W + 1);
      for (let j = i + 1; j < boxes.length; j++) {
        const a = boxes[i];
        const b = boxes[j];
        const ov = Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
        expect(ov, `${def.points[i].label} vs ${def.points[j].label}`).toBeLessThan(4);
      }
    }
  });

  it('the Plotly adapter draws the same points, labels and fitted line as the Vega spec', () => {
    const def = corr();
    const spec = toVega(def) as { data: { name: string; values: { x: number; y: number; label?: string; align?: string }[] }[] };
    const vPoints = spec.data.find((d) => d.name === 'points')!.values;
    const vFit = spec.data.find((d) => d.name === 'fit')!.values;
    const { data, layout } = toPlotly(def);
    const fitTrace = data.find((t) => t.mode === 'lines') as { x: number[]; y: number[] };
    expect(fitTrace.x).toEqual(vFit.map((p) => p.x));
    expect(fitTrace.y).toEqual(vFit.map((p) => p.y));
    const pts = data.filter((t) => t.mode === 'markers+text') as { x: number[]; y: number[]; text: string[]; textposition: string[] }[];
    const plotlyPoints = pts.flatMap((t) => t.x.map((x, i) => ({ x, y: t.y[i], label: t.text[i] }))).sort((a, b) => a.label.localeCompare(b.label));
    expect(plotlyPoints).toEqual(vPoints.map((p) => ({ x: p.x, y: p.y, label: p.label })).sort((a, b) => a.label!.localeCompare(b.label!)));
    // Labels sit on the same side in both.
    const side = (align: string | undefined): string => (align === 'left' ? 'right' : align === 'right' ? 'left' : 'center');
    for (const t of pts) t.text.forEach((l, i) => expect(t.textposition[i]).toContain(side(vPoints.find((p) => p.label === l)!.align)));
    expect((layout.xaxis as { range: number[] }).range).toEqual(def.xRange);
    expect(JSON.stringify(layout.annotations)).toContain('Pearson r = 0.91 [0.56, 0.99], n = 7');
  });
});

describe('heat map figure', () => {
  it('puts every panel on one colour scale whose domain is the global min..max', () => {
    const def = heat();
    const all = [...ALPHAS.flatMap((a) => DELTAS.map((d) => 10 + a * 10 + d / 100)), ...ALPHAS.flatMap((a) => DELTAS.map((d) => 30 + a * 10 + d / 100)), 5, 8, 9];
    expect(def.domain).toEqual([Math.min(...all), Math.max(...all)]);
    const spec = toVega(def) as { scales: { name: string; domain: number[] }[]; marks: { type: string; scales?: { name: string }[] }[] };
    const color = spec.scales.filter((s) => s.name === 'color');
    expect(color).toHaveLength(1);
    expect(color[0].domain).toEqual([5, Math.max(...all)]);
    const groups = spec.marks.filter((m) => m.type === 'group');
    expect(groups).toHaveLength(3);
    for (const g of groups) expect(g.scales!.map((s) => s.name)).not.toContain('color');
    // Plotly: one coloraxis with the same bounds, every trace on it, same z.
    const { data, layout } = toPlotly(def);
    expect(layout.coloraxis).toMatchObject({ cmin: def.domain[0], cmax: def.domain[1] });
    expect(data.map((t) => t.coloraxis)).toEqual(['coloraxis', 'coloraxis', 'coloraxis']);
    expect(data[2].z).toEqual([[5, null], [8, 9]]);
    expect(data[2].text).toEqual([['5', '—'], ['8', '9']]);
  });

  it('takes column labels and an explicit domain (the app: δ as a share of K, the scale of the tokenizers shown)', () => {
    const values = [[20, 21], [22, 23]];
    const domain = sharedDomain([{ values }, { values: [[18, null]] }]);
    expect(domain).toEqual([18, 23]);
    const def = heatmapFigure({ colorTitle: 'pFID', domain, panels: [{ title: 't', alphas: [0.5, 0.9], deltas: [100, 200], values, deltaLabels: ['2.4% K', '4.9% K'] }] });
    const { data, layout } = toPlotly(def);
    expect(data[0].x).toEqual(['2.4% K', '4.9% K']);
    expect(data[0].y).toEqual(['0.5', '0.9']);
    expect(layout.coloraxis).toMatchObject({ cmin: 18, cmax: 23 });
  });

  it('prints the cell values in the SVG', async () => {
    const { svg } = await renderFigure(heat(), { scale: 1 });
    expect(svg).toContain('>17.8<');
    expect(svg).toContain('>—<');
    expect(svg).toContain('pFID');
  });
});

describe('bar and line figures', () => {
  it('bar: same values and error bars in both adapters, coloured by group', () => {
    const def = bar();
    expect(def.groups.map((g) => g.name)).toEqual(['−LP', '+LP']);
    expect(def.groups[0].color).not.toBe(def.groups[1].color);
    const { data } = toPlotly(def);
    expect(data.flatMap((t) => t.y as number[])).toEqual(POINTS.map((p) => p.y));
    const spec = toVega(def) as { data: { name: string; values: { lo: number; hi: number }[] }[] };
    expect(spec.data.find((d) => d.name === 'errors')!.values).toHaveLength(4);
    // A tokenizer shown twice (±LP) gets two categories, the same in both back ends.
    const twice = barFigure({ yTitle: 'y', rows: [{ label: 'a', value: 1, group: '−LP' }, { label: 'a', value: 2, group: '+LP' }] });
    expect(twice.rows.map((r) => r.key)).toEqual(['a', 'a (+LP)']);
    expect(toPlotly(twice).data.map((t) => t.x)).toEqual([['a'], ['a (+LP)']]);
    expect((toVega(twice) as { scales: { name: string; domain: string[] }[] }).scales[0].domain).toEqual(['a', 'a (+LP)']);
  });

  it('line: markers on short series only, log axis, distinct colours', () => {
    const def = line();
    expect(def.series.map((s) => s.markers)).toEqual([true, false]);
    const { data, layout } = toPlotly(def);
    expect(data.map((t) => t.mode)).toEqual(['lines+markers', 'lines']);
    expect((layout.yaxis as { type: string }).type).toBe('log');
    expect(new Set(def.series.map((s) => s.color)).size).toBe(2);
    const spec = toVega(def) as { scales: { name: string; type: string; domain: number[] }[] };
    const y = spec.scales.find((s) => s.name === 'y')!;
    expect(y.type).toBe('log');
    // The log ticks bound the data, and both back ends label the same ones.
    expect(y.domain).toEqual([0.02, 1]);
    expect((layout.yaxis as { tickvals: number[] }).tickvals).toEqual(def.yTicks);
    expect(logTicks(0.0116, 0.52)).toEqual([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1]);
  });
});

describe('image composition', () => {
  const tile = (r: number, g: number, b: number) => sharp({ create: { width: 16, height: 16, channels: 3, background: { r, g, b } } }).png().toBuffer();

  it('composeGrid: cols × tile × scale plus label margins, tiles upscaled in place', async () => {
    const red = await tile(255, 0, 0);
    const blue = await tile(0, 0, 255);
    const opts = { rowLabels: ['airplane', 'cat'], colLabels: ['no CFG', 'CFG'], title: 'matched seeds', scale: 4 };
    const png = await composeGrid({ tiles: [[{ png: red }, { png: blue }], [{ png: blue }, { png: red }]], ...opts });
    const L = gridLayout(2, 2, 16, 16, opts);
    const meta = await sharp(png).metadata();
    expect(meta.width).toBe(L.width);
    expect(meta.height).toBe(L.height);
    expect(L.cellW).toBe(64);
    expect(L.left).toBeGreaterThan(0);
    expect(L.top).toBeGreaterThan(0);
    expect(meta.width).toBe(L.left + 2 * 16 * 4 + L.gap + 8);
    await assertOpaque(png);
    const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
    const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
    const p01 = L.at(0, 1);
    expect(px(L.at(0, 0).x + 1, L.at(0, 0).y + 1)).toEqual([255, 0, 0]);
    expect(px(p01.x + 62, p01.y + 62)).toEqual([0, 0, 255]);
    expect(px(p01.x + 64 + 1, p01.y)).toEqual([255, 255, 255]);
  });

  it('triptych: three images with captions, opaque', async () => {
    const png = await triptych({ original: await tile(10, 10, 10), clean: await tile(100, 100, 100), perturbed: await tile(200, 200, 200), scale: 4 });
    const meta = await sharp(png).metadata();
    expect(meta.width).toBeGreaterThanOrEqual(3 * 64);
    await assertOpaque(png);
  });

  it('a one-row heat map gives its y title room: wrapped along the panels, never cut', async () => {
    const p = (title: string) => ({ title, alphas: [0.3, 0.6, 0.9], deltas: [4, 8], values: [[1, 2], [3, 4], [5, 6]] });
    const { svg } = await renderFigure(heatmapFigure({ panels: [p('a'), p('b'), p('c')], colorTitle: 'pFID', title: 'one row' }), { scale: 1 });
    const yTitle = /role-mark y-title[^>]*>(<text[^>]*>.*?<\/text>)/.exec(svg)![1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    expect(yTitle).toBe('α (token perturbation rate)');
    expect(svg).not.toContain('…');
  });
});
