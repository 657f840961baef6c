// Token cache between the tokenizer and generator stages: per split raw int32 token grids + labels,
// and a meta.json naming the tokenizer run and dataset. Lives in <tokenizer run>/tokens/.
import fs from 'node:fs';
import path from 'node:path';
import type { SplitName } from './types';

export interface TokenCacheData {
  /** [n, h, w] row-major */
  tokens: Int32Array;
  labels: Int32Array;
  h: number;
  w: number;
  K: number;
}

export interface TokenCacheMeta {
  format: 'toklab-tokens-v1';
  h: number;
  w: number;
  K: number;
  /** Tokenizer run folder and dataset it was made from (as the job knew them). */
  tokenizerRun?: string;
  dataset?: string;
  /** Whether the tokenizer's EMA weights encoded it. */
  ema?: boolean;
  splits: Partial<Record<SplitName, { n: number; tokens: string; labels: string }>>;
  createdAt: string;
}

export interface TokenSplit extends TokenCacheData {
  n: number;
  meta: TokenCacheMeta;
}

export const TOKEN_CACHE_SUBDIR = 'tokens';

/** Where a tokenizer run keeps its cache. */
export function tokenCacheDir(tokenizerRunDir: string): string {
  return path.join(tokenizerRunDir, TOKEN_CACHE_SUBDIR);
}

function resolveDir(dir: string): string {
  const sub = tokenCacheDir(dir);
  return fs.existsSync(path.join(sub, 'meta.json')) ? sub : dir;
}

function writeAtomic(file: string, data: Uint8Array | string): void {
  const tmp = `${file}.tmp`;
  fs.writeFileSync(tmp, data);
  fs.renameSync(tmp, file);
}

function readMeta(dir: string): TokenCacheMeta | null {
  const f = path.join(dir, 'meta.json');
  return fs.existsSync(f) ? (JSON.parse(fs.readFileSync(f, 'utf8')) as TokenCacheMeta) : null;
}

/** Writes one split into the cache folder `dir` (created) and updates meta.json. */
export function writeTokenCache(dir: string, split: SplitName, d: TokenCacheData, info: { tokenizerRun?: string; dataset?: string; ema?: boolean } = {}): void {
  const n = d.labels.length;
  if (d.tokens.length !== n * d.h * d.w) throw new Error(`token cache ${split}: ${d.tokens.length} tokens for ${n} grids of ${d.h}×${d.w}`);
  for (let i = 0; i < d.tokens.length; i++) {
    const t = d.tokens[i];
    if (t < 0 || t >= d.K) throw new Error(`token cache ${split}: token ${t} at ${i} is outside [0, ${d.K})`);
  }
  fs.mkdirSync(dir, { recursive: true });
  const prev = readMeta(dir);
  if (prev && (prev.h !== d.h || prev.w !== d.w || prev.K !== d.K)) throw new Error(`token cache in ${dir} holds ${prev.h}×${prev.w} grids of K ${prev.K}; refusing to mix in ${d.h}×${d.w}, K ${d.K}`);
  const files = { n, tokens: `${split}-tokens.i32`, labels: `${split}-labels.i32` };
  writeAtomic(path.join(dir, files.tokens), new Uint8Array(d.tokens.buffer, d.tokens.byteOffset, d.tokens.byteLength));
  writeAtomic(path.join(dir, files.labels), new Uint8Array(d.labels.buffer, d.labels.byteOffset, d.labels.byteLength));
  const meta: TokenCacheMeta = {
    format: 'toklab-tokens-v1',
    h: d.h,
    w: d.w,
    K: d.K,
    tokenizerRun: info.tokenizerRun ?? prev?.tokenizerRun,
    dataset: info.dataset ?? prev?.dataset,
    ema: info.ema ?? prev?.ema,
    splits: { ...(prev?.splits ?? {}), [split]: files },
    createdAt: new Date().toISOString(),
  };
  writeAtomic(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
}

function readInt32(file: string, count: number): Int32Array {
  const buf = fs.readFileSync(file);
  if (buf.length !== count * 4) throw new Error(`${file} has ${buf.length} bytes, expected ${count * 4}`);
  const out = new Int32Array(count);
  new Uint8Array(out.buffer).set(buf);
  return out;
}

/** Reads a split from a cache folder, or from a tokenizer run folder holding one in tokens/. */
export function readTokenCache(dir: string, split: SplitName): TokenSplit {
  const d = resolveDir(dir);
  const meta = readMeta(d);
  if (!meta) throw new Error(`${dir} has no token cache (meta.json); run extract-tokens on the tokenizer first`);
  const s = meta.splits[split];
  if (!s) throw new Error(`token cache in ${d} has no "${split}" split`);
  return {
    tokens: readInt32(path.join(d, s.tokens), s.n * meta.h * meta.w),
    labels: readInt32(path.join(d, s.labels), s.n),
    n: s.n,
    h: meta.h,
    w: meta.w,
    K: meta.K,
    meta,
  };
}
