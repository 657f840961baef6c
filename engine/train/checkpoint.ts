// Atomic checkpoints: one binary file per save under <runDir>/checkpoints/ — magic, a JSON header
// (names, shapes, offsets, free-form state) and raw little-endian float32 data. Written to *.tmp, then renamed.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../tf';
import type { JsonObject } from '../protocol';
import type { Ema } from './ema';
import type { Optimizer, VarMap } from './optim';
import { checkpointDir, checkpointFile, latestCheckpoint, listCheckpoints } from '../checkpoint-files';

const MAGIC = 'TOKLABC1';

export interface NamedArray {
  shape: number[];
  data: Float32Array;
}

export interface CheckpointData {
  /** Optimizer steps done when saved. */
  step: number;
  tensors: Record<string, NamedArray>;
  /** Epoch, seed, config, optimizer/EMA counters… (randomness is derived from seed + step, so no Rng state). */
  state: JsonObject;
}

interface Header {
  step: number;
  state: JsonObject;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
  /** sha256 of the data section (absent in checkpoints written before it was added). */
  sha256?: string;
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** writeSync until every byte is down: it may write fewer than asked (a full disk ends in an error). */
function writeAll(fd: number, b: Buffer): void {
  for (let off = 0; off < b.length; ) {
    const n = fs.writeSync(fd, b, off, b.length - off);
    if (n <= 0) throw new Error(`wrote ${off} of ${b.length} bytes`);
    off += n;
  }
}

export { checkpointDir, latestCheckpoint, listCheckpoints };

/** Write atomically; keeps the newest `keep` files (default 2). Returns the file path. */
export function saveCheckpoint(runDir: string, ck: CheckpointData, opts: { keep?: number } = {}): string {
  fs.mkdirSync(checkpointDir(runDir), { recursive: true });
  let offset = 0;
  const entries: Header['tensors'] = [];
  for (const [name, t] of Object.entries(ck.tensors)) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    if (size !== t.data.length) throw new Error(`checkpoint tensor ${name}: shape ${t.shape} does not match ${t.data.length} values`);
    entries.push({ name, shape: t.shape, offset, length: size });
    offset += size;
  }
  const data = Buffer.alloc(offset * 4);
  for (const e of entries) {
    const src = ck.tensors[e.name].data;
    Buffer.from(src.buffer, src.byteOffset, src.byteLength).copy(data, e.offset * 4);
  }
  const header: Header = { step: ck.step, state: ck.state, tensors: entries, sha256: sha256(data) };
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  const pad = (4 - ((MAGIC.length + 4 + json.length) % 4)) % 4;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const lenBuf = Buffer.alloc(4);
  lenBuf.writeUInt32LE(json.length);
  const file = checkpointFile(runDir, ck.step);
  const tmp = `${file}.tmp`;
  const parts = [Buffer.from(MAGIC, 'ascii'), lenBuf, json, data];
  const expected = parts.reduce((a, b) => a + b.length, 0);
  try {
    const fd = fs.openSync(tmp, 'w');
    try {
      for (const b of parts) writeAll(fd, b);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    // read it back: the size and the data checksum must be what was meant, or the previous checkpoint stays
    const back = fs.readFileSync(tmp);
    if (back.length !== expected) throw new Error(`the file holds ${back.length} of ${expected} bytes`);
    if (sha256(back.subarray(expected - data.length)) !== header.sha256) throw new Error('its data checksum does not match what was written');
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    const why = (e as NodeJS.ErrnoException).code === 'ENOSPC' ? 'the disk is full' : (e as Error).message;
    throw new Error(`could not write checkpoint ${path.basename(file)} (${why}); the previous checkpoint is kept. Free disk space in the lab home, then resume the run.`);
  }
  fs.renameSync(tmp, file);
  const keep = opts.keep ?? 2;
  const all = listCheckpoints(runDir);
  for (const old of all.slice(0, Math.max(0, all.length - keep))) fs.rmSync(old, { force: true });
  return file;
}

export function loadCheckpoint(file: string): CheckpointData {
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, MAGIC.length).toString('ascii') !== MAGIC) throw new Error(`${file} is not a toklab checkpoint (bad magic)`);
  const hlen = buf.readUInt32LE(MAGIC.length);
  const start = MAGIC.length + 4;
  const header = JSON.parse(buf.subarray(start, start + hlen).toString('utf8')) as Header;
  const base = start + hlen;
  if (header.sha256 !== undefined && sha256(buf.subarray(base)) !== header.sha256) throw new Error(`${file} is damaged: its data checksum does not match (truncated or overwritten); resume from an earlier checkpoint or start the run over`);
  const tensors: Record<string, NamedArray> = {};
  for (const e of header.tensors) {
    const bytes = buf.subarray(base + e.offset * 4, base + (e.offset + e.length) * 4);
    if (bytes.length !== e.length * 4) throw new Error(`${file} is truncated (tensor ${e.name})`);
    // copy into a fresh, aligned buffer
    const data = new Float32Array(e.length);
    new Uint8Array(data.buffer).set(bytes);
    tensors[e.name] = { shape: e.shape, data };
  }
  return { step: header.step, state: header.state, tensors };
}

