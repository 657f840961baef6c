// Chooses the TensorFlow.js backend the engine computes on: the fastest one that loads
// (tensorflow-gpu → tensorflow → wasm → cpu) or the one forced by opts.prefer / TOKLAB_BACKEND,
// and installs toklab's replacement kernels on it (engine/kernels).
import { createRequire } from 'node:module';
import path from 'node:path';
import { installCpuKernels, installWasmKernels } from './kernels';
import { tf } from './tf';
import { wantedThreads, withWasmThreads } from './wasm-threads';
import type { BackendInfo, BackendName } from './protocol';

const ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
const ACCEPTED = [...ORDER, 'auto'] as const;

/** tfjs' own name for each of ours (both libtensorflow packages register 'tensorflow'). */
const TF_NAME: Record<BackendName, string> = {
  'tensorflow-gpu': 'tensorflow',
  tensorflow: 'tensorflow',
  wasm: 'wasm',
  cpu: 'cpu',
};

const FIX: Record<BackendName, string> = {
  'tensorflow-gpu':
    'install it with `npm install --save-optional @tensorflow/tfjs-node-gpu@4.22.0` (needs network, Linux x64, CUDA 11.2 + cuDNN 8), or set TOKLAB_BACKEND=auto',
  tensorflow:
    'install it with `npm install --save-optional @tensorflow/tfjs-node@4.22.0` (needs network to fetch libtensorflow), or set TOKLAB_BACKEND=auto',
  wasm: 'reinstall dependencies (`npm ci`) so node_modules/@tensorflow/tfjs-backend-wasm/dist/*.wasm exist, or set TOKLAB_BACKEND=cpu',
  cpu: 'reinstall dependencies (`npm ci`)',
};

const requireHere = createRequire(import.meta.url);

/** Reads TOKLAB_BACKEND (or any user string): empty → 'auto'; anything unknown throws. */
export function parseBackendOverride(v: string | undefined): BackendName | 'auto' {
  if (v == null || v.trim() === '') return 'auto';
  const s = v.trim().toLowerCase();
  if ((ACCEPTED as readonly string[]).includes(s)) return s as BackendName | 'auto';
  throw new Error(`Unknown TensorFlow.js backend "${v}": use one of ${ACCEPTED.join(', ')}.`);
}

type Attempt = { ok: true; info: BackendInfo } | { ok: false; reason: string };

let current: BackendInfo | null = null;
let queue: Promise<unknown> = Promise.resolve();
let wasmPathsSet = false;

export function currentBackendInfo(): BackendInfo | null {
  return current;
}

/**
 * Selects and initialises the backend. An explicit opts.prefer wins over TOKLAB_BACKEND, which wins
 * over 'auto'. Calls are serialised; repeating a call that is already satisfied is a no-op.
 */
export function initBackend(opts: { prefer?: BackendName | 'auto' } = {}): Promise<BackendInfo> {
  const run = queue.then(() => selectBackend(opts));
  queue = run.catch(() => undefined);
  return run;
}

async function selectBackend(opts: { prefer?: BackendName | 'auto' }): Promise<BackendInfo> {
  const fromOpts = parseBackendOverride(opts.prefer);
  const fromEnv = parseBackendOverride(process.env.TOKLAB_BACKEND);
  const forced = fromOpts !== 'auto' ? fromOpts : fromEnv !== 'auto' ? fromEnv : null;
  const source = fromOpts !== 'auto' ? 'opts.prefer' : 'TOKLAB_BACKEND';

  if (current && tf.getBackend() === TF_NAME[current.backend] && (forced === null || forced === current.backend)) {
    return current;
  }
  const notes: string[] = [];
  for (const name of forced ? [forced] : ORDER) {
    const attempt = await tryBackend(name);
    if (attempt.ok) {
      current = { ...attempt.info, notes: [...notes, ...attempt.info.notes] };
      return current;
    }
    if (forced) {
      throw new Error(`Backend "${name}" was requested (${source}) but is unavailable: ${attempt.reason}. Fix: ${FIX[name]}.`);
    }
    notes.push(`${name} skipped: ${attempt.reason}`);
  }
  throw new Error(`No TensorFlow.js backend could be initialised: ${notes.join('; ')}`);
}

function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return msg.split('\n')[0].slice(0, 200);
}

