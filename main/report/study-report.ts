// The study's report, written without a window: report.json (every number, with the runs behind it),
// report.md (gates first, then the verdict, tables with seed spread, correlations with their runs),
// scores.csv (every score of the study's runs with its protocol), and figures as SVG + PNG from the
// same figure definitions the app draws (figures/), galleries and triptychs composed with sharp.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CorrelationResult, Dataset, RunDetail, RunSummary, Score } from '../../preload/contract';
import { describeProtocol, protocolKey, protocolOf } from '../../engine/metrics/provenance';
import { barFigure, heatmapFigure, tokenizerCorrelationChart } from '../../figures';
import { writeFigure } from './render';
import { csvField } from './tables';
import { composeGrid } from './images';
import { evaluateGates, lpEffect, spread, verdict, type Claim, type CorrelationSummary, type Gates, type LpEffect, type Spread } from './verdict';
import type { StudyGeneratorRun, StudyPlan, StudyTokenizerRun } from '../host/study';

export interface StudyData {
  plan: StudyPlan;
  home: string;
  dataset: Dataset;
  featureNet: RunDetail;
  tokenizers: StudyTokenizerRun[];
  generators: StudyGeneratorRun[];
  correlations: ({ arch: string; cfg: number; x: string; result: CorrelationResult } | { arch: string; cfg: number; x: string; error: string })[];
  /** Every run the study consists of (for wall times and the CSV). */
  runs: RunSummary[];
  /** The study step of each run (from study_steps, not from tags). */
  steps: Record<number, string>;
  wallSeconds: number;
  files: string[];
}

export interface TokenizerRow {
  key: string;
  seed: number;
  lp: boolean;
  pair: string | null;
  runId: number;
  evalRunId: number;
  preset: string;
  K: number | null;
  steps: number | null;
  trainSeconds: number | null;
  psnr: number | null;
  reconAcc: number | null;
  usage: number | null;
  rfid: number | null;
  pfidMean: number | null;
  /** α rows × δ columns. */
  pfid: number[][] | null;
  alphas: number[];
  deltasAbs: number[];
}

export interface GeneratorRow {
  key: string;
  seed: number;
  arch: string;
  runId: number;
  evalRunId: number;
  tokenizerRunId: number;
  trainSeconds: number | null;
  settings: { cfg: number; schedule: string; gfid: number | null; sampleAcc: number | null; gallery: string | null }[];
}

export interface StudyReportJson {
  plan: StudyPlan;
  dataset: { id: number; name: string; source: string; resolution: number; trainN: number; valN: number };
  extractor: { runId: number; id: string; testAccuracy: number | null; heldOutAccuracy: number | null; steps: number | null; stoppedBy: string | null; selfTest: unknown };
  gates: Gates;
  verdict: Claim[];
  tokenizers: TokenizerRow[];
  /** Per recipe: mean ± SD over seeds. */
  recipes: { key: string; lp: boolean; seeds: number; psnr: Spread | null; reconAcc: Spread | null; rfid: Spread | null; pfidMean: Spread | null; gfid: { arch: string; cfg: number; value: Spread | null }[] }[];
  lpEffects: LpEffect[];
  generators: GeneratorRow[];
  correlations: { arch: string; cfg: number; x: string; n: number | null; coefficients: CorrelationResult['coefficients'] | null; tokenizerRunIds: number[]; scoreRunIds: number[]; protocol: { x: string; y: string } | null; warnings: string[]; excluded: CorrelationResult['excluded']; error: string | null }[];
  stages: { stage: string; runs: number; seconds: number }[];
  wallSeconds: number;
  files: string[];
}

