/// <reference lib="dom" />
// Tokenizers page end to end: on a tiny shapes dataset built with the CLI, the LP form shows the
// effective flip rate and the annealing plot, a 2-epoch vq-f4-k64 training with LP is queued from
// the page, its loss curve gains points live, the reconstruction triptych with flip marks appears,
// and a longer run is cancelled and resumed from the run list.
import { expect, test } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT, startServe, tempLabHome } from './serve-fixture';

test('trains a tiny LP tokenizer from the page and shows curves, triptych and scores', async ({ page }) => {
  const home = tempLabHome();
  execFileSync(process.execPath, [join(ROOT, 'bin/toklab.mjs'), '--home', home, 'datasets', 'add', 'shapes', '--resolution', '16', '--train-count', '200', '--val-count', '40', '--name', 'tiny'], {
    cwd: ROOT,
    env: { ...process.env, TOKLAB_BACKEND: 'wasm' },
    stdio: 'pipe',
  });
  const server = await startServe(home);
  try {
    await page.goto(server.url);
    await page.locator('[data-page="Tokenizers"]').click();
    await expect(page.getByTestId('tok-dataset')).toContainText('tiny');
    await page.getByTestId('tok-preset').selectOption('vq-f4-k64');

    // δ = 2.4% of 64 = round(1.536) = 2 codes: α(δ−1)/δ = 0.5 with self, α = 1 without
    const flip = page.getByTestId('flip-rate');
    await expect(flip).toContainText('effective flip rate 0.500');
    await page.getByTestId('lp-include-self').uncheck();
    await expect(flip).toContainText('effective flip rate 1.00');
    await page.getByTestId('lp-include-self').check();
    await page.getByTestId('lp-delta-mode').selectOption('abs');
    await expect(page.getByTestId('lp-delta')).toHaveValue('2');
    await page.getByTestId('lp-delta').fill('8');
    await expect(flip).toContainText('effective flip rate 0.875');

    await page.getByTestId('tok-epochs').fill('2');
    await page.getByTestId('anneal-on').check();
    await expect(page.getByTestId('anneal-plot').locator('.main-svg').first()).toBeVisible();
    await page.getByTestId('tok-batch').fill('16');
    await page.getByTestId('tok-train-limit').fill('64');

    // record every point count the loss chart shows, as the user would see it grow
    await page.evaluate(() => {
      const seen: number[] = [];
      (window as unknown as { __seen: number[] }).__seen = seen;
      new MutationObserver(() => {
        const n = Number(document.querySelector('[data-testid="chart-losses"]')?.getAttribute('data-points') ?? 0);
        if (n && seen[seen.length - 1] !== n) seen.push(n);
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-points'] });
    });
    await page.getByTestId('tok-start').click();
    await expect(page.getByTestId('tok-error')).toHaveCount(0);
    await expect(page.getByTestId('tok-run')).toContainText('vq-f4-k64 +LP on tiny');

    const img = page.getByTestId('triptych-img');
    await expect(img).toBeVisible({ timeout: 120_000 });
    await expect.poll(() => img.evaluate((el) => { const i = el as unknown as { complete: boolean; naturalWidth: number }; return i.complete ? i.naturalWidth : 0; })).toBeGreaterThan(0);
    await expect(page.getByTestId('tok-run-status')).toHaveText('done', { timeout: 120_000 });

    const seen = await page.evaluate(() => (window as unknown as { __seen: number[] }).__seen);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    expect([...seen].sort((a, b) => a - b)).toEqual(seen);
    // the triptych is 3 columns of 16 px tiles upscaled ×2 with 1 px padding: 3·33 + 1 wide
    expect(await img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(100);
    await expect(page.getByTestId('flip-prov')).toContainText('expected');
    await expect(page.getByTestId('tok-scores')).toContainText('tokenizer/psnr');
    await expect(page.getByTestId('tok-scores')).toContainText('seed=0');

    // queue controls: a longer run is cancelled while it trains, resumed, and cancelled again
    await page.getByTestId('anneal-on').uncheck();
    await page.getByTestId('tok-epochs').fill('200');
    await page.getByTestId('tok-start').click();
    await expect(page.getByTestId('tok-status-3')).toHaveText('running', { timeout: 60_000 });
    await page.getByTestId('tok-cancel-3').click();
    await expect(page.getByTestId('tok-status-3')).toHaveText('cancelled');
    await page.getByTestId('tok-resume-3').click();
    await expect(page.getByTestId('tok-status-3')).toHaveText(/queued|running/);
    await page.getByTestId('tok-cancel-3').click();
    await expect(page.getByTestId('tok-status-3')).toHaveText('cancelled');
    await expect(page.getByTestId('tok-status-2')).toHaveText('done');
    await page.screenshot({ path: '/tmp/toklab-tokenizers.png' });
    await page.getByTestId('tok-run').screenshot({ path: '/tmp/toklab-tokenizer-run.png' });
  } finally {
    await server.stop();
  }
});
