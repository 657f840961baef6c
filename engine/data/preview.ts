// Dataset previews for the UI: one grid (a row of examples per class) and a small strip per class,
// written as PNGs into the dataset folder. File names are returned relative to that folder.
import { join } from 'node:path';
import type { PackedDataset } from './packed';
import { writeImageGrid } from './png';
import type { SplitName } from './types';

export interface PreviewOptions {
  /** Examples per class (default 8); the first ones in the split's stored (already shuffled) order. */
  perClass?: number;
  split?: SplitName;
  /** Also write preview-class-<id>.png per class (default true). */
  perClassFiles?: boolean;
}

export async function writePreviews(ds: PackedDataset, opts: PreviewOptions = {}): Promise<string[]> {
  const perClass = opts.perClass ?? 8;
  const split = ds.split(opts.split ?? 'train');
  const C = ds.manifest.classes.length;
  const [h, w, c] = ds.imageShape;
  const scale = Math.max(1, Math.floor(64 / h));
  const picks: number[][] = Array.from({ length: C }, () => []);
  for (let i = 0; i < split.n; i++) {
    const l = split.labels[i];
    if (picks[l].length < perClass) picks[l].push(i);
  }
  const B = split.imageBytes;
  // Classes with fewer examples than perClass leave black tiles, so rows stay aligned.
  const canvas = new Uint8Array(C * perClass * B);
  for (let k = 0; k < C; k++) {
    const { x } = split.read(picks[k]);
    canvas.set(x, k * perClass * B);
  }
  const names = ['preview.png'];
  await writeImageGrid(join(ds.dir, names[0]), canvas, C * perClass, h, w, c, perClass, { pad: 2, scale });
  if (opts.perClassFiles ?? true) {
    for (let k = 0; k < C; k++) {
      const name = `preview-class-${k}.png`;
      await writeImageGrid(join(ds.dir, name), canvas.subarray(k * perClass * B, (k + 1) * perClass * B), perClass, h, w, c, perClass, { pad: 2, scale });
      names.push(name);
    }
  }
  return names;
}
