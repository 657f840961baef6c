// A study on Slurm: write the manifest and batch scripts, submit the chained arrays, read the tasks'
// states (Slurm's and their own), resubmit a failed task with what depends on it, run one task inside
// its job, and collect the finished task homes into the main lab home.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { ClusterSubmission, ImportReport, Progress, RunStatus } from '../../../preload/contract';
import type { Lab } from '../lab';
import { importLab } from '../lab-import';
import { planFor, runStudy, STUDY_PLANS } from '../study';
import { APP_VERSION } from '../version';
import { jobStates, labState, sbatch, scancel } from './cluster';
import type { SlurmOptions, SlurmTask, StageName, Submission } from './plan';
import { allTasks, batchScript, describeWhat, downstream, findTask, scriptPath, studyTasks, sweepTasks, taskCommand, taskHome } from './plan';

const MANIFEST = 'submission.json';
const TASK_STATE = 'task.json';

interface TaskState {
  state: 'running' | 'done' | 'failed';
  /** A sweep task: its evaluation run in the task's home. */
  runId?: number;
  jobId: string | null;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

function writeJson(file: string, v: unknown): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(v, null, 2) + '\n');
  renameSync(tmp, file);
}

export function loadSubmission(root: string): Submission {
  const file = join(root, MANIFEST);
  if (!existsSync(file)) throw new Error(`${root} holds no toklab Slurm submission (no ${MANIFEST}); list them with \`toklab slurm status\``);
  return JSON.parse(readFileSync(file, 'utf8')) as Submission;
}

function saveSubmission(sub: Submission): void {
  writeJson(join(sub.root, MANIFEST), sub);
}

/** Submissions of a lab home, newest last (under <home>/slurm/). */
export function listSubmissions(home: string): string[] {
  const dir = join(home, 'slurm');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((d) => existsSync(join(dir, d, MANIFEST)))
    .map((d) => ({ root: join(dir, d), at: loadSubmission(join(dir, d)).createdAt }))
    .sort((a, b) => a.at.localeCompare(b.at))
    .map((x) => x.root);
}

export interface SubmitRequest {
  home: string;
  plan: string;
  dataset: 'shapes' | 'mnist';
  options: SlurmOptions;
  /** Default <home>/slurm/<plan>-<dataset>-<time>/. */
  root?: string;
  node: string;
  cli: string;
}

/** Writes a submission's manifest and one batch script per stage under its root; nothing is submitted. */
function writeSubmission(req: { home: string; root?: string; options: SlurmOptions; node: string; cli: string }, slug: string, what: Submission['what'], stages: Submission['stages']): Submission {
  const createdAt = new Date().toISOString();
  const root = resolve(req.root ?? join(req.home, 'slurm', `${slug}-${createdAt.replace(/[:.]/g, '').slice(0, 15)}`));
  if (existsSync(join(root, MANIFEST))) throw new Error(`${root} already holds a submission; pick another --root, or use \`toklab slurm resubmit\` there`);
  const sub: Submission = { root, home: resolve(req.home), what, toklabVersion: APP_VERSION, node: req.node, cli: req.cli, options: req.options, stages, createdAt, jobs: {} };
  for (const d of ['scripts', 'logs', 'tasks']) mkdirSync(join(root, d), { recursive: true });
  for (const st of sub.stages) writeFileSync(scriptPath(sub, st.name), batchScript(sub, st), { mode: 0o755 });
  saveSubmission(sub);
  return sub;
}

/** A study plan as chained job arrays (scripts and manifest only). */
export function prepareStudy(req: SubmitRequest): Submission {
  if (!STUDY_PLANS[req.plan]) throw new Error(`--plan: use one of ${Object.keys(STUDY_PLANS).join(', ')}`);
  return writeSubmission(req, `${req.plan}-${req.dataset}`, { kind: 'study', plan: req.plan, dataset: req.dataset }, studyTasks(planFor(req.plan, req.dataset)));
}

export interface SweepSubmitRequest {
  home: string;
  /** The sweep row already made in the main home (its evaluations join it at collect). */
  sweepId: number;
  name: string;
  spec: Extract<Submission['what'], { kind: 'sweep' }>['spec'];
  options: SlurmOptions;
  root?: string;
  node: string;
  cli: string;
}

