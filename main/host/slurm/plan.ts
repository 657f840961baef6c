// A study plan as Slurm job arrays. Three stages, chained with dependencies:
//   prep        1 task:  the dataset and the lab feature network
//   tokenizers  N tasks: one tokenizer each                       (afterok: prep)
//   chains      N tasks: that tokenizer's eval, generators, gFID  (aftercorr: task i after tokenizer i)
// Each task has its own lab home under the submission's root on the shared file system. A task first
// imports the homes of the tasks it depends on (`toklab import`: no id clashes, idempotent), then runs
// only its own study steps; `toklab slurm collect` imports every finished task home into the main one,
// where the study (every step found done) writes its report.
import { join } from 'node:path';
import type { StudyPlan } from '../study';
import { studySteps } from '../study';

export type StageName = 'prep' | 'tokenizers' | 'chains' | 'evals';

export interface SlurmTask {
  /** "prep", "tok-0", "chain-0", … */
  id: string;
  stage: StageName;
  /** Index in its stage's job array. */
  index: number;
  /** Study steps this task runs. */
  steps: string[];
  /** Tasks whose lab homes it imports before it starts. */
  imports: string[];
  /** A sweep task: the main home's runs it imports (with what they need), and the one evaluation it runs. */
  sweep?: { tokenizer: number };
}

/** What a submission runs: a study plan, or a pFID sweep of the main home's tokenizers. */
export type SubmissionWhat =
  | { kind: 'study'; plan: string; dataset: 'shapes' | 'mnist' }
  | { kind: 'sweep'; sweepId: number; name: string; spec: { tokenizers: number[]; alphas: number[]; deltas: number[]; deltaMode: 'abs' | 'share'; n: number; seed: number } };

export function describeWhat(w: SubmissionWhat): string {
  return w.kind === 'study' ? `study --plan ${w.plan} --dataset ${w.dataset}` : `sweep ${w.sweepId} (${w.name}): ${w.spec.tokenizers.length} tokenizer(s) × α {${w.spec.alphas.join(', ')}} × δ {${w.spec.deltas.join(', ')}}${w.spec.deltaMode === 'share' ? ' of K' : ''}`;
}

export interface SlurmOptions {
  partition?: string;
  gres?: string;
  time?: string;
  mem?: string;
  /** At most this many tasks of one array at once (`--array=0-N%L`). */
  arrayLimit?: number;
  /** Cores per task (the engine's threads); default 1. */
  cpusPerTask?: number;
}

export interface Submission {
  /** Folder on the shared file system: manifest, batch scripts, task homes, logs. */
  root: string;
  /** The lab home that `collect` merges into. */
  home: string;
  what: SubmissionWhat;
  toklabVersion: string;
  /** How a task starts toklab: the Node binary and the CLI entry, absolute paths. */
  node: string;
  cli: string;
  options: SlurmOptions;
  stages: { name: StageName; tasks: SlurmTask[]; after: { stage: StageName; type: 'afterok' | 'aftercorr' } | null }[];
  createdAt: string;
  /** Slurm job ids per task, newest submission last (a resubmit appends). */
  jobs: Record<string, { jobId: string; arrayJobId: string; submittedAt: string }[]>;
}

export function studyTasks(plan: StudyPlan): Submission['stages'] {
  const s = studySteps(plan);
  const prep: SlurmTask = { id: 'prep', stage: 'prep', index: 0, steps: s.prep, imports: [] };
  const toks: SlurmTask[] = s.tokenizers.map((t, i) => ({ id: `tok-${i}`, stage: 'tokenizers', index: i, steps: [t.train], imports: ['prep'] }));
  const chains: SlurmTask[] = s.tokenizers.map((t, i) => ({ id: `chain-${i}`, stage: 'chains', index: i, steps: t.rest, imports: ['prep', `tok-${i}`] }));
  return [
    { name: 'prep', tasks: [prep], after: null },
    { name: 'tokenizers', tasks: toks, after: { stage: 'prep', type: 'afterok' } },
    { name: 'chains', tasks: chains, after: { stage: 'tokenizers', type: 'aftercorr' } },
  ];
}

