// `toklab train tokenizer|generator`, `toklab tokens extract`, `toklab sample`: queue a job with
// the options given, follow it, print where its results are.
import type { JsonObject, StartJobRequest } from '../../preload/contract';
import type { Command } from './commands';
import { progressLine } from '../../preload/progress';
import { intOpt } from './commands';
import { engineCount, printJson, runJob, UsageError, withLab } from './util';

/** `alpha=1,beta=0.1,delta=2.5%` → {alpha: 1, beta: 0.1, delta: "2.5%"}; words (and percentages) stay strings. */
export function parseKv(v: string | boolean | undefined, flag: string): Record<string, number | string | boolean> | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new UsageError(`--${flag} takes key=value pairs, e.g. --${flag} alpha=1,delta=2.5%`);
  const out: Record<string, number | string | boolean> = {};
  for (const part of v.split(',').filter(Boolean)) {
    const [k, val] = part.split('=');
    if (!k || val === undefined) throw new UsageError(`--${flag}: "${part}" is not key=value`);
    out[k.trim()] = val === 'true' ? true : val === 'false' ? false : Number.isFinite(Number(val)) ? Number(val) : val.trim();
  }
  return out;
}

export function numList(v: string | boolean | undefined, flag: string): number[] | undefined {
  if (v === undefined) return undefined;
  const xs = String(v).split(',').filter(Boolean).map(Number);
  if (typeof v !== 'string' || xs.some((x) => !Number.isFinite(x))) throw new UsageError(`--${flag} takes a comma-separated list of numbers, e.g. 0,1.5,3`);
  return xs;
}

/** `2%` → 0.02 (through the decimal string, so `2.4%` is exactly the double 0.024); null when not a percentage. */
export function parsePercent(v: string): number | null {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*%\s*$/.exec(v);
  return m ? Number(`${m[1]}e-2`) : null;
}

/**
 * δ of the CLI: a share of K only when written as one (`2%`, or a number with deltaMode=share);
 * otherwise an absolute number of codes (`delta=1` means one code, and is refused by the validator).
 */
export function cliDelta(v: number | string | boolean, mode: unknown, flag: string): { delta: number; deltaMode: 'abs' | 'share' } {
  if (mode !== undefined && mode !== 'abs' && mode !== 'share') throw new UsageError(`${flag}: deltaMode is "${String(mode)}"; use deltaMode=abs (codes) or deltaMode=share (of K)`);
  if (typeof v === 'string') {
    const share = parsePercent(v);
    if (share === null) throw new UsageError(`${flag}: delta "${v}" is neither a number of codes (delta=8) nor a share of K (delta=2%)`);
    if (mode === 'abs') throw new UsageError(`${flag}: delta ${v} is a share of K but deltaMode=abs; drop deltaMode or write the number of codes`);
    return { delta: share, deltaMode: 'share' };
  }
  if (typeof v !== 'number') throw new UsageError(`${flag}: delta needs a value, e.g. delta=8 (codes) or delta=2% (of K)`);
  if (mode === 'share') return { delta: v, deltaMode: 'share' };
  if (!Number.isInteger(v)) throw new UsageError(`${flag}: delta ${v} is not a whole number of codes; write a share of K as delta=${Number((v * 100).toPrecision(12))}% or add deltaMode=share`);
  return { delta: v, deltaMode: 'abs' };
}

/** The LP option as the spec wants it: δ is codes unless written as a share (`delta=2%` or deltaMode=share). */
export function lpFromCli(kv: Record<string, number | string | boolean> | undefined): JsonObject | undefined {
  if (!kv) return undefined;
  const lp: JsonObject = { ...kv };
  if (kv.include_self !== undefined) {
    lp.includeSelf = kv.include_self;
    delete lp.include_self;
  }
  if (kv.delta !== undefined) Object.assign(lp, cliDelta(kv.delta, kv.deltaMode, '--lp'));
  return lp;
}

async function startAndFollow(home: string | undefined, req: StartJobRequest, json: boolean): Promise<number> {
  return withLab(home, async (lab) => {
    const final = await runJob(lab, () => lab.startJob(req));
    if (json) printJson(await lab.getRun(final.id));
    else if (final.status === 'done') {
      const d = await lab.getRun(final.id);
      for (const s of d.scores) process.stdout.write(`${s.metric} = ${s.value.toPrecision(5)}  (${Object.entries(s.provenance).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(', ')})\n`);
      process.stdout.write(`run ${final.id} done; files in ${lab.runDir(final.id)}\n`);
    }
    return final.status === 'done' || final.status === 'queued' ? 0 : 1;
  });
}

const common = { epochs: { type: 'string' }, seed: { type: 'string' }, 'batch-size': { type: 'string' }, lr: { type: 'string' }, warmup: { type: 'string' }, name: { type: 'string' }, workers: { type: 'string' } } as const;