/** A pFID sweep as one job array: a task per tokenizer (scripts and manifest only). */
export function prepareSweep(req: SweepSubmitRequest): Submission {
  return writeSubmission(req, `sweep-${req.sweepId}`, { kind: 'sweep', sweepId: req.sweepId, name: req.name, spec: req.spec }, sweepTasks(req.spec.tokenizers));
}

/** The sbatch command lines of a submission, in order (`$prep` stands for the job id the previous line prints). */
export function sbatchLines(sub: Submission): string[] {
  return sub.stages.map((st) => {
    const dep = st.after ? ` --dependency=${st.after.type}:$${st.after.stage}` : '';
    return `${st.name}=$(sbatch --parsable${dep} ${scriptPath(sub, st.name)})`;
  });
}

/** Submits the stages as chained job arrays and records every task's job id. */
export async function submitArrays(sub: Submission): Promise<Submission> {
  const ids = new Map<StageName, string>();
  const at = new Date().toISOString();
  for (const st of sub.stages) {
    const dep = st.after ? [`--dependency=${st.after.type}:${ids.get(st.after.stage)}`] : [];
    const id = await sbatch(scriptPath(sub, st.name), dep);
    ids.set(st.name, id);
    for (const t of st.tasks) sub.jobs[t.id] = [...(sub.jobs[t.id] ?? []), { jobId: `${id}_${t.index}`, arrayJobId: id, submittedAt: at }];
  }
  saveSubmission(sub);
  return sub;
}

function readTaskState(sub: Submission, id: string): TaskState | null {
  const f = join(taskHome(sub, id), TASK_STATE);
  return existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as TaskState) : null;
}

export interface TaskStatus {
  id: string;
  stage: StageName;
  steps: string[];
  status: RunStatus;
  note: string;
  jobId: string | null;
  slurmState: string | null;
  attempts: number;
  /** Progress of the run the task is on, read from its own lab home. */
  progress: { runId: number; name: string; progress: Progress } | null;
  command: string;
}

/** Progress of the running runs in a task's lab home (read-only; the task's own toklab writes it). */
async function taskProgress(home: string): Promise<TaskStatus['progress']> {
  if (!existsSync(join(home, 'lab.db'))) return null;
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(home, 'lab.db'), { readonly: true, fileMustExist: true });
  try {
    const r = db.prepare(`SELECT id, name, progress FROM runs WHERE status = 'running' AND progress IS NOT NULL ORDER BY id DESC LIMIT 1`).get() as { id: number; name: string; progress: string } | undefined;
    return r ? { runId: r.id, name: r.name, progress: JSON.parse(r.progress) as Progress } : null;
  } catch {
    return null;
  } finally {
    db.close();
  }
}

export async function submissionStatus(sub: Submission): Promise<TaskStatus[]> {
  const latest = (id: string): string | null => sub.jobs[id]?.[sub.jobs[id].length - 1]?.jobId ?? null;
  // Slurm is asked only about tasks whose latest job has not written its end (a finished submission needs no squeue)
  const open = allTasks(sub).filter((t) => {
    const own = readTaskState(sub, t.id);
    return !(own && own.state !== 'running' && own.jobId === latest(t.id));
  });
  const states = await jobStates(open.map((t) => latest(t.id)).filter((j): j is string => j !== null));
  return Promise.all(
    allTasks(sub).map(async (t) => {
      const jobId = latest(t.id);
      const own = readTaskState(sub, t.id);
      const slurm = jobId ? states.get(jobId) : undefined;
      // a task state written by an earlier attempt does not count for a resubmitted job that has not started
      const current = own && (own.jobId === null || own.jobId === jobId) ? own : null;
      const st = jobId ? labState(slurm, { started: current !== null, finished: current && current.state !== 'running' ? current.state : null }) : { status: 'queued' as RunStatus, note: 'not submitted' };
      return {
        id: t.id,
        stage: t.stage,
        steps: t.steps,
        status: st.status,
        note: current?.state === 'failed' && current.error ? `${current.error} (log: ${join(sub.root, 'logs', `${t.stage}-${t.index}.out`)})` : st.note,
        jobId,
        slurmState: slurm?.state ?? null,
        attempts: sub.jobs[t.id]?.length ?? 0,
        progress: st.status === 'running' ? await taskProgress(taskHome(sub, t.id)) : null,
        command: taskCommand(sub, t),
      };
    }),
  );
}

/**
 * Submits a task again (and every task downstream of it that is not done, after it), cancelling
 * their stale pending jobs. The task's lab home is kept: its interrupted step resumes from its checkpoint.
 */