function packageVersion(pkg: string): string | undefined {
  try {
    return (requireHere(`${pkg}/package.json`) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

function baseVersions(): Record<string, string> {
  const v: Record<string, string> = { 'tfjs-core': tf.version_core, node: process.versions.node };
  const cpu = packageVersion('@tensorflow/tfjs-backend-cpu');
  if (cpu) v['tfjs-backend-cpu'] = cpu;
  return v;
}

async function tryBackend(name: BackendName): Promise<Attempt> {
  try {
    switch (name) {
      case 'tensorflow-gpu':
      case 'tensorflow':
        return await tryLibTensorflow(name);
      case 'wasm':
        return await tryWasm();
      case 'cpu':
        return await tryCpu();
    }
  } catch (e) {
    return { ok: false, reason: firstLine(e) };
  }
}

/** tfjs-node(-gpu) are optional dependencies that fail to install offline: load lazily. */
async function tryLibTensorflow(name: 'tensorflow-gpu' | 'tensorflow'): Promise<Attempt> {
  const pkg = name === 'tensorflow-gpu' ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
  try {
    // A variable specifier keeps bundlers and tsc from resolving a package that may be absent.
    const spec: string = pkg;
    await import(/* @vite-ignore */ spec);
  } catch (e) {
    const missing = /Cannot find (package|module)|ERR_MODULE_NOT_FOUND|Failed to load url/i.test(firstLine(e));
    return {
      ok: false,
      reason: missing ? `${pkg} is not installed (optional dependency; its native install needs network)` : `${pkg} failed to load: ${firstLine(e)}`,
    };
  }
  if (!(await tf.setBackend('tensorflow'))) return { ok: false, reason: `${pkg} loaded but its backend did not initialise` };
  const notes: string[] = [];
  const inst = tf.backend() as { isUsingGpuDevice?: boolean };
  let device = 'cpu (libtensorflow)';
  if (name === 'tensorflow-gpu') {
    if (inst.isUsingGpuDevice) device = 'gpu (CUDA, libtensorflow)';
    else notes.push('tensorflow-gpu: libtensorflow sees no GPU, running on its CPU kernels');
  }
  const versions = baseVersions();
  versions[pkg.replace('@tensorflow/', '')] = packageVersion(pkg) ?? 'unknown';
  return { ok: true, info: { backend: name, device, versions, patchedKernels: [], notes } };
}

async function tryWasm(): Promise<Attempt> {
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  if (!wasmPathsSet) {
    // Node resolves the .wasm binaries by file path; the prefix needs its trailing slash.
    const dir = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm')) + path.sep;
    wasm.setWasmPaths(dir);
    wasmPathsSet = true;
  }
  const notes: string[] = [];
  const want = wantedThreads();
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) === true;
  let ready = false;
  if (want > 1 && simd) {
    // the threaded build (XNNPACK's thread pool) through engine/wasm-threads.ts
    ready = await withWasmThreads(wasm, tf.env(), want, () => tf.setBackend('wasm')).catch(() => false);
    if (!ready) notes.push(`wasm: the threaded build did not initialise; running on 1 thread (TOKLAB_THREADS=${want} asked for ${want})`);
  }
  if (!ready) {
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    if (!(await tf.setBackend('wasm'))) return { ok: false, reason: 'the wasm binary did not initialise' };
  }
  const patchedKernels = installWasmKernels();
  const threads = Math.max(1, wasm.getThreadsCount());
  const versions = { ...baseVersions(), 'tfjs-backend-wasm': wasm.version_wasm };
  const device = `cpu (wasm${simd ? ' simd' : ''}, ${threads} thread${threads === 1 ? '' : 's'})`;
  return { ok: true, info: { backend: 'wasm', device, threads, versions, patchedKernels, notes } };
}

async function tryCpu(): Promise<Attempt> {
  if (!(await tf.setBackend('cpu'))) return { ok: false, reason: 'the cpu backend did not initialise' };
  const patchedKernels = installCpuKernels();
  const notes = ['cpu: pure-JS kernels, ~40–150× slower than PyTorch for training; fine for tiny tests only'];
  return { ok: true, info: { backend: 'cpu', device: 'cpu (pure JS)', versions: baseVersions(), patchedKernels, notes } };
}
