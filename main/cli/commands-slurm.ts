// `toklab slurm submit|status|collect|resubmit|task`: the study as Slurm job arrays, one lab home per
// task on the shared file system, merged back with `toklab import`'s guarantees.
import { join } from 'node:path';
import { progressLine } from '../../preload/progress';
import { resolveHome } from '../host/home';
import { Lab } from '../host/lab';
import type { JsonObject } from '../../preload/contract';
import { validateSweepSpec } from '../host/analysis';
import type { Submission } from '../host/slurm/plan';
import { describeWhat } from '../host/slurm/plan';
import { collect, listSubmissions, loadSubmission, prepareStudy, prepareSweep, resubmitTask, runTask, sbatchLines, submissionStatus, submitArrays } from '../host/slurm/submission';
import type { Command } from './commands';
import { intOpt, REPO_ROOT } from './commands';
import { deltaSpec } from './commands-eval';
import { numList } from './commands-train';
import { printJson, readLab, table, UsageError, withLab } from './util';

function rootOf(home: string | undefined, root: string | boolean | undefined): string {
  if (typeof root === 'string') return root;
  const subs = listSubmissions(resolveHome(home));
  if (subs.length === 0) throw new UsageError('this lab home has no Slurm submission; give --root DIR, or submit one with `toklab slurm submit study`');
  return subs[subs.length - 1];
}

const submit: Command = {
  words: ['slurm', 'submit'],
  usage: 'slurm submit study [--plan P] [--dataset D] | sweep --tokenizers 3,5 --alpha … --delta … [--delta-mode abs|share] [--n N] [--seed S]; [--partition P] [--gres G] [--time T] [--mem M] [--array-limit N] [--cpus-per-task N] [--root DIR] [--dry-run]',
  summary: 'a study (chained job arrays) or a pFID sweep (one task per tokenizer) on Slurm, one lab home per task',
  options: {
    tokenizers: { type: 'string' },
    alpha: { type: 'string' },
    delta: { type: 'string' },
    'delta-mode': { type: 'string' },
    n: { type: 'string' },
    seed: { type: 'string' },
    name: { type: 'string' },
    plan: { type: 'string' },
    dataset: { type: 'string' },
    partition: { type: 'string' },
    gres: { type: 'string' },
    time: { type: 'string' },
    mem: { type: 'string' },
    'array-limit': { type: 'string' },
    'cpus-per-task': { type: 'string' },
    root: { type: 'string' },
    'dry-run': { type: 'boolean' },
  },
  async run({ home, opts, args }) {
    if (args[0] !== 'study' && args[0] !== 'sweep') throw new UsageError('slurm submit takes what to submit: `toklab slurm submit study --plan smoke …` or `toklab slurm submit sweep --tokenizers 3,5 --alpha 0.5 --delta 4`');
    const str = (k: string): string | undefined => (typeof opts[k] === 'string' ? (opts[k] as string) : undefined);
    const common = {
      home: resolveHome(home),
      root: str('root'),
      node: process.execPath,
      cli: join(REPO_ROOT, 'bin/toklab.mjs'),
      options: {
        partition: str('partition'),
        gres: str('gres'),
        time: str('time'),
        mem: str('mem'),
        arrayLimit: intOpt(opts['array-limit'], 'array-limit'),
        cpusPerTask: intOpt(opts['cpus-per-task'], 'cpus-per-task'),
      },
    };
    let sub: Submission;
    if (args[0] === 'sweep') {
      const tokenizers = numList(opts.tokenizers, 'tokenizers');
      const alphas = numList(opts.alpha, 'alpha');
      const d = deltaSpec(opts.delta, opts['delta-mode']);
      if (!tokenizers || !alphas || !d.deltas) throw new UsageError('slurm submit sweep needs --tokenizers, --alpha and --delta lists');
      // the sweep is checked and recorded in this lab home now; its evaluations join it at collect
      const made = await readLab(home, async (lab) => {
        const spec = validateSweepSpec(lab.repo, { tokenizers, alphas, deltas: d.deltas!, deltaMode: d.deltaMode ?? 'share', n: intOpt(opts.n, 'n'), seed: intOpt(opts.seed, 'seed') });
        const name = str('name') ?? `Slurm sweep ${spec.alphas.length}×${spec.deltas.length} over ${spec.tokenizers.length} tokenizer(s)`;
        if (opts['dry-run']) return { id: 0, name, spec };
        return { id: lab.repo.createSweep(name, spec as unknown as JsonObject), name, spec };
      });
      sub = prepareSweep({ ...common, sweepId: made.id, name: made.name, spec: { tokenizers: made.spec.tokenizers, alphas: made.spec.alphas, deltas: made.spec.deltas, deltaMode: made.spec.deltaMode, n: made.spec.n ?? 0, seed: made.spec.seed ?? 0 } });
    } else {
      const dataset = String(opts.dataset ?? 'shapes');
      if (dataset !== 'shapes' && dataset !== 'mnist') throw new UsageError(`--dataset: use shapes or mnist, got "${dataset}"`);
      sub = prepareStudy({ ...common, plan: String(opts.plan ?? 'quick'), dataset });
    }
    const tasks = sub.stages.reduce((a, s) => a + s.tasks.length, 0);
    if (opts['dry-run']) {
      process.stdout.write(`# ${tasks} tasks in ${sub.stages.length} stages; scripts in ${join(sub.root, 'scripts')} (nothing submitted)\n${sbatchLines(sub).join('\n')}\n`);
      if (opts.json) printJson(sub);
      return 0;
    }
    await submitArrays(sub);
    if (opts.json) printJson(sub);
    else process.stdout.write(`submitted ${tasks} tasks in ${sub.stages.length} chained arrays (${sub.stages.map((s) => `${s.name} ${sub.jobs[s.tasks[0].id][0].arrayJobId}`).join(', ')})\nroot ${sub.root}\nwatch: toklab slurm status --root ${sub.root}\n`);
    return 0;
  },
};

