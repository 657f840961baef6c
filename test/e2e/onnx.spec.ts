// Bring your own tokenizer through ONNX (issue 14), end to end in the app: on a 16 px RGB shapes
// dataset built with the CLI, the Tokenizers page refuses an import whose codebook has the wrong D
// (naming the dimension), imports the fixture tokenizer (L2 codebook) and lists it with its K, adds
// the fixture feature extractor; the Sweeps page then runs a 2 × 2 pFID sweep on the imported
// tokenizer with that extractor and the shapes dataset, and its grid shows four finite pFID cells
// whose provenance names the onnx- extractor as external, without an accuracy.
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { toklab } from './cli-prep';
import { ROOT, startServe, tempLabHome } from './serve-fixture';

const FIX = join(ROOT, 'test/fixtures/onnx');

test('imports an ONNX tokenizer and extractor from the pages and runs a pFID sweep on them', async ({ page }) => {
  test.setTimeout(420_000);
  const home = tempLabHome();
  // dataset 1: 16 px, 3 channels (the shapes default), as the fixture tokenizer takes
  toklab(home, 'datasets', 'add', 'shapes', '--resolution', '16', '--train-count', '128', '--val-count', '64', '--name', 'shapes16');

  const server = await startServe(home);
  try {
    await page.goto(server.url);
    await page.locator('[data-page="Tokenizers"]').click();

    // ---- a codebook of the wrong D is refused, with the dimension named ----
    const form = page.getByTestId('onnx-import-form');
    await page.getByTestId('onnx-import-open').click();
    await page.getByTestId('onnx-encoder').fill(join(FIX, 'encoder.onnx'));
    await page.getByTestId('onnx-decoder').fill(join(FIX, 'decoder.onnx'));
    await page.getByTestId('onnx-codebook').fill(join(FIX, 'codebook_d4.npy'));
    await page.getByTestId('onnx-name').fill('onnx-wrong-d');
    await page.getByTestId('onnx-l2').check();
    await page.getByTestId('onnx-import-start').click();
    // the host's refusal, or the probe's failure of the run (whichever refuses it)
    const refusal = form.locator('.error').first();
    await expect(refusal).toBeVisible({ timeout: 90_000 });
    await expect(refusal).toContainText(/codebook/i);
    await expect(refusal).toContainText(/\b4\b/);

    // ---- the fixture tokenizer is imported and listed with K 64 ----
    await page.getByTestId('onnx-codebook').fill(join(FIX, 'codebook.npy'));
    await page.getByTestId('onnx-name').fill('onnx-fixture');
    await page.getByTestId('onnx-import-start').click();
    await expect(page.getByTestId('onnx-import-error')).toHaveCount(0);
    await expect(page.getByTestId('onnx-import-outcome')).toContainText('imported', { timeout: 120_000 });
    const tokRow = page.getByTestId('tokenizer-runs').locator('tr', { hasText: 'onnx-fixture' });
    await expect(tokRow).toContainText('ONNX');
    await expect(tokRow).toContainText('K 64');
    await expect(tokRow).toContainText('D 8');
    await expect(tokRow).toContainText('8×8 tokens');
    const tok = Number(await tokRow.getAttribute('data-run-id'));
    expect(tok).toBeGreaterThan(0);
    // the new import is the one shown: its model, no training curves
    await expect(page.getByTestId('ext-tok-model')).toContainText('K 64');
    await expect(page.getByTestId('tok-charts')).toHaveCount(0);

    // ---- the fixture extractor (24 px, 0..1) is added ----
    await page.getByTestId('onnx-extractor-open').click();
    await page.getByTestId('ex-model').fill(join(FIX, 'extractor.onnx'));
    await page.getByTestId('ex-name').fill('fx');
    await page.getByTestId('ex-input').fill('24');
    await page.getByTestId('ex-range').selectOption('0,1');
    await page.getByTestId('ex-start').click();
    await expect(page.getByTestId('ex-error')).toHaveCount(0);
    const exRow = page.getByTestId('extractor-runs').locator('tr', { hasText: 'fx' });
    await expect(exRow.locator('.status')).toHaveText('done', { timeout: 120_000 });
    await expect(exRow).toContainText(/onnx-[0-9a-f]{16}/);
    const extractorId = /onnx-[0-9a-f]{16}/.exec((await exRow.textContent()) ?? '')?.[0] ?? '';
    const exRun = await exRow.getAttribute('data-run-id');

    // ---- a 2 × 2 pFID sweep on it, with that extractor, on the shapes dataset ----
    await page.locator('[data-page="Sweeps"]').click();
    await page.getByTestId(`sweep-tok-${tok}`).check();
    // an imported tokenizer records no dataset: one must be chosen
    await expect(page.getByTestId('sweep-needs-dataset')).toBeVisible();
    await expect(page.getByTestId('sweep-create')).toBeDisabled();
    await page.getByTestId('sweep-dataset').selectOption('1');
    await expect(page.getByTestId('sweep-needs-dataset')).toHaveCount(0);
    await page.getByTestId('sweep-extractor').selectOption(String(exRun));
    await page.getByTestId('sweep-alphas').fill('0.5, 1');
    await page.getByTestId('sweep-delta-mode').selectOption('abs');
    await page.getByTestId('sweep-deltas').fill('4, 8');
    await page.getByTestId('sweep-n').fill('64');
    await expect(page.getByTestId('sweep-builder')).toContainText('1 tokenizer(s) × 2 α × 2 δ = 4 pFID cells');
    await page.getByTestId('sweep-create').click();
    await expect(page.getByTestId('sweep-error')).toHaveCount(0);

    const cells = page.getByTestId(`pfid-cells-${tok}`);
    await expect(cells).toBeVisible({ timeout: 240_000 });
    await expect(page.getByTestId('sweep-queue').locator('[data-testid^="sweep-status-"]').first()).toHaveText('done');
    await expect(cells.locator('tbody tr')).toHaveCount(2);
    const values = await cells.locator('td[data-cell]').allTextContents();
    expect(values).toHaveLength(4);
    for (const v of values) expect(Number.isFinite(Number(v)) && Number(v) > 0, `pFID cell "${v}"`).toBe(true);
    expect(Number(await page.getByTestId(`rfid-${tok}`).textContent())).toBeGreaterThan(0);
    // every number names its extractor: the external one, with no accuracy (never NaN or "unknown")
    const prov = page.getByTestId(`pfid-${tok}`).locator('.prov');
    await expect(prov).toContainText(`extractor ${extractorId} (external, no accuracy)`);
    await expect(prov).not.toContainText(/NaN|unknown/);
    await expect(page.getByTestId('sweep-queue')).toContainText(extractorId);

    await page.screenshot({ path: '/tmp/toklab-onnx.png', fullPage: true });
  } finally {
    await server.stop();
  }
});