function commonSpec(opts: Record<string, string | boolean | undefined>): JsonObject {
  const spec: JsonObject = {};
  const e = intOpt(opts.epochs, 'epochs');
  if (e !== undefined) spec.epochs = e;
  const s = intOpt(opts.seed, 'seed');
  if (s !== undefined) spec.seed = s;
  const b = intOpt(opts['batch-size'], 'batch-size');
  if (b !== undefined) spec.batchSize = b;
  if (opts.lr !== undefined) spec.lr = Number(opts.lr);
  const w = intOpt(opts.warmup, 'warmup');
  if (w !== undefined) spec.warmup = w;
  Object.assign(spec, workersOpt(opts));
  return spec;
}

/** --workers N: worker threads of a training or an evaluation; 0 or absent = auto (this engine's share of the cores where it pays off). */
export function workersOpt(opts: Record<string, string | boolean | undefined>): JsonObject {
  const wk = intOpt(opts.workers, 'workers');
  return wk === undefined ? {} : { workers: wk };
}

const trainTokenizer: Command = {
  words: ['train', 'tokenizer'],
  usage: 'train tokenizer --dataset D --preset P [--lp …] [--anneal …] [--workers N]',
  summary: 'VQ tokenizer, optionally with latent perturbation',
  options: { ...common, dataset: { type: 'string' }, preset: { type: 'string' }, lp: { type: 'string' }, anneal: { type: 'string' }, 'train-limit': { type: 'string' }, 'val-limit': { type: 'string' } },
  async run({ home, opts }) {
    if (!opts.dataset) throw new UsageError('train tokenizer needs --dataset <id or name> (see `toklab datasets list`)');
    const spec: JsonObject = { ...commonSpec(opts), dataset: String(opts.dataset) };
    if (opts.preset) spec.preset = String(opts.preset);
    const lp = lpFromCli(parseKv(opts.lp, 'lp'));
    if (lp) spec.lp = lp;
    const an = parseKv(opts.anneal, 'anneal');
    if (an) spec.anneal = { start: an.start ?? 0.2, end: an.end ?? 0.6, endRatio: an.ratio ?? an.endRatio ?? 0.5 } as JsonObject;
    const tl = intOpt(opts['train-limit'], 'train-limit');
    if (tl !== undefined) spec.trainLimit = tl;
    const vl = intOpt(opts['val-limit'], 'val-limit');
    if (vl !== undefined) spec.valLimit = vl;
    return startAndFollow(home, { kind: 'train-tokenizer', spec, name: opts.name as string | undefined }, Boolean(opts.json));
  },
};

const trainFeatureNet: Command = {
  words: ['train', 'feature-net'],
  usage: 'train feature-net --dataset D [--max-steps N] [--min-steps N] [--data auto|fresh|split] [--seed S]',
  summary: 'the lab feature network of a dataset (trained until held-out accuracy plateaus)',
  options: { dataset: { type: 'string' }, 'max-steps': { type: 'string' }, 'min-steps': { type: 'string' }, 'eval-every': { type: 'string' }, data: { type: 'string' }, seed: { type: 'string' }, json: { type: 'boolean' } },
  async run({ home, opts }) {
    if (!opts.dataset) throw new UsageError('train feature-net needs --dataset <id or name> (see `toklab datasets list`)');
    const spec: JsonObject = { dataset: String(opts.dataset) };
    for (const [flag, key] of [['max-steps', 'maxSteps'], ['min-steps', 'minSteps'], ['eval-every', 'evalEvery'], ['seed', 'seed']] as const) {
      const v = intOpt(opts[flag], flag);
      if (v !== undefined) spec[key] = v;
    }
    if (opts.data !== undefined) spec.data = String(opts.data);
    return startAndFollow(home, { kind: 'train-feature-net', spec }, Boolean(opts.json));
  },
};

const extract: Command = {
  words: ['tokens', 'extract'],
  usage: 'tokens extract <tokenizer-run>',
  summary: 'encode the dataset into cached token grids',
  options: {},
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'tokenizer-run');
    if (id === undefined) throw new UsageError('tokens extract needs a tokenizer run id');
    return startAndFollow(home, { kind: 'extract-tokens', spec: { tokenizer: id } }, Boolean(opts.json));
  },
};

const trainGenerator: Command = {
  words: ['train', 'generator'],
  usage: 'train generator --tokenizer <run> --arch raster|rar [--preset P] [--workers N]',
  summary: 'class-conditional AR generator on cached tokens',
  options: { ...common, tokenizer: { type: 'string' }, arch: { type: 'string' }, preset: { type: 'string' } },
  async run({ home, opts }) {
    const tok = intOpt(opts.tokenizer, 'tokenizer');
    if (tok === undefined) throw new UsageError('train generator needs --tokenizer <run id>');
    const spec: JsonObject = { ...commonSpec(opts), tokenizer: tok, arch: String(opts.arch ?? 'raster') };
    if (opts.preset) spec.preset = String(opts.preset);
    return startAndFollow(home, { kind: 'train-generator', spec, name: opts.name as string | undefined }, Boolean(opts.json));
  },
};

