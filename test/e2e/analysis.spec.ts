/// <reference lib="dom" />
// Analysis end to end: the smoke study (three tokenizers, each with pFID and gFID) prepared via
// the CLI, plus a second evaluation of one tokenizer at another N; then correlated on the Analysis
// page: coefficients, the protocol most tokenizers share, and the odd evaluation listed as excluded
// with its reason instead of being mixed in; picking its protocol leaves too few tokenizers. A
// second, seeded lab (scores written straight into a real lab.db, no training) checks the
// majority choice over six tokenizers, a picked protocol, and an interval that is not shown.
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openDb } from '../../main/host/store/db';
import { Repo } from '../../main/host/store/repo';
import type { JsonObject } from '../../preload/contract';
import { toklab } from './cli-prep';
import { startServe, tempLabHome } from './serve-fixture';

test('correlates pFID and rFID with gFID across the study’s tokenizers at one protocol, listing the runs left out', async ({ page }) => {
  test.setTimeout(300_000);
  const home = tempLabHome();
  toklab(home, 'study', '--plan', 'smoke');
  const tokenizers = (JSON.parse(toklab(home, 'runs', 'list', '--kind', 'tokenizer', '--status', 'done', '--json')) as { id: number }[]).map((r) => r.id).sort((a, b) => a - b);
  expect(tokenizers.length).toBeGreaterThanOrEqual(3);
  // the study's grid (α 0.5, 0.9; δ 4 codes) on its first tokenizer, at N = 50 instead of the study's 100
  const again = JSON.parse(toklab(home, 'eval', 'tokenizer', String(tokenizers[0]), '--alpha', '0.5,0.9', '--delta', '4', '--n', '50', '--min-extractor-accuracy', '0', '--json')) as { id: number; status: string };
  expect(again.status, 'the second evaluation finished').toBe('done');
  const oddRun = again.id;
  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Analysis`);
    const panel = page.getByTestId('correlation');
    await page.getByTestId('corr-arch').selectOption('raster');
    await page.getByTestId('corr-cfg').fill('0');
    await page.getByTestId('corr-run').click();
    const coef = page.getByTestId('corr-coefficients');
    await expect(coef).toContainText('pearson');
    await expect(coef).toContainText('spearman');
    await expect(coef).toContainText('kendall');
    // every coefficient is a number in [-1, 1], with a bracketed interval or the reason it is not shown
    const cells = await coef.locator('tbody tr').allTextContents();
    expect(cells).toHaveLength(3);
    for (const c of cells) expect(c).toMatch(/-?[01]\.\d+.*(\[-?[01]\.\d+, -?[01]\.\d+\]|interval not shown: \S+)/);
    await expect(panel).toContainText(/extractor/i);
    // three tokenizers: the page prints the warning
    await expect(page.getByTestId('corr-warnings')).toContainText('only 3 tokenizers');
    // the evaluation at N = 50 is not mixed in: it is listed with the mismatch
    const excluded = page.getByTestId('corr-excluded');
    const row = excluded.locator('tr', { hasText: `run ${oddRun}` });
    await expect(row).toContainText('eval/pfid_mean at N = 50, the chosen protocol has N = 100');
    await expect(page.getByTestId('corr-used')).not.toContainText(`${oddRun}`);
    await expect(page.getByTestId('corr-protocols')).toContainText('N = 100');
    // the picker offers both protocols with their tokenizer counts; the N = 50 one covers one tokenizer only
    const picker = page.getByTestId('corr-x-protocol');
    await expect(picker.locator('option', { hasText: 'N = 100' })).toContainText(`${tokenizers.length} tokenizers`);
    const odd = picker.locator('option', { hasText: 'N = 50' });
    await expect(odd).toContainText('1 tokenizers');
    await picker.selectOption((await odd.getAttribute('value'))!);
    await page.getByTestId('corr-run').click();
    await expect(page.getByTestId('corr-error')).toContainText('at least 3 tokenizers with both scores at one protocol; found 1');
    // back to the majority from the picker, which stays after the refusal
    await picker.selectOption('');
    await page.getByTestId('corr-run').click();
    await expect(row).toContainText('N = 50');
    // rFID: the second evaluation's rFID is left out the same way
    await page.getByTestId('corr-x').selectOption('eval/rfid');
    await page.getByTestId('corr-run').click();
    await expect(coef).toContainText('pearson');
    await expect(excluded.locator('tr', { hasText: `run ${oddRun}` })).toContainText('eval/rfid at N = 50, the chosen protocol has N = 100');
  } finally {
    await server.stop();
  }
});

/** Six tokenizers scored at N = 100, and a later sweep at N = 200 over three of them plus a seventh tokenizer. */
function seedLab(home: string): { six: number[]; late: number[]; extra: number } {
  const db = openDb(join(home, 'lab.db'));
  const repo = new Repo(db);
  const tokenizer = (name: string): number => {
    const t = repo.createRun({ kind: 'tokenizer', jobKind: 'train-tokenizer', name, config: {}, seed: 0, appVersion: 'e2e' });
    repo.markFinished(t.id, 'done', null, {});
    return t.id;
  };
  const pfid = (tok: number, value: number, n: number): number => {
    const ev = repo.createRun({ kind: 'eval', jobKind: 'eval-tokenizer', name: `eval N ${n}`, config: {}, seed: 0, parentId: tok, appVersion: 'e2e' });
    repo.markFinished(ev.id, 'done', null, {});
    repo.insertScore(ev.id, 'eval/pfid_mean', value, { extractorId: 'lab-e2e', n, seed: 0, split: 'val', alphas: [0.5, 0.9], deltasAbs: [6], includeSelf: false, selection: 'bernoulli', anchor: 'z', tokenizerRun: `runs/${tok}` });
    return ev.id;
  };
  const gfid = (tok: number, value: number): void => {
    const gen = repo.createRun({ kind: 'generator', jobKind: 'train-generator', name: `raster gpt-nano on tokenizer ${tok}`, config: {}, seed: 0, parentId: tok, appVersion: 'e2e' });
    const gev = repo.createRun({ kind: 'eval', jobKind: 'eval-generator', name: 'gFID', config: {}, seed: 0, parentId: gen.id, appVersion: 'e2e' });
    const prov: JsonObject = { extractorId: 'lab-e2e', n: 100, nPerClass: 10, seed: 0, split: 'train', cfg: { scale: 0, schedule: 'none', power: 1 }, temperature: 1, topK: 0, topP: 1, arch: 'raster', tokenizerRun: `runs/${tok}`, decoderRun: `runs/${tok}`, generatorRun: `runs/${gen.id}` };
    repo.insertScore(gev.id, 'gen/gfid', value, prov);
  };
  const X = [3, 5, 2, 8, 6, 4];
  const Y = [10, 14, 9, 20, 13, 12];
  const six = X.map((x, i) => {
    const t = tokenizer(`tok ${i}`);
    pfid(t, x, 100);
    gfid(t, Y[i]);
    return t;
  });
  const extra = tokenizer('outside the study');
  gfid(extra, 30);
  // the late sweep: pFID = 2 × gFID exactly, so every bootstrap resample has r = 1
  const late = [...six.slice(0, 3), extra].map((t, i) => pfid(t, 2 * [...Y.slice(0, 3), 30][i], 200));
  db.close();
  return { six, late, extra };
}

test('a later sweep at another N is left out with its reason, and can be picked as the protocol instead', async ({ page }) => {
  const home = tempLabHome();
  const { six, late, extra } = seedLab(home);
  const server = await startServe(home);
  try {
    await page.goto(`${server.url}#Analysis`);
    await page.getByTestId('corr-arch').selectOption('raster');
    await page.getByTestId('corr-cfg').fill('0');
    await page.getByTestId('corr-run').click();
    const coef = page.getByTestId('corr-coefficients');
    await expect(coef).toContainText('pearson');
    // Pearson over the six N = 100 scores, computed here; the newest-of-any-N mix would give another value
    const X = [3, 5, 2, 8, 6, 4], Y = [10, 14, 9, 20, 13, 12];
    const m = (v: number[]): number => v.reduce((a, b) => a + b) / v.length;
    const [mx, my] = [m(X), m(Y)];
    const r = X.reduce((a, x, i) => a + (x - mx) * (Y[i] - my), 0) / Math.sqrt(X.reduce((a, x) => a + (x - mx) ** 2, 0) * Y.reduce((a, y) => a + (y - my) ** 2, 0));
    const pearsonText = await coef.locator('tr', { hasText: 'pearson' }).locator('td').nth(1).textContent();
    expect(Number(pearsonText)).toBeCloseTo(r, 3);
    await expect(page.getByTestId('corr-used').locator('tbody tr')).toHaveCount(6);
    await expect(page.getByTestId('corr-warnings')).toContainText('no protocol chosen');
    const excluded = page.getByTestId('corr-excluded');
    for (const run of late) await expect(excluded.locator('tr', { hasText: `run ${run}` }).first()).toContainText('eval/pfid_mean at N = 200, the chosen protocol has N = 100');
    await expect(excluded).toContainText(`tokenizer run ${extra} (outside the study): no eval/pfid_mean at the chosen protocol`);

    // pick the N = 200 protocol: four tokenizers, all on a line; the collapsed interval is not shown
    const picker = page.getByTestId('corr-x-protocol');
    await expect(picker.locator('option', { hasText: 'N = 100' })).toContainText('6 tokenizers');
    const n200 = picker.locator('option', { hasText: 'N = 200' });
    await expect(n200).toContainText('4 tokenizers');
    await picker.selectOption((await n200.getAttribute('value'))!);
    await page.getByTestId('corr-run').click();
    await expect(page.getByTestId('corr-used').locator('tbody tr')).toHaveCount(4);
    await expect(page.getByTestId('corr-warnings')).toContainText('only 4 tokenizers');
    await expect(page.getByTestId('corr-ci-note').first()).toContainText('interval not shown: the bootstrap interval collapsed to the single value 1.00');
    await expect(excluded.locator('tr', { hasText: 'eval/pfid_mean at N = 100, the chosen protocol has N = 200' })).toHaveCount(six.length);
    await expect(page.getByTestId('corr-protocols')).toContainText('(chosen)');

    // RAR: no generator of that arch, so nothing to correlate, and the page says which is missing
    await page.getByTestId('corr-arch').selectOption('rar');
    await page.getByTestId('corr-run').click();
    await expect(page.getByTestId('corr-error')).toContainText('no gen/gfid for arch rar at CFG 0');
  } finally {
    await server.stop();
  }
});
