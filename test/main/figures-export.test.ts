// Charts that do not mislead, at both paper presets: every trace told apart, markers on short series,
// both lines of a two-axis chart visible, point labels that neither overlap nor leave the plot,
// readable axis titles (with units) for every metric the lab logs, and layouts that fit the preset.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { annealChart, cfgChart, correlationExport, lineFigure, metricCurvesChart, metricTitle, pfidCurvesChart, pfidHeatmapChart, PRESETS, textWidth, tokenizerCorrelationChart, wrapText } from '../../figures';
import { labelBox } from '../../figures/correlation';
import { toPlotly } from '../../figures/plotly';
import { SIZES } from '../../figures/style';
import { heatmapLayout, toVega } from '../../figures/vega';
import { figureSvg } from '../../main/report/render';

describe('every series can be told apart', () => {
  const series = (n: number, extra: (i: number) => object = () => ({})) => Array.from({ length: n }, (_, i) => ({ name: `s${i}`, x: [0, 1], y: [i, i + 1], ...extra(i) }));

  it('more series than colours: unique (colour, dash) pairs', () => {
    const def = lineFigure({ xTitle: 'x', yTitle: 'y', series: series(30) });
    const pairs = new Set(def.series.map((s) => `${s.color}|${s.dash}`));
    expect(pairs.size).toBe(30);
    expect(new Set(def.series.map((s) => s.dash)).size).toBeGreaterThan(1);
  });

  it('grouped: a colour per group (tokenizer), a dash per variant (δ), every pair unique', () => {
    const def = lineFigure({ xTitle: 'x', yTitle: 'y', series: series(12, (i) => ({ group: `tok${Math.floor(i / 3)}`, variant: `δ ${i % 3}` })) });
    expect(new Set(def.series.map((s) => s.color)).size).toBe(4);
    expect(new Set(def.series.map((s) => s.dash)).size).toBe(3);
    expect(new Set(def.series.map((s) => `${s.color}|${s.dash}`)).size).toBe(12);
    for (let i = 0; i < 12; i++) {
      expect(def.series[i].color).toBe(def.series[i - (i % 3)].color);
      expect(def.series[i].dash).toBe(def.series[i % 3].dash);
    }
  });

  it('pFID curves of 6 tokenizers × 3 δ: 18 distinguishable lines', () => {
    const grid = { extractorId: 'x', extractorAccuracy: 1, rfid: 1, pfidMean: 1, alphas: [0.1, 0.9], deltasAbs: [4, 8, 16], deltasShare: [0.1, 0.2, 0.3], pfid: [[1, 2, 3], [4, 5, 6]], n: 1, K: 40, seed: 0, codeCounts: null };
    const def = pfidCurvesChart(Array.from({ length: 6 }, (_, i) => ({ name: `t${i}`, grid })), 'abs');
    expect(new Set(def.series.map((s) => `${s.color}|${s.dash}`)).size).toBe(18);
    const { data } = toPlotly(def);
    expect(new Set(data.map((t) => JSON.stringify([(t.line as { color: string }).color, (t.line as { dash: string }).dash]))).size).toBe(18);
    const spec = toVega(def) as { data: { name: string; values: { idx: number; color: string; dashArray: number[] }[] }[] };
    const drawn = new Map(spec.data[0].values.map((p) => [p.idx, `${p.color}|${p.dashArray.join(',')}`]));
    expect(new Set(drawn.values()).size).toBe(18);
  });

  it('short series get markers (in both back ends), long ones do not', () => {
    const def = lineFigure({ xTitle: 'x', yTitle: 'y', series: [{ name: 'a', x: [1, 2, 3, 4, 5], y: [1, 2, 3, 4, 5] }, { name: 'b', x: Array.from({ length: 19 }, (_, i) => i), y: Array.from({ length: 19 }, (_, i) => i) }, { name: 'c', x: Array.from({ length: 500 }, (_, i) => i), y: Array.from({ length: 500 }, (_, i) => i) }] });
    expect(def.series.map((s) => s.markers)).toEqual([true, true, false]);
    expect(toPlotly(def).data.map((t) => t.mode)).toEqual(['lines+markers', 'lines+markers', 'lines']);
    const spec = toVega(def) as { data: { name: string; transform?: { expr: string }[] }[] };
    expect(spec.data.find((d) => d.name === 'markers')!.transform![0].expr).toBe('datum.markers');
    // training curves from the app: markers while the run is young
    const curve = metricCurvesChart([{ name: 'train/loss', steps: [1, 2, 3], values: [3, 2, null] }], { title: 'train/loss' });
    expect(curve.series[0]).toMatchObject({ markers: true, x: [1, 2], y: [3, 2], name: 'training loss' });
    expect([curve.title, curve.xTitle, curve.yTitle]).toEqual(['training loss', 'training step', 'training loss']);
  });
});

