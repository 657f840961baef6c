// The CLI command table. Each command: the words that name it, its options, and what it does.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { forkLauncher } from '../host/engine-channel';
import { ensureHome, resolveHome } from '../host/home';
import { SCHEMA_VERSION } from '../host/store/db';
import { EngineSupervisor } from '../host/supervisor';
import { APP_VERSION } from '../host/version';
import { serve } from '../serve/server';
import { printJson, runJob, readLab, table, UsageError, withLab } from './util';

export interface CommandInput {
  home: string | undefined;
  opts: Record<string, string | boolean | undefined>;
  args: string[];
}

export interface Command {
  words: string[];
  usage: string;
  summary: string;
  options: Record<string, { type: 'string' | 'boolean'; short?: string }>;
  run(input: CommandInput): Promise<number>;
}

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..');

export function intOpt(v: string | boolean | undefined, name: string, def?: number): number | undefined {
  if (v === undefined) return def;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isInteger(n)) throw new UsageError(`--${name} takes a whole number, got "${String(v)}"`);
  return n;
}

function electronBinaryPresent(): boolean {
  try {
    const req = createRequire(import.meta.url);
    const p = req('electron') as unknown;
    return typeof p === 'string' && existsSync(p);
  } catch {
    return false;
  }
}

const doctor: Command = {
  words: ['doctor'],
  usage: 'doctor [--json]',
  summary: 'backend, versions, lab home and schema',
  options: {},
  async run({ home, opts }) {
    const dir = resolveHome(home);
    ensureHome(dir);
    const sup = new EngineSupervisor(forkLauncher(dir));
    const info = await sup.start();
    await sup.stop();
    const report = {
      backend: info.backend,
      device: info.device,
      versions: { toklab: APP_VERSION, ...info.versions },
      patchedKernels: info.patchedKernels,
      notes: info.notes,
      home: dir,
      schemaVersion: SCHEMA_VERSION,
      electronBinary: electronBinaryPresent(),
    };
    if (opts.json) printJson(report);
    else
      process.stdout.write(
        `backend   ${report.backend} (${report.device})\nhome      ${dir}\nschema    ${SCHEMA_VERSION}\nelectron  ${report.electronBinary ? 'binary installed' : 'binary not installed (use toklab serve)'}\n` +
          Object.entries(report.versions).map(([k, v]) => `  ${k} ${v}`).join('\n') + '\n' +
          (info.notes.length ? `notes:\n${info.notes.map((n) => `  - ${n}`).join('\n')}\n` : ''),
      );
    return 0;
  },
};

const runsList: Command = {
  words: ['runs', 'list'],
  usage: 'runs list [--kind K] [--status S] [--tag T] [--search TEXT] [--json]',
  summary: 'runs recorded in the lab (tag and search: case-insensitive substrings)',
  options: { kind: { type: 'string' }, status: { type: 'string' }, tag: { type: 'string' }, search: { type: 'string' } },
  async run({ home, opts }) {
    return readLab(home, async (lab) => {
      const runs = await lab.listRuns({ kind: opts.kind as never, status: opts.status as never, tag: opts.tag as string | undefined, search: opts.search as string | undefined });
      if (opts.json) printJson(runs);
      else process.stdout.write(table(runs.map((r) => ({ ...r, tags: r.tags.join(',') })), ['id', 'kind', 'name', 'status', 'createdAt', 'tags', 'error']));
      return 0;
    });
  },
};

const runsShow: Command = {
  words: ['runs', 'show'],
  usage: 'runs show <id> [--json]',
  summary: 'one run: config, metrics, scores, artifacts',
  options: {},
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'id');
    if (id === undefined) throw new UsageError('runs show needs a run id');
    return readLab(home, async (lab) => {
      const run = await lab.getRun(id);
      if (opts.json) printJson(run);
      else {
        process.stdout.write(`run ${run.id} ${run.kind} "${run.name}" ${run.status}${run.error ? ` — ${run.error}` : ''}\n`);
        for (const m of run.metrics) process.stdout.write(`  ${m.name}: ${m.values.length} points, last ${m.values[m.values.length - 1]}\n`);
        for (const s of run.scores) process.stdout.write(`  ${s.metric} = ${s.value} ${JSON.stringify(s.provenance)}\n`);
        for (const a of run.artifacts) process.stdout.write(`  [${a.kind}] ${a.path}\n`);
      }
      return 0;
    });
  },
};

const runsResume: Command = {
  words: ['runs', 'resume'],
  usage: 'runs resume <id>',
  summary: 'continue an interrupted or cancelled run',
  options: {},
  async run({ home, args }) {
    const id = intOpt(args[0], 'id');
    if (id === undefined) throw new UsageError('runs resume needs a run id');
    return withLab(home, async (lab) => {
      const final = await runJob(lab, () => lab.resumeRun(id));
      return final.status === 'done' || final.status === 'queued' ? 0 : 1;
    });
  },
};

const selftest: Command = {
  words: ['selftest'],
  usage: 'selftest [--steps N] [--json]',
  summary: 'train a tiny model for a few steps on the engine',
  options: { steps: { type: 'string' } },
  async run({ home, opts }) {
    return withLab(home, async (lab) => {
      const final = await runJob(lab, () => lab.startJob({ kind: 'selftest', spec: { steps: intOpt(opts.steps, 'steps', 20) ?? 20 } }));
      if (opts.json) printJson(await lab.getRun(final.id));
      return final.status === 'done' || final.status === 'queued' ? 0 : 1;
    });
  },
};

const serveCmd: Command = {
  words: ['serve'],
  usage: 'serve [--port N]',
  summary: 'the app in a browser on 127.0.0.1 (prints the URL with its token)',
  options: { port: { type: 'string' } },
  async run({ home, opts }) {
    const rendererDir = join(REPO_ROOT, 'out/renderer');
    if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`no renderer build in ${rendererDir}. Run \`npm run build\` first.`);
    const { Lab } = await import('../host/lab');
    const lab = new Lab({ home: resolveHome(home), frontDoor: 'serve', eagerEngine: true });
    const served = await serve({ lab, port: intOpt(opts.port, 'port', 0), rendererDir });
    process.stdout.write(`toklab serve: ${served.url}\n`);
    await new Promise<void>((resolve) => {
      const stop = (): void => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await served.close();
    await lab.close();
    return 0;
  },
};

import { DATASET_COMMANDS } from './commands-datasets';
import { EVAL_COMMANDS } from './commands-eval';
import { IMPORT_COMMANDS } from './commands-import';
import { EXPORT_COMMANDS } from './commands-export';
import { METRIC_COMMANDS } from './commands-metrics';
import { ONNX_COMMANDS } from './commands-onnx';
import { RUN_COMMANDS } from './commands-runs';
import { SLURM_COMMANDS } from './commands-slurm';
import { TRAIN_COMMANDS } from './commands-train';

export const COMMANDS: Command[] = [doctor, runsList, runsShow, runsResume, ...RUN_COMMANDS, selftest, serveCmd, ...DATASET_COMMANDS, ...TRAIN_COMMANDS, ...EVAL_COMMANDS, ...METRIC_COMMANDS, ...SLURM_COMMANDS, ...IMPORT_COMMANDS, ...EXPORT_COMMANDS, ...ONNX_COMMANDS];
