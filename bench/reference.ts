// PyTorch references for the engine benchmarks: bench/reference/*_torch.py build the identical
// tokenizer / generator and time the same training step under /usr/bin/python3 (the interpreter
// with torch; pyenv's python3 has none). Not a benchmark itself: bench/run.ts finds no `bench` here.
import { execFileSync, spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './types';

export const TORCH_PYTHON = '/usr/bin/python3';

export type TorchAvailability = { ok: true; version: string } | { ok: false; reason: string };

export interface TorchReference {
  /** Parameter count of the PyTorch model (must equal toklab's). */
  params: number;
  /** Median training step, ms. */
  ms: number;
  /** torch.get_num_threads() during the run. */
  threads: number;
  /** torch.__version__ */
  torch: string;
}

let cached: TorchAvailability | null = null;

/** Whether /usr/bin/python3 can import torch (cached per process). TOKLAB_BENCH_TORCH=0 turns the references off. */
export function torchAvailable(): TorchAvailability {
  if (cached) return cached;
  if (process.env.TOKLAB_BENCH_TORCH === '0') return (cached = { ok: false, reason: 'TOKLAB_BENCH_TORCH=0' });
  const r = spawnSync(TORCH_PYTHON, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8', timeout: 120_000 });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    cached = { ok: false, reason: code === 'ENOENT' ? `${TORCH_PYTHON} not found` : `${TORCH_PYTHON} did not run: ${r.error.message}` };
  } else if (r.status !== 0) {
    const last = (r.stderr ?? '').trim().split('\n').pop() || `exit status ${r.status ?? r.signal}`;
    cached = { ok: false, reason: `${TORCH_PYTHON} cannot import torch (${last})` };
  } else {
    cached = { ok: true, version: r.stdout.trim() };
  }
  return cached;
}

/** Thread counts to run the references with: 1, and 2 when the machine has two cores or more. */
export function referenceThreads(): number[] {
  return availableParallelism() >= 2 ? [1, 2] : [1];
}

/**
 * Runs one reference script (a file name under bench/reference/, or an absolute path) with `config`
 * as its JSON argument and returns its result line. Throws with the script's stderr when it fails.
 */
export function runTorchReference(script: string, config: Record<string, unknown>, timeoutMs = 20 * 60_000): TorchReference {
  const file = isAbsolute(script) ? script : fileURLToPath(new URL(`./reference/${script}`, import.meta.url));
  let text: string;
  try {
    text = execFileSync(TORCH_PYTHON, [file, JSON.stringify(config)], {
      encoding: 'utf8',
      timeout: timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  } catch (err) {
    const e = err as { stderr?: string; message?: string };
    const tail = (e.stderr ?? '').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`PyTorch reference ${script} failed: ${tail || e.message || String(err)}`);
  }
  const line = text.trim().split('\n').pop() ?? '';
  let out: Partial<TorchReference>;
  try {
    out = JSON.parse(line) as Partial<TorchReference>;
  } catch {
    throw new Error(`PyTorch reference ${script} printed no JSON result: ${line.slice(0, 200)}`);
  }
  if (typeof out.params !== 'number' || typeof out.ms !== 'number' || typeof out.threads !== 'number' || typeof out.torch !== 'string') {
    throw new Error(`PyTorch reference ${script} returned an incomplete result: ${line.slice(0, 200)}`);
  }
  return out as TorchReference;
}

/** Throws unless the PyTorch model has exactly toklab's parameter count (i.e. it is the same model). */
export function checkSameModel(what: string, toklabParams: number, ref: TorchReference): void {
  if (ref.params !== toklabParams) {
    throw new Error(`${what}: the PyTorch reference has ${ref.params} parameters, toklab ${toklabParams}; the two are not the same model`);
  }
}

/**
 * The rows for one model at every reference thread count: PyTorch's step and the toklab/PyTorch ratio.
 * Runs the reference script and checks the parameter counts first.
 */
export function referenceRows(
  name: string,
  backend: string,
  own: { ms: number; params: number },
  script: string,
  config: Record<string, unknown>,
  details: Record<string, string | number | boolean>,
): BenchResult[] {
  const rows: BenchResult[] = [];
  for (const threads of referenceThreads()) {
    const ref = runTorchReference(script, { ...config, threads });
    checkSameModel(name, own.params, ref);
    const th = `${threads} thread${threads === 1 ? '' : 's'}`;
    const d = { ...details, params: ref.params, threads: ref.threads, torch: ref.torch };
    rows.push({ name: `${name} [pytorch ${th}]`, backend: 'pytorch cpu', value: ref.ms, unit: 'ms', details: d });
    rows.push({ name: `${name} toklab/pytorch (${th})`, backend: `${backend}/pytorch`, value: own.ms / ref.ms, unit: 'x', details: { ...d, toklabMs: own.ms, pytorchMs: ref.ms } });
  }
  return rows;
}
