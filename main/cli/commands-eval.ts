// `toklab eval tokenizer|generator`, `toklab sweep`, `toklab posttrain`: evaluation jobs with
// every number's provenance printed beside it.
import type { JsonObject } from '../../preload/contract';
import type { Command } from './commands';
import { intOpt } from './commands';
import { numList, parsePercent, workersOpt } from './commands-train';
import { printJson, runJob, UsageError, withLab } from './util';
import type { Lab } from '../host/lab';

/** `--min-extractor-accuracy 0.8`: the floor on the feature network's test accuracy (default: 0.9 built-in datasets, 0 ImageFolders). */
export function accuracyFloor(spec: JsonObject, v: string | boolean | undefined): JsonObject {
  if (v === undefined) return spec;
  const x = Number(v);
  if (typeof v !== 'string' || !Number.isFinite(x) || x < 0 || x > 1) throw new UsageError('--min-extractor-accuracy takes a number between 0 and 1, e.g. 0.8');
  return { ...spec, minExtractorAccuracy: x };
}

async function follow(lab: Lab, start: () => ReturnType<Lab['startJob']>, json: boolean): Promise<number> {
  const final = await runJob(lab, start);
  if (final.status !== 'done') return final.status === 'queued' ? 0 : 1;
  const d = await lab.getRun(final.id);
  if (json) printJson(d);
  else for (const s of d.scores) process.stdout.write(`${s.metric.padEnd(18)} ${s.value.toPrecision(5).padStart(10)}  ${Object.entries(s.provenance).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}\n`);
  return 0;
}

/**
 * `--delta 8,16` are codes; `--delta 2%,5%` (or numbers with `--delta-mode share`) are shares of K.
 * A δ that comes to one code is refused by the spec (absolute) or by the host against the tokenizer's K (share).
 */
export function deltaSpec(v: string | boolean | undefined, mode?: string | boolean): { deltas?: number[]; deltaMode?: 'share' | 'abs' } {
  if (mode !== undefined && mode !== 'abs' && mode !== 'share') throw new UsageError(`--delta-mode is "${String(mode)}"; use abs (codes) or share (of K)`);
  if (v === undefined) {
    if (mode !== undefined) throw new UsageError('--delta-mode needs --delta');
    return {};
  }
  if (typeof v !== 'string') throw new UsageError('--delta takes a comma-separated list: codes (8,16) or shares of K (2%,5%)');
  const parts = v.split(',').map((x) => x.trim()).filter(Boolean);
  const pct = parts.map(parsePercent);
  if (pct.every((x) => x !== null)) {
    if (mode === 'abs') throw new UsageError('--delta: shares of K (%) with --delta-mode abs; drop --delta-mode or give numbers of codes');
    return { deltas: pct as number[], deltaMode: 'share' };
  }
  if (pct.some((x) => x !== null)) throw new UsageError('--delta mixes shares (%) and codes; write all of them one way');
  const d = numList(v, 'delta') as number[];
  if (mode === 'share') return { deltas: d, deltaMode: 'share' };
  const frac = d.find((x) => !Number.isInteger(x));
  if (frac !== undefined) throw new UsageError(`--delta ${frac} is not a whole number of codes; write shares of K as ${Number((frac * 100).toPrecision(12))}% or add --delta-mode share`);
  return { deltas: d, deltaMode: 'abs' };
}

/** `--dataset D` (id or name; needed for imported tokenizers) and `--extractor RUN` (an ONNX extractor run). */
export function evalTarget(opts: Record<string, string | boolean | undefined>): { dataset?: string | number; extractor?: number } {
  const out: { dataset?: string | number; extractor?: number } = {};
  if (opts.dataset !== undefined) {
    if (typeof opts.dataset !== 'string' || !opts.dataset) throw new UsageError('--dataset takes a dataset id or name (see `toklab datasets list`)');
    out.dataset = /^\d+$/.test(opts.dataset) ? Number(opts.dataset) : opts.dataset;
  }
  const ex = intOpt(opts.extractor, 'extractor');
  if (ex !== undefined) out.extractor = ex;
  return out;
}

