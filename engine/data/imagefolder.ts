// Import of a folder with one subfolder per class (torchvision ImageFolder layout: class names
// sorted, class folders walked recursively) into the packed format. Unusable files are skipped and
// listed with a reason, never fatal; layouts that cannot give a class-conditional dataset are refused.
import { closeSync, mkdirSync, openSync, readdirSync, readSync, realpathSync, rmSync, statSync, writeSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import sharp from 'sharp';
import { throwIfCancelled } from '../context';
import { Rng, deriveSeed } from '../rng';
import { PACKED_FORMAT, SplitWriter, writeManifest } from './packed';
import { stratifiedSplit } from './split';
import { FOLDER_RESOLUTIONS } from '../specs/dataset-build';
import type { DatasetManifest, SkippedFile } from './types';

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.webp'];
export const FOLDER_RESIZE = 'sharp lanczos3, centre crop to square, EXIF orientation applied, alpha flattened on black';

/** The folder cannot be imported as it is; the message says what to change. */
export class ImportRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportRefused';
  }
}

export interface FolderFile {
  path: string;
  /** Relative to the imported folder, with '/' separators (for reports). */
  rel: string;
  label: number;
}

export interface FolderScan {
  classes: string[];
  files: FolderFile[];
  skipped: SkippedFile[];
}

const hidden = (name: string): boolean => name.startsWith('.');
const relName = (root: string, p: string): string => relative(root, p).split('\\').join('/');
const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function refuseFewClasses(folder: string, usable: string[], empty: string[]): never {
  const have = usable.length === 0 ? 'no class has' : `only ${usable.map((c) => `"${c}"`).join(', ')} ${usable.length === 1 ? 'has' : 'have'}`;
  throw new ImportRefused(
    `"${folder}": ${have} usable images (${empty.map((c) => `"${c}"`).join(', ')} ${empty.length === 1 ? 'has' : 'have'} none). ` +
      `A class-conditional dataset needs at least 2 classes with images; add ${IMAGE_EXTENSIONS.join(' ')} files to the empty class folders or remove them.`,
  );
}

/** Checks the path is an existing folder (the spec validator uses this before a job starts). */
export function checkFolderPath(folder: string): void {
  let st;
  try {
    st = statSync(folder);
  } catch {
    throw new ImportRefused(`Folder "${folder}" does not exist. Check the path, or choose the folder again.`);
  }
  if (!st.isDirectory()) throw new ImportRefused(`"${folder}" is a file, not a folder. Choose the folder that contains one subfolder per class.`);
}

