// `npm run bench`: runs every bench/*.ts that exports `bench`, one after another, and writes
// bench/results/latest.json and latest.md. `npm run bench -- fid` runs only files matching "fid".
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bench, BenchResult } from './types';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['run.ts', 'types.ts'].includes(f))
  .filter((f) => !filter || f.includes(filter))
  .sort();

const results: (BenchResult & { file: string })[] = [];
const failures: { file: string; error: string }[] = [];
for (const f of files) {
  const mod = (await import(pathToFileURL(join(here, f)).href)) as { bench?: Bench };
  if (!mod.bench) continue;
  process.stderr.write(`bench ${f} …\n`);
  try {
    for (const r of await mod.bench()) {
      results.push({ file: f, ...r });
      process.stderr.write(`  ${r.name}${r.backend ? ` [${r.backend}]` : ''}: ${r.value.toPrecision(4)} ${r.unit}\n`);
    }
  } catch (e) {
    failures.push({ file: f, error: e instanceof Error ? e.message : String(e) });
    process.stderr.write(`  failed: ${String(e)}\n`);
  }
}

const out = join(here, 'results');
mkdirSync(out, { recursive: true });
const meta = { date: new Date().toISOString(), node: process.version, cpus: (await import('node:os')).cpus().length };
writeFileSync(join(out, 'latest.json'), JSON.stringify({ ...meta, results, failures }, null, 2) + '\n');
const md = [
  `# Benchmarks (${meta.date}, node ${meta.node}, ${meta.cpus} cores)`,
  '',
  '| file | benchmark | backend | value | unit | details |',
  '|---|---|---|---|---|---|',
  ...results.map((r) => `| ${r.file} | ${r.name} | ${r.backend ?? ''} | ${r.value.toPrecision(4)} | ${r.unit} | ${Object.entries(r.details ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')} |`),
  ...(failures.length ? ['', '## Failures', ...failures.map((f) => `- ${f.file}: ${f.error}`)] : []),
  '',
].join('\n');
writeFileSync(join(out, 'latest.md'), md);
process.stderr.write(`wrote ${join(out, 'latest.json')}\n`);
if (failures.length) process.exitCode = 1;
