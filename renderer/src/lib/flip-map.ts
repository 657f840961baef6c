// The token-flip map a tokenizer run writes beside each reconstruction grid
// (engine/train/tokenizer-trainer.ts writeReconGrid), and where its tokens sit in the grid PNG,
// so the page can mark the tokens a perturbation changed over the perturbed column.
import type { Artifact } from '../../../preload/contract';

export interface FlipMap {
  epoch: number;
  /** Token grid of one image. */
  h: number;
  w: number;
  alpha: number;
  /** δ in codes. */
  delta: number;
  includeSelf: boolean;
  selection: string;
  anchor: string;
  /** Measured share of changed tokens, and the expectation α(δ−1)/δ (or α). */
  flipRate: number;
  expected: number;
  /** One 0/1 array of h·w (row-major) per image row of the grid. */
  masks: number[][];
}

export function parseFlipMap(j: unknown): FlipMap {
  const o = (j ?? {}) as Record<string, unknown>;
  const n = (k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : NaN);
  const h = n('h');
  const w = Number.isFinite(n('w')) ? n('w') : h;
  if (!(h > 0 && w > 0) || !Array.isArray(o.masks)) throw new Error('not a token-flip map (needs h, w and masks)');
  const masks = (o.masks as unknown[]).map((m, i) => {
    if (!Array.isArray(m) || m.length !== h * w) throw new Error(`flip map: mask ${i} has ${Array.isArray(m) ? m.length : 0} entries, expected ${h * w}`);
    return m.map((x) => (x ? 1 : 0));
  });
  return {
    epoch: n('epoch'), h, w, alpha: n('alpha'), delta: n('delta'), includeSelf: o.includeSelf !== false,
    selection: String(o.selection ?? 'bernoulli'), anchor: String(o.anchor ?? 'z'), flipRate: n('flipRate'), expected: n('expected'), masks,
  };
}

export interface GridGeometry {
  /** Side of one (square, upscaled) tile in PNG pixels. */
  tile: number;
  rows: number;
  cols: number;
  pad: number;
}

/** Tile size and rows of a grid PNG `cols` tiles wide with `pad` pixels around tiles (engine/data/png.ts tileImages). */
export function gridGeometry(width: number, height: number, cols = 3, pad = 1): GridGeometry | null {
  const tile = (width - pad) / cols - pad;
  const rows = (height - pad) / (tile + pad);
  if (!Number.isInteger(tile) || tile <= 0 || !Number.isInteger(rows) || rows <= 0) return null;
  return { tile, rows, cols, pad };
}

export interface Cell {
  row: number;
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Rectangles (PNG pixels) of the changed tokens of every row, over column `col` (2 = perturbed). */
export function flipCells(map: FlipMap, g: GridGeometry, col = 2): Cell[] {
  const cw = g.tile / map.w;
  const ch = g.tile / map.h;
  const out: Cell[] = [];
  map.masks.slice(0, g.rows).forEach((m, row) => {
    const ox = g.pad + col * (g.tile + g.pad);
    const oy = g.pad + row * (g.tile + g.pad);
    m.forEach((v, t) => {
      if (v) out.push({ row, x: ox + (t % map.w) * cw, y: oy + Math.floor(t / map.w) * ch, w: cw, h: ch });
    });
  });
  return out;
}

const epochOf = (a: Artifact): number => (typeof a.meta.epoch === 'number' ? a.meta.epoch : -1);

/** The latest reconstruction grid and the flip map of the same epoch (either may be missing). */
export function latestTriptych(artifacts: Artifact[]): { grid: Artifact | null; flip: Artifact | null } {
  const latest = (kind: string): Artifact[] => artifacts.filter((a) => a.kind === kind).sort((a, b) => epochOf(b) - epochOf(a) || b.id - a.id);
  const grid = latest('recon-grid')[0] ?? null;
  const flips = latest('token-flip-map');
  const flip = grid ? (flips.find((f) => epochOf(f) === epochOf(grid)) ?? null) : (flips[0] ?? null);
  return { grid, flip };
}
