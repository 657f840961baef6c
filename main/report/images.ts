// Image composition for the report: labelled grids of PNG tiles (matched-seed galleries: rows =
// classes, columns = without CFG | with CFG) and original | clean | perturbed triptychs. Tiles
// are upscaled nearest-neighbour (16 px images stay crisp); text is an SVG overlay that sharp
// renders with librsvg (DejaVu / Liberation via fontconfig); the background is opaque white.
import sharp, { type OverlayOptions } from 'sharp';
import { FONT } from '../../figures/style';

export type ImageInput = Buffer | string;

export interface GridInput {
  /** rows × cols; every tile is drawn in a cell the size of the largest tile × scale. */
  tiles: { png: ImageInput }[][];
  rowLabels?: string[];
  colLabels?: string[];
  title?: string;
  /** Integer nearest-neighbour upscaling factor (default 4). */
  scale?: number;
  /** Gap between tiles in output px (default 4). */
  gap?: number;
  /** Label font size in output px (default 14). */
  fontSize?: number;
  /** Column labels above (default) or below the tiles (captions). */
  colLabelsAt?: 'top' | 'bottom';
  /** Labels of the rows inside each tile (e.g. the classes of a gallery grid), beside the first column. */
  tileRowLabels?: string[];
  /** A smaller grey line under the grid. */
  footer?: string;
}

export interface GridLayout {
  width: number;
  height: number;
  cellW: number;
  cellH: number;
  left: number;
  top: number;
  gap: number;
  /** Top-left corner of tile (r, c) in output px. */
  at: (r: number, c: number) => { x: number; y: number };
}

const MARGIN = 8;

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
/** Generous estimate of a label's width (DejaVu Sans is wide). */
const labelWidth = (s: string, size: number): number => Math.ceil([...s].length * size * 0.62);

/** Where everything goes; exported so callers (and tests) can find a tile in the output. */
export function gridLayout(rows: number, cols: number, tileW: number, tileH: number, opts: Omit<GridInput, 'tiles'> = {}): GridLayout {
  const scale = opts.scale ?? 4;
  const gap = opts.gap ?? 4;
  const fs = opts.fontSize ?? 14;
  // A column is as wide as its tile or its label, whichever is wider (tiles are centred in it).
  const colLabelW = opts.colLabels?.length ? Math.max(...opts.colLabels.map((l) => labelWidth(l, fs))) + 6 : 0;
  const cellW = Math.max(tileW * scale, colLabelW);
  const cellH = tileH * scale;
  const sideLabels = [...(opts.rowLabels ?? []), ...(opts.tileRowLabels ?? [])];
  const rowLabelW = sideLabels.length ? Math.max(...sideLabels.map((l) => labelWidth(l, fs))) + MARGIN : 0;
  const colLabelH = opts.colLabels?.length ? Math.round(fs * 1.6) : 0;
  const titleH = opts.title ? Math.round(fs * 1.25 * 1.6) : 0;
  const bottomCaptions = opts.colLabelsAt === 'bottom';
  const left = MARGIN + rowLabelW;
  const top = MARGIN + titleH + (bottomCaptions ? 0 : colLabelH);
  const gridW = cols * cellW + Math.max(0, cols - 1) * gap;
  const gridH = rows * cellH + Math.max(0, rows - 1) * gap;
  const minW = Math.max(opts.title ? Math.ceil(labelWidth(opts.title, Math.round(fs * 1.25)) * 0.95) + 2 * MARGIN : 0, opts.footer ? labelWidth(opts.footer, Math.round(fs * 0.85)) + 2 * MARGIN : 0);
  const width = Math.max(left + gridW + MARGIN, minW);
  const footerH = opts.footer ? Math.round(fs * 1.6) : 0;
  const height = top + gridH + (bottomCaptions ? colLabelH : 0) + footerH + MARGIN;
  return { width, height, cellW, cellH, left, top, gap, at: (r, c) => ({ x: left + c * (cellW + gap), y: top + r * (cellH + gap) }) };
}

async function upscale(img: ImageInput, scale: number): Promise<{ buf: Buffer; w: number; h: number }> {
  const meta = await sharp(img).metadata();
  const w = (meta.width ?? 1) * scale;
  const h = (meta.height ?? 1) * scale;
  const buf = await sharp(img).flatten({ background: '#ffffff' }).resize({ width: w, height: h, kernel: 'nearest' }).png().toBuffer();
  return { buf, w, h };
}

