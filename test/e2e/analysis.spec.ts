/// <reference lib="dom" />
// Analysis end to end: the smoke study (three tokenizers, each with pFID and gFID) prepared via
// the CLI, then correlated on the Analysis page with coefficients, CIs and the score table.
import { expect, test } from '@playwright/test';
import { toklab } from './cli-prep';
import { startServe, tempLabHome } from './serve-fixture';

test('correlates pFID and rFID with gFID across the study’s tokenizers', async ({ page }) => {
  test.setTimeout(240_000);
  const home = tempLabHome();
  toklab(home, 'study', '--plan', 'smoke');
  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Analysis`);
    const panel = page.getByTestId('correlation');
    await page.getByTestId('corr-cfg').fill('0');
    await page.getByTestId('corr-run').click();
    const coef = page.getByTestId('corr-coefficients');
    await expect(coef).toContainText('pearson');
    await expect(coef).toContainText('spearman');
    await expect(coef).toContainText('kendall');
    // every coefficient is a number in [-1, 1] with a bracketed interval
    const cells = await coef.locator('tbody tr').allTextContents();
    expect(cells).toHaveLength(3);
    for (const c of cells) expect(c).toMatch(/-?[01]\.\d+/);
    await expect(panel).toContainText(/extractor/i);
    await page.getByTestId('corr-x').selectOption('eval/rfid');
    await page.getByTestId('corr-run').click();
    await expect(coef).toContainText('pearson');
  } finally {
    await server.stop();
  }
});
