// Benchmark: FID on 2048-d features of 10k samples per side as the engine computes it (float64 statistics
// and eigen form; products on onnxruntime's GEMM, the blocked eigensolver, every core) against
// NumPy/SciPy's sqrtm formula (bench/fid_scipy.py under /usr/bin/python3, every core) on the same data.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { featureStatsAsync, fidFromStatsAsync } from '../engine/metrics/fid';
import { onnxDgemm, dgemmUnavailableReason } from '../engine/metrics/dgemm';
import { encodeNpy } from '../engine/metrics/npy';
import { Rng } from '../engine/rng';
import type { Bench, BenchResult } from './types';

export interface FidBenchOptions {
  n?: number;
  d?: number;
  seed?: number;
  /** Interpreter for the SciPy comparison; null skips it. */
  python?: string | null;
}

/**
 * Inception-like features: non-negative, low-rank structure plus noise. [n, d] = relu(z·W + shift + ε),
 * z [n, r] ~ N(0, 1), W [r, d] shared by both sides; side B gets a different shift and scale.
 */
export function structuredFeatures(n: number, d: number, w: Float64Array, r: number, shift: number, scale: number, rng: Rng): Float32Array {
  const out = new Float32Array(n * d);
  const z = new Float64Array(r);
  const row = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < r; k++) z[k] = rng.normal() * scale;
    row.fill(shift);
    for (let k = 0; k < r; k++) {
      const zk = z[k];
      const o = k * d;
      for (let j = 0; j < d; j++) row[j] += zk * w[o + j];
    }
    for (let j = 0; j < d; j++) out[i * d + j] = Math.max(0, row[j] + 0.3 * rng.normal());
  }
  return out;
}

function ms(t0: number): number {
  return Math.round(performance.now() - t0);
}

export async function runFidBench(opts: FidBenchOptions = {}): Promise<BenchResult[]> {
  const n = opts.n ?? 10_000, d = opts.d ?? 2048, seed = opts.seed ?? 2048;
  const python = opts.python === undefined ? '/usr/bin/python3' : opts.python;
  const rank = Math.min(64, d);
  const rng = new Rng(seed);
  const w = new Float64Array(rank * d).map(() => rng.normal() / Math.sqrt(rank));
  const a = structuredFeatures(n, d, w, rank, 0.1, 1, rng.fork(1));
  const b = structuredFeatures(n, d, w, rank, 0.15, 1.1, rng.fork(2));
  const size = `${n}×${d} per side`;

  // SciPy's BLAS uses every core: so does the engine here (run.ts gives benches 1 thread by default)
  const threads = availableParallelism();
  process.env.TOKLAB_THREADS = String(threads);
  const dg = await onnxDgemm(); // start-up outside the timing, as in a long-running engine
  const engine = dg ? `${dg.label} + ts float64` : `ts float64 (onnxruntime: ${dgemmUnavailableReason()})`;
  let t0 = performance.now();
  const sa = await featureStatsAsync(a, n, d), sb = await featureStatsAsync(b, n, d);
  const statsMs = ms(t0);
  t0 = performance.now();
  const { fid } = await fidFromStatsAsync(sa, sb);
  const fidMs = ms(t0);
  const tsTotal = statsMs + fidMs;
  const rows: BenchResult[] = [
    { name: `fid ${d}-d ${n} stats`, backend: engine, value: statsMs, unit: 'ms', details: { size, threads } },
    { name: `fid ${d}-d ${n} eigen-form fid`, backend: engine, value: fidMs, unit: 'ms', details: { size, fid, threads } },
    { name: `fid ${d}-d ${n} total`, backend: engine, value: tsTotal, unit: 'ms', details: { size, fid, threads } },
  ];
  if (python === null) return rows;

  const tmp = mkdtempSync(join(tmpdir(), 'toklab-fid-bench-'));
  try {
    const pa = join(tmp, 'a.npy'), pb = join(tmp, 'b.npy');
    writeFileSync(pa, encodeNpy(a, [n, d]));
    writeFileSync(pb, encodeNpy(b, [n, d]));
    let out: { fid?: number; stats_ms?: number; fid_ms?: number; error?: string; numpy?: string; scipy?: string };
    try {
      const script = fileURLToPath(new URL('./fid_scipy.py', import.meta.url));
      const text = execFileSync(python, [script, pa, pb], { encoding: 'utf8', timeout: 30 * 60_000, stdio: ['ignore', 'pipe', 'pipe'] });
      out = JSON.parse(text.trim().split('\n').pop() ?? '{}');
    } catch (err) {
      out = { error: `could not run ${python}: ${(err as Error).message.split('\n')[0]}` };
    }
    if (out.error !== undefined || out.fid === undefined || out.stats_ms === undefined || out.fid_ms === undefined) {
      rows.push({ name: `fid ${d}-d ${n} scipy sqrtm`, backend: 'python', value: 0, unit: 'ms', details: { skipped: out.error ?? 'no result from fid_scipy.py' } });
      return rows;
    }
    const pyTotal = out.stats_ms + out.fid_ms;
    const versions = `numpy ${out.numpy}, scipy ${out.scipy}`;
    rows.push(
      { name: `fid ${d}-d ${n} stats`, backend: 'numpy', value: Math.round(out.stats_ms), unit: 'ms', details: { size, versions } },
      { name: `fid ${d}-d ${n} sqrtm fid`, backend: 'scipy', value: Math.round(out.fid_ms), unit: 'ms', details: { size, fid: out.fid, versions } },
      { name: `fid ${d}-d ${n} total`, backend: 'numpy+scipy', value: Math.round(pyTotal), unit: 'ms', details: { size, fid: out.fid } },
      {
        name: `fid ${d}-d ${n} ts/scipy time ratio`,
        value: Number((tsTotal / pyTotal).toFixed(2)),
        unit: 'x',
        details: { statsRatio: Number((statsMs / out.stats_ms).toFixed(2)), fidRatio: Number((fidMs / out.fid_ms).toFixed(2)), fidRelDiff: Math.abs(fid - out.fid) / Math.abs(out.fid) },
      },
    );
    return rows;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

export const bench: Bench = () => runFidBench();
