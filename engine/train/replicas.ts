// Data-parallel training on worker threads (docs/BENCHMARKS.md, "Data-parallel workers"): tokenizers
// and generators.
//
// The engine's thread keeps the one model, the optimizer, the EMA and the checkpoints. Each step it
// writes the current weights into shared memory, gives every replica a contiguous shard of the
// global batch (with that shard's slice of the perturbation plan, drawn once for the whole batch),
// and each replica, a worker thread with its own single-threaded wasm backend, computes the
// gradients of its shard's mean loss into its own shared gradient buffer. The engine thread
// averages them weighted by shard size (the mean over the global batch, since every loss term is a
// per-image mean) and applies the update. Nothing couples images inside a batch (GroupNorm is per
// image, the quantizer has no batch statistics), so N replicas compute the one-worker step up to
// the order of float sums. A generator step is split the same way by rows of the teacher-forcing input
// (drawn once for the global batch: class dropout, RAR orders); its loss is a per-token mean.
import { Worker } from 'node:worker_threads';
import { workerEntry } from '../worker-entry';
import { INIT_ID, WorkerChannel, type WorkerReply } from '../workers';
import type { TokenizerConfig } from '../models/vq-tokenizer';
import type { GeneratorConfig, SeqInput } from '../models/transformer';
import type { LpKnobs, LpPlan } from '../perturb';
import { tf } from '../tf';
import type { GradMap, VarMap } from './optim';

/** Where one variable sits in the shared weight and gradient buffers (in floats). */
export interface SlotLayout {
  key: string;
  offset: number;
  size: number;
  shape: number[];
}

/** The model every replica holds. */
export type ReplicaModel = { kind: 'tokenizer'; config: TokenizerConfig } | { kind: 'generator'; config: GeneratorConfig };

export interface ReplicaInit {
  type: 'init';
  model: ReplicaModel;
  seed: number;
  layout: SlotLayout[];
  weights: SharedArrayBuffer;
  grads: SharedArrayBuffer;
}

export interface ReplicaStep {
  type: 'step';
  id: number;
  x: Float32Array;
  n: number;
  lp: { knobs: LpKnobs; plan: LpPlan } | null;
  wantZ: boolean;
}

/** A generator step on rows of the teacher-forcing input. */
export interface ReplicaGenStep {
  type: 'gen-step';
  id: number;
  input: SeqInput;
  targets: Int32Array;
}

export interface ReplicaReply extends WorkerReply {
  type: 'ready' | 'step' | 'error';
  device?: string;
  /** Keys whose gradient the replica wrote (a variable off the loss's path has none). */
  present?: string[];
  loss?: number;
  recon?: number;
  codebook?: number;
  commit?: number;
  counts?: Float32Array;
  changed?: number;
  candidates?: number;
  z?: Float32Array | null;
  /** Tensors alive on the replica's backend after the step (flat across steps = no leak). */
  numTensors?: number;
}

export interface ShardResult {
  /** Images (or rows) in the shard: its weight in the mean. */
  n: number;
  present: Set<string>;
  /** View of this replica's gradient buffer: valid until the next step. */
  grads: Float32Array;
  loss: number;
  numTensors: number;
  /** The reply as sent, for the tokenizer's extra terms (recon, codebook, commit, counts, changed, z). */
  reply: ReplicaReply;
}

/** Row shards of a teacher-forcing input (rows of `length` positions). */
export function shardSeqInput(input: SeqInput, targets: Int32Array, parts: number): { input: SeqInput; targets: Int32Array }[] {
  const T = input.length;
  return shardRanges(input.batch, parts).map(([b0, b1]) => ({
    input: { ids: input.ids.slice(b0 * T, b1 * T), pos: input.pos.slice(b0 * T, b1 * T), targetPos: input.targetPos.slice(b0 * T, b1 * T), batch: b1 - b0, length: T },
    targets: targets.slice(b0 * T, b1 * T),
  }));
}

/** Split [0, B) into `parts` contiguous shards whose sizes differ by at most one (empty shards dropped). */
export function shardRanges(B: number, parts: number): [number, number][] {
  const out: [number, number][] = [];
  const base = Math.floor(B / parts);
  const extra = B % parts;
  let at = 0;
  for (let i = 0; i < parts; i++) {
    const len = base + (i < extra ? 1 : 0);
    if (len > 0) out.push([at, at + len]);
    at += len;
  }
  return out;
}

/** One replica: its worker's channel and its gradient buffer. */
class Replica extends WorkerChannel<ReplicaInit | ReplicaStep | ReplicaGenStep, ReplicaReply> {
  readonly gradView: Float32Array;

  constructor(index: number, worker: Worker, gradBuf: SharedArrayBuffer) {
    super(worker, `data-parallel worker ${index + 1}`);
    this.gradView = new Float32Array(gradBuf);
  }
}

/** N replicas of one model, each on its own worker thread and backend. */
export class Replicas {
  private nextId = 0;