/** Lists classes and candidate image files; refuses layouts that cannot work before anything is decoded. */
export function scanImageFolder(folder: string): FolderScan {
  checkFolderPath(folder);
  const entries = readdirSync(folder, { withFileTypes: true }).filter((e) => !hidden(e.name));
  const skipped: SkippedFile[] = [];
  const classes: string[] = [];
  for (const e of entries.sort((a, b) => byName(a.name, b.name))) {
    const p = join(folder, e.name);
    const isDir = e.isDirectory() || (e.isSymbolicLink() && statSync(p, { throwIfNoEntry: false })?.isDirectory() === true);
    if (isDir) classes.push(e.name);
    else skipped.push({ file: e.name, reason: 'not inside a class folder' });
  }
  if (classes.length === 0) {
    throw new ImportRefused(
      `"${folder}" has no class subfolders${entries.length === 0 ? ' (it is empty)' : ''}. ` +
        `Put the images of each class in its own subfolder, e.g. ${join(folder, 'cat')}/*.png and ${join(folder, 'dog')}/*.png.`,
    );
  }
  if (classes.length === 1) {
    throw new ImportRefused(
      `"${folder}" has only one class subfolder ("${classes[0]}"). Add at least one more class subfolder: class-conditional training needs 2 or more classes.`,
    );
  }
  const files: FolderFile[] = [];
  // Symbolic links are followed inside their own class only: a folder reached twice (a loop) is read once,
  // and a link into another class folder is skipped, since it would give one image two labels.
  const classReal = classes.map((c) => realpathSync(join(folder, c)));
  const classOf = (real: string): number => classReal.findIndex((r) => real === r || real.startsWith(r + sep));
  const walk = (dir: string, label: number, seen: Set<string>): void => {
    const names = readdirSync(dir, { withFileTypes: true })
      .filter((e) => !hidden(e.name))
      .sort((a, b) => byName(a.name, b.name));
    for (const e of names) {
      const p = join(dir, e.name);
      const file = relName(folder, p);
      let st: ReturnType<typeof statSync> | undefined;
      let real = p;
      try {
        st = statSync(p, { throwIfNoEntry: false });
        if (st && e.isSymbolicLink()) real = realpathSync(p);
      } catch (err) {
        skipped.push({ file, reason: (err as NodeJS.ErrnoException).code === 'ELOOP' ? 'symlink loop' : `unreadable (${(err as Error).message.split('\n')[0]})` });
        continue;
      }
      if (!st) {
        skipped.push({ file, reason: 'broken link' });
        continue;
      }
      const owner = e.isSymbolicLink() ? classOf(real) : label;
      if (owner >= 0 && owner !== label) skipped.push({ file, reason: `links into class "${classes[owner]}": one image cannot have two labels` });
      else if (st.isDirectory()) {
        const key = e.isSymbolicLink() ? real : realpathSync(p);
        if (seen.has(key)) skipped.push({ file, reason: 'symlink loop (folder already read)' });
        else {
          seen.add(key);
          walk(p, label, seen);
        }
      } else if (!IMAGE_EXTENSIONS.includes(extname(e.name).toLowerCase())) skipped.push({ file, reason: 'unsupported file type' });
      else files.push({ path: p, rel: file, label });
    }
  };
  classes.forEach((c, i) => {
    // a class folder that is (a link to) another class's folder, or inside it: its images would carry two labels
    const other = classReal.findIndex((r, j) => (j < i && classReal[i] === r) || (j !== i && classReal[i].startsWith(r + sep)));
    if (other >= 0) skipped.push({ file: c, reason: `the same folder as class "${classes[other]}": one image cannot have two labels` });
    else walk(join(folder, c), i, new Set([classReal[i]]));
  });
  const counts = classes.map((_, i) => files.filter((f) => f.label === i).length);
  const usable = classes.filter((_, i) => counts[i] > 0);
  if (usable.length < 2) refuseFewClasses(folder, usable, classes.filter((_, i) => counts[i] === 0));
  return { classes, files, skipped };
}

