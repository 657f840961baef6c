/// <reference lib="dom" />
// Exports end to end, in Chromium through `toklab serve`, on a lab home seeded straight into lab.db:
// the correlation chart exported from its Export menu as SVG (vector: paths and text, no raster), PNG
// (opaque, 3.25 in × 300 dpi) and PDF, byte-identical to `toklab export` of the same correlation; the
// tokenizer table as CSV whose rows are the database's scores; the gallery as one PNG; and the
// charts' Plotly toolbars out of the keyboard's tab order.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import { toklab } from './cli-prep';
import { seedExportLab } from './seed-export-lab';
import { startServe, tempLabHome } from './serve-fixture';
import { parseCsv } from '../csv-parse';

test('exports a chart as SVG, PNG and PDF and the score table as CSV from the app, the same files as toklab export', async ({ page }) => {
  test.setTimeout(240_000);
  const home = tempLabHome();
  const seeded = await seedExportLab(home);
  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Analysis`);
    await page.getByTestId('corr-arch').selectOption('raster');
    await page.getByTestId('corr-cfg').fill('0');
    await page.getByTestId('corr-run').click();
    await expect(page.getByTestId('corr-coefficients')).toContainText('spearman');
    await expect(page.getByTestId('corr-chart')).toHaveClass(/js-plotly-plot/);

    // the Export menu: all three formats, single column, 300 dpi
    const menu = page.getByTestId('corr-export');
    await menu.locator('summary').click();
    await page.getByTestId('corr-export-format-svg').check();
    await page.getByTestId('corr-export-format-pdf').check();
    await expect(page.getByTestId('corr-export-format-png')).toBeChecked();
    await page.getByTestId('corr-export-preset').selectOption('single');
    await page.getByTestId('corr-export-dpi').fill('300');
    await page.getByTestId('corr-export-run').click();
    const paths = page.getByTestId('corr-export-paths').locator('li');
    await expect(paths).toHaveCount(4);
    const files = await paths.allTextContents();
    const base = join(home, 'exports', 'correlation-eval_pfid_mean-vs-gen_gfid-raster-cfg0');
    expect(files).toEqual([`${base}.png`, `${base}.svg`, `${base}.pdf`, `${base}.json`]);

    const svg = readFileSync(`${base}.svg`, 'utf8');
    const tags = new Set([...svg.matchAll(/<([a-zA-Z][\w:-]*)[\s>/]/g)].map((m) => m[1]));
    expect(tags.has('path')).toBe(true);
    expect(tags.has('text')).toBe(true);
    expect(tags.has('image')).toBe(false);
    expect(svg).not.toContain('data:image');
    expect(svg).toContain('Spearman ρ');
    expect(svg).toContain('pFID (grid mean, lab features)');
    const meta = await sharp(`${base}.png`).metadata();
    expect(meta.hasAlpha).toBe(false);
    expect(meta.channels).toBe(3);
    expect(meta.width).toBe(975);
    const pdf = readFileSync(`${base}.pdf`);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.toString('latin1')).toContain('/FontFile2');
    const side = JSON.parse(readFileSync(`${base}.json`, 'utf8'));
    expect(side.provenance).toMatchObject({ n: 6, extractorId: 'lab-e2e', extractorAccuracy: 0.97 });

    // toklab export of the same correlation writes the same bytes
    const out = join(home, 'cli');
    toklab(home, 'export', 'figure', 'correlation', '--x', 'eval/pfid_mean', '--y', 'gen/gfid', '--arch', 'raster', '--cfg', '0', '--preset', 'single', '--dpi', '300', '--out', out);
    for (const ext of ['svg', 'png', 'pdf']) expect(readFileSync(join(out, `correlation-eval_pfid_mean-vs-gen_gfid-raster-cfg0.${ext}`)).equals(readFileSync(`${base}.${ext}`)), ext).toBe(true);

    // the tokenizer table as CSV: one row per tokenizer, every number the database's score
    await page.getByTestId('table-export-csv').click();
    const tablePaths = page.getByTestId('table-export-paths').locator('li');
    await expect(tablePaths).toHaveCount(2);
    const [csvPath, provPath] = await tablePaths.allTextContents();
    expect(csvPath).toBe(join(home, 'exports', 'tokenizers-raster.csv'));
    const rows = parseCsv(readFileSync(csvPath, 'utf8'));
    expect(rows.some((r) => r[0].startsWith('#'))).toBe(false);
    expect(rows[0]).toEqual(['tokenizer_id', 'tokenizer', 'rFID', 'pFID mean', 'gFID (no CFG)']);
    const db = openDb(join(home, 'lab.db'));
    const repo = new Repo(db);
    const scores = repo.listScores({});
    const names = new Map(repo.listRuns({}).map((r) => [r.id, r.name]));
    db.close();
    const scoreOf = (tok: number, metric: string): number => scores.find((s) => s.metric === metric && s.provenance.tokenizerRun === `runs/${tok}`)!.value;
    expect(rows.slice(1).map((r) => Number(r[0]))).toEqual(seeded.tokenizers);
    for (const r of rows.slice(1)) {
      const tok = Number(r[0]);
      expect(r[1]).toBe(names.get(tok));
      expect(Number(r[2])).toBe(scoreOf(tok, 'eval/rfid'));
      expect(Number(r[3])).toBe(scoreOf(tok, 'eval/pfid_mean'));
      expect(Number(r[4])).toBe(scoreOf(tok, 'gen/gfid'));
    }
    expect(JSON.parse(readFileSync(provPath, 'utf8')).provenance.extractors).toEqual(['lab-e2e (test acc 0.97)']);
  } finally {
    await server.stop();
  }
});

test('the charts’ toolbars stay out of the tab order; the gallery exports as one PNG', async ({ page }) => {
  const home = tempLabHome();
  const seeded = await seedExportLab(home);
  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Analysis`);
    await page.getByTestId('corr-arch').selectOption('raster');
    await page.getByTestId('corr-cfg').fill('0');
    await page.getByTestId('corr-run').click();
    const chart = page.getByTestId('corr-chart');
    await expect(chart).toHaveClass(/js-plotly-plot/);
    await chart.hover();
    const buttons = page.locator('.modebar-btn');
    expect(await buttons.count()).toBeGreaterThan(0);
    // Tab from the top of the page through every control: focus never lands in a mode bar
    await page.locator('body').click({ position: { x: 1, y: 1 } });
    const visited: string[] = [];
    for (let i = 0; i < 80; i++) {
      await page.keyboard.press('Tab');
      visited.push(await page.evaluate(() => {
        const el = document.activeElement as HTMLElement | null;
        if (!el) return 'none';
        return `${el.closest('.modebar') ? 'MODEBAR ' : ''}${el.tagName.toLowerCase()}${el.dataset.testid ? `#${el.dataset.testid}` : ''}`;
      }));
    }
    expect(visited.filter((v) => v.startsWith('MODEBAR'))).toEqual([]);
    expect(visited).toContain('button#corr-run');
    expect(visited.some((v) => v.startsWith('summary'))).toBe(true);
    expect(await buttons.evaluateAll((els) => els.every((e) => (e as HTMLElement).tabIndex === -1))).toBe(true);

    // the gallery of the seeded sample run: both grids with their labels, one opaque PNG under exports/
    await page.goto(`${server.url}#Generate`);
    const gen = (await page.getByTestId('generator-select').locator('option').allTextContents()).find((t) => t.startsWith(`#${seeded.sampleGenerator} `))!;
    await page.getByTestId('generator-select').selectOption({ label: gen });
    await page.getByTestId('export-gallery').click();
    await expect(page.getByTestId('export-path')).toContainText(`gallery-${seeded.sampleRun}.png`);
    const saved = (await page.getByTestId('export-path').textContent())!.replace(/^saved /, '');
    const meta = await sharp(saved).metadata();
    expect(meta.hasAlpha).toBe(false);
    expect(meta.width).toBeGreaterThan(2 * 64 * 4);
  } finally {
    await server.stop();
  }
});