const score = (scores: Score[], metric: string, pred: (s: Score) => boolean = () => true): Score | undefined => scores.filter((s) => s.metric === metric && pred(s)).pop();
const val = (s: Score | undefined): number | null => (s ? s.value : null);
const seconds = (r: RunSummary): number | null => (r.startedAt && r.finishedAt ? (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000 : null);
const cfgOf = (s: Score): number => Number((s.provenance.cfg as { scale?: number } | undefined)?.scale ?? NaN);

function tokenizerRows(d: StudyData): TokenizerRow[] {
  return d.tokenizers.map((t) => {
    const sc = t.evalRun.scores;
    const res = (t.evalRun.result ?? {}) as Record<string, unknown>;
    const trainRes = ((t.run as RunDetail).result ?? {}) as Record<string, unknown>;
    return {
      key: t.key,
      seed: t.seed,
      lp: t.plan.lp !== null,
      pair: t.plan.pair,
      runId: t.run.id,
      evalRunId: t.evalRun.id,
      preset: t.plan.preset,
      K: typeof res.K === 'number' ? res.K : null,
      steps: typeof trainRes.steps === 'number' ? trainRes.steps : null,
      trainSeconds: seconds(t.run),
      psnr: val(score(sc, 'eval/psnr')),
      reconAcc: val(score(sc, 'eval/recon_acc')),
      usage: val(score(sc, 'eval/usage')),
      rfid: val(score(sc, 'eval/rfid')),
      pfidMean: val(score(sc, 'eval/pfid_mean')),
      pfid: Array.isArray(res.pfid) ? (res.pfid as number[][]) : null,
      alphas: (res.alphas as number[]) ?? [],
      deltasAbs: (res.deltasAbs as number[]) ?? [],
    };
  });
}

function generatorRows(d: StudyData): GeneratorRow[] {
  return d.generators.map((g) => {
    const sc = g.evalRun.scores;
    return {
      key: g.key,
      seed: g.seed,
      arch: g.arch,
      runId: g.run.id,
      evalRunId: g.evalRun.id,
      tokenizerRunId: g.tokenizerRunId,
      trainSeconds: seconds(g.run),
      settings: d.plan.gfid.cfgScales.map((cfg) => {
        const gf = score(sc, 'gen/gfid', (s) => cfgOf(s) === cfg);
        const art = g.evalRun.artifacts.find((a) => a.kind === 'gen-samples' && (a.path.endsWith(cfg === 0 ? 'gen-no-cfg.png' : `gen-cfg-${cfg}.png`)));
        return {
          cfg,
          schedule: String((gf?.provenance.cfg as { schedule?: string } | undefined)?.schedule ?? ''),
          gfid: val(gf),
          sampleAcc: val(score(sc, 'gen/sample_acc', (s) => cfgOf(s) === cfg)),
          gallery: art ? art.path : null,
        };
      }),
    };
  });
}

function stageOf(r: RunSummary, steps: Record<number, string>): string {
  return (steps[r.id] ?? r.kind).replace(/-.*$/, '');
}

const STAGE_NAMES: Record<string, string> = { dataset: 'dataset', feature: 'feature network', tokenizer: 'tokenizer training', eval: 'rFID + pFID evaluation', generator: 'generator training', gfid: 'gFID + sample accuracy' };

function stages(d: StudyData): StudyReportJson['stages'] {
  const m = new Map<string, { runs: number; seconds: number }>();
  for (const r of d.runs) {
    const s = STAGE_NAMES[stageOf(r, d.steps)] ?? stageOf(r, d.steps);
    const e = m.get(s) ?? { runs: 0, seconds: 0 };
    e.runs++;
    e.seconds += seconds(r) ?? 0;
    m.set(s, e);
  }
  const order = ['dataset', 'feature network', 'tokenizer training', 'rFID + pFID evaluation', 'generator training', 'gFID + sample accuracy'];
  return [...m.entries()].map(([stage, v]) => ({ stage, ...v })).sort((a, b) => (order.indexOf(a.stage) + 99 * Number(!order.includes(a.stage))) - (order.indexOf(b.stage) + 99 * Number(!order.includes(b.stage))));
}

const CSV_COLUMNS = ['run_id', 'run_kind', 'study_step', 'metric', 'value', 'protocol_id', 'protocol', 'extractor_id', 'extractor_accuracy', 'split', 'n', 'seed', 'alpha', 'delta_abs', 'alphas', 'deltas_abs', 'include_self', 'selection', 'anchor', 'arch', 'cfg_scale', 'cfg_schedule', 'cfg_power', 'temperature', 'top_k', 'top_p', 'n_per_class', 'tokenizer_run', 'generator_run', 'provenance_json'];

/** Every score of the study's runs, one row each, with its protocol as columns (no comment rows). */
export function scoresCsv(runs: RunSummary[], scoresOf: Map<number, Score[]>, steps: Record<number, string>): string {
  const lines = [CSV_COLUMNS.map(csvField).join(',')];
  for (const r of runs) {
    const step = steps[r.id] ?? '';
    for (const s of scoresOf.get(r.id) ?? []) {
      const p = s.provenance as Record<string, unknown>;
      const proto = protocolOf(s.metric, p);
      const cfg = (p.cfg ?? {}) as Record<string, unknown>;
      const row = [r.id, r.kind, step, s.metric, s.value, createHash('sha256').update(protocolKey(proto)).digest('hex').slice(0, 12), describeProtocol(proto), p.extractorId, p.extractorAccuracy, p.split, p.n, p.seed, p.alpha, p.deltaAbs, p.alphas, p.deltasAbs, p.includeSelf, p.selection, p.anchor, p.arch, cfg.scale, cfg.schedule, cfg.power, p.temperature, p.topK, p.topP, p.nPerClass, p.tokenizerRun, p.generatorRun, p];
      lines.push(row.map((v) => csvField(v as Parameters<typeof csvField>[0])).join(','));
    }
  }
  // RFC 4180, as every CSV toklab writes (main/report/tables.ts)
  return lines.join('\r\n') + '\r\n';
}

const f = (v: number | null | undefined, d = 2): string => (v === null || v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(d));
const ms = (s: Spread | null, d = 2): string => (s === null ? '—' : s.n > 1 ? `${s.mean.toFixed(d)} ± ${s.sd.toFixed(d)}` : s.mean.toFixed(d));

/** Assembles the report's numbers (pure apart from the inputs): the JSON that the Markdown, CSV and figures show. */
export function buildReport(d: StudyData): StudyReportJson {
  const plan = d.plan;
  const toks = tokenizerRows(d);
  const gens = generatorRows(d);
  const fr = (d.featureNet.result ?? {}) as Record<string, unknown>;
  const selfTest = (fr.selfTest ?? null) as { passed?: boolean; reason?: string } | null;
  const testAccuracy = typeof fr.testAccuracy === 'number' ? fr.testAccuracy : null;
  const gates = evaluateGates(plan.gates, {
    extractor: { runId: d.featureNet.id, testAccuracy, selfTestPassed: selfTest ? selfTest.passed === true : null, selfTestReason: selfTest?.reason ?? '' },
    tokenizers: toks.map((t) => ({ label: `${t.key} s${t.seed}`, runId: t.runId, reconAcc: t.reconAcc, psnr: t.psnr })),
    generators: gens.map((g) => ({ label: `${g.arch} on ${g.key} s${g.seed}`, runId: g.runId, sampleAcc: g.settings.map((s) => ({ cfg: s.cfg, value: s.sampleAcc })) })),
  });
  const archs = [...new Set(plan.generators.map((g) => g.arch))];
  const gfidOf = (tokRun: number, arch: string, cfg: number): number | null => gens.find((g) => g.tokenizerRunId === tokRun && g.arch === arch)?.settings.find((s) => s.cfg === cfg)?.gfid ?? null;
  const recipes = plan.tokenizers.map((tp) => {
    const rows = toks.filter((t) => t.key === tp.key);
    return {
      key: tp.key,
      lp: tp.lp !== null,
      seeds: rows.length,
      psnr: spread(rows.map((r) => r.psnr)),
      reconAcc: spread(rows.map((r) => r.reconAcc)),
      rfid: spread(rows.map((r) => r.rfid)),
      pfidMean: spread(rows.map((r) => r.pfidMean)),
      gfid: archs.flatMap((arch) => plan.gfid.cfgScales.map((cfg) => ({ arch, cfg, value: spread(rows.map((r) => gfidOf(r.runId, arch, cfg))) }))),
    };
  });
  const lpEffects: LpEffect[] = [];
  for (const pair of [...new Set(plan.tokenizers.map((t) => t.pair).filter((p): p is string => p !== null))]) {
    const base = toks.filter((t) => t.pair === pair && !t.lp), lp = toks.filter((t) => t.pair === pair && t.lp);
    for (const m of ['rfid', 'pfidMean'] as const) lpEffects.push(lpEffect(pair, m === 'rfid' ? 'rfid' : 'pfid_mean', base.map((t) => t[m]), lp.map((t) => t[m])));
    for (const arch of archs) for (const cfg of plan.gfid.cfgScales) lpEffects.push(lpEffect(pair, `gfid ${arch} cfg ${cfg}`, base.map((t) => gfidOf(t.runId, arch, cfg)), lp.map((t) => gfidOf(t.runId, arch, cfg))));
  }
  const correlations = d.correlations.map((c) => {
    if ('error' in c) return { arch: c.arch, cfg: c.cfg, x: c.x, n: null, coefficients: null, tokenizerRunIds: [], scoreRunIds: [], protocol: null, warnings: [], excluded: [], error: c.error };
    const r = c.result;
    return {
      arch: c.arch,
      cfg: c.cfg,
      x: c.x,
      n: r.points.length,
      coefficients: r.coefficients,
      tokenizerRunIds: r.used.map((u) => u.tokenizerId),
      scoreRunIds: [...new Set(r.used.flatMap((u) => [u.xRunId, u.yRunId]))],
      protocol: { x: r.chosen.x.description, y: r.chosen.y.description },
      warnings: r.warnings,
      excluded: r.excluded,
      error: null,
    };
  });
  const pearson = (arch: string, cfg: number, x: string): CorrelationSummary['pfid'] => {
    const c = correlations.find((k) => k.arch === arch && k.cfg === cfg && k.x === x);
    const p = c?.coefficients?.find((k) => k.method === 'pearson');
    return p && c?.n ? { r: p.r, ci: p.ci, n: c.n } : null;
  };
  const corrSummary: CorrelationSummary[] = archs.flatMap((arch) => plan.gfid.cfgScales.map((cfg) => ({ arch, cfg, pfid: pearson(arch, cfg, 'eval/pfid_mean'), rfid: pearson(arch, cfg, 'eval/rfid') })));
  return {
    plan,
    dataset: { id: d.dataset.id, name: d.dataset.name, source: d.dataset.source, resolution: d.dataset.resolution, trainN: d.dataset.trainN, valN: d.dataset.valN },
    extractor: { runId: d.featureNet.id, id: String(fr.extractorId ?? ''), testAccuracy, heldOutAccuracy: typeof fr.heldOutAccuracy === 'number' ? fr.heldOutAccuracy : null, steps: typeof fr.steps === 'number' ? fr.steps : null, stoppedBy: typeof fr.stoppedBy === 'string' ? fr.stoppedBy : null, selfTest },
    gates,
    verdict: verdict(gates, corrSummary, lpEffects, null),
    tokenizers: toks,
    recipes,
    lpEffects,
    generators: gens,
    correlations,
    stages: stages(d),
    wallSeconds: d.wallSeconds,
    files: [],
  };
}

function markdown(r: StudyReportJson, figs: string[]): string {
  const p = r.plan;
  const acc = r.extractor.testAccuracy;
  const exNote = `lab features ${r.extractor.id.slice(0, 8)}, test acc ${f(acc)}`;
  const gateRow = (g: Gates['extractor']): string => `| ${g.subject} | ${g.runId ?? '—'} | ${Object.entries(g.measured).map(([k, v]) => `${k} ${f(v)}`).join(', ')} | ${g.passed ? 'pass' : `**too weak**: ${g.reason}`} |`;
  const archs = [...new Set(p.generators.map((g) => g.arch))];
  const L: string[] = [
    `# toklab study "${p.name}" on ${p.dataset.source}`,
    '',
    `Dataset ${r.dataset.name}: ${r.dataset.resolution} px, ${r.dataset.trainN} train / ${r.dataset.valN} val. pFID grid α ${p.sweep.alphas.join(', ')} × δ ${p.sweep.deltas.join(', ')} codes, N ${p.sweep.n}; gFID ${p.gfid.nPerClass} samples per class at CFG ${p.gfid.cfgScales.join(', ')} (0 = without CFG). Wall time ${(r.wallSeconds / 60).toFixed(1)} min this invocation.`,
    '',
    '## Quality gates',
    '',
    `Thresholds: extractor test accuracy ≥ ${p.gates.extractorAccuracy} and its metric self-test passed; every tokenizer's reconstruction class accuracy ≥ ${p.gates.reconAccuracy}, the best ≥ ${p.gates.bestReconAccuracy}; every generator's sample class accuracy (best CFG) ≥ ${p.gates.sampleAccuracy} (chance ${(1 / 10).toFixed(2)}). A model that misses its gate is too weak to conclude from.`,
    '',
    '| subject | run | measured | gate |',
    '|---|---|---|---|',
    gateRow(r.gates.extractor),
    gateRow(r.gates.bestRecon),
    ...r.gates.tokenizers.map(gateRow),
    ...r.gates.generators.map(gateRow),
    '',
    r.gates.allPassed ? 'All gates passed.' : '**Some gates failed: the verdict below is inconclusive wherever it depends on those models.**',
    '',
    '## Verdict',
    '',
    ...r.verdict.map((c) => `- **${c.claim}: ${c.status}.** ${c.why}.`),
    '',
    '## Feature extractor',
    '',
    `Run ${r.extractor.runId}, id ${r.extractor.id}: test accuracy ${f(acc, 3)} on the val split, held-out accuracy ${f(r.extractor.heldOutAccuracy, 3)}, ${r.extractor.steps ?? '—'} steps (stopped by ${r.extractor.stoppedBy ?? '—'}).`,
  ];
  const st = r.extractor.selfTest as { passed: boolean; splitHalfFid: number; families: { kind: string; levels: number[]; fid: number[]; monotone: boolean }[] } | null;
  if (st) {
    L.push('', `Metric self-test: ${st.passed ? 'passed' : 'FAILED'}; FID between two disjoint real halves ${f(st.splitHalfFid)}.`, '', '| degradation | levels | FID (real vs degraded) | rises |', '|---|---|---|---|');
    for (const fam of st.families) L.push(`| ${fam.kind} | ${fam.levels.join(', ')} | ${fam.fid.map((v) => f(v)).join(' → ')} | ${fam.monotone ? 'yes' : 'no'} |`);
  }
  L.push('', `## Tokenizers (every FID: ${exNote})`, '', '| tokenizer | seed | run | eval run | K | steps | train s | PSNR dB | recon acc | usage | rFID | pFID mean | ' + archs.flatMap((a) => p.gfid.cfgScales.map((c) => `gFID ${a} cfg ${c}`)).join(' | ') + ' |', '|---|---|---|---|---|---|---|---|---|---|---|---|' + archs.flatMap(() => p.gfid.cfgScales.map(() => '---')).join('|') + '|');
  for (const t of r.tokenizers) {
    const g = archs.flatMap((a) => p.gfid.cfgScales.map((c) => f(r.generators.find((x) => x.tokenizerRunId === t.runId && x.arch === a)?.settings.find((s) => s.cfg === c)?.gfid ?? null)));
    L.push(`| ${t.key} | ${t.seed} | ${t.runId} | ${t.evalRunId} | ${t.K ?? '—'} | ${t.steps ?? '—'} | ${f(t.trainSeconds, 0)} | ${f(t.psnr)} | ${f(t.reconAcc)} | ${f(t.usage)} | ${f(t.rfid)} | ${f(t.pfidMean)} | ${g.join(' | ')} |`);
  }
  L.push('', '### Per recipe, mean ± SD over seeds', '', '| recipe | LP | seeds | PSNR | recon acc | rFID | pFID mean | ' + archs.flatMap((a) => p.gfid.cfgScales.map((c) => `gFID ${a} cfg ${c}`)).join(' | ') + ' |', '|---|---|---|---|---|---|---|' + archs.flatMap(() => p.gfid.cfgScales.map(() => '---')).join('|') + '|');
  for (const k of r.recipes) L.push(`| ${k.key} | ${k.lp ? 'yes' : 'no'} | ${k.seeds} | ${ms(k.psnr)} | ${ms(k.reconAcc)} | ${ms(k.rfid)} | ${ms(k.pfidMean)} | ${k.gfid.map((g) => ms(g.value)).join(' | ')} |`);
  L.push('', '### LP effect per pair (same recipe, LP − no LP)', '', '| pair | score | no LP | LP | Δ | beyond seed spread |', '|---|---|---|---|---|---|');
  for (const e of r.lpEffects) L.push(`| ${e.pair} | ${e.metric} | ${ms(e.base)} | ${ms(e.lp)} | ${f(e.delta)} | ${e.exceedsSpread === null ? 'n/a (one seed)' : e.exceedsSpread ? 'yes' : 'no'} |`);
  L.push('', `## Generators (${exNote})`, '', '| generator | on tokenizer | run | eval run | train s | CFG | schedule | gFID | sample acc |', '|---|---|---|---|---|---|---|---|---|');
  for (const g of r.generators) for (const s of g.settings) L.push(`| ${g.arch} | ${g.key} s${g.seed} (run ${g.tokenizerRunId}) | ${g.runId} | ${g.evalRunId} | ${f(g.trainSeconds, 0)} | ${s.cfg === 0 ? 'none' : s.cfg} | ${s.cfg === 0 ? '—' : s.schedule} | ${f(s.gfid)} | ${f(s.sampleAcc)} |`);
  L.push('', '## Correlation with gFID across the study\'s tokenizers', '', 'Only this study\'s runs, one protocol per side (listed below each row); Pearson / Spearman / Kendall with 95 % bootstrap intervals.', '', '| generator | CFG | predictor | n | Pearson | Spearman | Kendall | tokenizer runs |', '|---|---|---|---|---|---|---|---|');
  for (const c of r.correlations) {
    if (c.error) {
      L.push(`| ${c.arch} | ${c.cfg} | ${c.x} | — | ${c.error} | | | |`);
      continue;
    }
    const co = (m: string): string => {
      const k = c.coefficients?.find((x) => x.method === m);
      if (!k) return '—';
      return `${k.r.toFixed(3)} ${k.ci ? `[${k.ci.map((v) => v.toFixed(2)).join(', ')}]` : `(interval not shown: ${k.ciNote ?? 'n/a'})`}`;
    };
    L.push(`| ${c.arch} | ${c.cfg} | ${c.x} | ${c.n} | ${co('pearson')} | ${co('spearman')} | ${co('kendall')} | ${c.tokenizerRunIds.join(', ')} |`);
  }
  const warn = [...new Set(r.correlations.flatMap((c) => c.warnings))];
  if (warn.length) L.push('', ...warn.map((w) => `> warning: ${w}`));
  const proto = r.correlations.find((c) => c.protocol)?.protocol;
  if (proto) L.push('', `Protocols: x: ${proto.x}; y: ${proto.y}.`);
  L.push('', '## Figures', '', ...figs.filter((x) => x.endsWith('.png')).map((x) => `![${x}](${x})`), '', '## Time per stage', '', 'Engine seconds summed over each stage\'s runs (runs overlap when several engines work at once; the wall time is above).', '', '| stage | runs | engine seconds |', '|---|---|---|', ...r.stages.map((s) => `| ${s.stage} | ${s.runs} | ${s.seconds.toFixed(0)} |`), '', `Files: report.json (every number with its run ids), scores.csv (every score with its protocol), figures as SVG and PNG.`, '');
  return L.join('\n');
}

async function figures(dir: string, r: StudyReportJson, home: string, d: StudyData): Promise<string[]> {
  const out: string[] = [];
  const label = (id: number): string => {
    const t = r.tokenizers.find((x) => x.runId === id);
    return t ? `${t.key} s${t.seed}` : `run ${id}`;
  };
  for (const c of d.correlations) {
    if ('error' in c) continue;
    const def = tokenizerCorrelationChart({
      points: c.result.points.map((pt) => ({ label: label(pt.tokenizerId), x: pt.x, y: pt.y, group: r.tokenizers.find((t) => t.runId === pt.tokenizerId)?.lp ? '+LP' : 'no LP' })),
      x: c.x,
      y: 'gen/gfid',
      arch: c.arch,
      cfg: c.cfg,
      coefficients: c.result.coefficients,
    });
    out.push(...(await writeFigure(dir, `${c.x === 'eval/pfid_mean' ? 'pfid' : 'rfid'}-vs-gfid-${c.arch}-cfg${c.cfg}`, def)));
  }
  const panels = r.tokenizers.filter((t) => t.pfid && t.seed === Math.min(...r.tokenizers.filter((x) => x.key === t.key).map((x) => x.seed))).map((t) => ({ title: t.key, alphas: t.alphas, deltas: t.deltasAbs, values: t.pfid as number[][] }));
  if (panels.length) out.push(...(await writeFigure(dir, 'pfid-heatmaps', heatmapFigure({ panels, colorTitle: 'pFID', title: 'pFID over α × δ (δ in codes), one colour scale' }))));
  const rows = r.recipes.filter((k) => k.pfidMean).map((k) => ({ label: k.key, value: k.pfidMean!.mean, spread: k.pfidMean!.n > 1 ? k.pfidMean!.sd : null, group: k.lp ? '+LP' : 'no LP' }));
  if (rows.length) out.push(...(await writeFigure(dir, 'pfid-per-recipe', barFigure({ rows, yTitle: 'pFID (grid mean) ± SD over seeds', title: 'pFID per tokenizer recipe' }))));
  // matched-seed galleries: one row per generator (first seed), without CFG | with CFG
  const cfgs = r.plan.gfid.cfgScales;
  const gal = r.generators.filter((g) => g.settings.every((s) => s.gallery && existsSync(join(home, s.gallery))) && g.seed === Math.min(...r.generators.filter((x) => x.key === g.key && x.arch === g.arch).map((x) => x.seed)));
  for (const arch of [...new Set(gal.map((g) => g.arch))]) {
    const gs = gal.filter((g) => g.arch === arch);
    const png = await composeGrid({ tiles: gs.map((g) => g.settings.map((s) => ({ png: join(home, s.gallery as string) }))), rowLabels: gs.map((g) => g.key), colLabels: cfgs.map((c) => (c === 0 ? 'without CFG' : `CFG ${c}`)), title: `${arch}: matched seeds, classes in order`, scale: 1 });
    const file = join(dir, `gallery-${arch}.png`);
    writeFileSync(file, png);
    out.push(file);
  }
  // reconstruction triptychs: the last original | clean | perturbed grid of each recipe's first seed
  const tiles: { png: string }[][] = [];
  const names: string[] = [];
  for (const t of d.tokenizers) {
    if (t.seed !== t.plan.seeds[0]) continue;
    const art = (t.run as RunDetail).artifacts?.filter((a) => a.kind === 'recon-grid').pop();
    if (!art || !existsSync(join(home, art.path))) continue;
    tiles.push([{ png: join(home, art.path) }]);
    names.push(t.key);
  }
  if (tiles.length) {
    const png = await composeGrid({ tiles: [tiles.map((row) => row[0])], colLabels: names, title: 'Val images: original | clean | perturbed (LP) reconstruction', scale: 2 });
    const file = join(dir, 'reconstructions.png');
    writeFileSync(file, png);
    out.push(file);
  }
  return out;
}

/** Writes report.json, report.md, scores.csv and the figures; returns the paths. */
export async function writeStudyReport(d: StudyData, listScores: (runIds: number[]) => Promise<Score[]>): Promise<string[]> {
  const dir = join(d.home, 'exports', `study-${d.plan.name}-${d.plan.dataset.source}-${new Date().toISOString().replace(/[:.]/g, '-').slice(0, 19)}`);
  mkdirSync(dir, { recursive: true });
  const r = buildReport(d);
  const figs = await figures(dir, r, d.home, d);
  const scores = new Map<number, Score[]>();
  for (const s of await listScores(d.runs.map((r) => r.id))) scores.set(s.runId, [...(scores.get(s.runId) ?? []), s]);
  const files = [join(dir, 'report.md'), join(dir, 'report.json'), join(dir, 'scores.csv'), ...figs];
  r.files = files;
  writeFileSync(files[0], markdown(r, figs.map((x) => x.slice(dir.length + 1))));
  writeFileSync(files[1], JSON.stringify(r, null, 2));
  writeFileSync(files[2], scoresCsv(d.runs, scores, d.steps));
  return files;
}
