// Host ↔ engine messages. The engine process speaks only this; the host supervises it.
// Pixels never travel here: the engine writes files under the run folder and names them.

/** Which job implementations the engine knows. One file per kind in engine/jobs/. */
export type JobKind =
  | 'selftest'
  | 'dataset-build'
  | 'train-tokenizer'
  | 'eval-tokenizer'
  | 'extract-tokens'
  | 'train-feature-net'
  | 'train-generator'
  | 'sample'
  | 'eval-generator'
  | 'posttrain'
  | 'import-tokenizer'
  | 'add-extractor';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export interface BackendInfo {
  backend: BackendName;
  device: string;
  /** Threads the backend computes on (wasm: XNNPACK's pool; 1 where the backend has no such knob). */
  threads?: number;
  versions: Record<string, string>;
  /** Kernels replaced or added by toklab on this backend (see engine/kernels). */
  patchedKernels: string[];
  /** Why faster backends were not used, one line each. */
  notes: string[];
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
export type JsonObject = { [k: string]: JsonValue };

export interface MetricPoint {
  name: string;
  step: number;
  value: number;
}

export interface ScoreRecord {
  metric: string;
  value: number;
  /** Where the number came from: extractor id, N, seed, split, α, δ, CFG, … */
  provenance: JsonObject;
}

/** Host → engine. */
export type EngineRequest =
  | {
      type: 'start';
      jobId: number;
      runId: number;
      kind: JobKind;
      spec: JsonObject;
      /** Absolute lab home and this run's own folder (already created). */
      home: string;
      runDir: string;
    }
  | { type: 'cancel'; jobId: number }
  | { type: 'shutdown' };

/** Engine → host. */
export type EngineEvent =
  | { type: 'ready'; pid: number; info: BackendInfo }
  | { type: 'started'; jobId: number }
  | { type: 'progress'; jobId: number; done: number; total: number; message?: string }
  | { type: 'metrics'; jobId: number; points: MetricPoint[] }
  | { type: 'score'; jobId: number; score: ScoreRecord }
  | { type: 'artifact'; jobId: number; kind: string; path: string; meta: JsonObject }
  | { type: 'log'; jobId: number | null; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'done'; jobId: number; result: JsonObject }
  /** fatal: the engine cannot run another job (its wasm instance aborted); the host replaces it. */
  | { type: 'failed'; jobId: number; error: string; fatal?: boolean }
  | { type: 'cancelled'; jobId: number };

export function isEngineEvent(m: unknown): m is EngineEvent {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}