describe('two-axis charts keep both lines visible', () => {
  it('gFID (left) and IS (right): distinct colours and dashes, the right series on its own scale, in both back ends', () => {
    const def = cfgChart([{ scale: 0, value: 40 }, { scale: 2, value: 30 }], [{ scale: 0, value: 4 }, { scale: 2, value: 6 }]);
    const [f, is] = def.series;
    expect(f.axis).toBe('left');
    expect(is.axis).toBe('right');
    expect(f.color).not.toBe(is.color);
    expect(f.dash).not.toBe(is.dash);
    expect(def.y2Title).toBe('IS (lab classifier)');
    const { data, layout } = toPlotly(def);
    expect(data[1].yaxis).toBe('y2');
    expect(layout.yaxis2).toMatchObject({ overlaying: 'y', side: 'right' });
    expect((data[1].line as { dash: string }).dash).toBe('dash');
    const spec = toVega(def) as { scales: { name: string; domain: number[] }[]; axes: { orient: string; scale: string }[] };
    expect(spec.scales.find((s) => s.name === 'y')!.domain).toEqual([30, 40]);
    expect(spec.scales.find((s) => s.name === 'y2')!.domain).toEqual([4, 6]);
    expect(spec.axes.map((a) => `${a.orient}:${a.scale}`)).toEqual(['bottom:x', 'left:y', 'right:y2']);
  });

  it('the annealing schedule: α and the flip rate on [0, 1.05], δ in codes as steps on the right', () => {
    const def = annealChart([{ epoch: 0, alpha: 0.1, delta: 8, flip: 0.05 }, { epoch: 1, alpha: 0.5, delta: 4, flip: 0.2 }], 64);
    expect(def.series.map((s) => [s.name, s.axis, s.step])).toEqual([['α_e', 'left', false], ['flip rate', 'left', false], ['δ_e', 'right', true]]);
    expect(def.yRange).toEqual([0, 1.05]);
    expect(new Set(def.series.map((s) => s.color)).size).toBe(3);
    expect(() => lineFigure({ xTitle: 'x', yTitle: 'y', series: [{ name: 'a', x: [1], y: [1], axis: 'right' }] })).toThrow(/y2Title/);
  });
});

