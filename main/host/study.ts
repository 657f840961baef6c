// The headless study of METHOD.md §7 on the built-in shapes dataset: a tokenizer zoo with and
// without latent perturbation, rFID + pFID grids, raster and RAR generators, gFID with and
// without CFG, then ρ(pFID, gFID) against ρ(rFID, gFID). Every step is a normal queued job,
// tagged so that a second `toklab study` reuses what already finished (resumable).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorrelationResult, JsonObject, RunSummary, StartJobRequest } from '../../preload/contract';
import type { Lab } from './lab';

interface TokenizerPlan {
  key: string;
  preset: string;
  epochs: number;
  lp: JsonObject | null;
  anneal: JsonObject | null;
}

export interface StudyPlan {
  name: string;
  dataset: { resolution: number; trainCount: number; valCount: number; seed: number };
  tokenizers: TokenizerPlan[];
  sweep: { alphas: number[]; deltas: number[]; deltaMode: 'share'; n: number };
  generators: { arch: 'raster' | 'rar'; preset: string; epochs: number }[];
  gfid: { cfgScales: number[]; nPerClass: number };
  batchSize: number;
}

const LP = { alpha: 1, beta: 0.1, delta: 0.05, deltaMode: 'share' };
const ANNEAL = { start: 0.2, end: 0.6, endRatio: 0.5 };

function zoo(epochs: number): TokenizerPlan[] {
  const t = (key: string, preset: string, e: number, lp: boolean): TokenizerPlan => ({ key, preset, epochs: e, lp: lp ? { ...LP } : null, anneal: lp ? { ...ANNEAL } : null });
  return [
    t('k64', 'vq-f4-k64', epochs, false),
    t('k64-lp', 'vq-f4-k64', epochs, true),
    t('k256', 'vq-f4-k256', epochs, false),
    t('k256-lp', 'vq-f4-k256', epochs, true),
    t('k256-short', 'vq-f4-k256', Math.max(1, Math.round(epochs / 3)), false),
    t('k1024', 'vq-f4-k1024', epochs, false),
    t('k1024-lp', 'vq-f4-k1024', epochs, true),
  ];
}

export const STUDY_PLANS: Record<string, StudyPlan> = {
  /** About a minute: three tiny tokenizers and one generator each; checks the plumbing only. */
  smoke: {
    name: 'smoke',
    dataset: { resolution: 16, trainCount: 300, valCount: 100, seed: 0 },
    tokenizers: [
      { key: 'k64', preset: 'vq-f4-k64', epochs: 1, lp: null, anneal: null },
      { key: 'k64-lp', preset: 'vq-f4-k64', epochs: 1, lp: { ...LP }, anneal: null },
      { key: 'k256', preset: 'vq-f4-k256', epochs: 1, lp: null, anneal: null },
    ],
    sweep: { alphas: [0.5, 0.9], deltas: [0.1], deltaMode: 'share', n: 100 },
    generators: [{ arch: 'raster', preset: 'gpt-nano', epochs: 1 }],
    gfid: { cfgScales: [0, 2], nPerClass: 10 },
    batchSize: 32,
  },
  /** Minutes on 2 cores: proves the pipeline, too small for conclusions. */
  quick: {
    name: 'quick',
    dataset: { resolution: 16, trainCount: 2000, valCount: 400, seed: 0 },
    tokenizers: zoo(3),
    sweep: { alphas: [0.3, 0.6, 0.9], deltas: [0.02, 0.1], deltaMode: 'share', n: 400 },
    generators: [
      { arch: 'raster', preset: 'gpt-nano', epochs: 3 },
      { arch: 'rar', preset: 'gpt-nano', epochs: 3 },
    ],
    gfid: { cfgScales: [0, 2], nPerClass: 40 },
    batchSize: 32,
  },
  /** Hours on 2 cores; the smallest run worth reading. */
  standard: {
    name: 'standard',
    dataset: { resolution: 32, trainCount: 10000, valCount: 2000, seed: 0 },
    tokenizers: zoo(12),
    sweep: { alphas: [0.5, 0.6, 0.7, 0.8, 0.9], deltas: [0.02, 0.05, 0.1], deltaMode: 'share', n: 2000 },
    generators: [
      { arch: 'raster', preset: 'gpt-micro', epochs: 10 },
      { arch: 'rar', preset: 'gpt-micro', epochs: 10 },
    ],
    gfid: { cfgScales: [0, 1.5, 3], nPerClass: 200 },
    batchSize: 32,
  },
};

