// Datasets page end to end: import a small ImageFolder (3 classes of coloured squares, a corrupt PNG
// and a text file) by typing its path, then see the per-class counts, the preview grid and the
// skipped-file report; refusals (missing folder, a single class) appear as the lab's own message.
import { expect, test } from '@playwright/test';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { startServe, tempLabHome } from './serve-fixture';

const CLASSES: Record<string, { n: number; rgb: [number, number, number] }> = {
  red: { n: 6, rgb: [220, 40, 40] },
  green: { n: 5, rgb: [40, 200, 60] },
  blue: { n: 7, rgb: [40, 60, 220] },
};

/** 24×24 PNGs: a square of the class colour, placed differently in each image, on grey. */
async function makeImageFolder(root: string): Promise<void> {
  for (const [name, c] of Object.entries(CLASSES)) {
    mkdirSync(join(root, name), { recursive: true });
    for (let i = 0; i < c.n; i++) {
      const px = Buffer.alloc(24 * 24 * 3, 128);
      const o = 2 + ((i * 3) % 10);
      for (let y = o; y < o + 10; y++) for (let x = o; x < o + 10; x++) px.set(c.rgb, (y * 24 + x) * 3);
      await sharp(px, { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(root, name, `img-${i}.png`));
    }
  }
  writeFileSync(join(root, 'green', 'broken.png'), Buffer.from('this is not a png at all'));
  writeFileSync(join(root, 'red', 'notes.txt'), 'not an image');
}

test('imports an ImageFolder from a typed path and shows counts, previews and skipped files', async ({ page }) => {
  const home = tempLabHome();
  const folder = join(home, 'my-folder');
  await makeImageFolder(folder);
  const single = join(home, 'one-class');
  mkdirSync(join(single, 'only'), { recursive: true });
  await sharp(Buffer.alloc(24 * 24 * 3, 90), { raw: { width: 24, height: 24, channels: 3 } }).png().toFile(join(single, 'only', 'a.png'));

  const server = await startServe(home);
  try {
    await page.goto(server.url);
    await page.locator('[data-page="Datasets"]').click();
    await page.getByTestId('ds-source').selectOption('folder');

    // the host refuses a folder that does not exist, with its own message, and queues nothing
    await page.getByTestId('ds-folder').fill(join(home, 'nope'));
    await page.getByTestId('ds-start').click();
    await expect(page.getByTestId('ds-error')).toContainText('does not exist');

    // a single class is refused by the import itself: the failed build says why
    await page.getByTestId('ds-folder').fill(single);
    await page.getByTestId('ds-start').click();
    await expect(page.getByTestId('build-outcome')).toContainText('only one class subfolder');

    await page.getByTestId('ds-folder').fill(folder);
    await page.getByTestId('ds-name').fill('squares');
    await page.getByTestId('ds-resolution').selectOption('16');
    await page.getByTestId('ds-val-share').fill('0.2');
    await page.getByTestId('ds-start').click();
    await expect(page.getByTestId('ds-error')).toHaveCount(0);

    const detail = page.getByTestId('dataset-detail');
    await expect(detail.locator('h3')).toHaveText('squares');
    // per class: round(n·0.2) = 1 held out of 6, 5 (the corrupt file does not count) and 7
    const counts = page.getByTestId('class-counts');
    for (const [name, train] of [['blue', 6], ['green', 4], ['red', 5]] as const) {
      await expect(counts.locator(`tr[data-class="${name}"] [data-split="train"]`)).toHaveText(String(train));
      await expect(counts.locator(`tr[data-class="${name}"] [data-split="val"]`)).toHaveText('1');
    }
    await expect(page.locator('[data-dataset-id]')).toHaveCount(1);

    const grid = page.getByTestId('preview-grid');
    await expect(grid).toBeVisible();
    await expect.poll(() => grid.evaluate((img) => { const i = img as unknown as { complete: boolean; naturalWidth: number }; return i.complete ? i.naturalWidth : 0; })).toBeGreaterThan(0);

    const skipped = page.getByTestId('skipped-report');
    await expect(skipped).toContainText('green/broken.png');
    await expect(skipped).toContainText('could not decode');
    await expect(skipped).toContainText('red/notes.txt');
    await expect(skipped).toContainText('unsupported file type');
    await expect(page.getByTestId('dataset-resize')).not.toHaveText('—');
    await page.screenshot({ path: '/tmp/toklab-datasets.png', fullPage: true });
  } finally {
    await server.stop();
  }
});
