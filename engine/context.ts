// What every engine job and every layer under it sees: its context (where to write, how to report) and cancellation.
// Jobs are async functions (spec, ctx) → result; they never touch SQLite or the UI.
import type { JsonObject, MetricPoint, ScoreRecord } from './protocol';

export interface JobContext {
  /** Lab home (absolute) and this run's folder (absolute, exists). */
  home: string;
  runDir: string;
  runId: number;
  /** Aborted when the user cancels; long loops check it between steps. */
  signal: AbortSignal;
  progress(done: number, total: number, message?: string): void;
  metrics(points: MetricPoint[]): void;
  score(score: ScoreRecord): void;
  /** `path` is relative to the lab home (e.g. `runs/12/recon-e3.png`). */
  artifact(kind: string, path: string, meta?: JsonObject): void;
  log(level: 'info' | 'warn' | 'error', message: string): void;
}

export type Job<S = JsonObject, R extends JsonObject = JsonObject> = (spec: S, ctx: JobContext) => Promise<R>;

/** Thrown by a job that stops because ctx.signal was aborted. */
export class JobCancelled extends Error {
  constructor() {
    super('cancelled');
    this.name = 'JobCancelled';
  }
}

export function throwIfCancelled(signal: AbortSignal): void {
  if (signal.aborted) throw new JobCancelled();
}
