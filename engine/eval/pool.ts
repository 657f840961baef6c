// Evaluation on every core (docs/BENCHMARKS.md, "Evaluation workers"): N worker threads, each with its
// own single-threaded backend and its own copy of the models, loaded from the run folders. The job's
// thread hands out whole batches (a tokenizer evaluation's images, a gFID setting's samples, a
// split's images for the feature network's statistics) and
// commits their results in batch order, so the feature files, the resume state and every score are
// the same as on one thread: a batch depends only on its inputs, its index and the seed.
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../worker-entry';
import { INIT_ID, WorkerChannel, type WorkerReply } from '../workers';
import type { LiveCell, TokenizerBatchOut } from './tokenizer-batch';
import type { GeneratorBatchOut, SamplingOptions } from './generator-batch';

/** Where a tokenizer evaluation's worker loads its extractor from. */
export type ExtractorSource = { kind: 'lab'; datasetDir: string } | { kind: 'onnx'; runDir: string };

/** What a worker loads: absolute paths, so it reads the same files as the job. */
export type EvalWorkerSetup =
  | { job: 'tokenizer'; tokenizerRunDir: string; ema: boolean; extractor: ExtractorSource; cells: LiveCell[]; seed: number; needReal: boolean }
  | { job: 'generator'; generatorRunDir: string; decoderRunDir: string; datasetDir: string; labels: Int32Array; sampling: SamplingOptions }
  | { job: 'embed'; featureNetDir: string };

export type EvalWorkerRequest =
  | { type: 'init'; setup: EvalWorkerSetup }
  | { type: 'tokenizer-batch'; id: number; x: Float32Array; bn: number; batchIndex: number }
  | { type: 'generator-batch'; id: number; from: number; to: number; scale: number }
  | { type: 'embed-batch'; id: number; x: Float32Array; n: number };

export interface EvalWorkerReply extends WorkerReply {
  type: 'ready' | 'done' | 'error';
  device?: string;
  /** Ids of what the worker loaded (checked against the job's own: the files did not change in between). */
  loaded?: { extractorId: string; identity: string };
  tokenizer?: TokenizerBatchOut;
  generator?: GeneratorBatchOut;
  embedding?: { feats: Float32Array; probs: Float32Array };
  /** Tensors alive on the worker's backend after the batch (flat across batches = no leak). */
  numTensors?: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** N evaluation workers holding the same models. */
export class EvalPool {
  private nextId = 0;

  private constructor(
    private readonly workers: WorkerChannel<EvalWorkerRequest, EvalWorkerReply>[],
    /** Every worker's ready reply. */
    readonly ready: EvalWorkerReply[],
  ) {}

  get count(): number {
    return this.workers.length;
  }

  /** `backend`: the engine's tfjs backend, which every worker uses as well. */
  static async start(n: number, setup: EvalWorkerSetup, backend: string): Promise<EvalPool> {
    if (!Number.isInteger(n) || n < 2) throw new Error(`an evaluation pool needs at least 2 workers, got ${n}`);
    const entry = workerEntry('eval-worker', import.meta.url);
    const chans: WorkerChannel<EvalWorkerRequest, EvalWorkerReply>[] = [];
    try {
      for (let i = 0; i < n; i++) {
        // one thread per worker: the workers are the parallelism
        const w = new Worker(entry.code, { eval: entry.eval, env: { ...process.env, TOKLAB_THREADS: '1', TOKLAB_BACKEND: backend } });
        chans.push(new WorkerChannel(w, `evaluation worker ${i + 1}`));
      }
      const ready = await Promise.all(chans.map((c) => c.request(INIT_ID, { type: 'init', setup })));
      return new EvalPool(chans, ready);
    } catch (e) {
      await Promise.all(chans.map((c) => c.terminate()));
      throw e;
    }
  }

  /** Run one batch on worker `slot` (each worker runs one batch at a time: see forEachOrdered). */
  run(slot: number, req: DistributiveOmit<Exclude<EvalWorkerRequest, { type: 'init' }>, 'id'>): Promise<EvalWorkerReply> {
    const id = this.nextId++;
    // the images were read for this batch alone: handed over, not copied
    const transfer = req.type === 'generator-batch' ? [] : [req.x.buffer as ArrayBuffer];
    return this.workers[slot].request(id, { ...req, id }, transfer);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((c) => c.terminate()));
  }
}

/**
 * Tasks 0..count−1, at most `slots` at a time, committed strictly in order. Task i runs on slot
 * i mod slots, which is free by then: task i starts only after task i − slots was committed. The
 * first failure stops the loop (tasks still running are left to the caller's cleanup).
 */
export async function forEachOrdered<T>(count: number, slots: number, run: (i: number, slot: number) => Promise<T>, commit: (i: number, r: T) => void | Promise<void>): Promise<void> {
  const inflight = new Map<number, Promise<T>>();
  let next = 0;
  for (let c = 0; c < count; c++) {
    while (next < count && next < c + slots) {
      const p = run(next, next % slots);
      // a later task's failure is reported when its turn comes, or not at all after an earlier one
      p.catch(() => {});
      inflight.set(next, p);
      next++;
    }
    const r = await (inflight.get(c) as Promise<T>);
    inflight.delete(c);
    await commit(c, r);
  }
}
