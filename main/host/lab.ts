// The lab host: one SQLite writer, the persistent job queue and the engine supervisor, behind
// the LabApi of preload/contract.ts. Plain Node, shared by the app, `toklab serve` and the CLI.
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkpointStep, latestCheckpoint } from '../../engine/checkpoint-files';
import type { EngineEvent, JsonObject, MetricPoint } from '../../engine/protocol';
import type {
  AppInfo,
  ClusterSubmission,
  CorrelationRequest,
  CorrelationResult,
  Dataset,
  DeleteRequest,
  DeleteResult,
  FigureExportRequest,
  ImportReport,
  LabApi,
  LabEvent,
  Progress,
  RunDetail,
  RunComparison,
  RunQuery,
  RunRow,
  RunSummary,
  ScoreQuery,
  ScoreRow,
  StartJobRequest,
  Sweep,
  SweepSpec,
  TableExportRequest,
} from '../../preload/contract';
import { correlateScores, sweepOf, validateSweepSpec, writeExport } from './analysis';
import type { EngineLauncher } from './engine-channel';
import { engineEnv, forkLauncher } from './engine-channel';
import { exportFigure, exportTable } from './exports';
import { ensureHome } from './home';
import { jobPrep, prepareJob } from './job-prep';
import { finishPendingImports, importLab } from './lab-import';
import { clearDeletedFolders, compareRuns, deleteRun, listRunRows, runDependents } from './run-table';
import { openDb, SCHEMA_VERSION } from './store/db';
import type { JobRow } from './store/repo';
import { Repo } from './store/repo';
import { EngineSupervisor } from './supervisor';
import { APP_VERSION } from './version';
import type { WorkerLock } from './worker-lock';
import { acquireRunLock, acquireWorkerLock } from './worker-lock';

export interface LabOptions {
  home: string;
  frontDoor: AppInfo['frontDoor'];
  launcher?: EngineLauncher;
  /** Start the engine right away (the UI shows its backend); otherwise on the first job. */
  eagerEngine?: boolean;
  /**
   * Engine processes that run jobs in parallel (default 1). The wasm backend uses one core per
   * engine, so a study on an N-core machine runs N independent jobs at once.
   */
  engines?: number;
  /** better-sqlite3 addon for Electron's ABI (the app); the Node build otherwise. */
  nativeBinding?: string;
  /**
   * Never hold the queue: for commands that only read or only queue (`runs list`, `runs show`, …).
   * Such a command must not run other processes' queued jobs, nor outlive its own output waiting for them.
   */
  queueHolder?: boolean;
}

/** How often the queue holder looks for jobs that other processes queued (it hears its own at once). */
export const QUEUE_POLL_MS = 1000;

interface Slot {
  supervisor: EngineSupervisor;
  current: { job: JobRow; runId: number } | null;
  loop: Promise<void> | null;
}

const METRIC_FLUSH_MS = 250;
const PROGRESS_WRITE_MS = 1000;

