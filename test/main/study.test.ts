// The headless study end to end on the real engine (smoke plan): every stage runs as queued jobs; the
// report's numbers are the database's; its correlations use only the study's runs, so an extra
// evaluation at another N leaves them unchanged; figures are vector SVG + PNG; gates and verdict say
// the smoke models are too weak; a second run reuses everything, even after the user edits every tag.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { STUDY_PLANS, runStudy } from '../../main/host/study';
import type { StudyReportJson } from '../../main/report/study-report';
import { openTestLab, tempHome } from './helpers';

const t = tempHome();
// two engines: the study's independent chains run in parallel, as `toklab study` does on a 2-core machine
const lab = openTestLab(t.home, 2);
afterAll(async () => {
  await lab.close();
  t.cleanup();
});

const close = (a: number | null, b: number): void => expect(a).toBeCloseTo(b, 9);

describe('toklab study (smoke plan)', () => {
  it('runs the pipeline; report = database; correlations are the study’s own; resumes without new runs', async () => {
    const plan = STUDY_PLANS.smoke;
    const data = await runStudy(lab, plan, () => {});
    const file = (end: string): string => data.files.find((f) => f.endsWith(end)) as string;
    const report = JSON.parse(readFileSync(file('report.json'), 'utf8')) as StudyReportJson;

    // every tokenizer run of the plan, each with its numbers equal to the stored scores
    expect(report.tokenizers).toHaveLength(plan.tokenizers.reduce((a, k) => a + k.seeds.length, 0));
    for (const tk of report.tokenizers) {
      const scores = await lab.listScores({ runIds: [tk.evalRunId] });
      const db = (m: string): number => scores.find((s) => s.metric === m)!.value;
      close(tk.rfid, db('eval/rfid'));
      close(tk.pfidMean, db('eval/pfid_mean'));
      close(tk.psnr, db('eval/psnr'));
      close(tk.reconAcc, db('eval/recon_acc'));
      close(tk.usage, db('eval/usage'));
      expect(tk.rfid).toBeGreaterThan(0);
    }
    expect(report.generators).toHaveLength(report.tokenizers.length);
    for (const g of report.generators) {
      const scores = await lab.listScores({ runIds: [g.evalRunId] });
      for (const s of g.settings) {
        const at = (m: string): number => scores.find((x) => x.metric === m && (x.provenance.cfg as { scale: number }).scale === s.cfg)!.value;
        close(s.gfid, at('gen/gfid'));
        close(s.sampleAcc, at('gen/sample_acc'));
      }
    }
    // the extractor's accuracy is the feature-net run's, and the smoke plan's gate names it too weak
    const fn = await lab.getRun(report.extractor.runId);
    close(report.extractor.testAccuracy, Number(fn.result!.testAccuracy));
    expect(report.extractor.testAccuracy).toBeLessThan(plan.gates.extractorAccuracy);
    expect(report.gates.allPassed).toBe(false);
    expect(report.verdict.map((c) => c.status)).toEqual(['inconclusive', 'inconclusive', 'not tested']);
    const md = readFileSync(file('report.md'), 'utf8');
    expect(md.indexOf('## Quality gates')).toBeLessThan(md.indexOf('## Verdict'));
    expect(md).toMatch(/too weak/);

    // correlations: 3 tokenizers (a warning, no collapsed interval shown as a point), only study runs
    const studyToks = new Set(report.tokenizers.map((x) => x.runId));
    const ok = report.correlations.filter((c) => !c.error);
    expect(ok).toHaveLength(plan.gfid.cfgScales.length * 2);
    for (const c of ok) {
      expect(c.n).toBe(3);
      for (const id of c.tokenizerRunIds) expect(studyToks.has(id)).toBe(true);
      expect(c.warnings.join(' ')).toMatch(/fewer than 6|6 tokenizers/);
    }

    // figures: vector SVG and PNG for each chart
    const svgs = data.files.filter((f) => f.endsWith('.svg'));
    expect(svgs.length).toBeGreaterThanOrEqual(plan.gfid.cfgScales.length * 2 + 1);
    for (const s of svgs) {
      const text = readFileSync(s, 'utf8');
      expect(text).toMatch(/<path/);
      expect(text).toMatch(/<text/);
      expect(text).not.toMatch(/<image/);
      expect(data.files).toContain(s.replace(/\.svg$/, '.png'));
    }
    // galleries (with / without CFG) and triptychs: opaque PNGs, one column per CFG setting or tokenizer
    const sharp = (await import('sharp')).default;
    for (const name of ['gallery-raster.png', 'reconstructions.png']) {
      const f = data.files.find((x) => x.endsWith(name));
      expect(f, name).toBeDefined();
      const meta = await sharp(f!).metadata();
      expect(meta.hasAlpha, name).toBe(false);
      expect(meta.width!).toBeGreaterThan(meta.height! / 20);
    }

    // CSV: plain header + one row per score of the study's runs, no comment rows
    const csv = readFileSync(file('scores.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toMatch(/^run_id,run_kind,study_step,metric,value,protocol_id,protocol/);
    expect(csv.some((l) => l.startsWith('#'))).toBe(false);
    let n = 0;
    for (const r of data.runs) n += (await lab.listScores({ runIds: [r.id] })).length;
    expect(csv.length - 1).toBe(n);
    expect(report.stages.find((s) => s.stage === 'tokenizer training')!.runs).toBe(report.tokenizers.length);

    // an extra evaluation at another N in the same lab home changes nothing in the study
    const runs = (await lab.listRuns({})).length;
    const extra = await lab.startJob({ kind: 'eval-tokenizer', spec: { tokenizer: report.tokenizers[0].runId, alphas: plan.sweep.alphas, deltas: plan.sweep.deltas, deltaMode: 'abs', n: 50, seed: 0, minExtractorAccuracy: 0 } });
    expect((await lab.waitForRun(extra.id)).status).toBe('done');
    // the user retags every study run (or clears the tags): the resume still finds every finished step
    for (const r of data.runs) await lab.setRunTags(r.id, r.id % 2 ? [] : ['mine']);
    const again = await runStudy(lab, plan, () => {});
    expect((await lab.listRuns({})).length).toBe(runs + 1);
    const report2 = JSON.parse(readFileSync(again.files.find((f) => f.endsWith('report.json'))!, 'utf8')) as StudyReportJson;
    expect(report2.tokenizers).toEqual(report.tokenizers);
    expect(again.runs.map((r) => r.id).sort()).toEqual(data.runs.map((r) => r.id).sort());
    expect(report2.stages).toEqual(report.stages);
    for (const [i, c] of report2.correlations.entries()) {
      expect(c.coefficients).toEqual(report.correlations[i].coefficients);
      expect(c.scoreRunIds).not.toContain(extra.id);
    }
  }, 600_000);
});
