// Generate page end to end: a tiny dataset, tokenizer and generator prepared through the CLI;
// on the page, choose the generator, sample, and see the without-CFG and with-CFG grids load on
// the same seeds side by side.
import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { prepGenerator } from './cli-prep';
import { startServe, tempLabHome } from './serve-fixture';

test('samples a generator without and with CFG on matched seeds', async ({ page }) => {
  const home = tempLabHome();
  const genId = prepGenerator(home);

  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Generate`);
    await page.getByTestId('generator-select').selectOption(String(genId));
    await page.getByTestId('sample-seeds').fill('3, 5, 8');
    await page.getByTestId('sample-scale').fill('2');
    await page.getByTestId('start-sample').click();

    const noCfg = page.getByTestId('col-nocfg');
    const cfg = page.getByTestId('col-cfg');
    await expect(noCfg).toBeVisible({ timeout: 120_000 });
    await expect(cfg).toBeVisible();
    await expect(page.getByTestId('col-nocfg-title')).toHaveText('without CFG');
    await expect(page.getByTestId('col-cfg-title')).toContainText('CFG g=2');
    await expect(page.getByTestId('col-nocfg-seeds')).toHaveText('3, 5, 8');
    expect(await page.getByTestId('col-cfg-seeds').textContent()).toBe(await page.getByTestId('col-nocfg-seeds').textContent());

    // both PNGs actually decoded: 4 class rows × 3 seed columns of 16 px tiles, upscaled
    for (const id of ['col-nocfg-img', 'col-cfg-img']) {
      const size = await page.getByTestId(id).evaluate(async (el) => {
        const img = el as unknown as { decode(): Promise<void>; naturalWidth: number; naturalHeight: number };
        await img.decode();
        return [img.naturalWidth, img.naturalHeight];
      });
      expect(size[0]).toBeGreaterThan(3 * 16);
      expect(size[1]).toBeGreaterThan(4 * 16);
      expect(size[0] / size[1]).toBeCloseTo((3 * 34 + 2) / (4 * 34 + 2), 2);
    }
    // distinct files per setting
    const srcs = await Promise.all(['col-nocfg-img', 'col-cfg-img'].map((id) => page.getByTestId(id).getAttribute('src')));
    expect(srcs[0]).toContain('no-cfg.png');
    expect(srcs[1]).toContain('cfg-2.png');

    await page.screenshot({ path: '/tmp/toklab-generate.png', fullPage: true });

    // A/B flicker alternates the two settings in one view
    await page.getByTestId('flicker').check();
    const flick = page.getByTestId('flicker-view-title');
    await expect(flick).toHaveText(/^A: without CFG$/);
    await expect(flick).toHaveText(/^B: CFG g=2/);
    await expect(page.getByTestId('flicker-view-seeds')).toHaveText('3, 5, 8');
    await page.getByTestId('flicker').uncheck();

    // the gallery as one PNG under <home>/exports
    await page.getByTestId('export-gallery').click();
    await expect(page.getByTestId('export-path')).toContainText(/exports[\\/]gallery-\d+\.png/);
    const saved = (await page.getByTestId('export-path').textContent())!.replace(/^saved /, '');
    const png = readFileSync(saved);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.readUInt32BE(16)).toBeGreaterThan(2 * 100); // both panels side by side

    // gFID / IS against CFG from an eval-generator run started here (scale 0 = without CFG)
    await page.getByTestId('eval-scales').fill('0, 2');
    await page.getByTestId('eval-npc').fill('2');
    await page.getByTestId('start-eval-generator').click();
    const cfgPlot = page.getByTestId('cfg-plot');
    await expect(cfgPlot).toHaveClass(/js-plotly-plot/, { timeout: 150_000 });
    const traces = await cfgPlot.evaluate((el) => (el as unknown as { data: { name: string; x: number[]; y: number[] }[] }).data.map((d) => ({ name: d.name, x: d.x, finite: d.y.every((v) => Number.isFinite(v)) })));
    expect(traces).toEqual([
      { name: 'gFID', x: [0, 2], finite: true },
      { name: 'IS', x: [0, 2], finite: true },
    ]);
    await expect(page.getByTestId('cfg-chart').locator('.prov')).toContainText('extractorId=');
    await page.screenshot({ path: '/tmp/toklab-generate-eval.png' });
  } finally {
    await server.stop();
  }
});
