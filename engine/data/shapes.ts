// Built-in "shapes" dataset: class-conditional RGB images of shapes and patterns, procedurally drawn
// from a seed. Shapes are signed distance functions (exact ones, after Inigo Quilez's 2D SDF catalogue),
// so a pixel whose centre is farther than half a diagonal from an edge is fully in or out; only edge
// pixels are 4×4 supersampled, which gives box-filter anti-aliasing at a small cost.
import { Rng, deriveSeed } from '../rng';

export const SHAPE_CLASSES = [
  'circle',
  'square',
  'triangle',
  'ring',
  'cross',
  'star',
  'diamond',
  'stripes-horizontal',
  'stripes-diagonal',
  'checker',
] as const;
export type ShapeClass = (typeof SHAPE_CLASSES)[number];

export interface ShapesOptions {
  count: number;
  seed: number;
  /** 16, 32 (default) or 64. */
  resolution?: number;
  /** 3 (default) or 1 (luma of the RGB drawing). */
  channels?: 1 | 3;
  /** Called every few images and at the end. */
  onProgress?: (done: number, total: number) => void;
  /** Called before each image; throw from it to stop (e.g. `() => throwIfCancelled(signal)`). */
  shouldStop?: () => void;
}

export interface ShapesData {
  /** uint8 NHWC [count, R, R, C]. */
  x: Uint8Array;
  /** Class ids [count]; exactly balanced up to count mod classes, in seeded random order. */
  y: Int32Array;
  classes: string[];
}

export type Sdf = (px: number, py: number) => number;

const SS = 4; // supersampling grid per edge pixel (SS×SS samples)

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

function sdBox(px: number, py: number, bx: number, by: number): number {
  const dx = Math.abs(px) - bx;
  const dy = Math.abs(py) - by;
  const ox = Math.max(dx, 0);
  const oy = Math.max(dy, 0);
  return Math.sqrt(ox * ox + oy * oy) + Math.min(Math.max(dx, dy), 0);
}

function sdEquilateralTriangle(px: number, py: number, r: number): number {
  const k = Math.sqrt(3);
  let x = Math.abs(px) - r;
  let y = py + r / k;
  if (x + k * y > 0) {
    const nx = (x - k * y) / 2;
    const ny = (-k * x - y) / 2;
    x = nx;
    y = ny;
  }
  x -= clamp(x, -2 * r, 0);
  return -Math.sqrt(x * x + y * y) * Math.sign(y);
}

function sdStar5(px: number, py: number, r: number, rf: number): number {
  const k1x = 0.809016994375;
  const k1y = -0.587785252292;
  const k2x = -k1x;
  const k2y = k1y;
  let x = Math.abs(px);
  let y = py;
  let d = Math.max(k1x * x + k1y * y, 0);
  x -= 2 * d * k1x;
  y -= 2 * d * k1y;
  d = Math.max(k2x * x + k2y * y, 0);
  x -= 2 * d * k2x;
  y -= 2 * d * k2y;
  x = Math.abs(x);
  y -= r;
  const bax = -rf * k1y; // ba = rf·(-k1.y, k1.x) − (0, 1)
  const bay = rf * k1x - 1;
  const h = clamp((x * bax + y * bay) / (bax * bax + bay * bay), 0, r);
  const qx = x - bax * h;
  const qy = y - bay * h;
  return Math.sqrt(qx * qx + qy * qy) * Math.sign(y * bax - x * bay);
}

function sdRhombus(px: number, py: number, bx: number, by: number): number {
  const x = Math.abs(px);
  const y = Math.abs(py);
  // ndot(b − 2p, b) / dot(b, b), with ndot(a, b) = a.x·b.x − a.y·b.y
  const h = clamp(((bx - 2 * x) * bx - (by - 2 * y) * by) / (bx * bx + by * by), -1, 1);
  const qx = x - 0.5 * bx * (1 - h);
  const qy = y - 0.5 * by * (1 + h);
  return Math.sqrt(qx * qx + qy * qy) * Math.sign(x * by + y * bx - bx * by);
}

function sdCross(px: number, py: number, b: number, w: number): number {
  // Union of two rounded-free bars: exact for a plus-shape of half-length b and half-width w.
  return Math.min(sdBox(px, py, b, w), sdBox(px, py, w, b));
}

/** Distance to the nearest edge of parallel stripes along unit normal (nx, ny); inside = the "on" stripes. */
function stripes(px: number, py: number, nx: number, ny: number, period: number, phase: number): number {
  const t = px * nx + py * ny + phase;
  const m = t - period * Math.floor(t / period); // [0, period)
  return Math.abs(m - period / 2) - period / 4;
}

interface Colour {
  r: number;
  g: number;
  b: number;
}