export interface StudyReport {
  plan: StudyPlan;
  tokenizers: { key: string; runId: number; rfid: number | null; pfidMean: number | null }[];
  gfid: { key: string; arch: string; cfg: number; generatorRunId: number; gfid: number }[];
  correlations: { arch: string; cfg: number; x: string; result: CorrelationResult | { error: string } }[];
  files: string[];
}

type Log = (line: string) => void;

/** Runs (or resumes) the study and writes its report under exports/. */
export async function runStudy(lab: Lab, plan: StudyPlan, log: Log): Promise<StudyReport> {
  const tag = (step: string): string => `study:${plan.name}:${step}`;
  const ensure = async (step: string, req: StartJobRequest): Promise<RunSummary> => {
    const prior = (await lab.listRuns({ tag: tag(step) })).find((r) => r.status === 'done' || r.status === 'queued' || r.status === 'running');
    const run = prior ?? (await lab.startJob({ ...req, name: `study ${plan.name} · ${step}` }));
    if (!prior) await lab.setRunTags(run.id, ['study', tag(step)]);
    const final = await lab.waitForRun(run.id);
    if (final.status !== 'done') throw new Error(`study step ${step} (run ${run.id}) ended ${final.status}: ${final.error ?? ''}`);
    log(`${prior ? 'reused' : 'done'}: ${step} (run ${run.id})`);
    return final;
  };

  const dsName = `study-shapes-${plan.dataset.resolution}-${plan.dataset.trainCount}`;
  let dataset = (await lab.listDatasets()).find((d) => d.name === dsName);
  if (!dataset) {
    const r = await ensure('dataset', { kind: 'dataset-build', spec: { source: 'shapes', name: dsName, ...plan.dataset } });
    dataset = (await lab.listDatasets()).find((d) => d.runId === r.id);
  }
  if (!dataset) throw new Error('the study dataset was not recorded');

  const toks: { key: string; run: RunSummary }[] = [];
  for (const t of plan.tokenizers) {
    const spec: JsonObject = { dataset: dataset.id, preset: t.preset, epochs: t.epochs, batchSize: plan.batchSize, seed: 0, lp: t.lp, anneal: t.anneal };
    toks.push({ key: t.key, run: await ensure(`tokenizer-${t.key}`, { kind: 'train-tokenizer', spec }) });
  }

  const swept = new Set((await lab.listRuns({ kind: 'eval' })).filter((r) => r.status === 'done' && r.tags.includes(tag('sweep'))).map((r) => r.parentId));
  const todo = toks.filter((t) => !swept.has(t.run.id)).map((t) => t.run.id);
  if (todo.length) {
    const sweep = await lab.createSweep({ name: `study ${plan.name}`, tokenizers: todo, ...plan.sweep, seed: 0 });
    for (const r of sweep.runs) await lab.setRunTags(r.id, ['study', tag('sweep')]);
    for (const r of sweep.runs) {
      const f = await lab.waitForRun(r.id);
      if (f.status !== 'done') throw new Error(`pFID evaluation run ${r.id} ended ${f.status}: ${f.error ?? ''}`);
    }
    log(`done: pFID sweep over ${todo.length} tokenizer(s)`);
  }

  const gens: { key: string; arch: string; run: RunSummary }[] = [];
  for (const t of toks)
    for (const g of plan.generators) {
      const run = await ensure(`generator-${t.key}-${g.arch}`, { kind: 'train-generator', spec: { tokenizer: t.run.id, arch: g.arch, preset: g.preset, epochs: g.epochs, seed: 0 } });
      await ensure(`gfid-${t.key}-${g.arch}`, { kind: 'eval-generator', spec: { generator: run.id, cfgScales: plan.gfid.cfgScales, nPerClass: plan.gfid.nPerClass, seed: 0 } });
      gens.push({ key: t.key, arch: g.arch, run });
    }

  const scores = await lab.listScores({ metricPrefix: 'eval/' });
  const last = (runParent: number, metric: string): number | null => scores.filter((s) => s.parentId === runParent && s.metric === metric).pop()?.value ?? null;
  const gfidRows = await lab.listScores({ metric: 'gen/gfid' });
  const report: StudyReport = {
    plan,
    tokenizers: toks.map((t) => ({ key: t.key, runId: t.run.id, rfid: last(t.run.id, 'eval/rfid'), pfidMean: last(t.run.id, 'eval/pfid_mean') })),
    gfid: [],
    correlations: [],
    files: [],
  };
  for (const g of gens)
    for (const cfg of plan.gfid.cfgScales) {
      const s = gfidRows.filter((r) => r.provenance.generatorRun === `runs/${g.run.id}` && (r.provenance.cfg as { scale?: number } | undefined)?.scale === cfg).pop();
      if (s) report.gfid.push({ key: g.key, arch: g.arch, cfg, generatorRunId: g.run.id, gfid: s.value });
    }
  for (const g of plan.generators)
    for (const cfg of plan.gfid.cfgScales)
      for (const x of ['eval/pfid_mean', 'eval/rfid']) {
        try {
          report.correlations.push({ arch: g.arch, cfg, x, result: await lab.correlate({ x, y: 'gen/gfid', cfgScale: cfg, arch: g.arch }) });
        } catch (e) {
          report.correlations.push({ arch: g.arch, cfg, x, result: { error: (e as Error).message } });
        }
      }
  report.files = writeStudyReport(lab.opts.home, report);
  return report;
}