/** A labelled grid of image tiles as one opaque PNG. */
export async function composeGrid(input: GridInput): Promise<Buffer> {
  const scale = Math.max(1, Math.round(input.scale ?? 4));
  const rows = input.tiles.length;
  const cols = Math.max(0, ...input.tiles.map((r) => r.length));
  if (!rows || !cols) throw new Error('composeGrid needs at least one tile');
  const metas = await Promise.all(input.tiles.flat().map((t) => sharp(t.png).metadata()));
  const tileW = Math.max(...metas.map((m) => m.width ?? 1));
  const tileH = Math.max(...metas.map((m) => m.height ?? 1));
  const L = gridLayout(rows, cols, tileW, tileH, { ...input, scale });
  const tileH0 = tileH;
  const fs = input.fontSize ?? 14;

  const composites: OverlayOptions[] = [];
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < input.tiles[r].length; c++) {
      const { buf, w, h } = await upscale(input.tiles[r][c].png, scale);
      const p = L.at(r, c);
      composites.push({ input: buf, left: p.x + Math.floor((L.cellW - w) / 2), top: p.y + Math.floor((L.cellH - h) / 2) });
    }
  }

  const texts: string[] = [];
  const text = (x: number, y: number, s: string, anchor: 'start' | 'middle' | 'end', size: number, weight = 'normal'): void => {
    texts.push(`<text x="${x}" y="${y}" font-family="${esc(FONT)}" font-size="${size}" font-weight="${weight}" fill="#111" text-anchor="${anchor}" dominant-baseline="central">${esc(s)}</text>`);
  };
  if (input.title) text(MARGIN, MARGIN + Math.round(fs * 1.25 * 0.8), input.title, 'start', Math.round(fs * 1.25), 'bold');
  input.rowLabels?.forEach((l, r) => text(L.left - MARGIN, L.at(r, 0).y + L.cellH / 2, l, 'end', fs));
  const inner = input.tileRowLabels ?? [];
  if (inner.length) {
    const tileH = tileH0 * scale;
    const y0 = L.at(0, 0).y + Math.floor((L.cellH - tileH) / 2);
    inner.forEach((l, r) => text(L.left - MARGIN, y0 + ((r + 0.5) * tileH) / inner.length, l, 'end', fs));
  }
  const gridBottom = L.at(rows - 1, 0).y + L.cellH;
  if (input.footer) {
    const fy = gridBottom + (input.colLabelsAt === 'bottom' ? Math.round(fs * 1.6) : 0) + Math.round(fs * 0.9);
    texts.push(`<text x="${MARGIN}" y="${fy}" font-family="${esc(FONT)}" font-size="${Math.round(fs * 0.85)}" fill="#555" text-anchor="start" dominant-baseline="central">${esc(input.footer)}</text>`);
  }
  input.colLabels?.forEach((l, c) => {
    const cx = L.at(0, c).x + L.cellW / 2;
    text(cx, input.colLabelsAt === 'bottom' ? gridBottom + Math.round(fs * 0.9) : L.top - Math.round(fs * 0.75), l, 'middle', fs);
  });
  if (texts.length) {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${texts.join('')}</svg>`;
    composites.push({ input: Buffer.from(svg), left: 0, top: 0 });
  }
  return sharp({ create: { width: L.width, height: L.height, channels: 3, background: '#ffffff' } })
    .composite(composites)
    .removeAlpha()
    .png({ compressionLevel: 9 })
    .toBuffer();
}

export interface TriptychInput {
  original: ImageInput;
  clean: ImageInput;
  perturbed: ImageInput;
  /** Captions under the three images (default "original", "clean", "perturbed"). */
  captions?: [string, string, string];
  title?: string;
  scale?: number;
  fontSize?: number;
}

/** original | clean | perturbed side by side with captions underneath, as one opaque PNG. */
export async function triptych(input: TriptychInput): Promise<Buffer> {
  return composeGrid({
    tiles: [[{ png: input.original }, { png: input.clean }, { png: input.perturbed }]],
    colLabels: input.captions ?? ['original', 'clean', 'perturbed'],
    colLabelsAt: 'bottom',
    title: input.title,
    scale: input.scale,
    fontSize: input.fontSize,
    gap: 8,
  });
}