/** A sweep: one task per tokenizer, each importing that tokenizer (and what it needs) from the main home and running its α × δ grid. */
export function sweepTasks(tokenizers: number[]): Submission['stages'] {
  return [{ name: 'evals', tasks: tokenizers.map((t, i) => ({ id: `eval-${t}`, stage: 'evals', index: i, steps: [`eval-tokenizer ${t}`], imports: [], sweep: { tokenizer: t } })), after: null }];
}

export const taskHome = (sub: Pick<Submission, 'root'>, id: string): string => join(sub.root, 'tasks', id);
export const scriptPath = (sub: Pick<Submission, 'root'>, stage: StageName): string => join(sub.root, 'scripts', `${stage}.sbatch`);
export const logPath = (sub: Pick<Submission, 'root'>, stage: StageName): string => join(sub.root, 'logs', `${stage}-%a.out`);

export function allTasks(sub: Pick<Submission, 'stages'>): SlurmTask[] {
  return sub.stages.flatMap((s) => s.tasks);
}

export function findTask(sub: Pick<Submission, 'stages'>, id: string): SlurmTask {
  const t = allTasks(sub).find((x) => x.id === id);
  if (!t) throw new Error(`no task "${id}" in this submission; its tasks are ${allTasks(sub).map((x) => x.id).join(', ')}`);
  return t;
}

/** Tasks that (transitively) import this one: what must run again after it. */
export function downstream(sub: Pick<Submission, 'stages'>, id: string): SlurmTask[] {
  const out: SlurmTask[] = [];
  const seen = new Set([id]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const t of allTasks(sub)) if (!seen.has(t.id) && t.imports.some((i) => seen.has(i))) {
      seen.add(t.id);
      out.push(t);
      grew = true;
    }
  }
  return out;
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The exact command a task runs; a task can be re-run by hand with it. */
export function taskCommand(sub: Submission, t: SlurmTask): string {
  return `${q(sub.node)} ${q(sub.cli)} slurm task --root ${q(sub.root)} --task ${t.id}`;
}

/** One batch script per stage: a job array whose index picks the task, each task's command written out. */
export function batchScript(sub: Submission, stage: Submission['stages'][number]): string {
  const o = sub.options;
  const n = stage.tasks.length;
  const lines = [
    '#!/bin/bash',
    `#SBATCH --job-name=toklab-${sub.what.kind === 'study' ? sub.what.plan : `sweep${sub.what.sweepId}`}-${stage.name}`,
    `#SBATCH --array=0-${n - 1}${o.arrayLimit ? `%${o.arrayLimit}` : ''}`,
    `#SBATCH --output=${logPath(sub, stage.name)}`,
    `#SBATCH --cpus-per-task=${o.cpusPerTask ?? 1}`,
    ...(o.partition ? [`#SBATCH --partition=${o.partition}`] : []),
    ...(o.gres ? [`#SBATCH --gres=${o.gres}`] : []),
    ...(o.time ? [`#SBATCH --time=${o.time}`] : []),
    ...(o.mem ? [`#SBATCH --mem=${o.mem}`] : []),
    `# toklab ${sub.toklabVersion}: ${describeWhat(sub.what)}, stage "${stage.name}" (${n} task${n === 1 ? '' : 's'})`,
    `# submission ${sub.root}, written ${sub.createdAt}`,
    '# Each task runs in its own lab home under tasks/; to re-run one by hand, run its line below.',
    'set -euo pipefail',
    'export TOKLAB_THREADS="${SLURM_CPUS_PER_TASK:-1}"',
    'case "$SLURM_ARRAY_TASK_ID" in',
    ...stage.tasks.map((t) => `  ${t.index}) exec ${taskCommand(sub, t)} ;;  # ${t.steps.join(', ')}`),
    '  *) echo "no toklab task for array index $SLURM_ARRAY_TASK_ID" >&2; exit 2 ;;',
    'esac',
    '',
  ];
  return lines.join('\n');
}