export async function resubmitTask(sub: Submission, id: string): Promise<{ task: string; jobId: string }[]> {
  const task = findTask(sub, id);
  const status = new Map((await submissionStatus(sub)).map((s) => [s.id, s]));
  const st = status.get(id)!;
  if (st.status === 'done') throw new Error(`task ${id} is done; nothing to resubmit`);
  if (st.status === 'running' || (st.status === 'queued' && st.note !== 'not submitted' && !st.note.startsWith('waits for'))) throw new Error(`task ${id} is ${st.status} in Slurm (job ${st.jobId}); cancel it first (scancel ${st.jobId}) or let it finish`);
  const redo: SlurmTask[] = [task, ...downstream(sub, id).filter((t) => status.get(t.id)?.status !== 'done')];
  const stale = redo.slice(1).map((t) => status.get(t.id)!).filter((s) => s.jobId && (s.status === 'queued' || s.status === 'running')).map((s) => s.jobId!);
  await scancel(stale);
  const at = new Date().toISOString();
  const newIds = new Map<string, string>();
  const out: { task: string; jobId: string }[] = [];
  for (const t of redo) {
    const deps = t.imports.map((i) => newIds.get(i)).filter((j): j is string => j !== undefined);
    const arrayId = await sbatch(scriptPath(sub, t.stage), [`--array=${t.index}`, ...(deps.length ? [`--dependency=afterok:${deps.join(':')}`] : [])]);
    const jobId = `${arrayId}_${t.index}`;
    newIds.set(t.id, jobId);
    sub.jobs[t.id] = [...(sub.jobs[t.id] ?? []), { jobId, arrayJobId: arrayId, submittedAt: at }];
    out.push({ task: t.id, jobId });
  }
  saveSubmission(sub);
  return out;
}

/**
 * A sweep task's evaluation: the tokenizer (and what it needs: its dataset with the feature network,
 * the runs that built them) imported from the main home, then its α × δ grid as one eval job. A rerun
 * after a crash resumes the interrupted evaluation instead of starting another.
 */
async function sweepEval(sub: Submission, spec: Extract<Submission['what'], { kind: 'sweep' }>['spec'], tokenizer: number, lab: Lab, stateFile: string, log: (l: string) => void): Promise<number> {
  const r = importLab(lab.repo, lab.opts.home, sub.home, { only: [tokenizer] });
  log(`imported tokenizer ${tokenizer} from ${sub.home}: ${r.runs.added} runs added, ${r.runs.existing} already here`);
  const local = r.runIds[String(tokenizer)];
  if (local === undefined) throw new Error(`tokenizer run ${tokenizer} was not imported: ${r.skipped.map((x) => `${x.sourceId} ${x.reason}`).join('; ') || 'unknown reason'}`);
  const prior = existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, 'utf8')) as TaskState).runId : undefined;
  const existing = lab.repo.listRuns({ kind: 'eval', parentId: local }).find((x) => x.status !== 'failed');
  let run = existing ?? (prior !== undefined ? lab.repo.getRun(prior) : undefined);
  if (run && (run.status === 'interrupted' || run.status === 'cancelled')) run = await lab.resumeRun(run.id);
  // named with this home's tokenizer id: the import back into the main home maps it to the main home's own
  if (!run || run.status === 'failed')
    run = await lab.startJob({ kind: 'eval-tokenizer', name: `pFID sweep ${sub.what.kind === 'sweep' ? sub.what.sweepId : ''} · tokenizer ${local}`, spec: { tokenizer: local, alphas: spec.alphas, deltas: spec.deltas, deltaMode: spec.deltaMode, n: spec.n, seed: spec.seed } });
  const final = await lab.waitForRun(run.id);
  if (final.status !== 'done') throw new Error(`the evaluation (run ${final.id}) ended ${final.status}: ${final.error ?? ''}`);
  log(`done: evaluation run ${final.id} of tokenizer ${tokenizer}`);
  return final.id;
}

/**
 * Runs one task inside its Slurm job: imports the homes of the tasks it depends on, then only its own
 * study steps (a step found interrupted in its home resumes from its checkpoint). Returns the exit code.
 */