const evalTokenizer: Command = {
  words: ['eval', 'tokenizer'],
  usage: 'eval tokenizer <run> [--alpha 0.1,…] [--delta 8,16 | 2%,5%] [--delta-mode abs|share] [--n N] [--seed S] [--dataset D] [--extractor RUN] [--min-extractor-accuracy F] [--workers N]',
  summary: 'rFID and a pFID grid on the held-out split',
  options: { alpha: { type: 'string' }, delta: { type: 'string' }, 'delta-mode': { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, dataset: { type: 'string' }, extractor: { type: 'string' }, 'min-extractor-accuracy': { type: 'string' }, workers: { type: 'string' } },
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'run');
    if (id === undefined) throw new UsageError('eval tokenizer needs a tokenizer run id');
    const spec: JsonObject = { tokenizer: id, ...deltaSpec(opts.delta, opts['delta-mode']) };
    const a = numList(opts.alpha, 'alpha');
    if (a) spec.alphas = a;
    const n = intOpt(opts.n, 'n');
    if (n !== undefined) spec.n = n;
    const seed = intOpt(opts.seed, 'seed');
    if (seed !== undefined) spec.seed = seed;
    Object.assign(spec, evalTarget(opts), workersOpt(opts));
    return withLab(home, async (lab) => {
      return await follow(lab, () => lab.startJob({ kind: 'eval-tokenizer', spec: accuracyFloor(spec, opts['min-extractor-accuracy']) }), Boolean(opts.json));
    });
  },
};

const sweep: Command = {
  words: ['sweep'],
  usage: 'sweep --tokenizers 3,5 --alpha 0.3,0.9 --delta 10%,30% [--delta-mode abs|share] [--n N] [--seed S] [--dataset D] [--extractor RUN]',
  summary: 'pFID grid over tokenizers × α × δ (queued jobs)',
  options: { tokenizers: { type: 'string' }, alpha: { type: 'string' }, delta: { type: 'string' }, 'delta-mode': { type: 'string' }, n: { type: 'string' }, seed: { type: 'string' }, name: { type: 'string' }, dataset: { type: 'string' }, extractor: { type: 'string' } },
  async run({ home, opts }) {
    const tokenizers = numList(opts.tokenizers, 'tokenizers');
    const alphas = numList(opts.alpha, 'alpha');
    const d = deltaSpec(opts.delta, opts['delta-mode']);
    const deltas = d.deltas;
    if (!tokenizers || !alphas || !deltas) throw new UsageError('sweep needs --tokenizers, --alpha and --delta lists');
    return withLab(home, async (lab) => {
      const s = await lab.createSweep({ name: opts.name as string | undefined, tokenizers, alphas, deltas, deltaMode: d.deltaMode ?? 'share', n: intOpt(opts.n, 'n'), seed: intOpt(opts.seed, 'seed'), ...evalTarget(opts) });
      process.stderr.write(`sweep ${s.id}: ${s.runs.length} evaluation run(s) queued: ${s.runs.map((r) => r.id).join(', ')}\n`);
      if (!lab.isWorker) return 0;
      let failed = 0;
      for (const r of s.runs) {
        const f = await lab.waitForRun(r.id);
        const res = (await lab.getRun(r.id)).result as { rfid?: number; pfidMean?: number } | null;
        process.stdout.write(`tokenizer ${r.parentId}: ${f.status}${res ? `  rFID ${res.rfid?.toFixed(3)}  pFID(mean) ${res.pfidMean?.toFixed(3)}` : ''}\n`);
        if (f.status !== 'done') failed++;
      }
      if (opts.json) printJson((await lab.listSweeps()).find((x) => x.id === s.id));
      return failed ? 1 : 0;
    });
  },
};

