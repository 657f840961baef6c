// The engine's worker threads (data-parallel replicas, evaluation workers): how many a job gets, and
// request/reply over one of them. Every request carries an id, the worker answers with the same id,
// and a crash or an exit fails every pending request with a message that names the worker.
import type { Worker } from 'node:worker_threads';
import { wantedThreads } from './wasm-threads';

/** What every worker reply carries; `type: 'error'` fails the request with `message`. */
export interface WorkerReply {
  type: string;
  id?: number;
  message?: string;
}

interface Pending<R> {
  resolve(r: R): void;
  reject(e: Error): void;
}

/** Id of the init request and of the worker's 'ready' reply. */
export const INIT_ID = -1;

export class WorkerChannel<Req extends { type: string }, Rep extends WorkerReply> {
  private pending = new Map<number, Pending<Rep>>();
  private failed: Error | null = null;

  /** `name`: how messages call the worker, e.g. "data-parallel worker 2". */
  constructor(
    private readonly worker: Worker,
    readonly name: string,
  ) {
    worker.on('message', (m: Rep) => {
      const key = m.type === 'ready' ? INIT_ID : (m.id ?? INIT_ID);
      const p = this.pending.get(key);
      if (!p) return;
      this.pending.delete(key);
      if (m.type === 'error') p.reject(new Error(`${name}: ${m.message}`));
      else p.resolve(m);
    });
    worker.on('error', (e) => this.fail(new Error(`${name} crashed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`${name} exited (code ${code})`)));
  }

  private fail(e: Error): void {
    this.failed = e;
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  request(id: number, msg: Req, transfer: ArrayBuffer[] = []): Promise<Rep> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.pending.has(id)) return Promise.reject(new Error(`${this.name}: request ${id} is already pending`));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage(msg, transfer);
    });
  }

  terminate(): Promise<number> {
    this.worker.removeAllListeners('exit');
    return this.worker.terminate();
  }
}

/**
 * Workers for a job: the spec's count when it gives one (1–64), else TOKLAB_WORKERS, else
 * this engine's share of the cores (TOKLAB_THREADS, which the host sets per engine) when the model is
 * large enough for workers to pay off (`paysOff`) on the wasm backend, and 1 otherwise. Never more
 * than there are pieces of work (`batchSize`: a batch's rows, or an evaluation's batches).
 */
export function resolveWorkers(requested: number, batchSize: number, backend: string, paysOff: boolean, env: NodeJS.ProcessEnv = process.env): number {
  let n = requested;
  if (!(n > 0)) {
    // libtensorflow (tfjs-node, -gpu) threads its own kernels: replicas only pay off on wasm
    if (backend !== 'wasm') return 1;
    // `paysOff` false: steps that are mostly per-op overhead (tokenizers below 32 px, generators
    // below d 256), which halving the batch does not halve; bench/workers.ts measured 0.9-1.2x there
    const v = (env.TOKLAB_WORKERS ?? '').trim();
    if (!v) return paysOff ? Math.min(wantedThreads(env), batchSize) : 1;
    n = Number(v);
    if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`TOKLAB_WORKERS is "${v}": give a whole number from 1 to 64, or unset it to use this engine's cores (TOKLAB_THREADS).`);
  }
  return Math.max(1, Math.min(n, batchSize));
}

/** Smallest image side at which auto workers split tokenizer batches. */
export const AUTO_MIN_SIZE = 32;
/** Smallest generator width at which auto workers split batches (gpt-mini: 1.85x measured on 2 cores). */
export const AUTO_MIN_DMODEL = 256;