const sample: Command = {
  words: ['sample'],
  usage: 'sample <generator-run> --cfg 0,1.5,3 [--per-class N] [--seed S]',
  summary: 'galleries without and with CFG on matched seeds',
  options: { cfg: { type: 'string' }, 'per-class': { type: 'string' }, seed: { type: 'string' }, classes: { type: 'string' }, schedule: { type: 'string' }, power: { type: 'string' }, temperature: { type: 'string' } },
  async run({ home, opts, args }) {
    const gen = intOpt(args[0], 'generator-run');
    if (gen === undefined) throw new UsageError('sample needs a generator run id');
    const cfg = numList(opts.cfg, 'cfg') ?? [0, 1.5];
    const perClass = intOpt(opts['per-class'], 'per-class', 4) ?? 4;
    const seed = intOpt(opts.seed, 'seed', 0) ?? 0;
    const spec: JsonObject = {
      generator: gen,
      withoutCfg: cfg.includes(0) || cfg.includes(1),
      scales: cfg.filter((g) => g !== 0 && g !== 1),
      seeds: Array.from({ length: perClass }, (_, i) => seed + i),
    };
    const classes = numList(opts.classes, 'classes');
    if (classes) spec.classes = classes;
    if (opts.schedule) spec.schedule = String(opts.schedule);
    if (opts.power) spec.power = Number(opts.power);
    if (opts.temperature) spec.temperature = Number(opts.temperature);
    return startAndFollow(home, { kind: 'sample', spec }, Boolean(opts.json));
  },
};

export const TRAIN_COMMANDS: Command[] = [trainTokenizer, trainFeatureNet, extract, trainGenerator, sample];

const study: Command = {
  words: ['study'],
  usage: 'study [--plan smoke|quick|standard] [--dataset shapes|mnist] [--engines N]',
  summary: 'the headless study: tokenizer zoo, pFID, generators, gFID, ρ',
  options: { plan: { type: 'string' }, dataset: { type: 'string' }, engines: { type: 'string' } },
  async run({ home, opts }) {
    const { STUDY_PLANS, planFor, runStudy } = await import('../host/study');
    const name = String(opts.plan ?? 'quick');
    if (!STUDY_PLANS[name]) throw new UsageError(`--plan: use one of ${Object.keys(STUDY_PLANS).join(', ')}`);
    const source = String(opts.dataset ?? 'shapes');
    if (source !== 'shapes' && source !== 'mnist') throw new UsageError(`--dataset: use shapes or mnist (the built-in datasets), got "${source}"`);
    const plan = planFor(name, source);
    const engines = engineCount(opts.engines as string | undefined);
    return withLab(home, async (lab) => {
      if (!lab.isWorker) throw new Error('another toklab runs this lab’s queue; stop it or use another --home for the study');
      // the jobs' own progress: a redrawn status line of the running steps on a terminal, a line per step every minute otherwise
      const running = new Map<number, { name: string; line: string; t: number }>();
      const tty = process.stderr.isTTY === true;
      const redraw = (): void => {
        if (tty) process.stderr.write(`\r\x1b[2K${[...running.entries()].map(([id, r]) => `run ${id}: ${r.line}`).join(' | ').slice(0, (process.stderr.columns ?? 160) - 1)}`);
      };
      const off = lab.onEvent((e) => {
        if (e.type === 'run' && e.run.status !== 'running') running.delete(e.run.id);
        if (e.type !== 'progress') return;
        const prev = running.get(e.runId);
        const line = progressLine(e.progress);
        const name = prev?.name ?? lab.repo.getRun(e.runId).name;
        if (tty) {
          running.set(e.runId, { name, line, t: 0 });
          redraw();
        } else if (!prev || Date.now() - prev.t >= 60_000) {
          running.set(e.runId, { name, line, t: Date.now() });
          process.stderr.write(`study:   run ${e.runId} (${name}): ${line}\n`);
        }
      });
      const report = await runStudy(lab, plan, (l) => {
        if (tty) process.stderr.write('\r\x1b[2K');
        process.stderr.write(`study: ${l}\n`);
        redraw();
      }).finally(off);
      if (tty) process.stderr.write('\r\x1b[2K');
      process.stdout.write(`study report: ${report.files.join(', ')}\n`);
      return 0;
    }, engines);
  },
};

TRAIN_COMMANDS.push(study);
