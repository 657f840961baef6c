// `toklab export figure|table <what>`: the app's figures and tables from the command line, with no
// display — the same builders (figures/), the same host-side checks and the same headless renderer
// as the app's Export menus, so one figure gives the same files from either.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { correlationExport, galleryExport, galleryGrids, metricCurvesChart, metricShort, pfidCurvesChart, pfidGrid, pfidHeatmapChart, pfidProvenance, slug, classNames, cfgLabel, type PfidItem } from '../../figures';
import { buildScoreTable, scoreTableProvenance, scoreTableRows } from '../../figures/score-table';
import type { ExportFigure } from '../../figures/types';
import type { FigureFormat, JsonObject, RunDetail, TableFormat } from '../../preload/contract';
import { exportsDir, FIGURE_FORMATS, figureExportRequest, TABLE_FORMATS, tableExportRequest, writeFigureExport, writeTableExport } from '../host/exports';
import type { Lab } from '../host/lab';
import { resolveHome } from '../host/home';
import { scoresTable } from '../report/score-rows';
import type { Command, CommandInput } from './commands';
import { intOpt } from './commands';
import { numList } from './commands-train';
import { printJson, readLab, UsageError } from './util';

const FIGURE_KINDS = ['correlation', 'heatmap', 'pfid-curves', 'curves', 'gallery'] as const;
const TABLE_KINDS = ['scores', 'tokenizers'] as const;

function formatList<T extends string>(v: string | boolean | undefined, allowed: readonly T[], def: T[]): T[] {
  if (v === undefined) return def;
  const list = String(v).split(',').map((s) => s.trim()).filter(Boolean);
  const bad = list.find((f) => !allowed.includes(f as T));
  if (typeof v !== 'string' || !list.length || bad !== undefined) throw new UsageError(`--format takes ${allowed.join(', ')} (one, or several separated by commas); got "${String(v)}"`);
  return [...new Set(list)] as T[];
}

function idList(v: string | boolean | undefined, flag: string): number[] | undefined {
  const xs = numList(v, flag);
  if (xs && xs.some((x) => !Number.isInteger(x) || x < 1)) throw new UsageError(`--${flag} takes run ids separated by commas, e.g. 3,5,8`);
  return xs;
}

/** --out DIR (created), else <home>/exports. */
function outDir(input: CommandInput): string {
  const o = input.opts.out;
  if (o === undefined) return exportsDir(resolveHome(input.home));
  if (typeof o !== 'string' || !o) throw new UsageError('--out takes a folder');
  const dir = resolve(o);
  mkdirSync(dir, { recursive: true });
  return dir;
}

function report(paths: string[], json: boolean): number {
  if (json) printJson({ files: paths });
  else process.stdout.write(paths.map((p) => `${p}\n`).join(''));
  return 0;
}

async function done(lab: Lab, ids: number[], what: string, kinds: string[]): Promise<RunDetail[]> {
  const out: RunDetail[] = [];
  for (const id of ids) {
    let r: RunDetail;
    try {
      r = await lab.getRun(id);
    } catch {
      throw new UsageError(`${what}: run ${id} does not exist in this lab home`);
    }
    if (!kinds.includes(r.jobKind)) throw new UsageError(`${what}: run ${id} is a ${r.jobKind} run; give ${kinds.join(' or ')} runs`);
    out.push(r);
  }
  return out;
}

/** The pFID grids of eval-tokenizer runs (--runs) or of a sweep's finished runs (--sweep). */
async function pfidItems(lab: Lab, opts: CommandInput['opts']): Promise<{ items: PfidItem[]; label: string }> {
  let ids = idList(opts.runs, 'runs');
  let label = ids ? ids.join('_') : '';
  if (opts.sweep !== undefined) {
    if (ids) throw new UsageError('give --runs or --sweep, not both');
    const sid = intOpt(opts.sweep, 'sweep')!;
    const sweep = (await lab.listSweeps()).find((s) => s.id === sid);
    if (!sweep) throw new UsageError(`--sweep ${sid}: no such sweep in this lab home`);
    ids = sweep.runs.filter((r) => r.status === 'done').map((r) => r.id);
    if (!ids.length) throw new UsageError(`sweep ${sid} has no finished evaluation yet`);
    label = `sweep${sid}`;
  }
  if (!ids?.length) throw new UsageError('give the evaluation runs: --runs 12,14 (eval-tokenizer runs) or --sweep ID');
  const items: PfidItem[] = [];
  for (const r of await done(lab, ids, '--runs', ['eval-tokenizer'])) {
    const grid = pfidGrid(r.result, r.config);
    if (!grid) throw new UsageError(`run ${r.id} has no pFID grid in its result (is it finished?)`);
    let name = `run ${r.parentId ?? r.id}`;
    if (r.parentId !== null) name = (await lab.getRun(r.parentId)).name;
    items.push({ name, grid, tokenizerId: r.parentId ?? undefined, evalRunId: r.id });
  }
  return { items, label };
}