describe('point labels neither overlap nor leave the plot, at both presets', () => {
  const pts: [string, number, number][] = [['vq-k256', 12.3, 20.1], ['vq-k512', 11.8, 19.4], ['vq-k1024', 10.2, 16.0], ['vq-k256-lp', 9.1, 14.2], ['vq-k512-lp', 8.7, 14.9], ['vq-k1024-lp', 7.9, 12.1], ['fsq-8', 9.0, 14.5]];
  const def = tokenizerCorrelationChart({ points: pts.map(([label, x, y]) => ({ label, x, y })), x: 'eval/pfid_mean', y: 'gen/gfid', arch: 'raster', cfg: 0, coefficients: [{ method: 'pearson', r: 0.9, ci: [0.5, 0.99] }, { method: 'spearman', r: 0.8, ci: [0.2, 1] }] });
  for (const preset of ['single', 'double'] as const) {
    it(preset, () => {
      const spec = toVega(def, { width: PRESETS[preset].width }) as { width: number; height: number; data: { name: string; values: { x: number; y: number; label: string; labelPos: Parameters<typeof labelBox>[4]; labelDist?: number }[] }[]; marks: { name?: string; encode?: { update?: { x?: { value: number }; y?: { value: number }; width?: { value: number }; height?: { value: number } } } }[] };
      const W = spec.width;
      const H = spec.height;
      const [x0, x1] = def.xRange;
      const [y0, y1] = def.yRange;
      const P = spec.data[0].values.map((p) => ({ ...p, px: ((p.x - x0) / (x1 - x0)) * W, py: H - ((p.y - y0) / (y1 - y0)) * H }));
      const boxes = P.map((p) => labelBox(p.px, p.py, textWidth(p.label, SIZES.label), SIZES.label + 2, p.labelPos, p.labelDist ?? 1));
      const area = (a: { x0: number; x1: number; y0: number; y1: number }, b: typeof a): number => Math.max(0, Math.min(a.x1, b.x1) - Math.max(a.x0, b.x0)) * Math.max(0, Math.min(a.y1, b.y1) - Math.max(a.y0, b.y0));
      boxes.forEach((b, i) => {
        expect(b.x0, `${P[i].label} left`).toBeGreaterThanOrEqual(-2);
        expect(b.x1, `${P[i].label} right`).toBeLessThanOrEqual(W + 2);
        expect(b.y0, `${P[i].label} top`).toBeGreaterThanOrEqual(-2);
        expect(b.y1, `${P[i].label} bottom`).toBeLessThanOrEqual(H + 2);
        for (let j = i + 1; j < boxes.length; j++) expect(area(b, boxes[j]), `${P[i].label} vs ${P[j].label}`).toBeLessThan(6);
        // no label covers another point's marker
        P.forEach((q, k) => {
          if (k !== i) expect(area(b, { x0: q.px - 4, x1: q.px + 4, y0: q.py - 4, y1: q.py + 4 }), `${P[i].label} over ${P[k].label}`).toBeLessThan(8);
        });
      });
      // the coefficients' box, when inside the plot, covers no point
      const box = spec.marks.find((m) => m.name === 'annotation-box');
      if (box) {
        const u = box.encode!.update!;
        const r = { x0: u.x!.value, y0: u.y!.value, x1: u.x!.value + u.width!.value, y1: u.y!.value + u.height!.value };
        for (const q of P) expect(area(r, { x0: q.px - 4, x1: q.px + 4, y0: q.py - 4, y1: q.py + 4 }), q.label).toBe(0);
      }
    });
  }

  it('Plotly does not clip labels at the plot edge', () => {
    const traces = toPlotly(def).data.filter((t) => t.mode === 'markers+text');
    expect(traces.length).toBeGreaterThan(0);
    for (const t of traces) expect(t.cliponaxis).toBe(false);
  });
});

