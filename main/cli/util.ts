// Small helpers shared by the CLI commands: output, tables, opening the lab, following a run.
import { availableParallelism } from 'node:os';
import { resolveHome } from '../host/home';
import { Lab } from '../host/lab';
import type { Progress, RunSummary } from '../../preload/contract';
import { progressBar, progressLine } from '../../preload/progress';

export class UsageError extends Error {}

/** `queueHolder: false` for commands that only read: they never run (or wait for) other processes' jobs. */
export function openLab(home: string | undefined, engines = 1, queueHolder = true): Lab {
  return new Lab({ home: resolveHome(home), frontDoor: 'cli', engines, queueHolder });
}

/**
 * Engine processes for a command that runs many independent jobs (the study): `--engines N`, else
 * TOKLAB_ENGINES, else the machine's cores (the wasm backend uses one core per engine).
 */
export function engineCount(flag: string | boolean | undefined, env: NodeJS.ProcessEnv = process.env): number {
  const raw = flag !== undefined && flag !== true ? String(flag) : env.TOKLAB_ENGINES;
  if (raw === undefined || raw === '') return Math.max(1, Math.min(8, availableParallelism()));
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new UsageError(`engines: "${raw}" is not a whole number from 1 to 64 (engine processes that run jobs in parallel, one core each)`);
  return n;
}

/**
 * Opens the lab for one command and always closes it (engine stopped, database closed).
 * `queueHolder: false` for commands that only read: they never run (or wait for) other processes' jobs.
 */
export async function withLab<T>(home: string | undefined, fn: (lab: Lab) => Promise<T>, engines = 1, queueHolder = true): Promise<T> {
  const lab = openLab(home, engines, queueHolder);
  try {
    return await fn(lab);
  } finally {
    await lab.close();
  }
}

/** withLab for commands that only read the lab: this process never takes the queue. */
export function readLab<T>(home: string | undefined, fn: (lab: Lab) => Promise<T>): Promise<T> {
  return withLab(home, fn, 1, false);
}

export function printJson(v: unknown): void {
  process.stdout.write(JSON.stringify(v, null, 2) + '\n');
}

export function table(rows: Record<string, unknown>[], cols: string[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v));
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]): string => vals.map((v, i) => v.padEnd(w[i])).join('  ').trimEnd();
  return [line(cols), line(w.map((n) => '-'.repeat(n))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n';
}

/** Starts a job, follows it on stderr, and returns the final run (or the queued one if another host runs jobs). */
export async function runJob(lab: Lab, start: () => Promise<RunSummary>, quiet = false): Promise<RunSummary> {
  const run = await start();
  if (!lab.isWorker) {
    process.stderr.write(`queued as run ${run.id}; the toklab that holds this lab's queue will run it.\n`);
    return run;
  }
  process.stderr.write(`run ${run.id} (${run.name}) queued\n`);
  const show = progressPrinter(process.stderr);
  const off = lab.onEvent((e) => {
    if (quiet) return;
    if (e.type === 'progress' && e.runId === run.id) show.progress(e.progress);
    if (e.type === 'log' && e.runId === run.id) show.line(`[${e.level}] ${e.message}`);
  });
  const onSigint = (): void => {
    process.stderr.write('\ncancelling…\n');
    void lab.cancelRun(run.id);
  };
  process.once('SIGINT', onSigint);
  const final = await lab.waitForRun(run.id);
  process.off('SIGINT', onSigint);
  off();
  show.end();
  process.stderr.write(`run ${final.id}: ${final.status}${final.error ? ` (${final.error})` : ''}\n`);
  return final;
}

/**
 * Progress on a stream: a redrawn bar with elapsed time, rate and ETA on a terminal; on a pipe or a
 * log file, plain lines, at most one per 10 % or per 30 s (and the last one), so logs stay readable.
 */
export function progressPrinter(out: NodeJS.WriteStream | { write(s: string): boolean; isTTY?: boolean }, now: () => number = Date.now): { progress(p: Progress): void; line(s: string): void; end(): void } {
  const tty = out.isTTY === true;
  let open = false;
  let lastT = -Infinity;
  let lastTenth = -1;
  let last: Progress | null = null;
  let lastPrinted: Progress | null = null;
  const clear = (): void => {
    if (tty && open) out.write('\r\x1b[2K');
    open = false;
  };
  return {
    progress(p) {
      last = p;
      if (tty) {
        out.write(`\r\x1b[2K  ${progressBar(p)} ${progressLine(p)}`);
        open = true;
        return;
      }
      const tenth = p.total > 0 ? Math.floor((10 * p.done) / p.total) : -1;
      if (tenth > lastTenth || now() - lastT >= 30_000) {
        out.write(`  ${progressLine(p)}\n`);
        lastT = now();
        lastTenth = tenth;
        lastPrinted = p;
      }
    },
    line(s) {
      clear();
      out.write(`  ${s}\n`);
    },
    end() {
      if (tty && open) out.write('\n');
      else if (!tty && last && last !== lastPrinted) out.write(`  ${progressLine(last)}\n`);
      open = false;
    },
  };
}
