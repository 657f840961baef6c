// Supervises the one engine process: spawn, wait for ready, run one job at a time, cancel,
// settle the job in flight when the process dies, respawn on the next job, bounded stop.
import type { BackendInfo, EngineEvent, EngineRequest, JsonObject } from '../../engine/protocol';
import { isEngineEvent } from '../../engine/protocol';
import type { EngineState } from '../../preload/contract';
import { basename } from 'node:path';
import { latestCheckpoint } from '../../engine/checkpoint-files';
import type { EngineChannel, EngineLauncher } from './engine-channel';

export type JobOutcome =
  | { status: 'done'; result: JsonObject }
  | { status: 'failed'; error: string }
  | { status: 'cancelled' }
  | { status: 'interrupted'; error: string };

type StartRequest = Extract<EngineRequest, { type: 'start' }>;

/** What resuming will do: continue from a checkpoint, or start over when the job wrote none. */
export function resumeHint(runDir: string): string {
  const file = latestCheckpoint(runDir);
  const last = file ? basename(file) : null;
  return last ? `resume the run to continue from its last checkpoint (${last}).` : 'it wrote no checkpoint, so resuming starts it over.';
}

interface InFlight {
  jobId: number;
  runDir: string;
  onEvent: (e: EngineEvent) => void;
  settle: (o: JobOutcome) => void;
}

export interface SupervisorStatus {
  state: EngineState;
  pid: number | null;
  info: BackendInfo | null;
  restarts: number;
}

const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 3_000;

export class EngineSupervisor {
  private channel: EngineChannel | null = null;
  private ready: Promise<BackendInfo> | null = null;
  private inFlight: InFlight | null = null;
  private state: EngineState = 'down';
  private info: BackendInfo | null = null;
  private restarts = 0;
  private spawned = 0;
  private stopping = false;

  constructor(
    private readonly launch: EngineLauncher,
    private readonly onStatus: (s: SupervisorStatus) => void = () => {},
  ) {}

  status(): SupervisorStatus {
    return { state: this.state, pid: this.channel?.pid ?? null, info: this.info, restarts: this.restarts };
  }

  /** Starts the engine if none is running and resolves with its backend once it is ready. */
  start(): Promise<BackendInfo> {
    if (this.ready) return this.ready;
    this.stopping = false;
    if (this.spawned > 0) this.restarts++;
    this.spawned++;
    const ch = this.launch();
    this.channel = ch;
    this.setState('starting');
    this.ready = new Promise<BackendInfo>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('The engine process did not report ready within 120 s; see logs/engine.log in the lab home.')), READY_TIMEOUT_MS);
      ch.onMessage((m) => {
        if (!isEngineEvent(m)) return;
        if (m.type === 'ready') {
          clearTimeout(timer);
          this.info = m.info;
          this.setState(this.inFlight ? 'busy' : 'idle');
          resolve(m.info);
          return;
        }
        this.route(m);
      });
      ch.onExit((code, signal) => {
        clearTimeout(timer);
        if (this.channel !== ch) return;
        this.channel = null;
        this.ready = null;
        this.setState('down');
        const why = `the engine process exited (${signal ? `signal ${signal}` : `code ${code}`})`;
        reject(new Error(`${why} before it was ready; see logs/engine.log in the lab home.`));
        const f = this.inFlight;
        this.inFlight = null;
        if (f && !this.stopping) f.settle({ status: 'interrupted', error: `${why} while the job was running; ${resumeHint(f.runDir)}` });
        else if (f) f.settle({ status: 'interrupted', error: 'toklab stopped while the job was running; resume the run to continue.' });
      });
    });
    this.ready.catch(() => {});
    return this.ready;
  }

  /** Runs one job on the engine; resolves when it settles, however it ends. */
  async run(req: Omit<StartRequest, 'type'>, onEvent: (e: EngineEvent) => void): Promise<JobOutcome> {
    if (this.inFlight) throw new Error('the engine is already running a job');
    try {
      await this.start();
    } catch (e) {
      return { status: 'interrupted', error: (e as Error).message };
    }
    return new Promise<JobOutcome>((resolve) => {
      this.inFlight = {
        jobId: req.jobId,
        runDir: req.runDir,
        onEvent,
        settle: (o) => {
          this.setState(this.channel ? 'idle' : 'down');
          resolve(o);
        },
      };
      this.setState('busy');
      this.channel?.send({ type: 'start', ...req });
    });
  }

  cancel(jobId: number): void {
    if (this.inFlight?.jobId === jobId) this.channel?.send({ type: 'cancel', jobId });
  }

  /** Asks the engine to exit, then kills it after a grace period. */
  async stop(): Promise<void> {
    const ch = this.channel;
    if (!ch) return;
    this.stopping = true;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ch.kill();
        resolve();
      }, STOP_GRACE_MS);
      ch.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      ch.send({ type: 'shutdown' });
    });
  }

  /** For tests and the "kill engine" tool: the process dies as in a crash. */
  killForTest(): void {
    this.channel?.kill();
  }

  private route(m: EngineEvent): void {
    const f = this.inFlight;
    if (m.type === 'log' && m.jobId === null) {
      f?.onEvent(m);
      return;
    }
    if (!f || !('jobId' in m) || m.jobId !== f.jobId) return;
    if (m.type === 'done' || m.type === 'failed' || m.type === 'cancelled') {
      this.inFlight = null;
      if (m.type === 'failed' && m.fatal) this.retire();
      if (m.type === 'cancelled' && this.stopping) {
        f.settle({ status: 'interrupted', error: 'toklab stopped while the job was running; resume the run to continue.' });
        return;
      }
      f.settle(m.type === 'done' ? { status: 'done', result: m.result } : m.type === 'failed' ? { status: 'failed', error: m.error } : { status: 'cancelled' });
      return;
    }
    f.onEvent(m);
  }

  /**
   * Drops an engine that said it cannot run another job (a wasm abort), before the next job is sent
   * to it: the next run() starts a fresh one.
   */
  private retire(): void {
    const ch = this.channel;
    this.channel = null;
    this.ready = null;
    this.setState('down');
    ch?.kill();
  }

  private setState(s: EngineState): void {
    this.state = s;
    this.onStatus(this.status());
  }
}
