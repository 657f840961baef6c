// `npm run bench`: runs every bench/*.ts that exports `bench`, each in its own process (so one
// benchmark's backend or memory never leaks into the next), and writes bench/results/latest.json
// and latest.md. `npm run bench -- fid` runs only files whose name contains "fid".
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types';

const here = dirname(fileURLToPath(import.meta.url));

type Row = BenchResult & { file: string; ranAt?: string };

/** Rows of the previous latest.json from files this run did not run (rows without a date get the file's). */
function keptRows(file: string, ran: Set<string>): Row[] {
  if (!existsSync(file)) return [];
  const old = JSON.parse(readFileSync(file, 'utf8')) as { date?: string; results?: Row[] };
  return (old.results ?? []).filter((r) => !ran.has(r.file)).map((r) => ({ ...r, ranAt: r.ranAt ?? old.date }));
}

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
    .filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts', 'reference.ts', 'context.ts'].includes(f))
    .filter((f) => !filter || f.includes(filter))
    .sort();
  const results: Row[] = [];
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
  // a filtered run replaces only its own files' rows; the others keep theirs, with the date they ran
  for (const r of results) r.ranAt = meta.date;
  if (filter) results.push(...keptRows(join(dir, 'latest.json'), new Set(files)));
  writeFileSync(join(dir, 'latest.json'), JSON.stringify({ ...meta, filter: filter ?? null, results, failures }, null, 2) + '\n');
  const md = [
    `# Benchmarks (${meta.date}, node ${meta.node}, ${meta.cpus} × ${meta.cpu})`,
    '',
    ...(filter ? [`Only files matching "${filter}" ran at this date; the other rows are from the earlier runs their "ran" column gives.`, ''] : []),
    '| file | benchmark | backend | value | unit | details | ran |',
    '|---|---|---|---|---|---|---|',
    ...results.map((r) => `| ${r.file} | ${r.name} | ${r.backend ?? ''} | ${r.value.toPrecision(4)} | ${r.unit} | ${Object.entries(r.details ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')} | ${r.ranAt ?? ''} |`),
    ...(failures.length ? ['', '## Failures', ...failures.map((f) => `- ${f.file}: ${f.error}`)] : []),
    '',
  ].join('\n');
  writeFileSync(join(dir, 'latest.md'), md);
  process.stderr.write(`wrote ${join(dir, 'latest.json')}\n`);
  if (failures.length) process.exitCode = 1;
}

await main();
