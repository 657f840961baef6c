// `toklab runs compare|delete`: the tracker's compare and delete without a window.
import { createInterface } from 'node:readline/promises';
import type { JsonValue, RunComparison } from '../../preload/contract';
import type { Command } from './commands';
import { intOpt } from './commands';
import { printJson, readLab, table, UsageError } from './util';

const ids = (args: string[], what: string): number[] => args.flatMap((a) => a.split(',')).filter(Boolean).map((a) => intOpt(a, what) as number);

const show = (v: JsonValue | null): string => (v === null ? '—' : typeof v === 'string' ? v : JSON.stringify(v));

export function comparisonText(c: RunComparison): string {
  const head = c.runs.map((r) => `run ${r.id}`);
  const out: string[] = [c.runs.map((r) => `run ${r.id}: ${r.kind} "${r.name}" (${r.status})`).join('\n'), ''];
  out.push(`config: ${c.configDiff.length} key${c.configDiff.length === 1 ? '' : 's'} differ, ${c.sameKeys} equal`);
  if (c.configDiff.length) out.push(table(c.configDiff.map((d) => ({ key: d.key, ...Object.fromEntries(d.values.map((v, i) => [head[i], show(v)])) })), ['key', ...head]));
  if (c.scores.length) {
    out.push('scores (Δ against the first run, at one protocol per row):');
    const rows = c.scores.map((s) => ({
      metric: s.metric,
      ...Object.fromEntries(s.values.map((v, i) => [head[i], v === null ? '—' : i === 0 ? v.toPrecision(5) : `${v.toPrecision(5)} (${s.deltas[i]! >= 0 ? '+' : ''}${s.deltas[i]!.toPrecision(3)})`])),
      protocol: s.protocol,
    }));
    out.push(table(rows, ['metric', ...head, 'protocol']));
  }
  for (const m of c.mismatches) out.push(`not compared: ${m.reason}`);
  return out.join('\n') + '\n';
}

const runsCompare: Command = {
  words: ['runs', 'compare'],
  usage: 'runs compare <id> <id> [<id> …] [--json]',
  summary: 'config diff (only differing keys) and score deltas at one protocol',
  options: {},
  async run({ home, opts, args }) {
    const list = ids(args, 'id');
    if (list.length < 2) throw new UsageError('runs compare needs two or more run ids, e.g. `toklab runs compare 3 5`');
    return readLab(home, async (lab) => {
      const c = await lab.compareRuns(list);
      if (opts.json) printJson(c);
      else process.stdout.write(comparisonText(c));
      return 0;
    });
  },
};

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

const runsDelete: Command = {
  words: ['runs', 'delete'],
  usage: 'runs delete <id> [--cascade] [--yes]',
  summary: 'delete a run and its folder (--cascade: with the runs that depend on it)',
  options: { cascade: { type: 'boolean' }, yes: { type: 'boolean', short: 'y' } },
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'id');
    if (id === undefined || args.length !== 1) throw new UsageError('runs delete takes one run id, e.g. `toklab runs delete 7`');
    return readLab(home, async (lab) => {
      const run = lab.repo.getRun(id);
      const deps = await lab.runDependents(id);
      const what = `run ${id} (${run.kind} "${run.name}")${opts.cascade && deps.length ? ` and ${deps.length} dependent run${deps.length === 1 ? '' : 's'}: ${deps.map((d) => d.id).join(', ')}` : ''}`;
      if (!opts.yes) {
        if (!process.stdin.isTTY) throw new UsageError(`delete ${what}: add --yes to confirm (no terminal to ask on)`);
        if (!(await confirm(`Delete ${what}, with their files?`))) {
          process.stderr.write('nothing deleted\n');
          return 1;
        }
      }
      const res = await lab.deleteRun(id, { cascade: opts.cascade === true });
      if (opts.json) printJson(res);
      else process.stdout.write(`deleted run${res.deleted.length === 1 ? '' : 's'} ${res.deleted.join(', ')} (${res.folders.length} folder${res.folders.length === 1 ? '' : 's'} removed)\n`);
      return 0;
    });
  },
};

export const RUN_COMMANDS: Command[] = [runsCompare, runsDelete];