function hsv(h: number, s: number, v: number): Colour {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  const m = ((i % 6) + 6) % 6;
  const [r, g, b] = m === 0 ? [v, t, p] : m === 1 ? [q, v, p] : m === 2 ? [p, v, t] : m === 3 ? [p, q, v] : m === 4 ? [t, p, v] : [v, p, q];
  return { r, g, b };
}

function luma(c: Colour): number {
  return 0.299 * c.r + 0.587 * c.g + 0.114 * c.b;
}

function randomColour(rng: Rng): Colour {
  return hsv(rng.uniform(), 0.3 + 0.7 * rng.uniform(), 0.15 + 0.85 * rng.uniform());
}

/** A foreground colour whose luma differs from the background's by at least 0.25, so every shape is visible. */
function contrastingColour(rng: Rng, bg: Colour): Colour {
  for (let tries = 0; tries < 32; tries++) {
    const c = randomColour(rng);
    if (Math.abs(luma(c) - luma(bg)) >= 0.25) return c;
  }
  return luma(bg) > 0.5 ? { r: 0.05, g: 0.05, b: 0.05 } : { r: 0.95, g: 0.95, b: 0.95 };
}

/** The SDF of one item of class `cls` in image coordinates [-1, 1]² (y down), its pose drawn from `rng`. */
export function shapeSdf(cls: number, rng: Rng): Sdf {
  const name = SHAPE_CLASSES[cls];
  if (name === 'stripes-horizontal' || name === 'stripes-diagonal' || name === 'checker') {
    const period = 0.25 + 0.35 * rng.uniform();
    const jitter = (rng.uniform() - 0.5) * (Math.PI / 9); // ±10°
    const phase = rng.uniform() * period;
    if (name === 'checker') {
      const a = jitter;
      const ca = Math.cos(a);
      const sa = Math.sin(a);
      const phase2 = rng.uniform() * period;
      return (px, py) => {
        const sx = stripes(px, py, ca, sa, period, phase);
        const sy = stripes(px, py, -sa, ca, period, phase2);
        const d = Math.min(Math.abs(sx), Math.abs(sy)); // distance to the nearest grid line
        return (sx < 0) !== (sy < 0) ? -d : d;
      };
    }
    // Horizontal stripes have a vertical normal; diagonal ones lean either way at 45°.
    const a = name === 'stripes-horizontal' ? Math.PI / 2 + jitter : (rng.uniform() < 0.5 ? Math.PI / 4 : (3 * Math.PI) / 4) + jitter;
    const nx = Math.cos(a);
    const ny = Math.sin(a);
    return (px, py) => stripes(px, py, nx, ny, period, phase);
  }
  const size = 0.3 + 0.3 * rng.uniform(); // half-extent in [-1, 1] units
  const margin = 1 - size * 0.9;
  const cx = (rng.uniform() * 2 - 1) * margin;
  const cy = (rng.uniform() * 2 - 1) * margin;
  const rot = rng.uniform() * 2 * Math.PI;
  const c = Math.cos(rot);
  const s = Math.sin(rot);
  let local: Sdf;
  switch (name) {
    case 'circle':
      local = (x, y) => Math.sqrt(x * x + y * y) - size;
      break;
    case 'square': {
      const h = size * 0.8;
      local = (x, y) => sdBox(x, y, h, h);
      break;
    }
    case 'triangle':
      local = (x, y) => sdEquilateralTriangle(x, y, size * 1.15);
      break;
    case 'ring': {
      const w = size * (0.15 + 0.15 * rng.uniform());
      const r = size - w;
      local = (x, y) => Math.abs(Math.sqrt(x * x + y * y) - r) - w;
      break;
    }
    case 'cross': {
      const w = size * (0.2 + 0.1 * rng.uniform());
      local = (x, y) => sdCross(x, y, size, w);
      break;
    }
    case 'star': {
      const rf = 0.4 + 0.15 * rng.uniform();
      local = (x, y) => sdStar5(x, y, size * 1.2, rf);
      break;
    }
    case 'diamond': {
      const bx = size * 0.75;
      const by = size * 1.2;
      local = (x, y) => sdRhombus(x, y, bx, by);
      break;
    }
    default:
      throw new Error(`no SDF for class ${name}`);
  }
  return (px, py) => {
    const dx = px - cx;
    const dy = py - cy;
    return local(c * dx + s * dy, -s * dx + c * dy);
  };
}

/**
 * Box-filtered coverage [res·res] (row-major) of the region sdf < 0 over [-1, 1]²: SS×SS samples per
 * pixel, skipped where the centre is over half a pixel diagonal from the edge (needs |sdf| ≤ true
 * distance). `exhaustive` samples every pixel, the reference the shortcut must equal.
 */
