// Writer and reader of the packed dataset format (engine/data/types.ts). Files are written under
// temporary names and renamed, manifest last, so a folder with a manifest is always complete.
// The reader keeps only labels in memory; images are read with positioned reads, so a dataset
// larger than memory still trains.
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, deriveSeed } from '../rng';
import type { Batch, BatchOptions, DatasetManifest, SplitInfo, SplitName } from './types';

export const PACKED_FORMAT = 'toklab-packed-v1';
export const MANIFEST_FILE = 'manifest.json';
export const SPLITS: readonly SplitName[] = ['train', 'val'];

export function splitFiles(split: SplitName): { images: string; labels: string } {
  return { images: `${split}-images.u8`, labels: `${split}-labels.i32` };
}

const FLUSH_BYTES = 1 << 20;

/** Appends images and labels of one split to temporary files; `finish` renames them into place. */
export class SplitWriter {
  private readonly imgTmp: string;
  private readonly lblTmp: string;
  private readonly imgFd: number;
  private buf: Uint8Array;
  private used = 0;
  private labels: number[] = [];
  private readonly counts: number[];
  private closed = false;

  constructor(
    private readonly dir: string,
    readonly split: SplitName,
    readonly imageBytes: number,
    readonly numClasses: number,
  ) {
    mkdirSync(dir, { recursive: true });
    const f = splitFiles(split);
    this.imgTmp = join(dir, `${f.images}.tmp`);
    this.lblTmp = join(dir, `${f.labels}.tmp`);
    this.imgFd = openSync(this.imgTmp, 'w');
    this.buf = new Uint8Array(Math.max(FLUSH_BYTES, imageBytes));
    this.counts = new Array<number>(numClasses).fill(0);
  }

  get n(): number {
    return this.labels.length;
  }

  /** One image of `imageBytes` uint8 values (HWC) and its class id. */
  append(image: Uint8Array, label: number): void {
    if (this.closed) throw new Error(`${this.split} writer is closed`);
    if (image.length !== this.imageBytes) throw new Error(`image has ${image.length} bytes, expected ${this.imageBytes}`);
    if (!Number.isInteger(label) || label < 0 || label >= this.numClasses) throw new Error(`label ${label} outside [0, ${this.numClasses})`);
    if (this.used + image.length > this.buf.length) this.flush();
    this.buf.set(image, this.used);
    this.used += image.length;
    this.labels.push(label);
    this.counts[label]++;
  }

  /** Many images [n, H, W, C] with labels [n]. */
  appendMany(x: Uint8Array, y: Int32Array): void {
    if (x.length !== y.length * this.imageBytes) throw new Error(`${y.length} labels but ${x.length} image bytes`);
    for (let i = 0; i < y.length; i++) this.append(x.subarray(i * this.imageBytes, (i + 1) * this.imageBytes), y[i]);
  }

  private flush(): void {
    let off = 0;
    while (off < this.used) off += writeSync(this.imgFd, this.buf, off, this.used - off);
    this.used = 0;
  }

  /** Flushes, writes labels (little-endian int32), renames both files into place. */
  finish(): SplitInfo {
    this.flush();
    closeSync(this.imgFd);
    this.closed = true;
    const lbl = Buffer.alloc(this.labels.length * 4);
    this.labels.forEach((v, i) => lbl.writeInt32LE(v, i * 4));
    writeFileSync(this.lblTmp, lbl);
    const f = splitFiles(this.split);
    renameSync(this.imgTmp, join(this.dir, f.images));
    renameSync(this.lblTmp, join(this.dir, f.labels));
    return { n: this.labels.length, images: f.images, labels: f.labels, classCounts: [...this.counts] };
  }

  /** Closes and deletes the temporary files (after a failure or cancel). */
  abort(): void {
    if (!this.closed) closeSync(this.imgFd);
    this.closed = true;
    rmSync(this.imgTmp, { force: true });
    rmSync(this.lblTmp, { force: true });
  }
}

export function writeManifest(dir: string, manifest: DatasetManifest): void {
  const tmp = join(dir, `${MANIFEST_FILE}.tmp`);
  writeFileSync(tmp, JSON.stringify(manifest, null, 2));
  renameSync(tmp, join(dir, MANIFEST_FILE));
}

