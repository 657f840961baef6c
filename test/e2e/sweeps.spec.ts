// Sweeps page end to end: a tiny dataset and tokenizer prepared through the CLI; on the page a
// 2 × 2 pFID sweep (α 0.3, 0.9 × δ 0.1, 0.3 of K) is built, runs through the queue, and its heat
// map and cell table appear with finite values and the rFID beside them.
import { expect, test } from '@playwright/test';
import { prepTokenizer } from './cli-prep';
import { startServe, tempLabHome } from './serve-fixture';

test('builds and runs a 2 × 2 pFID sweep and draws its heat map', async ({ page }) => {
  const home = tempLabHome();
  const tok = prepTokenizer(home);

  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Sweeps`);
    await page.getByTestId(`sweep-tok-${tok}`).check();
    await page.getByTestId('sweep-alphas').fill('0.3, 0.9');
    await page.getByTestId('sweep-deltas').fill('0.1, 0.3');
    await page.getByTestId('sweep-delta-mode').selectOption('share');
    await page.getByTestId('sweep-n').fill('32');
    await expect(page.getByTestId('sweep-builder')).toContainText('1 tokenizer(s) × 2 α × 2 δ = 4 pFID cells');
    await page.getByTestId('sweep-create').click();
    await expect(page.getByTestId('sweep-error')).toHaveCount(0);
    await expect(page.getByTestId('sweep-queue').locator('[data-testid^="sweep-status-"]').first()).toHaveText(/running|done/);

    const cells = page.getByTestId(`pfid-cells-${tok}`);
    await expect(cells).toBeVisible({ timeout: 150_000 });
    await expect(page.getByTestId('sweep-queue').locator('[data-testid^="sweep-status-"]').first()).toHaveText('done');
    // α rows × δ columns, each a finite positive pFID
    await expect(cells.locator('tbody tr')).toHaveCount(2);
    await expect(cells.locator('thead th')).toHaveText(['α \\ δ', '10% K', '30% K']);
    const values = await cells.locator('td[data-cell]').allTextContents();
    expect(values).toHaveLength(4);
    for (const v of values) expect(Number(v)).toBeGreaterThan(0);
    expect(Number(await page.getByTestId(`rfid-${tok}`).textContent())).toBeGreaterThan(0);

    const heat = page.getByTestId(`heatmap-${tok}`);
    await expect(heat).toHaveClass(/js-plotly-plot/);
    const trace = await heat.evaluate((el) => {
      const d = (el as unknown as { data: { type: string; z: number[][] }[] }).data[0];
      return { type: d.type, rows: d.z.length, cols: d.z[0].length };
    });
    expect(trace).toEqual({ type: 'heatmap', rows: 2, cols: 2 });
    await expect(page.getByTestId(`pfid-${tok}`).locator('.prov')).toContainText('extractor');

    await page.screenshot({ path: '/tmp/toklab-sweeps.png', fullPage: true });
  } finally {
    await server.stop();
  }
});