function deltaMode(v: string | boolean | undefined): 'share' | 'abs' {
  if (v === undefined) return 'share';
  if (v !== 'share' && v !== 'abs') throw new UsageError('--delta-mode is share (of K, the default) or abs (codes)');
  return v;
}

async function buildFigure(lab: Lab, what: string, opts: CommandInput['opts']): Promise<{ name: string; figure: ExportFigure; provenance: JsonObject }> {
  switch (what) {
    case 'correlation': {
      const x = typeof opts.x === 'string' ? opts.x : 'eval/pfid_mean';
      const y = typeof opts.y === 'string' ? opts.y : 'gen/gfid';
      const arch = opts.arch;
      if (arch !== undefined && arch !== 'raster' && arch !== 'rar') throw new UsageError('--arch is raster or rar');
      const cfg = opts.cfg === undefined ? undefined : Number(opts.cfg);
      if (cfg !== undefined && !Number.isFinite(cfg)) throw new UsageError('--cfg takes the CFG scale, e.g. 0 (without CFG) or 1.5');
      const result = await lab.correlate({
        x, y, arch: arch as 'raster' | 'rar' | undefined, cfgScale: cfg,
        runIds: idList(opts.runs, 'runs'), xProtocol: opts['x-protocol'] as string | undefined, yProtocol: opts['y-protocol'] as string | undefined,
        resamples: intOpt(opts.resamples, 'resamples'), seed: intOpt(opts.seed, 'seed'),
      });
      for (const w of result.warnings) process.stderr.write(`warning: ${w}\n`);
      return correlationExport(result);
    }
    case 'heatmap': {
      const mode = deltaMode(opts['delta-mode']);
      const { items, label } = await pfidItems(lab, opts);
      const figure = pfidHeatmapChart(items, mode, items.length > 1 ? { title: 'pFID over α × δ, one colour scale' } : {});
      return { name: items.length === 1 ? `pfid-heatmap-${items[0].evalRunId}` : `pfid-heatmaps-${label}`, figure, provenance: pfidProvenance(items, mode) };
    }
    case 'pfid-curves': {
      const mode = deltaMode(opts['delta-mode']);
      const { items, label } = await pfidItems(lab, opts);
      return { name: `pfid-curves-${label}`, figure: pfidCurvesChart(items, mode), provenance: pfidProvenance(items, mode) };
    }
    case 'curves': {
      const ids = idList(opts.runs, 'runs');
      const metric = opts.metric;
      if (!ids?.length || typeof metric !== 'string') throw new UsageError('curves needs --runs A,B and --metric NAME (e.g. train/loss)');
      const runs: RunDetail[] = [];
      for (const id of ids) runs.push(await lab.getRun(id));
      const series = runs.map((r) => {
        const s = r.metrics.find((m) => m.name === metric);
        if (!s) throw new UsageError(`run ${r.id} logged no ${metric}; it has ${r.metrics.map((m) => m.name).join(', ') || 'no metrics'}`);
        return s;
      });
      const figure = metricCurvesChart(series, { title: `${metricShort(metric)} per run`, label: (_s, i) => `#${runs[i].id} ${runs[i].name}`, logY: opts.log === true });
      return {
        name: `curves-${slug(metric)}-${ids.join('_')}`,
        figure,
        provenance: { figure: 'training curves', metric, runs: runs.map((r, i) => ({ run: r.id, name: r.name, kind: r.kind, seed: r.seed, backend: r.backend, points: series[i].steps.length })) },
      };
    }
    case 'gallery': {
      const id = intOpt(opts.run, 'run');
      if (id === undefined) throw new UsageError('gallery needs --run <sample run id>');
      const [run] = await done(lab, [id], '--run', ['sample']);
      const { noCfg, cfg } = galleryGrids(run.artifacts);
      let withCfg = cfg;
      if (opts['cfg-scale'] !== undefined) {
        const g = Number(opts['cfg-scale']);
        withCfg = cfg.filter((c) => c.scale === g);
        if (!withCfg.length) throw new UsageError(`sample run ${id} has no grid at CFG ${g}; it has ${cfg.map(cfgLabel).join(', ') || 'none with CFG'}`);
      }
      const grids = [...(noCfg ? [noCfg] : []), ...(opts['cfg-scale'] !== undefined ? withCfg : withCfg.slice(0, 1))];
      const ds = run.datasetId !== null ? (await lab.listDatasets()).find((d) => d.id === run.datasetId) : undefined;
      return galleryExport(id, grids, classNames(ds?.meta, ds?.numClasses ?? 10));
    }
  }
  throw new UsageError(`export figure: what to export is one of ${FIGURE_KINDS.join(', ')}; got "${what}"`);
}