function statusText(sub: Submission, rows: Awaited<ReturnType<typeof submissionStatus>>): string {
  const counts = rows.reduce<Record<string, number>>((a, r) => ({ ...a, [r.status]: (a[r.status] ?? 0) + 1 }), {});
  return (
    `${describeWhat(sub.what)} · ${sub.root}\n` +
    table(
      rows.map((r) => ({ ...r, job: r.jobId ?? '', progress: r.progress ? `run ${r.progress.runId}: ${progressLine(r.progress.progress)}` : '', note: r.note })),
      ['id', 'status', 'job', 'progress', 'note'],
    ) +
    Object.entries(counts).map(([k, v]) => `${v} ${k}`).join(', ') + '\n'
  );
}

const status: Command = {
  words: ['slurm', 'status'],
  usage: 'slurm status [--root DIR] [--json]',
  summary: 'each task as a lab run state (squeue/scontrol + the task’s own record), with progress',
  options: { root: { type: 'string' } },
  async run({ home, opts }) {
    const sub = loadSubmission(rootOf(home, opts.root));
    const rows = await submissionStatus(sub);
    if (opts.json) printJson(rows);
    else process.stdout.write(statusText(sub, rows));
    return rows.some((r) => r.status === 'failed') ? 1 : 0;
  },
};

const collectCmd: Command = {
  words: ['slurm', 'collect'],
  usage: 'slurm collect [--root DIR] [--json]',
  summary: 'import finished task homes into this lab; the report once all are in',
  options: { root: { type: 'string' } },
  async run({ home, opts }) {
    const sub = loadSubmission(rootOf(home, opts.root));
    return withLab(sub.home, async (lab) => {
      const r = await collect(sub, lab, (l) => process.stderr.write(`study: ${l}\n`));
      if (opts.json) printJson(r);
      else {
        for (const i of r.imported) process.stdout.write(`${i.task}: ${i.runsAdded} runs added, ${i.runsExisting} already here\n`);
        for (const w of r.waiting) process.stdout.write(`${w.task}: ${w.status}${w.note ? ` (${w.note})` : ''}: not collected yet\n`);
        process.stdout.write(r.report.length ? `study report: ${r.report.join(', ')}\n` : r.waiting.length ? `${r.waiting.length} task(s) not finished: collect again later\n` : 'all tasks collected\n');
      }
      return 0;
    });
  },
};

const resubmit: Command = {
  words: ['slurm', 'resubmit'],
  usage: 'slurm resubmit <task> [--root DIR]',
  summary: 'submit a failed or preempted task again (and what depends on it)',
  options: { root: { type: 'string' } },
  async run({ home, opts, args }) {
    if (!args[0]) throw new UsageError('slurm resubmit needs a task id (see `toklab slurm status`), e.g. `toklab slurm resubmit tok-1`');
    const sub = loadSubmission(rootOf(home, opts.root));
    const out = await resubmitTask(sub, args[0]);
    if (opts.json) printJson(out);
    else for (const o of out) process.stdout.write(`${o.task}: submitted as job ${o.jobId}\n`);
    return 0;
  },
};

const task: Command = {
  words: ['slurm', 'task'],
  usage: 'slurm task --root DIR --task ID',
  summary: 'run one task of a submission (what each Slurm job runs)',
  options: { root: { type: 'string' }, task: { type: 'string' } },
  async run({ opts }) {
    if (typeof opts.root !== 'string' || typeof opts.task !== 'string') throw new UsageError('slurm task needs --root DIR and --task ID');
    const sub = loadSubmission(opts.root);
    // one engine; the batch script gives it the task's cores as threads (TOKLAB_THREADS)
    return runTask(sub, opts.task, (h) => new Lab({ home: h, frontDoor: 'cli' }), (l) => process.stderr.write(`${opts.task}: ${l}\n`));
  },
};

export const SLURM_COMMANDS: Command[] = [submit, status, collectCmd, resubmit, task];
