// The eigensolver's eigenvector update on every core: the QL rotations of linalg.ts's qlSweeps act on
// each component of the eigenvectors independently, so T threads take one range of components each
// (the engine's thread one of them) in a shared matrix. Same arithmetic, same order per component:
// the result is bit for bit the one-thread result.
import { Worker } from 'node:worker_threads';
import { ROTATION_STRIP, applyRotations, type RotationLog } from './linalg';
import { workerEntry } from '../worker-entry';
import type { RotationTask } from './rotation-worker';

interface PoolWorker {
  worker: Worker;
  pending: Map<number, { resolve(): void; reject(e: Error): void }>;
}

let pool: PoolWorker[] = [];
let nextId = 0;
let disabled: string | null = null;

function spawnWorker(): PoolWorker {
  const entry = workerEntry('rotation-worker', import.meta.url);
  const worker = new Worker(entry.code, { eval: entry.eval });
  worker.unref(); // an idle pool never keeps the process alive
  const pw: PoolWorker = { worker, pending: new Map() };
  worker.on('message', (m: { id: number; ok: boolean; message?: string }) => {
    const p = pw.pending.get(m.id);
    if (!p) return;
    pw.pending.delete(m.id);
    if (m.ok) p.resolve();
    else p.reject(new Error(m.message ?? 'rotation worker failed'));
  });
  const fail = (e: Error): void => {
    for (const p of pw.pending.values()) p.reject(e);
    pw.pending.clear();
    pool = pool.filter((x) => x !== pw);
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`rotation worker exited (code ${code})`)));
  return pw;
}

function run(pw: PoolWorker, task: Omit<RotationTask, 'id'>): Promise<void> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pw.pending.set(id, { resolve, reject });
    pw.worker.postMessage({ ...task, id });
  });
}

/** Why the rotations run on one thread (null while the pool works). */
export function rotationPoolDisabled(): string | null {
  return disabled;
}

function shared<T extends Float64Array | Int32Array>(src: T, count: number, Ctor: new (b: SharedArrayBuffer) => T): T {
  const out = new Ctor(new SharedArrayBuffer(count * src.BYTES_PER_ELEMENT));
  out.set(src.subarray(0, count));
  return out;
}

/**
 * log applied to w ([n,n], rows = eigenvectors) with `threads` threads. w must live in a
 * SharedArrayBuffer for the workers to see it; otherwise, or with one thread, it runs inline.
 */
export async function applyRotationsParallel(w: Float64Array, n: number, log: RotationLog, threads: number): Promise<void> {
  const strips = Math.ceil(n / ROTATION_STRIP);
  const parts = Math.min(threads, strips);
  if (parts <= 1 || !(w.buffer instanceof SharedArrayBuffer) || disabled) {
    log.applyTo(w, n);
    return;
  }
  try {
    while (pool.length < parts - 1) pool.push(spawnWorker());
  } catch (e) {
    disabled = e instanceof Error ? e.message : String(e);
    log.applyTo(w, n);
    return;
  }
  const idx = shared(log.idx, log.count, Int32Array);
  const cs = shared(log.cs, 2 * log.count, Float64Array);
  // ranges of whole strips, the engine's thread taking the first
  const bounds: number[] = [];
  for (let p = 0; p <= parts; p++) bounds.push(Math.min(n, Math.round((p * strips) / parts) * ROTATION_STRIP));
  const jobs = pool.slice(0, parts - 1).map((pw, i) => {
    pw.worker.ref();
    return run(pw, { w: w.buffer as SharedArrayBuffer, n, idx: idx.buffer as unknown as SharedArrayBuffer, cs: cs.buffer as unknown as SharedArrayBuffer, count: log.count, k0Start: bounds[i + 1], k0End: bounds[i + 2] }).finally(() => pw.worker.unref());
  });
  applyRotations(w, n, idx, cs, log.count, bounds[0], bounds[1]);
  await Promise.all(jobs);
}
