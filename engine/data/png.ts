// Image grids as PNG files (dataset previews, reconstruction and sample grids of other jobs).
// Tiles images row-major into a uint8 canvas here, then lets sharp encode it.
import { mkdirSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import sharp from 'sharp';

export interface GridOptions {
  /** Pixels between tiles and around the border (default 1). */
  pad?: number;
  /** Integer nearest-neighbour upscaling of every tile (default 1). */
  scale?: number;
  /** Grey level 0–255 of the padding (default 0, black). */
  padValue?: number;
}

export interface RawImage {
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

/** Float32 in [-1, 1] → uint8, rounding and clamping (the inverse of the batches' x/127.5 − 1). */
export function toUint8(v: number): number {
  const u = Math.round((v + 1) * 127.5);
  return u < 0 ? 0 : u > 255 ? 255 : u;
}

/**
 * Tiles n images [n, h, w, c] (uint8, or float in [-1, 1]) into a grid `cols` wide.
 * Canvas [rows·(h·scale + pad) + pad, cols·(w·scale + pad) + pad, c].
 */
export function tileImages(images: Uint8Array | Float32Array, n: number, h: number, w: number, c: number, cols: number, opts: GridOptions = {}): RawImage {
  const pad = opts.pad ?? 1;
  const scale = opts.scale ?? 1;
  if (!Number.isInteger(scale) || scale < 1) throw new Error(`grid scale must be a positive integer, got ${scale}`);
  if (images.length < n * h * w * c) throw new Error(`grid: ${images.length} values for ${n} images of ${h}×${w}×${c}`);
  if (n < 1 || cols < 1) throw new Error(`grid: need at least one image and one column (n=${n}, cols=${cols})`);
  const rows = Math.ceil(n / cols);
  const cw = Math.min(cols, n);
  const th = h * scale;
  const tw = w * scale;
  const width = cw * (tw + pad) + pad;
  const height = rows * (th + pad) + pad;
  const data = new Uint8Array(width * height * c).fill(opts.padValue ?? 0);
  const isFloat = images instanceof Float32Array;
  for (let k = 0; k < n; k++) {
    const oy = pad + Math.floor(k / cols) * (th + pad);
    const ox = pad + (k % cols) * (tw + pad);
    const base = k * h * w * c;
    for (let y = 0; y < th; y++) {
      const src = base + Math.floor(y / scale) * w * c;
      const dst = ((oy + y) * width + ox) * c;
      for (let x = 0; x < tw; x++) {
        const s = src + Math.floor(x / scale) * c;
        const d = dst + x * c;
        for (let ch = 0; ch < c; ch++) data[d + ch] = isFloat ? toUint8(images[s + ch]) : images[s + ch];
      }
    }
  }
  return { data, width, height, channels: c };
}

/** Writes raw uint8 pixels (1 or 3 channels) as a PNG, via a temporary name so readers never see half a file. */
export async function writePng(path: string, img: RawImage): Promise<void> {
  if (img.channels !== 1 && img.channels !== 3) throw new Error(`PNG: ${img.channels} channels; use 1 or 3`);
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await sharp(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), {
    raw: { width: img.width, height: img.height, channels: img.channels },
  })
    // Without this sharp widens one-channel input to an sRGB PNG.
    .toColourspace(img.channels === 1 ? 'b-w' : 'srgb')
    .png({ compressionLevel: 6 })
    .toFile(tmp);
  renameSync(tmp, path);
}

/** Tiles images [n, h, w, c] (uint8 or [-1, 1] floats) `cols` wide and writes the grid as a PNG. */
export async function writeImageGrid(
  path: string,
  images: Uint8Array | Float32Array,
  n: number,
  h: number,
  w: number,
  c: number,
  cols: number,
  opts?: GridOptions,
): Promise<RawImage> {
  const grid = tileImages(images, n, h, w, c, cols, opts);
  await writePng(path, grid);
  return grid;
}