export type ManifestBase = Omit<DatasetManifest, 'format' | 'splits'>;

/** Writes in-memory splits (uint8 NHWC + labels) and the manifest in one go. */
export function writePackedDataset(dir: string, base: ManifestBase, data: Record<SplitName, { x: Uint8Array; y: Int32Array }>): DatasetManifest {
  const imageBytes = base.resolution * base.resolution * base.channels;
  const writers = SPLITS.map((s) => new SplitWriter(dir, s, imageBytes, base.classes.length));
  try {
    writers.forEach((w) => w.appendMany(data[w.split].x, data[w.split].y));
    const [train, val] = writers.map((w) => w.finish());
    const manifest: DatasetManifest = { format: PACKED_FORMAT, ...base, splits: { train, val } };
    writeManifest(dir, manifest);
    return manifest;
  } catch (e) {
    writers.forEach((w) => w.abort());
    throw e;
  }
}

/** Uint8 [0, 255] → float32 in [-1, 1] (v / 127.5 − 1). */
export function u8ToUnit(src: Uint8Array, out = new Float32Array(src.length)): Float32Array {
  for (let i = 0; i < src.length; i++) out[i] = src[i] / 127.5 - 1;
  return out;
}

/** Mirrors one HWC image left↔right in place. */
export function flipHorizontal(x: Float32Array | Uint8Array, offset: number, h: number, w: number, c: number): void {
  for (let y = 0; y < h; y++) {
    const row = offset + y * w * c;
    for (let a = 0, b = w - 1; a < b; a++, b--) {
      for (let ch = 0; ch < c; ch++) {
        const i = row + a * c + ch;
        const j = row + b * c + ch;
        const t = x[i];
        x[i] = x[j];
        x[j] = t;
      }
    }
  }
}

export interface PackedSplit {
  readonly name: SplitName;
  readonly n: number;
  /** Bytes per image, H·W·C. */
  readonly imageBytes: number;
  readonly labels: Int32Array;
  readonly info: SplitInfo;
  /** Images at `indices` (any order, repeats allowed) as uint8 [k, H, W, C] plus their labels. */
  read(indices: ArrayLike<number>): { x: Uint8Array; y: Int32Array };
  /**
   * One epoch of batches. Shuffled by default (seeded: same seed, same order); pass a different seed
   * per epoch (e.g. deriveSeed(seed, `epoch${e}`)) for a new order. `limit` keeps the first items.
   */
  batches(opts: BatchOptions): Iterable<Batch>;
  /** How many batches `batches(opts)` yields. */
  batchCount(opts: BatchOptions): number;
}

export interface PackedDataset {
  readonly dir: string;
  readonly manifest: DatasetManifest;
  /** [H, W, C] */
  readonly imageShape: [number, number, number];
  split(name: SplitName): PackedSplit;
  /** Closes the open image files. */
  close(): void;
}

function readFully(fd: number, out: Uint8Array, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const got = readSync(fd, out, offset + done, length - done, position + done);
    if (got === 0) throw new Error(`unexpected end of image file at byte ${position + done}`);
    done += got;
  }
}