const evalGenerator: Command = {
  words: ['eval', 'generator'],
  usage: 'eval generator <run> --cfg 0,1.5 [--n-per-class N] [--decoder R] [--min-extractor-accuracy F] [--workers N]',
  summary: 'gFID, IS, precision/recall, KID with and without CFG',
  options: { cfg: { type: 'string' }, 'n-per-class': { type: 'string' }, decoder: { type: 'string' }, seed: { type: 'string' }, schedule: { type: 'string' }, power: { type: 'string' }, 'min-extractor-accuracy': { type: 'string' }, workers: { type: 'string' } },
  async run({ home, opts, args }) {
    const id = intOpt(args[0], 'run');
    if (id === undefined) throw new UsageError('eval generator needs a generator run id');
    const spec: JsonObject = { generator: id, cfgScales: numList(opts.cfg, 'cfg') ?? [0, 1.5] };
    const npc = intOpt(opts['n-per-class'], 'n-per-class');
    if (npc !== undefined) spec.nPerClass = npc;
    const dec = intOpt(opts.decoder, 'decoder');
    if (dec !== undefined) spec.decoder = dec;
    const seed = intOpt(opts.seed, 'seed');
    if (seed !== undefined) spec.seed = seed;
    if (opts.schedule) spec.schedule = String(opts.schedule);
    if (opts.power) spec.power = Number(opts.power);
    Object.assign(spec, workersOpt(opts));
    return withLab(home, async (lab) => {
      return await follow(lab, () => lab.startJob({ kind: 'eval-generator', spec: accuracyFloor(spec, opts['min-extractor-accuracy']) }), Boolean(opts.json));
    });
  },
};

const posttrain: Command = {
  words: ['posttrain'],
  usage: 'posttrain <tokenizer-run> --generator <run> [--sigma 0.7] [--cfg 0,1.5] [--min-extractor-accuracy F]',
  summary: 'fine-tune the decoder on generator tokens; gFID before and after',
  options: { generator: { type: 'string' }, sigma: { type: 'string' }, epochs: { type: 'string' }, lr: { type: 'string' }, cfg: { type: 'string' }, 'n-per-class': { type: 'string' }, 'min-extractor-accuracy': { type: 'string' } },
  async run({ home, opts, args }) {
    const tok = intOpt(args[0], 'tokenizer-run');
    const gen = intOpt(opts.generator, 'generator');
    if (tok === undefined || gen === undefined) throw new UsageError('posttrain needs a tokenizer run id and --generator <run>');
    const spec: JsonObject = { tokenizer: tok, generator: gen };
    if (opts.sigma !== undefined) spec.sigma = Number(opts.sigma);
    const e = intOpt(opts.epochs, 'epochs');
    if (e !== undefined) spec.epochs = e;
    if (opts.lr !== undefined) spec.lr = Number(opts.lr);
    const cfgScales = numList(opts.cfg, 'cfg') ?? [0, 1.5];
    const nPerClass = intOpt(opts['n-per-class'], 'n-per-class', 50);
    // the same floor for the post-training (which checks it up front) and the gFIDs before and after
    const floor = accuracyFloor({}, opts['min-extractor-accuracy']);
    Object.assign(spec, floor);
    return withLab(home, async (lab) => {
      const post = await runJob(lab, () => lab.startJob({ kind: 'posttrain', spec }));
      if (post.status !== 'done') return post.status === 'queued' ? 0 : 1;
      // gFID before (the main-trained decoder) and after (the post-trained one), same samples
      const before = await runJob(lab, () => lab.startJob({ kind: 'eval-generator', spec: { generator: gen, cfgScales, nPerClass: nPerClass ?? 50, ...floor } }), true);
      const after = await runJob(lab, () => lab.startJob({ kind: 'eval-generator', spec: { generator: gen, decoder: post.id, cfgScales, nPerClass: nPerClass ?? 50, ...floor } }), true);
      const gfid = async (runId: number): Promise<Map<number, number>> =>
        new Map((await lab.getRun(runId)).scores.filter((s) => s.metric === 'gen/gfid').map((s) => [(s.provenance.cfg as { scale: number }).scale, s.value]));
      const [b, a] = [await gfid(before.id), await gfid(after.id)];
      process.stdout.write(`post-trained tokenizer: run ${post.id}\n`);
      for (const c of cfgScales) process.stdout.write(`gFID at CFG ${c}: ${b.get(c)?.toFixed(3)} → ${a.get(c)?.toFixed(3)}  (runs ${before.id} → ${after.id})\n`);
      return 0;
    });
  },
};

export const EVAL_COMMANDS: Command[] = [evalTokenizer, sweep, evalGenerator, posttrain];
