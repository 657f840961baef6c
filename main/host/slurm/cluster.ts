// The Slurm commands toklab uses (sbatch, squeue, scontrol, scancel), each run with execFile and its
// output parsed in one place, and Slurm's job states mapped onto the lab's run states.
import { execFile } from 'node:child_process';
import type { RunStatus } from '../../../preload/contract';

export interface SlurmJobState {
  /** "123_4" for array task 4 of job 123. */
  jobId: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, PREEMPTED, … */
  state: string;
  reason: string;
}

/** Slurm's clients retry for up to a minute when the controller is unreachable; the lab never waits that long. */
export const SLURM_TIMEOUT_MS = 20_000;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: SLURM_TIMEOUT_MS, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return reject(new Error(`${cmd} is not installed or not on PATH: toklab slurm needs the Slurm client commands (Debian: apt-get install slurm-client; on a cluster: module load slurm)`));
      if (e.killed) return reject(new Error(`${cmd} did not answer in ${SLURM_TIMEOUT_MS / 1000} s: is the Slurm controller reachable (SLURM_CONF, slurmctld)?`));
      reject(new Error(`${cmd} ${args.join(' ')} failed: ${(stderr || e.message).trim().split('\n').slice(-2).join(' ')}`));
    });
  });
}

/** Submits a batch script; returns the (array) job id. */
export async function sbatch(script: string, extra: string[] = []): Promise<string> {
  const out = (await run('sbatch', ['--parsable', ...extra, script])).trim();
  const id = out.split(';')[0];
  if (!/^\d+$/.test(id)) throw new Error(`sbatch printed "${out}" instead of a job id`);
  return id;
}

export async function scancel(jobIds: string[]): Promise<void> {
  if (jobIds.length) await run('scancel', jobIds);
}

/**
 * The states Slurm knows of these jobs: squeue for pending and running ones (array tasks one per line),
 * scontrol for those that ended recently. A job Slurm has forgotten is missing from the map.
 */
export async function jobStates(jobIds: string[]): Promise<Map<string, SlurmJobState>> {
  const out = new Map<string, SlurmJobState>();
  if (jobIds.length === 0) return out;
  const arrays = [...new Set(jobIds.map((j) => j.split('_')[0]))];
  const sq = (await run('squeue', ['-h', '-r', '-j', arrays.join(','), '-o', '%i|%T|%r'])).trim();
  for (const line of sq ? sq.split('\n') : []) {
    const [jobId, state, reason] = line.split('|');
    out.set(jobId, { jobId, state, reason: reason ?? '' });
  }
  for (const id of jobIds) {
    if (out.has(id)) continue;
    let text = '';
    try {
      text = await run('scontrol', ['-o', 'show', 'job', id]);
    } catch {
      continue; // not known any more
    }
    const state = /\bJobState=(\S+)/.exec(text)?.[1];
    if (state) out.set(id, { jobId: id, state, reason: /\bReason=(\S+)/.exec(text)?.[1] ?? '' });
  }
  return out;
}

/**
 * A task's lab state from Slurm's state and what the task itself wrote (`started`: it began running
 * toklab; `finished`: it wrote its end). A task killed mid-way (scancel, a node failure, a time limit)
 * is failed; one preempted is interrupted; one cancelled before it started is cancelled.
 */
export function labState(slurm: SlurmJobState | undefined, task: { started: boolean; finished: 'done' | 'failed' | null }): { status: RunStatus; note: string } {
  if (task.finished === 'done') return { status: 'done', note: '' };
  if (task.finished === 'failed') return { status: 'failed', note: 'the task ended with an error (see its log)' };
  const s = slurm?.state.replace(/\+$/, '') ?? null;
  if (s === 'PENDING' || s === 'CONFIGURING' || s === 'REQUEUED') {
    if (slurm?.reason === 'DependencyNeverSatisfied') return { status: 'queued', note: 'waits for a task that failed: resubmit that one' };
    return { status: 'queued', note: slurm?.reason && slurm.reason !== 'None' ? slurm.reason : '' };
  }
  if (s === 'RUNNING' || s === 'COMPLETING' || s === 'SUSPENDED') return { status: 'running', note: '' };
  if (s === 'PREEMPTED') return { status: 'interrupted', note: 'preempted: resubmit it, it resumes from its checkpoint' };
  if (s === 'CANCELLED' && !task.started) return { status: 'cancelled', note: 'cancelled before it started' };
  if (s === 'CANCELLED') return { status: 'failed', note: 'cancelled while running (scancel?): resubmit it' };
  if (s === 'TIMEOUT') return { status: 'failed', note: 'hit its time limit: resubmit it (with more --time)' };
  if (s === 'OUT_OF_MEMORY') return { status: 'failed', note: 'ran out of memory: resubmit it (with more --mem)' };
  if (s !== null) return { status: 'failed', note: `Slurm state ${s}` };
  if (task.started) return { status: 'failed', note: 'stopped without finishing, and Slurm no longer knows the job' };
  return { status: 'cancelled', note: 'Slurm does not know the job and it never started' };
}
