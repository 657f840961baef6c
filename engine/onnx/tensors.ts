// Moving images and latents between toklab's side (NHWC, images in [-1,1]) and a model's side (its
// layout and value range), and torch-equivalent bilinear resizing for extractors with a fixed input.
import type { OnnxLayout, OnnxRange } from '../specs/import-onnx';

/** Per-image transpose of [n, rows, cols] → [n, cols, rows]: the move between NHWC and NCHW. */
function transposeImages(x: Float32Array, n: number, rows: number, cols: number): Float32Array {
  const out = new Float32Array(x.length);
  const per = rows * cols;
  for (let b = 0; b < n; b++) {
    const base = b * per;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[base + c * rows + r] = x[base + r * cols + c];
  }
  return out;
}

/** [n,h,w,c] → [n,c,h,w] */
export const nhwcToNchw = (x: Float32Array, n: number, h: number, w: number, c: number): Float32Array => transposeImages(x, n, h * w, c);

/** [n,c,h,w] → [n,h,w,c] */
export const nchwToNhwc = (x: Float32Array, n: number, c: number, h: number, w: number): Float32Array => transposeImages(x, n, c, h * w);

/** Values on toklab's [-1,1] scale → the model's range (a copy). */
export function toRange(x: Float32Array, range: OnnxRange): Float32Array {
  if (range === '-1,1') return Float32Array.from(x);
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) out[i] = (x[i] + 1) * 0.5;
  return out;
}

/** Values in the model's range → toklab's [-1,1] scale, in place. */
export function fromRange(x: Float32Array, range: OnnxRange): Float32Array {
  if (range === '0,1') for (let i = 0; i < x.length; i++) x[i] = x[i] * 2 - 1;
  return x;
}

/** Images NHWC [n,S,S,C] in [-1,1] → the model's layout and range, with their dims. */
export function imagesToModel(x: Float32Array, n: number, S: number, C: number, layout: OnnxLayout, range: OnnxRange): { data: Float32Array; dims: number[] } {
  const r = toRange(x, range);
  return layout === 'nchw' ? { data: nhwcToNchw(r, n, S, S, C), dims: [n, C, S, S] } : { data: r, dims: [n, S, S, C] };
}

/** Dims of an image batch in a layout. */
export function imageDims(n: number, S: number, C: number, layout: OnnxLayout): number[] {
  return layout === 'nchw' ? [n, C, S, S] : [n, S, S, C];
}

/**
 * Bilinear resize of NHWC images, exactly torch.nn.functional.interpolate(mode='bilinear',
 * align_corners=False, antialias=False): source coordinate (dst + 0.5)·scale − 0.5, clamped at 0,
 * neighbours clamped to the edge. This is how pytorch-fid brings images to 299 × 299.
 */
export function resizeBilinear(x: Float32Array, n: number, h: number, w: number, c: number, oh: number, ow: number): Float32Array {
  if (oh === h && ow === w) return x;
  const out = new Float32Array(n * oh * ow * c);
  const sy = h / oh, sx = w / ow;
  const y0s = new Int32Array(oh), y1s = new Int32Array(oh), wys = new Float32Array(oh);
  const x0s = new Int32Array(ow), x1s = new Int32Array(ow), wxs = new Float32Array(ow);
  for (let i = 0; i < oh; i++) {
    const src = Math.max((i + 0.5) * sy - 0.5, 0);
    const y0 = Math.min(Math.floor(src), h - 1);
    y0s[i] = y0;
    y1s[i] = Math.min(y0 + 1, h - 1);
    wys[i] = src - y0;
  }
  for (let j = 0; j < ow; j++) {
    const src = Math.max((j + 0.5) * sx - 0.5, 0);
    const x0 = Math.min(Math.floor(src), w - 1);
    x0s[j] = x0;
    x1s[j] = Math.min(x0 + 1, w - 1);
    wxs[j] = src - x0;
  }
  for (let b = 0; b < n; b++) {
    const ib = b * h * w * c, ob = b * oh * ow * c;
    for (let i = 0; i < oh; i++) {
      const r0 = ib + y0s[i] * w * c, r1 = ib + y1s[i] * w * c, wy = wys[i];
      for (let j = 0; j < ow; j++) {
        const a = x0s[j] * c, bb = x1s[j] * c, wx = wxs[j];
        const o = ob + (i * ow + j) * c;
        for (let k = 0; k < c; k++) {
          const top = x[r0 + a + k] * (1 - wx) + x[r0 + bb + k] * wx;
          const bot = x[r1 + a + k] * (1 - wx) + x[r1 + bb + k] * wx;
          out[o + k] = top * (1 - wy) + bot * wy;
        }
      }
    }
  }
  return out;
}
