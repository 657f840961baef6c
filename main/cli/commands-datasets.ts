// `toklab datasets add|list|show`: built-in datasets and ImageFolder imports, recorded in SQLite.
import { resolve } from 'node:path';
import type { Command } from './commands';
import { intOpt } from './commands';
import { printJson, runJob, readLab, table, UsageError, withLab } from './util';

function numOpt(v: string | boolean | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(n)) throw new UsageError(`--${name} takes a number, got "${String(v)}"`);
  return n;
}

const add: Command = {
  words: ['datasets', 'add'],
  usage: 'datasets add shapes|mnist|<folder> [--name N] [--resolution R] …',
  summary: 'build a built-in dataset or import an ImageFolder',
  options: {
    name: { type: 'string' },
    resolution: { type: 'string' },
    'val-share': { type: 'string' },
    seed: { type: 'string' },
    channels: { type: 'string' },
    'train-count': { type: 'string' },
    'val-count': { type: 'string' },
  },
  async run({ home, opts, args }) {
    const what = args[0];
    if (!what) throw new UsageError('datasets add needs shapes, mnist or a folder path');
    const source = what === 'shapes' || what === 'mnist' ? what : 'folder';
    const spec: Record<string, string | number> = { source };
    if (source === 'folder') spec.folder = resolve(what);
    const set = (k: string, v: number | string | undefined): void => {
      if (v !== undefined) spec[k] = v;
    };
    set('name', opts.name as string | undefined);
    set('resolution', intOpt(opts.resolution, 'resolution'));
    set('valShare', numOpt(opts['val-share'], 'val-share'));
    set('seed', intOpt(opts.seed, 'seed'));
    set('channels', intOpt(opts.channels, 'channels'));
    set('trainCount', intOpt(opts['train-count'], 'train-count'));
    set('valCount', intOpt(opts['val-count'], 'val-count'));
    return withLab(home, async (lab) => {
      const final = await runJob(lab, () => lab.startJob({ kind: 'dataset-build', spec }));
      if (final.status !== 'done') return final.status === 'queued' ? 0 : 1;
      const d = (await lab.listDatasets()).find((x) => x.runId === final.id);
      if (opts.json) printJson(d);
      else if (d) {
        process.stdout.write(`dataset ${d.id} "${d.name}": ${d.numClasses} classes, ${d.trainN} train + ${d.valN} val, ${d.resolution}px × ${d.channels}\n`);
        const skipped = (d.meta.skipped ?? []) as { file: string; reason: string }[];
        if (skipped.length) process.stdout.write(`skipped ${String(d.meta.skippedCount)} file(s):\n${skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}\n`);
      }
      return 0;
    });
  },
};

const list: Command = {
  words: ['datasets', 'list'],
  usage: 'datasets list [--json]',
  summary: 'datasets in the lab',
  options: {},
  async run({ home, opts }) {
    return readLab(home, async (lab) => {
      const ds = await lab.listDatasets();
      if (opts.json) printJson(ds);
      else process.stdout.write(table(ds as unknown as Record<string, unknown>[], ['id', 'name', 'kind', 'resolution', 'channels', 'numClasses', 'trainN', 'valN', 'createdAt']));
      return 0;
    });
  },
};

const show: Command = {
  words: ['datasets', 'show'],
  usage: 'datasets show <id> [--json]',
  summary: 'one dataset: classes, counts, skipped files',
  options: {},
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'id');
    if (id === undefined) throw new UsageError('datasets show needs a dataset id');
    return readLab(home, async (lab) => {
      const d = await lab.getDataset(id);
      if (opts.json) printJson(d);
      else {
        process.stdout.write(`dataset ${d.id} "${d.name}" (${d.kind}, from ${d.source})\n${d.resolution}px × ${d.channels} channels, ${d.trainN} train + ${d.valN} val\n`);
        const classes = (d.meta.classes ?? []) as string[];
        const counts = (d.meta.classCounts ?? { train: [], val: [] }) as { train: number[]; val: number[] };
        process.stdout.write(table(classes.map((c, i) => ({ class: c, train: counts.train[i], val: counts.val[i] })), ['class', 'train', 'val']));
        const skipped = (d.meta.skipped ?? []) as { file: string; reason: string }[];
        if (skipped.length) process.stdout.write(`skipped:\n${skipped.map((s) => `  ${s.file}: ${s.reason}`).join('\n')}\n`);
      }
      return 0;
    });
  },
};

export const DATASET_COMMANDS: Command[] = [add, list, show];
