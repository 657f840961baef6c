// `toklab import <other-home>`: merges another lab home's datasets, runs, scores, artifacts and sweeps
// into this one (main/host/lab-import.ts). Reads the other home only; queues nothing and never holds this
// home's queue, so it runs beside the app.
import type { ImportReport } from '../../preload/contract';
import type { Command } from './commands';
import { printJson, readLab, UsageError } from './util';

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`;

/** The report as a person reads it: what was added, what was here already, what was left and why. */
export function formatImportReport(r: ImportReport, home: string): string {
  const out: string[] = [`imported ${r.source} (lab ${r.sourceLab}) into ${home}`];
  out.push(`  datasets  ${r.datasets.added} added, ${r.datasets.existing} already here`);
  for (const d of r.renamed) out.push(`            "${d.from}" added as "${d.to}" (a different dataset here has that name)`);
  out.push(`  runs      ${r.runs.added} added, ${r.runs.existing} already here, ${r.skipped.length} skipped`);
  out.push(`  sweeps    ${r.sweeps.added} added, ${r.sweeps.existing} already here`);
  out.push(`  with them ${plural(r.scores, 'score')}, ${plural(r.metrics, 'metric point')}, ${plural(r.artifacts, 'artifact')}, ${plural(r.files, 'file')} copied`);
  if (r.runs.added > 0) {
    const pairs = Object.entries(r.runIds).map(([from, to]) => `${from}→${to}`);
    out.push('  run ids (source → here):');
    for (let i = 0; i < Math.min(pairs.length, 100); i += 10) out.push(`    ${pairs.slice(i, i + 10).join('  ')}`);
    if (pairs.length > 100) out.push(`    … and ${pairs.length - 100} more (--json lists them all)`);
  }
  if (r.skipped.length) {
    out.push('  skipped (left in the source):');
    for (const s of r.skipped) out.push(`    run ${s.sourceId} (${s.kind}, "${s.name}"): ${s.reason}`);
  }
  if (r.sourceBusy !== null) out.push(`  note: the source is in use by toklab (pid ${r.sourceBusy}); what it has not finished was left there`);
  for (const w of r.warnings) out.push(`  warning: ${w}`);
  if (r.runs.added + r.datasets.added + r.sweeps.added + r.files === 0) out.push('  nothing new: everything finished in the source is here already');
  return out.join('\n') + '\n';
}

const importCmd: Command = {
  words: ['import'],
  usage: 'import <other-home> [--json]',
  summary: "merge another lab home's finished runs, datasets, scores, artifacts",
  options: {},
  async run({ home, opts, args }) {
    if (args.length !== 1) throw new UsageError('import needs one folder: the other lab home, e.g. toklab import ~/cluster-lab');
    return readLab(home, async (lab) => {
      const report = await lab.importLab(args[0]);
      if (opts.json) printJson(report);
      else process.stdout.write(formatImportReport(report, lab.opts.home));
      return 0;
    });
  },
};

export const IMPORT_COMMANDS: Command[] = [importCmd];