  private constructor(
    private readonly replicas: Replica[],
    readonly layout: SlotLayout[],
    private readonly weights: Float32Array,
    readonly device: string,
  ) {}

  get count(): number {
    return this.replicas.length;
  }

  /** `backend`: the engine's tfjs backend, which every replica uses as well. */
  static async start(n: number, model: ReplicaModel, seed: number, params: VarMap, backend: string): Promise<Replicas> {
    if (!Number.isInteger(n) || n < 2) throw new Error(`data-parallel training needs at least 2 workers, got ${n}`);
    const layout: SlotLayout[] = [];
    let total = 0;
    for (const [key, v] of Object.entries(params)) {
      layout.push({ key, offset: total, size: v.size, shape: v.shape.slice() });
      total += v.size;
    }
    const weightsBuf = new SharedArrayBuffer(total * 4);
    const entry = workerEntry('replica-worker', import.meta.url);
    const replicas: Replica[] = [];
    try {
      for (let i = 0; i < n; i++) {
        const gradBuf = new SharedArrayBuffer(total * 4);
        // one wasm thread per replica: the replicas are the parallelism
        const worker = new Worker(entry.code, { eval: entry.eval, env: { ...process.env, TOKLAB_THREADS: '1', TOKLAB_BACKEND: backend } });
        replicas.push(new Replica(i, worker, gradBuf));
      }
      const ready = await Promise.all(
        replicas.map((r) => r.request(INIT_ID, { type: 'init', model, seed, layout, weights: weightsBuf, grads: bufferOf(r.gradView) })),
      );
      return new Replicas(replicas, layout, new Float32Array(weightsBuf), ready[0].device ?? 'unknown');
    } catch (e) {
      await Promise.all(replicas.map((r) => r.terminate()));
      throw e;
    }
  }

  /** Copy the current weights into shared memory (every replica reads them at its next step). */
  private publish(params: VarMap): void {
    for (const s of this.layout) this.weights.set(params[s.key].dataSync() as Float32Array, s.offset);
  }

  /** Publish `params`, send message i to replica i, and collect the shards' gradients and losses. */
  private async run(params: VarMap, msgs: (ReplicaStep | ReplicaGenStep)[], rows: number[], transfer: (i: number) => ArrayBuffer[]): Promise<ShardResult[]> {
    if (msgs.length > this.replicas.length) throw new Error(`${msgs.length} shards for ${this.replicas.length} workers`);
    this.publish(params);
    const replies = await Promise.all(msgs.map((m, i) => this.replicas[i].request(m.id, m, transfer(i))));
    return replies.map((r, i) => ({ n: rows[i], present: new Set(r.present ?? []), grads: this.replicas[i].gradView, loss: r.loss ?? NaN, numTensors: r.numTensors ?? -1, reply: r }));
  }

  /** One tokenizer step with weights `params`: shard i of the batch goes to replica i. */
  step(params: VarMap, shards: Omit<ReplicaStep, 'type' | 'id'>[]): Promise<ShardResult[]> {
    const id = this.nextId++;
    return this.run(params, shards.map((s) => ({ type: 'step', id, ...s })), shards.map((s) => s.n), (i) => [shards[i].x.buffer as ArrayBuffer]);
  }

  /** One generator step with weights `params`: row shard i of the input goes to replica i. */
  stepGenerator(params: VarMap, shards: { input: SeqInput; targets: Int32Array }[]): Promise<ShardResult[]> {
    const id = this.nextId++;
    return this.run(params, shards.map((s) => ({ type: 'gen-step', id, ...s })), shards.map((s) => s.input.batch), () => []);
  }

  /** The size-weighted mean of the shards' gradients, as tensors keyed like the model (the caller disposes them). */
  meanGrads(results: ShardResult[]): GradMap {
    const combined = combineShards(results, this.layout);
    const out: GradMap = {};
    for (const s of this.layout) {
      const g = combined.get(s.key);
      if (g) out[s.key] = tf.tensor(g, s.shape, 'float32');
    }
    return out;
  }

  async close(): Promise<void> {
    await Promise.all(this.replicas.map((r) => r.terminate()));
  }
}

function bufferOf(view: Float32Array): SharedArrayBuffer {
  return view.buffer as SharedArrayBuffer;
}

/**
 * The global-batch mean of per-shard means: Σ (nᵢ/B)·gᵢ for every variable that has a gradient on
 * some shard, summed in shard order (deterministic for a given worker count).
 */
export function combineShards(results: ShardResult[], layout: SlotLayout[]): Map<string, Float32Array> {
  const B = results.reduce((a, r) => a + r.n, 0);
  const out = new Map<string, Float32Array>();
  for (const s of layout) {
    if (!results.some((r) => r.present.has(s.key))) continue;
    const g = new Float32Array(s.size);
    for (const r of results) {
      if (!r.present.has(s.key)) continue;
      const w = r.n / B;
      const src = r.grads;
      for (let i = 0; i < s.size; i++) g[i] += w * src[s.offset + i];
    }
    out.set(s.key, g);
  }
  return out;
}
