// Headless figure rendering for the study report and exports: a figure definition (figures/) →
// Vega spec → vector SVG (vega's renderer 'none') → PNG on an opaque white background (sharp).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';
import * as vega from 'vega';
import type { FigureDef } from '../../figures/types';
import { toVega } from '../../figures/vega';

export interface RenderOptions {
  /** SVG width in CSS px (default 648 = 6.75 in at 96 px/in). */
  width?: number;
  /** SVG height in CSS px (default: from the figure). */
  height?: number;
  /** PNG pixels per SVG px (default 150/96: 150 dpi at the SVG's physical size); PNG width = round(width × scale). */
  scale?: number;
}

export const DEFAULT_SCALE = 150 / 96;

export async function figureSvg(def: FigureDef, opts: Pick<RenderOptions, 'width' | 'height'> = {}): Promise<string> {
  const spec = toVega(def, { width: opts.width, height: opts.height }) as vega.Spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterizes an SVG at `scale` px per SVG px, flattened on white (no alpha channel). */
export async function svgToPng(svg: string, scale = DEFAULT_SCALE): Promise<Buffer> {
  const m = /<svg[^>]*\swidth="([\d.]+)"/.exec(svg);
  const svgWidth = m ? Number(m[1]) : NaN;
  let img = sharp(Buffer.from(svg), { density: 96 * scale }).flatten({ background: '#ffffff' });
  if (Number.isFinite(svgWidth)) {
    const target = Math.round(svgWidth * scale);
    const meta = await sharp(Buffer.from(svg), { density: 96 * scale }).metadata();
    if (meta.width !== target) img = img.resize({ width: target });
  }
  return img.removeAlpha().png({ compressionLevel: 9 }).toBuffer();
}

export async function renderFigure(def: FigureDef, opts: RenderOptions = {}): Promise<{ svg: string; png: Buffer }> {
  const svg = await figureSvg(def, opts);
  const png = await svgToPng(svg, opts.scale ?? DEFAULT_SCALE);
  return { svg, png };
}

/** Writes `dir/name.svg` and `dir/name.png`; returns both paths. */
export async function writeFigure(dir: string, name: string, def: FigureDef, opts: RenderOptions = {}): Promise<string[]> {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`figure name "${name}" must be letters, digits, '.', '_' or '-'`);
  await mkdir(dir, { recursive: true });
  const { svg, png } = await renderFigure(def, opts);
  const svgPath = join(dir, `${name}.svg`);
  const pngPath = join(dir, `${name}.png`);
  await writeFile(svgPath, svg);
  await writeFile(pngPath, png);
  return [svgPath, pngPath];
}