export function coverage(sdf: Sdf, res: number, exhaustive = false): Float32Array {
  const out = new Float32Array(res * res);
  const px = 2 / res; // pixel size in [-1, 1] units
  const full = exhaustive ? Infinity : px * Math.SQRT1_2;
  const sub = px / SS;
  for (let j = 0; j < res; j++) {
    const y = (j + 0.5) * px - 1;
    for (let i = 0; i < res; i++) {
      const x = (i + 0.5) * px - 1;
      const d = sdf(x, y);
      if (d <= -full) out[j * res + i] = 1;
      else if (d >= full) out[j * res + i] = 0;
      else {
        let inside = 0;
        for (let sj = 0; sj < SS; sj++) {
          const yy = y - px / 2 + (sj + 0.5) * sub;
          for (let si = 0; si < SS; si++) if (sdf(x - px / 2 + (si + 0.5) * sub, yy) < 0) inside++;
        }
        out[j * res + i] = inside / (SS * SS);
      }
    }
  }
  return out;
}

/**
 * Draws one image into `out` at `offset` (uint8 HWC, `channels` 1 or 3).
 * Background: a plain colour or a linear gradient between two nearby colours.
 */
export function drawShape(cls: number, itemSeed: number, res: number, channels: 1 | 3, out: Uint8Array, offset: number): void {
  const rng = new Rng(itemSeed);
  const bg0 = randomColour(rng);
  const gradient = rng.uniform() < 0.5;
  const bg1 = gradient ? hsv(rng.uniform(), 0.3 + 0.7 * rng.uniform(), clamp(luma(bg0) + (rng.uniform() - 0.5) * 0.3, 0.05, 1)) : bg0;
  const ga = rng.uniform() * 2 * Math.PI;
  const gx = Math.cos(ga) * 0.5;
  const gy = Math.sin(ga) * 0.5;
  const fg = contrastingColour(rng, { r: (bg0.r + bg1.r) / 2, g: (bg0.g + bg1.g) / 2, b: (bg0.b + bg1.b) / 2 });
  const sdf = shapeSdf(cls, rng);
  const cov = coverage(sdf, res);
  const px = 2 / res;
  let o = offset;
  for (let j = 0; j < res; j++) {
    const y = (j + 0.5) * px - 1;
    for (let i = 0; i < res; i++) {
      const x = (i + 0.5) * px - 1;
      const a = cov[j * res + i];
      const t = gradient ? clamp(0.5 + x * gx + y * gy, 0, 1) : 0;
      const r = (bg0.r + (bg1.r - bg0.r) * t) * (1 - a) + fg.r * a;
      const g = (bg0.g + (bg1.g - bg0.g) * t) * (1 - a) + fg.g * a;
      const b = (bg0.b + (bg1.b - bg0.b) * t) * (1 - a) + fg.b * a;
      if (channels === 3) {
        out[o++] = Math.round(r * 255);
        out[o++] = Math.round(g * 255);
        out[o++] = Math.round(b * 255);
      } else {
        out[o++] = Math.round((0.299 * r + 0.587 * g + 0.114 * b) * 255);
      }
    }
  }
}

/**
 * Streams `count` images to `sink` (the image buffer is reused: copy or write it before returning).
 * Class of item i is i mod C before a seeded shuffle; each item is drawn from its own seed stream.
 */
export function streamShapes(opts: ShapesOptions, sink: (image: Uint8Array, label: number, index: number) => void): void {
  const res = opts.resolution ?? 32;
  const channels = opts.channels ?? 3;
  if (![16, 32, 64].includes(res)) throw new Error(`shapes: resolution ${res} is not supported; use 16, 32 or 64`);
  if (!Number.isInteger(opts.count) || opts.count < 0) throw new Error(`shapes: count must be a non-negative integer, got ${opts.count}`);
  const n = opts.count;
  const C = SHAPE_CLASSES.length;
  const y = new Int32Array(n);
  for (let i = 0; i < n; i++) y[i] = i % C;
  new Rng(deriveSeed(opts.seed, 'shapes:labels')).shuffle(y);
  const img = new Uint8Array(res * res * channels);
  const base = deriveSeed(opts.seed, 'shapes:items');
  for (let i = 0; i < n; i++) {
    opts.shouldStop?.();
    drawShape(y[i], deriveSeed(base, `item${i}`), res, channels, img, 0);
    sink(img, y[i], i);
    if (opts.onProgress && ((i + 1) % 256 === 0 || i + 1 === n)) opts.onProgress(i + 1, n);
  }
}

/** `count` images in memory (see streamShapes). */
export function generateShapes(opts: ShapesOptions): ShapesData {
  const per = (opts.resolution ?? 32) ** 2 * (opts.channels ?? 3);
  const x = new Uint8Array(Math.max(0, opts.count | 0) * per);
  const y = new Int32Array(Math.max(0, opts.count | 0));
  streamShapes(opts, (img, label, i) => {
    x.set(img, i * per);
    y[i] = label;
  });
  return { x, y, classes: [...SHAPE_CLASSES] };
}