/** Variables as named arrays under `prefix` (e.g. 'model/'). */
export function varsToArrays(vars: VarMap, prefix = ''): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [k, v] of Object.entries(vars)) out[prefix + k] = { shape: v.shape.slice(), data: v.dataSync() as Float32Array };
  return out;
}

/** Assign stored arrays to variables; throws on a missing name or shape mismatch. */
export function assignArrays(vars: VarMap, arrays: Record<string, NamedArray>, prefix = ''): void {
  tf.tidy(() => {
    for (const [k, v] of Object.entries(vars)) {
      const a = arrays[prefix + k];
      if (!a) throw new Error(`checkpoint has no tensor ${prefix + k}`);
      if (a.shape.join(',') !== v.shape.join(',')) throw new Error(`checkpoint tensor ${prefix + k} has shape [${a.shape}], model wants [${v.shape}]`);
      v.assign(tf.tensor(a.data, v.shape, 'float32'));
    }
  });
}

function pick(arrays: Record<string, NamedArray>, prefix: string): Record<string, Float32Array> {
  const out: Record<string, Float32Array> = {};
  for (const [k, a] of Object.entries(arrays)) if (k.startsWith(prefix)) out[k.slice(prefix.length)] = a.data;
  return out;
}

/** Model + optimizer moments + EMA as one checkpoint payload (names 'model/', 'opt/m/', 'opt/v/', 'ema/'). */
export function snapshotTraining(vars: VarMap, opt: Optimizer | null, ema: Ema | null, step: number, state: JsonObject): CheckpointData {
  const tensors = varsToArrays(vars, 'model/');
  const extra: JsonObject = { ...state };
  if (opt) {
    const s = opt.getState();
    for (const [k, d] of Object.entries(s.m)) tensors[`opt/m/${k}`] = { shape: vars[k].shape.slice(), data: d };
    for (const [k, d] of Object.entries(s.v)) tensors[`opt/v/${k}`] = { shape: vars[k].shape.slice(), data: d };
    extra.optStep = s.step;
  }
  if (ema) {
    for (const [k, d] of Object.entries(ema.getState())) tensors[`ema/${k}`] = { shape: vars[k].shape.slice(), data: d };
    extra.emaUpdates = ema.updates;
    extra.emaDecay = ema.decay;
  }
  return { step, tensors, state: extra };
}

/** Inverse of snapshotTraining. */
export function restoreTraining(ck: CheckpointData, vars: VarMap, opt: Optimizer | null, ema: Ema | null): void {
  assignArrays(vars, ck.tensors, 'model/');
  if (opt) opt.setState({ step: Number(ck.state.optStep ?? ck.step), m: pick(ck.tensors, 'opt/m/'), v: pick(ck.tensors, 'opt/v/') });
  if (ema) {
    const e = pick(ck.tensors, 'ema/');
    if (Object.keys(e).length) ema.setState(e, Number(ck.state.emaUpdates ?? 0));
  }
}

/** EMA weights of a checkpoint when present, else the live weights (for evaluation loaders). */
export function evalWeights(ck: CheckpointData, useEma = true): Record<string, NamedArray> {
  const out: Record<string, NamedArray> = {};
  for (const [k, a] of Object.entries(ck.tensors)) if (k.startsWith('model/')) out[k.slice(6)] = a;
  if (useEma) for (const [k, a] of Object.entries(ck.tensors)) if (k.startsWith('ema/')) out[k.slice(4)] = a;
  return out;
}
