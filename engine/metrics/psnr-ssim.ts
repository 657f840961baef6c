// PSNR and SSIM for reconstructions. Images are Float32 NHWC; by default in [-1,1] (the Batch format)
// and mapped to [0,1] by (x+1)/2 first, so numbers match the usual [0,1] convention with data range 1.
// SSIM follows Wang et al. 2004 as in pytorch_msssim / skimage (gaussian_weights, sigma 1.5,
// use_sample_covariance=False): 11-tap Gaussian σ 1.5, valid window, K1 0.01, K2 0.03, per channel.

export interface ImageShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

export interface ImageMetricOptions {
  /** 'signed': values in [-1,1] (default); 'unit': values already in [0,1]. */
  range?: 'signed' | 'unit';
  /** Data range L of the [0,1]-mapped values. Default 1. */
  dataRange?: number;
}

export interface PerImage {
  mean: number;
  perImage: number[];
}

const WIN = 11;
const SIGMA = 1.5;
const K1 = 0.01;
const K2 = 0.03;

function gaussianWindow(): Float64Array {
  const g = new Float64Array(WIN);
  let s = 0;
  for (let i = 0; i < WIN; i++) {
    const x = i - (WIN >> 1);
    g[i] = Math.exp(-(x * x) / (2 * SIGMA * SIGMA));
    s += g[i];
  }
  for (let i = 0; i < WIN; i++) g[i] /= s;
  return g;
}

function checkPair(a: Float32Array, b: Float32Array, s: ImageShape): void {
  const size = s.n * s.h * s.w * s.c;
  if (a.length !== size || b.length !== size) throw new Error(`images: got ${a.length} and ${b.length} values for shape [${s.n},${s.h},${s.w},${s.c}] (${size} expected)`);
}

function mapper(opts: ImageMetricOptions): (v: number) => number {
  return (opts.range ?? 'signed') === 'signed' ? (v) => (v + 1) / 2 : (v) => v;
}

/** Per-image PSNR = 10·log10(L²/MSE) (Infinity for identical images) and its mean over images. */
export function psnr(a: Float32Array, b: Float32Array, shape: ImageShape, opts: ImageMetricOptions = {}): PerImage {
  checkPair(a, b, shape);
  const map = mapper(opts);
  const L = opts.dataRange ?? 1;
  const per = shape.h * shape.w * shape.c;
  const perImage: number[] = [];
  for (let i = 0; i < shape.n; i++) {
    let se = 0;
    for (let t = i * per; t < (i + 1) * per; t++) {
      const d = map(a[t]) - map(b[t]);
      se += d * d;
    }
    perImage.push(10 * Math.log10((L * L) / (se / per)));
  }
  return { mean: perImage.reduce((p, v) => p + v, 0) / shape.n, perImage };
}

/** Per-image SSIM (mean over the valid map and over channels) and its mean over images. */
export function ssim(a: Float32Array, b: Float32Array, shape: ImageShape, opts: ImageMetricOptions = {}): PerImage {
  checkPair(a, b, shape);
  const { n, h, w, c } = shape;
  if (h < WIN || w < WIN) throw new Error(`SSIM needs images of at least ${WIN}×${WIN} pixels, got ${h}×${w}`);
  const map = mapper(opts);
  const L = opts.dataRange ?? 1;
  const c1 = (K1 * L) ** 2, c2 = (K2 * L) ** 2;
  const g = gaussianWindow();
  const oh = h - WIN + 1, ow = w - WIN + 1;
  // five planes x, y, x², y², xy → horizontally filtered [h, ow] → vertically filtered [oh, ow]
  const src = Array.from({ length: 5 }, () => new Float64Array(h * w));
  const rows = Array.from({ length: 5 }, () => new Float64Array(h * ow));
  const out = Array.from({ length: 5 }, () => new Float64Array(oh * ow));
  const perImage: number[] = [];
  for (let i = 0; i < n; i++) {
    let sum = 0;
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) {
        const x = map(a[(i * h * w + p) * c + ch]), y = map(b[(i * h * w + p) * c + ch]);
        src[0][p] = x;
        src[1][p] = y;
        src[2][p] = x * x;
        src[3][p] = y * y;
        src[4][p] = x * y;
      }
      for (let q = 0; q < 5; q++) {
        const s = src[q], r = rows[q], o = out[q];
        for (let yy = 0; yy < h; yy++) {
          for (let xx = 0; xx < ow; xx++) {
            let acc = 0;
            for (let t = 0; t < WIN; t++) acc += g[t] * s[yy * w + xx + t];
            r[yy * ow + xx] = acc;
          }
        }
        for (let yy = 0; yy < oh; yy++) {
          for (let xx = 0; xx < ow; xx++) {
            let acc = 0;
            for (let t = 0; t < WIN; t++) acc += g[t] * r[(yy + t) * ow + xx];
            o[yy * ow + xx] = acc;
          }
        }
      }
      let chSum = 0;
      for (let p = 0; p < oh * ow; p++) {
        const mx = out[0][p], my = out[1][p];
        const vx = out[2][p] - mx * mx, vy = out[3][p] - my * my, cxy = out[4][p] - mx * my;
        chSum += ((2 * mx * my + c1) * (2 * cxy + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2));
      }
      sum += chSum / (oh * ow);
    }
    perImage.push(sum / c);
  }
  return { mean: perImage.reduce((p, v) => p + v, 0) / n, perImage };
}