/** Decodes one file to uint8 [res, res, channels]; throws an Error whose message is the skip reason. */
export async function decodeImage(path: string, res: number, channels: 1 | 3): Promise<Uint8Array> {
  if (statSync(path).size === 0) throw new Error('empty file (0 bytes)');
  let out;
  try {
    out = await sharp(path, { failOn: 'warning', autoOrient: true, sequentialRead: true })
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .resize(res, res, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .toColourspace(channels === 1 ? 'b-w' : 'srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    const msg = (e instanceof Error ? e.message : String(e))
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .join(' ')
      .slice(0, 200);
    throw new Error(`could not decode: ${msg}`);
  }
  const { data, info } = out;
  if (info.width !== res || info.height !== res || info.channels !== channels) {
    throw new Error(`decoded to ${info.width}×${info.height}×${info.channels}, expected ${res}×${res}×${channels}`);
  }
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

export interface ImportOptions {
  folder: string;
  /** Dataset folder to write (created if missing). */
  outDir: string;
  name: string;
  resolution: number;
  channels?: 1 | 3;
  /** Share of each class held out for validation, in [0, 0.5], or 1 (all: an evaluation set); default 0.1. */
  valShare?: number;
  seed?: number;
  /** Images decoded at once (sharp decodes on the libuv pool, off the JS thread); default 8. */
  concurrency?: number;
  onProgress?: (done: number, total: number, message?: string) => void;
  /** Checked between groups of `concurrency` images; aborting throws JobCancelled and leaves no files behind. */
  signal?: AbortSignal;
}

function checkAbort(signal?: AbortSignal): void {
  if (signal) throwIfCancelled(signal);
}

/**
 * Decodes every image into a temporary file, splits the usable ones per class, then copies them into
 * the train/val files in seeded random order, so memory holds labels only. Returns the manifest.
 */
export async function importImageFolder(opts: ImportOptions): Promise<DatasetManifest> {
  const res = opts.resolution;
  const channels = opts.channels ?? 3;
  const valShare = opts.valShare ?? 0.1;
  const seed = opts.seed ?? 0;
  if (!(FOLDER_RESOLUTIONS as readonly number[]).includes(res)) throw new ImportRefused(`resolution ${res} is not supported; use ${FOLDER_RESOLUTIONS.join(', ')}`);
  const scan = scanImageFolder(opts.folder);
  const skipped = [...scan.skipped];
  const bytes = res * res * channels;
  const total = scan.files.length;
  const allPath = join(opts.outDir, 'import-all.u8.tmp');
  const writers: SplitWriter[] = [];
  mkdirSync(opts.outDir, { recursive: true });
  let fd = -1;
  try {
    fd = openSync(allPath, 'w+');
    const labels: number[] = [];
    const conc = Math.max(1, opts.concurrency ?? 8);
    for (let i = 0; i < total; i += conc) {
      checkAbort(opts.signal);
      const chunk = scan.files.slice(i, i + conc);
      const decoded = await Promise.allSettled(chunk.map((f) => decodeImage(f.path, res, channels)));
      decoded.forEach((r, k) => {
        if (r.status === 'fulfilled') {
          writeSync(fd, r.value, 0, bytes, labels.length * bytes);
          labels.push(chunk[k].label);
        } else {
          skipped.push({ file: chunk[k].rel, reason: r.reason instanceof Error ? r.reason.message : String(r.reason) });
        }
      });
      opts.onProgress?.(Math.min(i + conc, total), total, `decoded ${Math.min(i + conc, total)} of ${total} images`);
    }
    // Classes whose every file failed to decode are dropped, and the rest renumbered in sorted order.
    const counts = scan.classes.map((_, c) => labels.filter((l) => l === c).length);
    const kept = scan.classes.filter((_, c) => counts[c] > 0);
    const dropped = scan.classes.filter((_, c) => counts[c] === 0);
    if (kept.length < 2) refuseFewClasses(opts.folder, kept, dropped);
    for (const c of dropped) skipped.push({ file: `${c}/`, reason: 'class folder has no usable images; class dropped' });
    const remap = new Int32Array(scan.classes.length).fill(-1);
    kept.forEach((c) => (remap[scan.classes.indexOf(c)] = kept.indexOf(c)));
    const y = Int32Array.from(labels, (l) => remap[l]);
    const split = stratifiedSplit(y, kept.length, valShare, new Rng(deriveSeed(seed, 'imagefolder:split')));
    const buf = new Uint8Array(bytes);
    const infos = (['train', 'val'] as const).map((name) => {
      const w = new SplitWriter(opts.outDir, name, bytes, kept.length);
      writers.push(w);
      for (const idx of split[name]) {
        let got = 0;
        while (got < bytes) got += readSync(fd, buf, got, bytes - got, idx * bytes + got);
        w.append(buf, y[idx]);
      }
      return w;
    });
    checkAbort(opts.signal);
    const [train, val] = infos.map((w) => w.finish());
    const manifest: DatasetManifest = {
      format: PACKED_FORMAT,
      name: opts.name,
      kind: 'imagefolder',
      source: opts.folder,
      resolution: res,
      channels,
      classes: kept,
      seed,
      valShare,
      splits: { train, val },
      skipped,
      resize: FOLDER_RESIZE,
      createdAt: new Date().toISOString(),
    };
    writeManifest(opts.outDir, manifest);
    return manifest;
  } catch (e) {
    writers.forEach((w) => w.abort());
    throw e;
  } finally {
    if (fd >= 0) closeSync(fd);
    rmSync(allPath, { force: true });
  }
}