describe('layouts fit the preset', () => {
  it('heat maps: fewer panels per row at single column, so cells stay readable', () => {
    const grid = { extractorId: 'x', extractorAccuracy: 1, rfid: 1, pfidMean: 1, alphas: [0.1, 0.5, 0.9], deltasAbs: [4, 8, 16], deltasShare: [0.1, 0.2, 0.3], pfid: [[11.5, 12.5, 13.5], [14, 15, 16], [17, 18, 19]], n: 1, K: 40, seed: 0, codeCounts: null };
    const def = pfidHeatmapChart([0, 1, 2].map((i) => ({ name: `tok ${i}`, grid })), 'share');
    expect(heatmapLayout(def, PRESETS.double.width).cols).toBe(3);
    const single = heatmapLayout(def, PRESETS.single.width);
    expect(single.cols).toBe(1);
    expect(single.pw / 3).toBeGreaterThanOrEqual(26);
  });

  it('titles wrap to the width instead of running off it', async () => {
    const long = lineFigure({ title: 'A rather long figure title that cannot fit on one line of a single column figure', xTitle: 'training step', yTitle: 'reconstruction loss (MSE) of the tokenizer on the training split', series: [{ name: 'a', x: [0, 1], y: [1, 2] }] });
    expect(wrapText(long.title!, SIZES.title, PRESETS.single.width - 20, true).length).toBeGreaterThan(1);
    const svg = await figureSvg(long, { width: PRESETS.single.width });
    const words = (s: string): string => s.replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim();
    expect(words(/figure-title[^>]*>(<text[\s\S]*?<\/text>)/.exec(svg)![1])).toBe(long.title);
    // every title word is there and nothing was cut with an ellipsis
    expect(svg).not.toContain('…');
    for (const w of long.yTitle.split(' ')) expect(svg).toContain(w);
  });
});

describe('axis titles say what was measured, in words and units', () => {
  // every metric name the engine logs or scores (read from its sources), plus the training-loop keys
  const ENGINE = join(__dirname, '../../engine');
  const files = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
  const names = new Set<string>();
  for (const f of files(ENGINE)) for (const m of readFileSync(f, 'utf8').matchAll(/['`]((?:train|val|eval|gen|lp|rar|featnet|tokenizer|tokens|posttrain)\/[a-z_]+)['`]/g)) names.add(m[1]);
  for (const k of ['loss', 'recon', 'codebook', 'commit', 'lr', 'nll_bits', 'grad_norm', 'train_acc', 'token_error']) names.add(`train/${k}`);

  it(`every one of the ${names.size} metrics has a title of its own`, () => {
    expect(names.size).toBeGreaterThan(40);
    for (const m of names) {
      const t = metricTitle(m);
      expect(t, m).not.toBe(m);
      expect(t, m).not.toMatch(/^[a-z]+\/|_/);
    }
    expect(metricTitle('eval/psnr')).toBe('PSNR (dB)');
    expect(metricTitle('gen/gfid')).toBe('gFID (lab features)');
  });

  it('the correlation export carries the coefficients with their intervals and the protocols', () => {
    const r = correlationExport({
      request: { x: 'eval/rfid', y: 'gen/gfid', arch: 'rar', cfgScale: 1.5 },
      points: [1, 2, 3].map((i) => ({ tokenizerId: i, tokenizerName: `t${i}`, x: i, y: i * 2, xRunId: 10 + i, yRunId: 20 + i })),
      extractorId: 'fx', extractorAccuracy: 0.95,
      coefficients: [{ method: 'pearson', r: 1, ci: null, ciNote: 'n = 3', level: 0.95, resamples: 2000 }, { method: 'spearman', r: 1, ci: [0.5, 1], ciNote: null, level: 0.95, resamples: 2000 }],
      chosen: { x: { metric: 'eval/rfid', key: 'k', description: 'N = 100', chosen: 'majority' }, y: { metric: 'gen/gfid', key: 'k2', description: 'N = 200', chosen: 'requested' } },
      excluded: [], warnings: [],
    });
    expect(r.name).toBe('correlation-eval_rfid-vs-gen_gfid-rar-cfg1.5');
    expect(r.figure.annotation).toEqual(['Pearson r = 1.00, n = 3', 'Spearman ρ = 1.00 [0.50, 1.00], n = 3', 'only 3 tokenizers (fewer than 6): fragile']);
    expect(r.figure.xTitle).toBe('rFID (lab features)');
    expect(r.provenance).toMatchObject({ n: 3, extractorId: 'fx', extractorAccuracy: 0.95, arch: 'rar', cfgScale: 1.5, x: { protocol: 'N = 100' }, y: { protocol: 'N = 200' } });
  });
});
