/// <reference lib="dom" />
// Foundation end to end: the page shows the backend, a self-test goes queued → running → done
// live with its loss values, and the run is still listed from SQLite after a server restart.
import { expect, test } from '@playwright/test';
import { startServe, tempLabHome } from './serve-fixture';

test('self-test runs live through toklab serve and survives a server restart', async ({ page }) => {
  const home = tempLabHome();
  let server = await startServe(home);
  try {
    await page.goto(server.url);
    await expect(page.getByTestId('backend')).toHaveText('backend: wasm');

    // record every status run 1 shows, as the user would see them change
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { __seen: string[] }).__seen = seen;
      new MutationObserver(() => {
        const t = document.querySelector('[data-testid="status-1"]')?.textContent ?? '';
        if (t && seen[seen.length - 1] !== t) seen.push(t);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByLabel('steps').fill('15');
    await page.getByTestId('start-selftest').click();
    await expect(page.getByTestId('status-1')).toHaveText('done', { timeout: 120_000 });
    const seen = await page.evaluate(() => (window as unknown as { __seen: string[] }).__seen);
    expect(seen).toEqual(['queued', 'running', 'done']);

    const loss = page.locator('[data-metric="train/loss"]');
    await expect(loss).toHaveText(/^\d\.\d+/);
    await expect(page.getByTestId('latest-metrics')).toContainText('15'); // last step
    await expect(page.getByTestId('activity')).toContainText('idle');

    await server.stop();
    server = await startServe(home);
    await page.goto(server.url);
    await expect(page.locator('[data-run-id="1"]')).toContainText('selftest');
    await expect(page.getByTestId('status-1')).toHaveText('done');
  } finally {
    await server.stop();
  }
});