export class Lab implements LabApi {
  readonly repo: Repo;
  readonly supervisor: EngineSupervisor;
  private readonly listeners = new Set<(e: LabEvent) => void>();
  private lock: WorkerLock | null = null;
  private pumping: Promise<void> | null = null;
  private closed = false;
  /** One per engine process; slot 0's supervisor is `supervisor` (what the UI shows). */
  private readonly slots: Slot[];
  private pendingMetrics: { runId: number; points: MetricPoint[] }[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private pollTimer: NodeJS.Timeout | null = null;
  private readonly lastProgressWrite = new Map<number, number>();
  /** Per running run: when this attempt started, its first progress report, and the step a resume continues from. */
  private readonly attempts = new Map<number, { t0: number; first: { done: number; t: number } | null; resumedFrom: number | undefined }>();
  private readonly settled = new Map<number, ((r: RunSummary) => void)[]>();

  constructor(readonly opts: LabOptions) {
    ensureHome(opts.home);
    clearDeletedFolders(opts.home);
    this.repo = new Repo(openDb(join(opts.home, 'lab.db'), opts.nativeBinding));
    // an import that stopped between its commit and its folder renames: finish them before anything reads the rows
    try {
      for (const note of finishPendingImports(this.repo, opts.home)) process.stderr.write(`toklab: import: ${note}\n`);
    } catch (e) {
      process.stderr.write(`toklab: could not finish an earlier import's folder moves (${(e as Error).message}); run that import again.\n`);
    }
    const n = Math.max(1, Math.min(64, Math.floor(opts.engines ?? 1)));
    const launcher = opts.launcher ?? forkLauncher(opts.home, undefined, engineEnv(n));
    this.slots = Array.from({ length: n }, (_, i) => ({
      supervisor: new EngineSupervisor(launcher, i === 0 ? (s) => this.emit({ type: 'engine', engine: s }) : () => {}),
      current: null,
      loop: null,
    }));
    this.supervisor = this.slots[0].supervisor;
    const got = opts.queueHolder === false ? null : acquireWorkerLock(opts.home);
    if (got && 'release' in got) {
      this.lock = got;
      this.recoverAfterCrash();
      // jobs queued by another process (a CLI beside the app) raise no event here: look for them
      this.pollTimer = setInterval(() => {
        if (this.slots.some((sl) => !sl.loop) && this.repo.nextRunnableJob()) void this.pump();
      }, QUEUE_POLL_MS);
      this.pollTimer.unref();
    }
    if (opts.eagerEngine && this.lock) this.supervisor.start().catch(() => {});
    void this.pump();
  }

  /** True when this host runs jobs; false when another live toklab holds the queue. */
  get isWorker(): boolean {
    return this.lock !== null;
  }

  onEvent(listener: (e: LabEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.pollTimer) clearInterval(this.pollTimer);
    await Promise.all(this.slots.map((sl) => sl.supervisor.stop()));
    // let the job in flight record how it ended before the database closes
    await this.pumping;
    this.flushMetrics();
    this.lock?.release();
    this.repo.db.close();
  }

  // ---- LabApi ----

  async appInfo(): Promise<AppInfo> {
    return { appVersion: APP_VERSION, home: this.opts.home, schemaVersion: SCHEMA_VERSION, frontDoor: this.opts.frontDoor, engine: this.supervisor.status() };
  }

  async listRuns(query: RunQuery): Promise<RunSummary[]> {
    return this.repo.listRuns(query);
  }

  async getRun(id: number): Promise<RunDetail> {
    this.flushMetrics();
    const run = this.repo.getRun(id);
    return { ...run, ...this.repo.runExtras(id), metrics: this.repo.metrics(id), scores: this.repo.scores(id), artifacts: this.repo.artifacts(id) };
  }

  async startJob(req: StartJobRequest): Promise<RunSummary> {
    return this.enqueueJob(req, null);
  }

  private async enqueueJob(req: StartJobRequest, sweepId: number | null): Promise<RunSummary> {
    const env = { repo: this.repo, home: this.opts.home };
    // validate everything (this job and what must run first) before queueing anything
    const prepared = prepareJob(req, env);
    const after: number[] = [];
    for (const pre of jobPrep(req.kind).prerequisites?.(req.spec, env) ?? []) after.push('runId' in pre ? pre.runId : (await this.enqueueJob(pre, null)).id);
    // the rows and the run folder appear together: a folder that cannot be written rolls the rows back
    const run = this.repo.db.transaction(() => {
      const r = this.repo.createRun({
        kind: prepared.runKind,
        jobKind: req.kind,
        name: prepared.name,
        config: prepared.spec,
        seed: prepared.seed,
        parentId: prepared.parentId,
        datasetId: prepared.datasetId,
        sweepId,
        appVersion: APP_VERSION,
      });
      this.repo.enqueue(r.id, req.kind, prepared.spec, 1, after);
      this.writeRunFolder(r.id, { kind: req.kind, spec: prepared.spec, appVersion: APP_VERSION });
      return r;
    })();
    this.emit({ type: 'run', run });
    void this.pump();
    return run;
  }

  /** The run folder with run.json (what the host queued; config.json belongs to the job), or an error that says how to fix it. */
  private writeRunFolder(id: number, queued: JsonObject): void {
    const dir = this.runDir(id);
    const existed = existsSync(dir);
    try {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'run.json'), JSON.stringify(queued, null, 2));
    } catch (e) {
      try {
        if (!existed) rmSync(dir, { recursive: true, force: true });
      } catch {
        // nothing was made (the path is blocked): nothing to remove
      }
      const code = (e as NodeJS.ErrnoException).code ?? '';
      throw new Error(
        `cannot create the run folder ${dir} (${code || (e as Error).message}); nothing was queued. ` +
          (code === 'ENOSPC' ? 'Free disk space in the lab home, then start the job again.' : `Make ${dirname(dir)} writable (or use another --home), then start the job again.`),
      );
    }
  }

  async cancelRun(id: number): Promise<RunSummary> {
    const run = this.repo.getRun(id);
    if (run.status === 'queued') {
      const job = this.repo.openJobForRun(id);
      this.repo.db.transaction(() => {
        if (job) this.repo.setJobStatus(job.id, 'finished');
        this.repo.markFinished(id, 'cancelled', null, null);
      })();
      return this.emitRun(id);
    }
    const slot = this.slots.find((sl) => sl.current?.runId === id);
    if (run.status === 'running' && slot?.current) slot.supervisor.cancel(slot.current.job.id);
    else if (run.status === 'running') throw new Error(`Run ${id} is running in another toklab process; cancel it there.`);
    return run;
  }

  async resumeRun(id: number): Promise<RunSummary> {
    const run = this.repo.getRun(id);
    if (!['interrupted', 'cancelled', 'failed'].includes(run.status))
      throw new Error(`Run ${id} is ${run.status}; only interrupted, cancelled or failed runs can be resumed.`);
    const last = this.repo.lastJobForRun(id);
    if (!last) throw new Error(`Run ${id} has no job to resume.`);
    this.repo.db.transaction(() => {
      this.repo.setStatus(id, 'queued', null);
      this.repo.enqueue(id, last.kind, last.spec, last.attempt + 1);
    })();
    const r = this.emitRun(id);
    void this.pump();
    return r;
  }

  async setRunTags(id: number, tags: string[]): Promise<RunSummary> {
    this.repo.getRun(id);
    this.repo.setTags(id, [...new Set(tags.map((t) => t.trim()).filter(Boolean))]);
    return this.emitRun(id);
  }

  async setRunNotes(id: number, notes: string): Promise<void> {
    this.repo.getRun(id);
    this.repo.setNotes(id, notes);
  }

  async listDatasets(): Promise<Dataset[]> {
    return this.repo.listDatasets();
  }

  async getDataset(id: number): Promise<Dataset> {
    return this.repo.getDataset(id);
  }

  async pickFolder(): Promise<string | null> {
    return null;
  }

  async listScores(query: ScoreQuery): Promise<ScoreRow[]> {
    return this.repo.listScores(query);
  }

  async createSweep(raw: SweepSpec): Promise<Sweep> {
    const spec = validateSweepSpec(this.repo, raw);
    // validate every job before creating anything
    const reqs = spec.tokenizers.map((t) => ({
      kind: 'eval-tokenizer' as const,
      name: `pFID sweep · tokenizer ${t}`,
      spec: { tokenizer: t, alphas: spec.alphas, deltas: spec.deltas, deltaMode: spec.deltaMode, n: spec.n ?? 0, seed: spec.seed ?? 0, ...(spec.dataset !== undefined ? { dataset: spec.dataset } : {}), ...(spec.extractor !== undefined ? { extractor: spec.extractor } : {}) },
    }));
    for (const r of reqs) prepareJob(r, { repo: this.repo, home: this.opts.home });
    const name = spec.name?.trim() || `sweep ${spec.alphas.length}×${spec.deltas.length} over ${spec.tokenizers.length} tokenizer(s)`;
    const id = this.repo.createSweep(name, spec as unknown as JsonObject);
    for (const r of reqs) await this.enqueueJob(r, id);
    this.emit({ type: 'sweep', sweepId: id });
    return this.sweep(id);
  }

  async listSweeps(): Promise<Sweep[]> {
    return this.repo.listSweepRows().map((row) => sweepOf(row, this.repo.runsOfSweep(row.id)));
  }

  private sweep(id: number): Sweep {
    const row = this.repo.listSweepRows().find((r) => r.id === id);
    if (!row) throw new Error(`There is no sweep ${id}.`);
    return sweepOf(row, this.repo.runsOfSweep(id));
  }

  async correlate(request: CorrelationRequest): Promise<CorrelationResult> {
    return correlateScores(this.repo, request);
  }

  async exportFile(name: string, content: string): Promise<string> {
    return writeExport(this.opts.home, name, content);
  }

  async listRunRows(query: RunQuery): Promise<RunRow[]> {
    return listRunRows(this.repo, query);
  }

  async compareRuns(ids: number[]): Promise<RunComparison> {
    return compareRuns(this.repo, ids);
  }

  async runDependents(id: number): Promise<RunSummary[]> {
    return runDependents(this.repo, id);
  }

  async deleteRun(id: number, request: DeleteRequest): Promise<DeleteResult> {
    const r = deleteRun(this.repo, this.opts.home, id, request);
    for (const d of r.deleted) this.emit({ type: 'deleted', runId: d });
    return r;
  }

  async listClusterTasks(): Promise<ClusterSubmission[]> {
    const { clusterSubmissions } = await import('./slurm/submission');
    return clusterSubmissions(this.opts.home);
  }

  async importLab(home: string): Promise<ImportReport> {
    // imports rows and files only: nothing is queued, so there is nothing to pump
    const r = importLab(this.repo, this.opts.home, home, { nativeBinding: this.opts.nativeBinding });
    // the pages refresh what they show (runs already here are sent too: the report does not tell them apart)
    if (r.runs.added) for (const id of Object.values(r.runIds)) this.emit({ type: 'run', run: this.repo.getRun(id) });
    if (r.datasets.added) for (const id of Object.values(r.datasetIds)) this.emit({ type: 'dataset', dataset: this.repo.getDataset(id) });
    return r;
  }

  async exportFigure(request: FigureExportRequest): Promise<string[]> {
    return exportFigure(this.opts.home, request);
  }

  async exportTable(request: TableExportRequest): Promise<string[]> {
    return exportTable(this.opts.home, request);
  }

  // ---- helpers for the CLI and tests ----

  /** Resolves when the run reaches a final status (done, failed, cancelled, interrupted). */
  waitForRun(id: number): Promise<RunSummary> {
    const r = this.repo.getRun(id);
    if (!['queued', 'running'].includes(r.status)) return Promise.resolve(r);
    return new Promise((resolve) => this.settled.set(id, [...(this.settled.get(id) ?? []), resolve]));
  }

  runDir(id: number): string {
    return join(this.opts.home, 'runs', String(id));
  }

  // ---- queue ----

  /**
   * Runs marked running by a host that died: mark them interrupted so nothing is silently lost.
   * Sweep evaluations are idempotent, so they go straight back into the queue.
   */
  private recoverAfterCrash(): void {
    const stale = this.repo.runningJobs();
    if (!stale.length) return;
    this.repo.db.transaction(() => {
      for (const j of stale) {
        this.repo.setJobStatus(j.id, 'finished');
        this.repo.markFinished(j.runId, 'interrupted', 'toklab stopped while this job was running; resume the run to continue.', null);
        if (this.repo.getRun(j.runId).sweepId !== null) {
          this.repo.setStatus(j.runId, 'queued', null);
          this.repo.enqueue(j.runId, j.kind, j.spec, j.attempt + 1);
        }
      }
    })();
  }

  /** Starts a job loop on every idle engine slot; resolves when all slots have run out of runnable jobs. */
  private pump(): Promise<void> {
    if (!this.lock || this.closed) return this.pumping ?? Promise.resolve();
    for (const slot of this.slots) {
      if (slot.loop) continue;
      slot.loop = (async () => {
        await Promise.resolve(); // so that `loop` is set before the loop can finish
        try {
          // picking a job and marking it running happen in one synchronous stretch, so two slots never take the same job
          for (let job = this.repo.nextRunnableJob(); job && !this.closed; job = this.repo.nextRunnableJob()) {
            await this.execute(job, slot).catch((e: unknown) => this.failUnexpectedly(job, slot, e));
            // what this job unblocked may suit a slot that went idle
            if (this.slots.length > 1) queueMicrotask(() => void this.pump());
          }
        } finally {
          slot.loop = null;
        }
      })();
    }
    const all = Promise.all(this.slots.map((sl) => sl.loop ?? Promise.resolve())).then(() => undefined);
    this.pumping = all;
    void all.then(() => {
      if (this.pumping === all) this.pumping = null;
    });
    return all;
  }

  /**
   * A host-side error around a job (its run folder cannot be written, the database refused a row): the
   * run ends failed with the reason instead of staying `running`, and the queue goes on.
   */
  private failUnexpectedly(job: JobRow, slot: Slot, e: unknown): void {
    slot.current = null;
    const why = e instanceof Error ? e.message : String(e);
    try {
      this.repo.db.transaction(() => {
        this.repo.setJobStatus(job.id, 'finished');
        this.repo.markFinished(job.runId, 'failed', `the host could not run this job: ${why}`, null);
      })();
      this.emitRun(job.runId);
    } catch (inner) {
      process.stderr.write(`toklab: could not mark run ${job.runId} failed (${why}): ${String(inner)}\n`);
    }
  }

  private async execute(job: JobRow, slot: Slot): Promise<void> {
    const runId = job.runId;
    // a prerequisite that did not end done: fail with its reason rather than run without it
    const deps = this.repo.jobDeps(job.id);
    const blocked = deps.map((id) => this.repo.getRun(id)).find((r) => r.status !== 'done');
    if (blocked && (blocked.status === 'queued' || blocked.status === 'running')) {
      // the prerequisite was re-queued (resumed) after this job: go behind it in the queue
      this.repo.db.transaction(() => {
        this.repo.setJobStatus(job.id, 'finished');
        this.repo.enqueue(runId, job.kind, job.spec, job.attempt, deps);
      })();
      return;
    }
    if (blocked) {
      this.repo.db.transaction(() => {
        this.repo.setJobStatus(job.id, 'finished');
        this.repo.markFinished(runId, 'failed', `prerequisite run ${blocked.id} (${blocked.name}) ended ${blocked.status}${blocked.error ? `: ${blocked.error}` : ''}. Fix or resume it, then resume this run.`, null);
      })();
      this.emitRun(runId);
      return;
    }
    slot.current = { job, runId };
    this.repo.setJobStatus(job.id, 'running');
    const info = await slot.supervisor.start().catch(() => null);
    // the run's record of what computed it: backend and thread count (the same numbers either way; the speed differs)
    this.repo.markStarted(runId, info ? (info.threads ? `${info.backend}, ${info.threads} thread${info.threads === 1 ? '' : 's'}` : info.backend) : null);
    this.emitRun(runId);
    const dir = this.runDir(runId);
    mkdirSync(dir, { recursive: true });
    // one writer per run folder, whatever other toklab processes believe about the queue
    const runLock = acquireRunLock(dir);
    if ('heldBy' in runLock) {
      slot.current = null;
      this.repo.db.transaction(() => {
        this.repo.setJobStatus(job.id, 'finished');
        this.repo.markFinished(runId, 'interrupted', `another toklab process (pid ${runLock.heldBy}) is writing this run's folder; stop it (or wait for it), then resume the run.`, null);
      })();
      this.emitRun(runId);
      return;
    }
    try {
      await this.runLocked(job, slot, runId, dir);
    } finally {
      runLock.release();
    }
  }

  private async runLocked(job: JobRow, slot: Slot, runId: number, dir: string): Promise<void> {
    let resumedFrom: number | undefined;
    if (job.attempt > 1) {
      // a resume continues from the newest checkpoint (or starts over): what came after it is logged again
      const ck = latestCheckpoint(dir);
      resumedFrom = ck ? checkpointStep(ck) : 0;
      this.repo.resetForResume(runId, resumedFrom);
      // an evaluation keeps its own state (engine/jobs/eval-tokenizer.ts) and says where it continues
      const evalState = existsSync(join(dir, 'eval-state', 'state.json'));
      const message = ck ? `resumed from step ${resumedFrom} (checkpoint ${ck})` : evalState ? 'resuming the evaluation from its saved state' : 'restarted from step 0: no checkpoint existed';
      this.emit({ type: 'log', runId, level: ck || evalState ? 'info' : 'warn', message });
    }
    this.attempts.set(runId, { t0: Date.now(), first: null, resumedFrom });
    let lastProgress: Progress | undefined;
    const outcome = await slot.supervisor.run({ jobId: job.id, runId, kind: job.kind, spec: job.spec, home: this.opts.home, runDir: dir }, (e) => {
      const p = this.onEngineEvent(runId, e);
      if (p) lastProgress = p;
    });
    this.flushMetrics();
    slot.current = null;
    this.lastProgressWrite.delete(runId);
    this.attempts.delete(runId);
    const status = outcome.status;
    const error = outcome.status === 'failed' || outcome.status === 'interrupted' ? outcome.error : null;
    const result = outcome.status === 'done' ? outcome.result : null;
    let dataset: Dataset | undefined;
    let finalError = error;
    let finalStatus = status;
    if (result) {
      try {
        dataset = jobPrep(job.kind).onDone?.(this.repo.getRun(runId), result, { repo: this.repo, home: this.opts.home }).dataset;
      } catch (e) {
        finalStatus = 'failed';
        finalError = `the job finished but its result could not be recorded: ${(e as Error).message}`;
      }
    }
    this.repo.db.transaction(() => {
      this.repo.setJobStatus(job.id, 'finished');
      this.repo.markFinished(runId, finalStatus, finalError, result, lastProgress);
    })();
    if (dataset) this.emit({ type: 'dataset', dataset });
    this.emitRun(runId);
  }

  /**
   * Progress with this attempt's elapsed time, rate and ETA. The rate counts from the first report of
   * the attempt, so a resume that starts at step 900 is not credited with 900 steps in its first second.
   */
  private timedProgress(runId: number, done: number, total: number, message: string | undefined): Progress {
    const now = Date.now();
    const a = this.attempts.get(runId) ?? { t0: now, first: null, resumedFrom: undefined };
    a.first ??= { done, t: now };
    this.attempts.set(runId, a);
    const p: Progress = { done, total, message, elapsedSeconds: (now - a.t0) / 1000 };
    const dt = (now - a.first.t) / 1000;
    if (dt >= 1 && done > a.first.done) {
      p.rate = (done - a.first.done) / dt;
      p.etaSeconds = Math.max(0, (total - done) / p.rate);
    }
    if (a.resumedFrom !== undefined) p.resumedFrom = a.resumedFrom;
    return p;
  }

  private onEngineEvent(runId: number, e: EngineEvent): Progress | null {
    switch (e.type) {
      case 'metrics':
        this.pendingMetrics.push({ runId, points: e.points });
        this.flushTimer ??= setTimeout(() => this.flushMetrics(), METRIC_FLUSH_MS);
        this.emit({ type: 'metrics', runId, points: e.points });
        return null;
      case 'progress': {
        const progress = this.timedProgress(runId, e.done, e.total, e.message);
        const now = Date.now();
        if (now - (this.lastProgressWrite.get(runId) ?? 0) > PROGRESS_WRITE_MS || e.done >= e.total) {
          this.lastProgressWrite.set(runId, now);
          this.repo.setProgress(runId, progress);
        }
        this.emit({ type: 'progress', runId, progress });
        return progress;
      }
      case 'score':
        this.emit({ type: 'score', score: this.repo.insertScore(runId, e.score.metric, e.score.value, e.score.provenance) });
        return null;
      case 'artifact':
        this.emit({ type: 'artifact', artifact: this.repo.insertArtifact(runId, e.kind, e.path, e.meta) });
        return null;
      case 'log':
        this.emit({ type: 'log', runId, level: e.level, message: e.message });
        return null;
      default:
        return null;
    }
  }

  private flushMetrics(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (!this.pendingMetrics.length || !this.repo.db.open) return;
    const batch = this.pendingMetrics;
    this.pendingMetrics = [];
    this.repo.insertMetrics(batch);
  }

  /** Tells every listener about the run's new state, and settles waitForRun once it is final. */
  private emitRun(id: number): RunSummary {
    const run = this.repo.getRun(id);
    this.emit({ type: 'run', run });
    if (run.status !== 'queued' && run.status !== 'running') {
      for (const cb of this.settled.get(id) ?? []) cb(run);
      this.settled.delete(id);
    }
    return run;
  }

  private emit(e: LabEvent): void {
    for (const l of this.listeners) l(e);
  }
}
