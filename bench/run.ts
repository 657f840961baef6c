// `npm run bench`: runs every bench/*.ts that exports `bench`, each in its own process (so one
// benchmark's backend or memory never leaks into the next), and writes bench/results/latest.json
// and latest.md. `npm run bench -- fid` runs only files whose name contains "fid".
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types';

const here = dirname(fileURLToPath(import.meta.url));

/** Child mode: run one file's bench and write its rows as JSON. */
async function runOne(file: string, out: string): Promise<void> {
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { bench?: Bench };
  const rows = mod.bench ? await mod.bench() : [];
  writeFileSync(out, JSON.stringify(rows));
}

async function main(): Promise<void> {
  if (process.argv[2] === '--one') return runOne(process.argv[3], process.argv[4]);
  const filter = process.argv[2];
  const files = readdirSync(here)
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts', 'reference.ts'].includes(f))
    .filter((f) => !filter || f.includes(filter))
    .sort();
  const results: (BenchResult & { file: string })[] = [];
  const failures: { file: string; error: string }[] = [];
  // the PyTorch ratios compare one wasm thread with 1 and 2 torch threads; bench/threads.ts measures threads itself
  const benchEnv = { ...process.env, TOKLAB_THREADS: process.env.TOKLAB_THREADS ?? '1' };
  const tmp = mkdtempSync(join(tmpdir(), 'toklab-bench-'));
  for (const f of files) {
    process.stderr.write(`bench ${f} …\n`);
    const out = join(tmp, `${f}.json`);
    try {
      execFileSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--one', f, out], { stdio: ['ignore', 'inherit', 'inherit'], env: benchEnv });
      for (const r of JSON.parse(readFileSync(out, 'utf8')) as BenchResult[]) {
        results.push({ file: f, ...r });
        process.stderr.write(`  ${r.name}${r.backend ? ` [${r.backend}]` : ''}: ${r.value.toPrecision(4)} ${r.unit}\n`);
      }
    } catch (e) {
      failures.push({ file: f, error: e instanceof Error ? e.message.split('\n')[0] : String(e) });
      process.stderr.write(`  failed: ${String(e)}\n`);
    }
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model ?? '' };
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ ...meta, results, failures }, null, 2) + '\n');
  const md = [
    `# Benchmarks (${meta.date}, node ${meta.node}, ${meta.cpus} × ${meta.cpu})`,
    '',
    '| file | benchmark | backend | value | unit | details |',
    '|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.file} | ${r.name} | ${r.backend ?? ''} | ${r.value.toPrecision(4)} | ${r.unit} | ${Object.entries(r.details ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')} |`),
    ...(failures.length ? ['', '## Failures', ...failures.map((f) => `- ${f.file}: ${f.error}`)] : []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), md);
  process.stderr.write(`wrote ${join(dir, 'latest.json')}\n`);
  if (failures.length) process.exitCode = 1;
}

await main();
