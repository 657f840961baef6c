/// <reference lib="dom" />
// Runs tracker end to end, on a lab prepared through the CLI (two tiny tokenizers that differ in
// epochs and LP, one evaluation each at the same protocol): sorting by a score column against the
// CLI's values with the runs without a score last both ways; tagging in the detail and finding the
// run by a substring of the tag; comparing the two tokenizers (only differing config keys); notes
// that survive a reload; the keyboard (↓, Enter opens #runs/ID, back returns, Space selects); and
// deleting a tokenizer: refused while its evaluation depends on it, then with cascade, folders gone;
// importing another lab through the page, twice (the second adds nothing).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { prepTwoTokenizers, toklab } from './cli-prep';
import { startServe, tempLabHome } from './serve-fixture';

const hashOf = (page: Page): Promise<string> => page.evaluate(() => location.hash);

/** The ids of the table's rows, top to bottom. */
const rowIds = async (page: Page): Promise<number[]> => (await page.locator('[data-testid="run-table"] tbody tr[data-run-id]').evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-run-id')))));

test('tracks, sorts, searches, compares, annotates and deletes runs', async ({ page }) => {
  test.setTimeout(420_000); // the CLI prep is ~45 s on an idle 2-core machine, several times that when it is shared
  const home = tempLabHome();
  const { tokenizers: [a, b], evals: [evalA, evalB] } = prepTwoTokenizers(home);
  const rfid = (evalRun: number): number => {
    const run = JSON.parse(toklab(home, 'runs', 'show', String(evalRun), '--json')) as { scores: { metric: string; value: number }[] };
    return run.scores.find((s) => s.metric === 'eval/rfid')!.value;
  };
  // a second lab with one self-test run, for Import lab…
  const other = tempLabHome();
  toklab(other, 'selftest', '--steps', '3');
  const rfidOf = new Map([[a, rfid(evalA)], [b, rfid(evalB)], [evalA, rfid(evalA)], [evalB, rfid(evalB)]]);
  const server = await startServe(home);
  try {
    await page.goto(server.url);
    const table = page.getByRole('grid', { name: 'runs' });
    await expect(table.locator(`tr[data-run-id="${evalB}"]`)).toBeVisible();

    // ---- sort by rFID: ascending by the CLI's values, then descending; runs without an rFID stay last ----
    const header = page.getByRole('columnheader', { name: 'rFID' });
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'ascending');
    const withScore = [...rfidOf.keys()];
    const asc = [...withScore].sort((x, y) => rfidOf.get(x)! - rfidOf.get(y)! || y - x);
    let ids = await rowIds(page);
    expect(ids.slice(0, 4)).toEqual(asc);
    expect(ids.slice(4).every((id) => !rfidOf.has(id))).toBe(true);
    expect(ids.length).toBe(6); // dataset, feature net, two tokenizers, two evaluations
    const shown = await table.locator('td[data-column="score:eval/rfid"]').allTextContents();
    expect(shown.slice(0, 4).map((t) => Number.parseFloat(t))).toEqual(asc.map((id) => Number(rfidOf.get(id)!.toPrecision(4))));
    await header.getByRole('button').click();
    await expect(header).toHaveAttribute('aria-sort', 'descending');
    ids = await rowIds(page);
    expect(ids.slice(0, 4)).toEqual([...withScore].sort((x, y) => rfidOf.get(y)! - rfidOf.get(x)! || y - x));
    expect(ids.slice(4).every((id) => !rfidOf.has(id))).toBe(true);

    // ---- tag tokenizer B in its detail, then find it by a substring of the tag ----
    await table.locator(`tr[data-run-id="${b}"]`).click();
    await expect.poll(() => hashOf(page)).toBe(`#runs/${b}`);
    const detail = page.getByTestId('run-detail');
    await expect(detail).toContainText(`Run ${b}:`);
    await detail.getByLabel('new tag').fill('lp-sweep-alpha05');
    await detail.getByRole('button', { name: 'Add tag' }).click();
    await expect(detail.getByRole('button', { name: 'remove tag lp-sweep-alpha05' })).toBeVisible();
    await page.getByLabel('search runs').fill('SWEEP-ALPHA');
    await expect.poll(() => rowIds(page)).toEqual([b]);
    await expect(page.getByTestId('run-count')).toHaveText('1 of 6 runs');
    await page.getByLabel('search runs').fill('');
    await expect.poll(async () => (await rowIds(page)).length).toBe(6);

    // ---- shift-click selects a range; then compare the two tokenizers: only the keys that differ ----
    const top = await rowIds(page);
    await page.getByRole('checkbox', { name: `select run ${top[0]}` }).click();
    await page.getByRole('checkbox', { name: `select run ${top[3]}` }).click({ modifiers: ['Shift'] });
    await expect(page.getByTestId('selected-count')).toHaveText('4 selected');
    for (const id of top.slice(0, 4)) await expect(table.locator(`tr[data-run-id="${id}"]`)).toHaveAttribute('aria-selected', 'true');
    await expect(table.locator(`tr[data-run-id="${top[4]}"]`)).toHaveAttribute('aria-selected', 'false');
    await page.getByRole('button', { name: 'Clear selection' }).click();
    await page.getByRole('checkbox', { name: `select run ${a}` }).check();
    await page.getByRole('checkbox', { name: `select run ${b}` }).check();
    await page.getByRole('button', { name: /^Compare/ }).click();
    await expect.poll(() => hashOf(page)).toBe(`#compare/${a},${b}`);
    const diff = page.getByTestId('config-diff');
    await expect(diff.locator('tr[data-key="epochs"]')).toContainText('1');
    await expect(diff.locator('tr[data-key="epochs"]')).toContainText('2');
    await expect(diff.locator('tr[data-key="lp.alpha"]')).toContainText('0.5');
    for (const same of ['preset', 'batchSize', 'trainLimit', 'datasetPath', 'seed']) await expect(diff.locator(`tr[data-key="${same}"]`)).toHaveCount(0);
    // every listed key really differs between the two runs
    for (const tr of await diff.locator('tbody tr').all()) {
      const cells = await tr.locator('td').allTextContents();
      expect(cells[0], await tr.getAttribute('data-key') ?? '').not.toBe(cells[1]);
    }
    await expect(page.getByTestId('same-keys')).toContainText(/\d+ equal in every run/);
    // scores at the shared protocol, with the delta against the first run
    await expect(page.getByTestId('score-deltas').locator('tr[data-metric="eval/rfid"]')).toBeVisible();
    await expect(page.getByTestId('curve-chart').locator('.main-svg').first()).toBeVisible();
    await page.goBack();
    await expect.poll(() => hashOf(page)).toBe(`#runs/${b}`);

    // ---- notes: saved on blur, still there after a reload ----
    await table.locator(`tr[data-run-id="${a}"]`).click();
    await expect.poll(() => hashOf(page)).toBe(`#runs/${a}`);
    const notes = detail.getByLabel('notes');
    await notes.fill('K64 baseline: one epoch, no LP');
    await page.getByLabel('search runs').focus(); // blur saves
    await expect(detail.getByTestId('notes-saved')).toBeVisible();
    await page.reload();
    await expect(page.getByTestId('run-detail').getByLabel('notes')).toHaveValue('K64 baseline: one epoch, no LP');
    // and the notes are searchable
    await page.getByLabel('search runs').fill('k64 baseline');
    await expect.poll(() => rowIds(page)).toEqual([a]);
    await page.getByLabel('search runs').fill('');

    // ---- keyboard: the table's row tab stop, ↓ to the next row, Enter opens it, back returns ----
    await page.goto(`${server.url}#Runs`);
    await expect(page.getByTestId('run-detail')).toHaveCount(0);
    await expect.poll(async () => (await rowIds(page)).length).toBe(6);
    const order = await rowIds(page);
    const stop = table.locator('tbody tr[tabindex="0"]');
    await expect(stop).toHaveCount(1);
    await stop.focus();
    await page.keyboard.press('ArrowDown');
    const second = table.locator(`tr[data-run-id="${order[1]}"]`);
    await expect(second).toBeFocused();
    await page.keyboard.press('Space');
    await expect(second).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('Enter');
    await expect.poll(() => hashOf(page)).toBe(`#runs/${order[1]}`);
    await expect(page.getByTestId('run-detail')).toContainText(`Run ${order[1]}:`);
    await page.goBack();
    await expect.poll(() => hashOf(page)).toBe('#Runs');
    await expect(page.getByTestId('run-detail')).toHaveCount(0);

    // ---- delete tokenizer A (Delete key): refused while its evaluation depends on it, then cascade ----
    expect(existsSync(join(home, 'runs', String(a)))).toBe(true);
    await table.locator(`tr[data-run-id="${a}"]`).focus();
    await page.keyboard.press('Delete');
    const dialog = page.getByRole('dialog', { name: `Delete run ${a}: ` });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId('delete-dependents')).toContainText(`run ${evalA}`);
    await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
    await expect(dialog.getByTestId('delete-error')).toContainText(`Run ${a} has 1 dependent run`);
    expect(existsSync(join(home, 'runs', String(a)))).toBe(true);
    await dialog.getByLabel(/Also delete/).check();
    await dialog.getByRole('button', { name: 'Delete 2 runs' }).click();
    await expect(dialog).toHaveCount(0);
    await expect(table.locator(`tr[data-run-id="${a}"]`)).toHaveCount(0);
    await expect(table.locator(`tr[data-run-id="${evalA}"]`)).toHaveCount(0);
    expect(existsSync(join(home, 'runs', String(a)))).toBe(false);
    expect(existsSync(join(home, 'runs', String(evalA)))).toBe(false);
    expect(existsSync(join(home, 'runs', String(b)))).toBe(true);
    await page.reload();
    await expect.poll(() => rowIds(page)).not.toContain(a);

    // ---- Import lab…: the other lab's run arrives; importing again adds nothing ----
    const before = (await rowIds(page)).length;
    await page.getByRole('button', { name: 'Import lab…' }).click();
    const imp = page.getByRole('dialog', { name: 'Import another lab' });
    await imp.getByLabel('lab home folder').fill(other);
    await imp.getByRole('button', { name: 'Import', exact: true }).click();
    const runsRow = imp.getByTestId('import-report').locator('tr[data-row="runs"]');
    await expect(runsRow).toHaveText(/runs\s*1\s*0\s*0/);
    await expect.poll(async () => (await rowIds(page)).length).toBe(before + 1);
    await imp.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(runsRow).toHaveText(/runs\s*0\s*1\s*0/);
    await imp.getByRole('button', { name: 'Close' }).click();
    await expect(imp).toHaveCount(0);
    expect((await rowIds(page)).length).toBe(before + 1);
  } finally {
    await server.stop();
  }
});
