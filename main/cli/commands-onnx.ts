// `toklab tokenizer import` and `toklab extractor add`: models trained elsewhere, through ONNX. The
// engine probes the files (shapes, layout, value range) and copies them into the lab; relative paths
// are resolved here against the working directory.
import { resolve } from 'node:path';
import type { JsonObject } from '../../preload/contract';
import type { Command } from './commands';
import { intOpt } from './commands';
import { printJson, runJob, UsageError, withLab } from './util';

const path = (v: string | boolean | undefined, flag: string, what: string): string => {
  if (typeof v !== 'string' || !v.trim()) throw new UsageError(`--${flag} needs the path of the ${what}`);
  return resolve(v.trim());
};

const choice = (v: string | boolean | undefined, flag: string, allowed: string[]): string | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !allowed.includes(v)) throw new UsageError(`--${flag} is "${String(v)}"; use ${allowed.join(' or ')}`);
  return v;
};

async function follow(home: string | undefined, kind: 'import-tokenizer' | 'add-extractor', spec: JsonObject, json: boolean): Promise<number> {
  return withLab(home, async (lab) => {
    const final = await runJob(lab, () => lab.startJob({ kind, spec }));
    if (final.status !== 'done') return final.status === 'queued' ? 0 : 1;
    const d = await lab.getRun(final.id);
    if (json) printJson(d);
    else process.stdout.write(`run ${final.id}: ${JSON.stringify(d.result)}\n`);
    return 0;
  });
}

const tokenizerImport: Command = {
  words: ['tokenizer', 'import'],
  usage: 'tokenizer import --encoder enc.onnx --decoder dec.onnx --codebook codes.npy [--l2] [--layout nchw|nhwc] [--range -1,1|0,1] [--size S] [--channels 1|3] --name N',
  summary: 'register a VQ tokenizer trained elsewhere (ONNX encoder + decoder, .npy codebook)',
  options: {
    encoder: { type: 'string' },
    decoder: { type: 'string' },
    codebook: { type: 'string' },
    l2: { type: 'boolean' },
    layout: { type: 'string' },
    range: { type: 'string' },
    size: { type: 'string' },
    channels: { type: 'string' },
    name: { type: 'string' },
  },
  async run({ home, opts }) {
    if (typeof opts.name !== 'string' || !opts.name.trim()) throw new UsageError('tokenizer import needs --name, e.g. --name llamagen-vq16');
    const spec: JsonObject = {
      encoder: path(opts.encoder, 'encoder', 'encoder .onnx'),
      decoder: path(opts.decoder, 'decoder', 'decoder .onnx'),
      codebook: path(opts.codebook, 'codebook', 'codebook .npy ([K, D])'),
      name: opts.name.trim(),
      l2: Boolean(opts.l2),
    };
    const layout = choice(opts.layout, 'layout', ['nchw', 'nhwc']);
    if (layout) spec.layout = layout;
    const range = choice(opts.range, 'range', ['-1,1', '0,1']);
    if (range) spec.range = range;
    const size = intOpt(opts.size, 'size');
    if (size !== undefined) spec.size = size;
    const channels = intOpt(opts.channels, 'channels');
    if (channels !== undefined) spec.channels = channels;
    return follow(home, 'import-tokenizer', spec, Boolean(opts.json));
  },
};

const extractorAdd: Command = {
  words: ['extractor', 'add'],
  usage: 'extractor add model.onnx --name N --input 299 [--range 0,1|-1,1] [--layout nchw|nhwc] [--features OUT] [--logits OUT]',
  summary: 'register a feature extractor (e.g. the standard FID InceptionV3) exported to ONNX',
  options: { name: { type: 'string' }, input: { type: 'string' }, range: { type: 'string' }, layout: { type: 'string' }, features: { type: 'string' }, logits: { type: 'string' } },
  async run({ home, opts, args }) {
    if (args.length !== 1) throw new UsageError('extractor add needs one model file, e.g. toklab extractor add inception.onnx --name inception-v3 --input 299');
    if (typeof opts.name !== 'string' || !opts.name.trim()) throw new UsageError('extractor add needs --name, e.g. --name inception-v3');
    const spec: JsonObject = { model: path(args[0], 'model', 'extractor .onnx'), name: opts.name.trim() };
    const input = intOpt(opts.input, 'input');
    if (input !== undefined) spec.input = input;
    const range = choice(opts.range, 'range', ['-1,1', '0,1']);
    if (range) spec.range = range;
    const layout = choice(opts.layout, 'layout', ['nchw', 'nhwc']);
    if (layout) spec.layout = layout;
    for (const k of ['features', 'logits'] as const) {
      if (opts[k] === undefined) continue;
      if (typeof opts[k] !== 'string' || !opts[k]) throw new UsageError(`--${k} needs an output name of the model`);
      spec[k] = opts[k] as string;
    }
    return follow(home, 'add-extractor', spec, Boolean(opts.json));
  },
};

export const ONNX_COMMANDS: Command[] = [tokenizerImport, extractorAdd];