function batchPlan(n: number, opts: BatchOptions): { order: Int32Array; count: number } {
  if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batchSize must be a positive integer, got ${opts.batchSize}`);
  const m = opts.limit === undefined ? n : Math.max(0, Math.min(n, Math.floor(opts.limit)));
  const order = new Int32Array(m);
  for (let i = 0; i < m; i++) order[i] = i;
  if (opts.shuffle ?? true) new Rng(deriveSeed(opts.seed, 'batches:order')).shuffle(order);
  const count = opts.dropLast ? Math.floor(m / opts.batchSize) : Math.ceil(m / opts.batchSize);
  return { order, count };
}

class Split implements PackedSplit {
  readonly labels: Int32Array;
  private fd: number | null = null;

  constructor(
    private readonly dir: string,
    readonly name: SplitName,
    readonly info: SplitInfo,
    readonly imageBytes: number,
    private readonly numClasses: number,
    private readonly shape: [number, number, number],
  ) {
    const raw = readFileSync(join(dir, info.labels));
    if (raw.length !== info.n * 4) throw new Error(`${info.labels}: ${raw.length} bytes, manifest says ${info.n} labels (${info.n * 4} bytes)`);
    this.labels = new Int32Array(info.n);
    for (let i = 0; i < info.n; i++) {
      const v = raw.readInt32LE(i * 4);
      if (v < 0 || v >= numClasses) throw new Error(`${info.labels}: label ${v} at ${i} outside [0, ${numClasses})`);
      this.labels[i] = v;
    }
    const fd = this.open();
    const size = fstatSync(fd).size;
    if (size !== info.n * imageBytes) throw new Error(`${info.images}: ${size} bytes, expected ${info.n} × ${imageBytes}`);
  }

  get n(): number {
    return this.info.n;
  }

  private open(): number {
    if (this.fd === null) this.fd = openSync(join(this.dir, this.info.images), 'r');
    return this.fd;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  read(indices: ArrayLike<number>): { x: Uint8Array; y: Int32Array } {
    const k = indices.length;
    const B = this.imageBytes;
    const x = new Uint8Array(k * B);
    const y = new Int32Array(k);
    const fd = this.open();
    // Consecutive indices become one read: sequential evaluation reads whole blocks.
    let i = 0;
    while (i < k) {
      const start = indices[i];
      if (!Number.isInteger(start) || start < 0 || start >= this.n) throw new Error(`index ${start} outside [0, ${this.n}) of ${this.name}`);
      let j = i + 1;
      while (j < k && indices[j] === start + (j - i)) j++;
      readFully(fd, x, i * B, (j - i) * B, start * B);
      for (let t = i; t < j; t++) y[t] = this.labels[start + (t - i)];
      i = j;
    }
    return { x, y };
  }

  batchCount(opts: BatchOptions): number {
    return batchPlan(this.n, opts).count;
  }

  *batches(opts: BatchOptions): Generator<Batch> {
    const { order, count } = batchPlan(this.n, opts);
    const flipRng = opts.flip ? new Rng(deriveSeed(opts.seed, 'batches:flip')) : null;
    const [h, w, c] = this.shape;
    for (let b = 0; b < count; b++) {
      const indices = order.slice(b * opts.batchSize, Math.min(order.length, (b + 1) * opts.batchSize));
      const { x: u8, y } = this.read(indices);
      const x = u8ToUnit(u8);
      if (flipRng) for (let k = 0; k < indices.length; k++) if (flipRng.uniform() < 0.5) flipHorizontal(x, k * this.imageBytes, h, w, c);
      yield { x, y, n: indices.length, indices };
    }
  }
}

export function readManifest(dir: string): DatasetManifest {
  const path = join(dir, MANIFEST_FILE);
  if (!existsSync(path)) throw new Error(`no ${MANIFEST_FILE} in ${dir}: not a packed dataset, or its build did not finish`);
  const m = JSON.parse(readFileSync(path, 'utf8')) as DatasetManifest;
  if (m.format !== PACKED_FORMAT) throw new Error(`${path}: format "${String(m.format)}", expected ${PACKED_FORMAT}`);
  return m;
}

export function openPackedDataset(dir: string): PackedDataset {
  const manifest = readManifest(dir);
  const shape: [number, number, number] = [manifest.resolution, manifest.resolution, manifest.channels];
  const imageBytes = shape[0] * shape[1] * shape[2];
  const opened = new Map<SplitName, Split>();
  return {
    dir,
    manifest,
    imageShape: shape,
    split(name: SplitName): PackedSplit {
      let s = opened.get(name);
      if (!s) {
        const info = manifest.splits[name];
        if (!info) throw new Error(`dataset ${manifest.name} has no split "${name}"`);
        s = new Split(dir, name, info, imageBytes, manifest.classes.length, shape);
        opened.set(name, s);
      }
      return s;
    },
    close(): void {
      opened.forEach((s) => s.close());
      opened.clear();
    },
  };
}
