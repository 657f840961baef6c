// `toklab fid A B`: FID (and KID) between feature files researchers already have — a .npy of
// features [N, d] or an .npz with mu and sigma (the ADM reference-batch layout).
import { existsSync } from 'node:fs';
import { computeFidFromFiles } from '../../engine/metrics/feature-files';
import type { Command } from './commands';
import { printJson, UsageError } from './util';

const fid: Command = {
  words: ['fid'],
  usage: 'fid A B [--json]',
  summary: 'FID (+KID) between two .npy feature / .npz stats files',
  options: {},
  async run({ opts, args }) {
    if (args.length !== 2) throw new UsageError('fid needs two files: toklab fid A.npy B.npz');
    for (const f of args) if (!existsSync(f)) throw new UsageError(`${f}: no such file`);
    const r = await computeFidFromFiles(args[0], args[1]);
    if (opts.json) printJson({ fid: r.fid, kid: r.kid ?? null, nA: r.nA, nB: r.nB, d: r.d, warnings: r.warnings, a: args[0], b: args[1] });
    else {
      process.stdout.write(`FID ${r.fid.toFixed(6)}  (d = ${r.d}, N = ${r.nA ?? 'stats'} vs ${r.nB ?? 'stats'}, float64, eigenvalue form)\n`);
      if (r.kid) process.stdout.write(`KID ${r.kid.kid.toExponential(4)} ± ${r.kid.std.toExponential(2)}  (unbiased, cubic polynomial kernel)\n`);
      for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
    }
    return 0;
  },
};

export const METRIC_COMMANDS: Command[] = [fid];