function writeStudyReport(home: string, r: StudyReport): string[] {
  const dir = join(home, 'exports', `study-${r.plan.name}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  mkdirSync(dir, { recursive: true });
  const f = (v: number | null): string => (v === null ? '—' : v.toFixed(3));
  const lines = [
    `# toklab study "${r.plan.name}"`,
    '',
    `Dataset: shapes ${r.plan.dataset.resolution}px, ${r.plan.dataset.trainCount} train / ${r.plan.dataset.valCount} val. pFID grid α ${r.plan.sweep.alphas.join(', ')} × δ ${r.plan.sweep.deltas.join(', ')} (share of K), N ${r.plan.sweep.n}; gFID ${r.plan.gfid.nPerClass} per class.`,
    '',
    '| tokenizer | run | rFID | pFID (mean) | ' + r.plan.generators.flatMap((g) => r.plan.gfid.cfgScales.map((c) => `gFID ${g.arch} cfg ${c}`)).join(' | ') + ' |',
    '|---|---|---|---|' + r.plan.generators.flatMap(() => r.plan.gfid.cfgScales.map(() => '---')).join('|') + '|',
    ...r.tokenizers.map((t) => `| ${t.key} | ${t.runId} | ${f(t.rfid)} | ${f(t.pfidMean)} | ` + r.plan.generators.flatMap((g) => r.plan.gfid.cfgScales.map((c) => f(r.gfid.find((x) => x.key === t.key && x.arch === g.arch && x.cfg === c)?.gfid ?? null))).join(' | ') + ' |'),
    '',
    '## Correlation with gFID across tokenizers',
    '',
    '| generator | CFG | predictor | Pearson | Spearman | Kendall | n |',
    '|---|---|---|---|---|---|---|',
    ...r.correlations.map((c) => {
      if ('error' in c.result) return `| ${c.arch} | ${c.cfg} | ${c.x} | ${c.result.error} | | | |`;
      const co = (m: string): string => {
        const k = (c.result as CorrelationResult).coefficients.find((x) => x.method === m);
        return k ? `${k.r.toFixed(3)} [${k.ci ? k.ci.map((v) => v.toFixed(2)).join(', ') : '—'}]` : '—';
      };
      return `| ${c.arch} | ${c.cfg} | ${c.x} | ${co('pearson')} | ${co('spearman')} | ${co('kendall')} | ${c.result.points.length} |`;
    }),
    '',
  ];
  const md = join(dir, 'report.md');
  const json = join(dir, 'report.json');
  writeFileSync(md, lines.join('\n'));
  writeFileSync(json, JSON.stringify(r, null, 2));
  return [md, json];
}