export async function runTask(sub: Submission, id: string, open: (home: string) => Lab, log: (l: string) => void): Promise<number> {
  const task = findTask(sub, id);
  const home = taskHome(sub, id);
  mkdirSync(home, { recursive: true });
  const stateFile = join(home, TASK_STATE);
  const jobId = process.env.SLURM_ARRAY_JOB_ID && process.env.SLURM_ARRAY_TASK_ID ? `${process.env.SLURM_ARRAY_JOB_ID}_${process.env.SLURM_ARRAY_TASK_ID}` : null;
  const state: TaskState = { state: 'running', jobId, startedAt: new Date().toISOString() };
  writeJson(stateFile, state);
  const lab = open(home);
  try {
    for (const dep of task.imports) {
      const s = readTaskState(sub, dep);
      if (s?.state !== 'done') throw new Error(`task ${id} needs task ${dep}, which is ${s?.state ?? 'not started'}; resubmit ${dep} first`);
      const r: ImportReport = await lab.importLab(taskHome(sub, dep));
      log(`imported task ${dep}: ${r.runs.added} runs added, ${r.runs.existing} already here`);
    }
    let runId: number | undefined;
    if (sub.what.kind === 'study') {
      await runStudy(lab, planFor(sub.what.plan, sub.what.dataset), (l) => log(l), { only: (step) => task.steps.includes(step) });
    } else if (task.sweep) {
      runId = await sweepEval(sub, sub.what.spec, task.sweep.tokenizer, lab, stateFile, log);
    }
    writeJson(stateFile, { ...state, state: 'done', finishedAt: new Date().toISOString(), ...(runId !== undefined ? { runId } : {}) });
    return 0;
  } catch (e) {
    writeJson(stateFile, { ...state, state: 'failed', finishedAt: new Date().toISOString(), error: (e as Error).message });
    log(`task ${id} failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await lab.close();
  }
}

export interface CollectResult {
  imported: { task: string; runsAdded: number; runsExisting: number }[];
  waiting: { task: string; status: RunStatus; note: string }[];
  /** The study report, written once every task is collected. */
  report: string[];
}

/**
 * Imports every finished task home into the main lab home (only finished ones: a second collect takes
 * the rest; importing twice adds nothing). Once all are in, runs the study there: every step is found
 * done, and it writes the report.
 */
export async function collect(sub: Submission, lab: Lab, log: (l: string) => void): Promise<CollectResult> {
  const status = await submissionStatus(sub);
  const res: CollectResult = { imported: [], waiting: [], report: [] };
  for (const s of status) {
    if (s.status !== 'done') {
      res.waiting.push({ task: s.id, status: s.status, note: s.note });
      continue;
    }
    const r = await lab.importLab(taskHome(sub, s.id));
    res.imported.push({ task: s.id, runsAdded: r.runs.added, runsExisting: r.runs.existing });
    // a sweep's evaluation joins the sweep it was submitted for (its tokenizer maps back to the main home's own run)
    const own = readTaskState(sub, s.id);
    if (sub.what.kind === 'sweep' && own?.runId !== undefined) {
      const here = r.runIds[String(own.runId)];
      if (here !== undefined) lab.repo.db.prepare(`UPDATE runs SET sweep_id = ? WHERE id = ? AND sweep_id IS NULL`).run(sub.what.sweepId, here);
    }
  }
  if (res.waiting.length === 0 && sub.what.kind === 'study') {
    const data = await runStudy(lab, planFor(sub.what.plan, sub.what.dataset), log, { reuseOnly: true });
    res.report = data.files;
  }
  return res;
}

/** Every submission of a lab home with its tasks' states, for the app's Runs page. */
export async function clusterSubmissions(home: string): Promise<ClusterSubmission[]> {
  return Promise.all(
    listSubmissions(home).map(async (root) => {
      const sub = loadSubmission(root);
      const what = describeWhat(sub.what);
      try {
        return { root, what, createdAt: sub.createdAt, tasks: await submissionStatus(sub), error: null };
      } catch (e) {
        // no Slurm client here (the lab home was copied off the cluster, say): show what the tasks recorded
        const tasks = allTasks(sub).map((t) => {
          const own = readTaskState(sub, t.id);
          const status: RunStatus = own?.state === 'done' ? 'done' : own?.state === 'failed' ? 'failed' : 'queued';
          return { id: t.id, stage: t.stage, steps: t.steps, status, note: own ? `task record: ${own.state}` : 'no record yet', jobId: sub.jobs[t.id]?.at(-1)?.jobId ?? null, attempts: sub.jobs[t.id]?.length ?? 0, progress: null, command: taskCommand(sub, t) };
        });
        return { root, what, createdAt: sub.createdAt, tasks, error: (e as Error).message };
      }
    }),
  );
}
