// Benchmark: the same training steps on 1 wasm thread and on every core (TOKLAB_THREADS), side by side
// in one run. The thread count is fixed when the backend starts, so each setting runs in its own process.
import { execFileSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { initBackend } from '../engine/backend';
import { runTokenizerBench } from './tokenizer';
import { runGeneratorBench } from './generator';
import type { Bench, BenchResult } from './types';

const self = fileURLToPath(import.meta.url);

/** Child: the steps on whatever TOKLAB_THREADS says, as JSON rows on stdout. */
async function child(): Promise<void> {
  const info = await initBackend({ prefer: 'wasm' });
  const rows: BenchResult[] = [];
  for (const [preset, size] of [['vq-f2w-k1024', 16], ['vq-f4-k256', 32]] as const) {
    const tok = await runTokenizerBench({ presets: [preset], size, steps: 6, lp: false, reference: false });
    rows.push(...tok.filter((r) => r.unit === 'ms').map((r) => ({ ...r, name: `${r.name}, ${size} px` })));
  }
  const gen = await runGeneratorBench({ preset: 'gpt-nano', vocabSize: 1024, reference: false, sampling: false, trainSteps: 4 });
  rows.push(...gen.filter((r) => r.unit === 'ms' && r.name.includes('train')));
  // exit once written: the backend keeps the event loop alive, and the parent waits for the exit
  process.stdout.write(JSON.stringify({ threads: info.threads ?? 1, device: info.device, rows }) + '\n', () => process.exit(0));
}

function measure(threads: number): { threads: number; device: string; rows: BenchResult[] } {
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--child'], { env: { ...process.env, TOKLAB_THREADS: String(threads) }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(out.trim().split('\n').pop() ?? '{}');
}

export const bench: Bench = async () => {
  const cores = availableParallelism();
  if (cores < 2) {
    process.stderr.write('threads bench: skipped, this machine has 1 core\n');
    return [];
  }
  const one = measure(1);
  const all = measure(cores);
  const results: BenchResult[] = [];
  for (const r of one.rows) {
    const other = all.rows.find((x) => x.name === r.name);
    results.push({ ...r, name: `${r.name} (1 thread)`, details: { ...r.details, device: one.device } });
    if (!other) continue;
    results.push({ ...other, name: `${r.name} (${all.threads} threads)`, details: { ...other.details, device: all.device } });
    results.push({ name: `${r.name}: speed-up of ${all.threads} threads`, backend: r.backend, value: r.value / other.value, unit: 'x', details: { oneThreadMs: r.value, threadsMs: other.value } });
  }
  return results;
};

if (process.argv.includes('--child')) await child();
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) for (const r of await bench()) process.stdout.write(`${r.name}: ${r.value.toFixed(2)} ${r.unit}\n`);
