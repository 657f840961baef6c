// The threaded wasm build (XNNPACK's pthreadpool on Emscripten pthreads) in plain Node.
//
// tfjs-backend-wasm ships the threaded binary but never uses it in Node: its feature flag says
// "no" there, and two browser-only steps break it. (1) The pthread worker script is handed to
// `new Worker()` as a blob: URL, which Node's worker_threads refuse; (2) the worker is sent the
// Emscripten module as a Blob, which the worker cannot import synchronously. And the backend
// caps its pool at half of os.cpus() (it assumes two hyperthreads per core), so a 2-vCPU
// machine gets one thread.
//
// This module supplies a small worker file (written once per process into a private temp folder)
// that loads tfjs' own worker code and points it at the module file on disk, hands that file to
// Emscripten instead of the blob: URL, and reports the wanted thread count while the backend
// initialises. Numerics do not change: XNNPACK splits output tiles between threads, and each
// output is summed in the same order (test/engine/wasm-threads.test.ts checks a training run).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const requireHere = createRequire(import.meta.url);

/** How many threads the wasm backend should use: TOKLAB_THREADS, else every core of the machine. */
export function wantedThreads(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TOKLAB_THREADS;
  const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  if (v === undefined || v.trim() === '') return Math.max(1, cores);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new Error(`TOKLAB_THREADS is "${v}": give a whole number from 1 to 64 (threads of the wasm backend), or unset it to use every core (${cores} here).`);
  return n;
}

let workerFile: string | null = null;

/** The pthread worker script, written once into a private temp folder (removed at exit). */
function pthreadWorkerFile(): string {
  if (workerFile) return workerFile;
  const pkgRoot = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
  const out = path.join(pkgRoot, 'wasm-out');
  const mainScript = path.join(out, 'tfjs-backend-wasm-threaded-simd.js');
  const workerSource = path.join(out, 'tfjs-backend-wasm-threaded-simd.worker.js');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'toklab-wasm-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'pthread-worker.cjs');
  // tfjs turns the worker source's newlines into "\n" escapes before making its Blob; do the same.
  // The 'load' message carries the module as a Blob: give the worker the module's file instead.
  const code = `'use strict';
const wt = require('worker_threads');
const { wasmWorkerContents } = require(${JSON.stringify(workerSource)});
const port = wt.parentPort;
const on = port.on.bind(port);
port.on = (ev, fn) => on(ev, ev !== 'message' ? fn : (d) => {
  if (d && d.cmd === 'load' && typeof d.urlOrBlob !== 'string') d.urlOrBlob = ${JSON.stringify(mainScript)};
  fn(d);
});
new Function('require', '__filename', wasmWorkerContents.replace(/\\n/g, '\\\\n'))(require, __filename);
`;
  writeFileSync(file, code, { mode: 0o600 });
  workerFile = file;
  return file;
}

let urlPatched = false;

/**
 * Prepares the threaded build before `tf.setBackend('wasm')`; `initialise` runs the backend's
 * initialisation while os.cpus() reports 2·threads entries (the backend keeps half of them).
 */
export async function withWasmThreads<T>(
  wasm: { setThreadsCount(n: number): void },
  env: { set(flag: string, v: boolean): void },
  threads: number,
  initialise: () => Promise<T>,
): Promise<T> {
  const file = pthreadWorkerFile();
  if (!urlPatched) {
    // Emscripten asks for its worker with URL.createObjectURL(Blob of type application/javascript);
    // answer with the worker file. Every other Blob keeps Node's own behaviour.
    const original = URL.createObjectURL.bind(URL);
    URL.createObjectURL = (obj: Blob) => (obj instanceof Blob && obj.type === 'application/javascript' ? file : original(obj));
    urlPatched = true;
  }
  env.set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  const cpus = os.cpus;
  const one = cpus()[0];
  os.cpus = () => Array.from({ length: 2 * threads }, () => one);
  try {
    return await initialise();
  } finally {
    os.cpus = cpus;
  }
}
