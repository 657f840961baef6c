// The headless study end to end on the real engine (smoke plan): every stage runs as queued
// jobs, the report pairs rFID/pFID with gFID per tokenizer, and a second run reuses everything.
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { STUDY_PLANS, runStudy } from '../../main/host/study';
import { openTestLab, tempHome } from './helpers';

const t = tempHome();
const lab = openTestLab(t.home);
afterAll(async () => {
  await lab.close();
  t.cleanup();
});

describe('toklab study (smoke plan)', () => {
  it('runs the pipeline, writes a report with one extractor, and resumes without new runs', async () => {
    const plan = STUDY_PLANS.smoke;
    const report = await runStudy(lab, plan, () => {});
    expect(report.tokenizers).toHaveLength(3);
    for (const tk of report.tokenizers) {
      expect(tk.rfid).toBeGreaterThan(0);
      expect(tk.pfidMean).toBeGreaterThan(0);
    }
    expect(report.gfid).toHaveLength(3 * plan.gfid.cfgScales.length);
    const ok = report.correlations.filter((c) => !('error' in c.result));
    expect(ok).toHaveLength(plan.gfid.cfgScales.length * 2);
    for (const c of ok) if (!('error' in c.result)) expect(c.result.points).toHaveLength(3);
    const ids = new Set((await lab.listScores({ metricPrefix: 'eval/' })).concat(await lab.listScores({ metric: 'gen/gfid' })).map((s) => s.provenance.extractorId));
    expect(ids.size).toBe(1);
    for (const f of report.files) expect(existsSync(f)).toBe(true);
    expect(readFileSync(report.files[0], 'utf8')).toMatch(/\| k64-lp \| \d+ \| \d/);
    const runs = (await lab.listRuns({})).length;
    const again = await runStudy(lab, plan, () => {});
    expect((await lab.listRuns({})).length).toBe(runs);
    expect(again.tokenizers).toEqual(report.tokenizers);
  }, 300_000);
});