const exportFigureCmd: Command = {
  words: ['export', 'figure'],
  usage: 'export figure correlation|heatmap|pfid-curves|curves|gallery [--format png,svg,pdf] [--preset single|double] [--dpi N] [--out DIR]',
  summary: 'a figure for a paper, as the app exports it (see README)',
  options: {
    format: { type: 'string' }, preset: { type: 'string' }, dpi: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' },
    x: { type: 'string' }, y: { type: 'string' }, arch: { type: 'string' }, cfg: { type: 'string' }, runs: { type: 'string' }, 'x-protocol': { type: 'string' }, 'y-protocol': { type: 'string' },
    resamples: { type: 'string' }, seed: { type: 'string' }, sweep: { type: 'string' }, 'delta-mode': { type: 'string' }, metric: { type: 'string' }, log: { type: 'boolean' }, run: { type: 'string' }, 'cfg-scale': { type: 'string' },
  },
  async run(input) {
    const { opts, args } = input;
    const what = args[0];
    if (!what || !(FIGURE_KINDS as readonly string[]).includes(what)) throw new UsageError(`export figure needs what to export: ${FIGURE_KINDS.join(', ')}`);
    const formats = formatList<FigureFormat>(opts.format, FIGURE_FORMATS, what === 'gallery' ? ['png'] : ['png', 'svg', 'pdf']);
    const preset = opts.preset ?? 'double';
    if (preset !== 'single' && preset !== 'double') throw new UsageError('--preset is single (3.25 in) or double (6.75 in)');
    const dpi = intOpt(opts.dpi, 'dpi');
    const dir = outDir(input);
    return readLab(input.home, async (lab) => {
      const built = await buildFigure(lab, what, opts);
      const req = figureExportRequest({ name: typeof opts.name === 'string' ? opts.name : built.name, figure: built.figure, formats, preset, ...(dpi !== undefined ? { dpi } : {}), provenance: built.provenance });
      return report(await writeFigureExport(dir, resolveHome(input.home), req), opts.json === true);
    });
  },
};

const exportTableCmd: Command = {
  words: ['export', 'table'],
  usage: 'export table scores|tokenizers [--metric-prefix eval/] [--metric M] [--runs …] [--arch raster|rar] [--format csv,tex,json] [--no-booktabs] [--out DIR]',
  summary: 'a table for a paper: every score with its protocol, or the tokenizer table',
  options: { format: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' }, 'metric-prefix': { type: 'string' }, metric: { type: 'string' }, runs: { type: 'string' }, arch: { type: 'string' }, 'no-booktabs': { type: 'boolean' } },
  async run(input) {
    const { opts, args } = input;
    const what = args[0];
    if (!what || !(TABLE_KINDS as readonly string[]).includes(what)) throw new UsageError(`export table needs what to export: ${TABLE_KINDS.join(', ')}`);
    const formats = formatList<TableFormat>(opts.format, TABLE_FORMATS, ['csv']);
    const dir = outDir(input);
    return readLab(input.home, async (lab) => {
      let req;
      if (what === 'scores') {
        const runIds = idList(opts.runs, 'runs');
        const q = { metricPrefix: opts['metric-prefix'] as string | undefined, metric: opts.metric as string | undefined, runIds, limit: 1_000_000 };
        const rows = await lab.listScores(q);
        const t = scoresTable(rows);
        const name = typeof opts.name === 'string' ? opts.name : `scores${q.metricPrefix ? `-${slug(q.metricPrefix)}` : ''}${q.metric ? `-${slug(q.metric)}` : ''}${runIds ? `-runs${runIds.join('_')}` : ''}`;
        req = tableExportRequest({ name, columns: t.columns, rows: t.rows, formats, booktabs: opts['no-booktabs'] !== true, provenance: { table: 'scores, one row per score', query: { metricPrefix: q.metricPrefix ?? null, metric: q.metric ?? null, runIds: runIds ?? null }, rows: rows.length, extractors: [...new Set(rows.map((r) => r.provenance.extractorId).filter((x) => typeof x === 'string'))] } });
      } else {
        const arch = opts.arch ?? 'raster';
        if (arch !== 'raster' && arch !== 'rar') throw new UsageError('--arch is raster or rar');
        const [evalRows, genRows, runs] = await Promise.all([lab.listScores({ metricPrefix: 'eval/', limit: 1_000_000 }), lab.listScores({ metric: 'gen/gfid', limit: 1_000_000 }), lab.listRuns({ limit: 10_000 })]);
        const t = buildScoreTable(evalRows, genRows, runs, arch);
        const { columns, rows } = scoreTableRows(t);
        req = tableExportRequest({ name: typeof opts.name === 'string' ? opts.name : `tokenizers-${arch}`, columns, rows, formats, booktabs: opts['no-booktabs'] !== true, provenance: scoreTableProvenance(t, arch) });
      }
      return report(writeTableExport(dir, req), opts.json === true);
    });
  },
};

export const EXPORT_COMMANDS: Command[] = [exportFigureCmd, exportTableCmd];
