// Headless figure rendering for the study report, the app's exports and `toklab export`: a figure
// definition (figures/) → Vega spec → vector SVG (vega's renderer 'none') → PNG on an opaque white
// background (sharp) and vector PDF (svg-to-pdfkit, DejaVu Sans embedded, text kept as text).
// Vega measures text with DejaVu Sans's advance widths (figures/style.ts) instead of its rough
// canvas-less estimate, so the layout computed in figures/vega.ts is the one drawn.
import { createHash } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import PDFDocument from 'pdfkit';
import SVGtoPDF from 'svg-to-pdfkit';
import sharp from 'sharp';
import * as vega from 'vega';
import { PRESETS, PX_PER_IN, textWidth, type PresetName } from '../../figures/style';
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

interface TextItem {
  fontSize?: number;
  fontWeight?: string | number;
  limit?: number;
}

/** Vega calls this for every text width (bounds, truncation): DejaVu Sans advances; a limited text is at most its limit. */
function measureText(item: TextItem, text: unknown): number {
  const s = text === null || text === undefined ? '' : String(text).trim();
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  const w = textWidth(s, item.fontSize ?? 11, bold);
  return item.limit !== undefined && item.limit > 0 && w > item.limit ? item.limit : w;
}
(vega as unknown as { textMetrics: { width: (item: TextItem, text: unknown) => number } }).textMetrics.width = measureText;

export async function figureSvg(def: FigureDef, opts: Pick<RenderOptions, 'width' | 'height'> = {}): Promise<string> {
  const spec = toVega(def, { width: opts.width, height: opts.height }) as vega.Spec;
  const view = new vega.View(vega.parse(spec), { renderer: 'none', logLevel: vega.Warn });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** The SVG's size in CSS px. */
export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*?\swidth="([\d.]+)"[^>]*?\sheight="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('the SVG has no width and height');
  return { width: Number(m[1]), height: Number(m[2]) };
}

/**
 * Rasterizes an SVG at `scale` px per SVG px, flattened on white (no alpha channel). `width` forces
 * the PNG's pixel width (a preset's inches × dpi); `dpi` is recorded in the PNG (pHYs); `text` is
 * written as tEXt / iTXt chunks (Title, Description, Software, …).
 */
export async function svgToPng(svg: string, scale = DEFAULT_SCALE, opts: { width?: number; dpi?: number; text?: Record<string, string> } = {}): Promise<Buffer> {
  const { width: svgWidth } = svgSize(svg);
  const target = opts.width ?? Math.round(svgWidth * scale);
  const density = 96 * (target / svgWidth);
  let img = sharp(Buffer.from(svg), { density }).flatten({ background: '#ffffff' });
  const meta = await sharp(Buffer.from(svg), { density }).metadata();
  if (meta.width !== target) img = img.resize({ width: target });
  if (opts.dpi) img = img.withDensity(opts.dpi);
  const png = await img.removeAlpha().png({ compressionLevel: 9 }).toBuffer();
  return opts.text ? pngWithText(png, opts.text) : png;
}

// ---------- PNG text chunks ----------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** Adds one text chunk per key after IHDR: tEXt when the text is Latin-1, iTXt (UTF-8) otherwise. */
export function pngWithText(png: Buffer, text: Record<string, string>): Buffer {
  if (png.readUInt32BE(12) !== 0x49484452) throw new Error('not a PNG: no IHDR chunk first');
  const ihdrEnd = 8 + 8 + png.readUInt32BE(8) + 4;
  const chunks = Object.entries(text).map(([key, value]) => {
    const k = key.replace(/[^\x20-\x7e]/g, '').slice(0, 79);
    if (/^[\x00-\xff]*$/.test(value)) return chunk('tEXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0]), Buffer.from(value, 'latin1')]));
    return chunk('iTXt', Buffer.concat([Buffer.from(k, 'latin1'), Buffer.from([0, 0, 0, 0, 0]), Buffer.from(value, 'utf8')]));
  });
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** The text chunks of a PNG (tEXt and iTXt), for tests and `toklab` users checking a file. */
export function pngText(png: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let p = 8;
  while (p + 8 <= png.length) {
    const len = png.readUInt32BE(p);
    const type = png.toString('latin1', p + 4, p + 8);
    const data = png.subarray(p + 8, p + 8 + len);
    if (type === 'tEXt') {
      const z = data.indexOf(0);
      out[data.toString('latin1', 0, z)] = data.toString('latin1', z + 1);
    } else if (type === 'iTXt') {
      const z = data.indexOf(0);
      let q = z + 3;
      q = data.indexOf(0, q) + 1; // language tag
      q = data.indexOf(0, q) + 1; // translated keyword
      out[data.toString('latin1', 0, z)] = data.toString('utf8', q);
    }
    if (type === 'IEND') break;
    p += 12 + len;
  }
  return out;
}

// ---------- PDF ----------

const requireHere = createRequire(import.meta.url);
let fontDir: string | null = null;
/** DejaVu Sans from the dejavu-fonts-ttf package: the same glyphs on every machine. */
function fonts(): { regular: string; bold: string } {
  fontDir ??= join(dirname(requireHere.resolve('dejavu-fonts-ttf/package.json')), 'ttf');
  return { regular: join(fontDir, 'DejaVuSans.ttf'), bold: join(fontDir, 'DejaVuSans-Bold.ttf') };
}

export interface PdfInfo {
  Title?: string;
  Author?: string;
  Subject?: string;
  Keywords?: string;
  Creator?: string;
}

/**
 * The SVG drawn into a one-page PDF of the same physical size (px at 96/in → pt at 72/in): paths as
 * PDF paths, text as text in embedded DejaVu Sans. No creation date, so the same figure gives the same bytes.
 */
export async function svgToPdf(svg: string, info: PdfInfo = {}): Promise<Buffer> {
  const { width, height } = svgSize(svg);
  const w = (width * 72) / PX_PER_IN;
  const h = (height * 72) / PX_PER_IN;
  const given = Object.fromEntries(Object.entries(info).filter(([, v]) => typeof v === 'string' && v !== '')) as PdfInfo;
  const doc = new PDFDocument({ size: [w, h], margin: 0, autoFirstPage: true, info: { Producer: 'toklab (PDFKit, svg-to-pdfkit)', ...given } });
  // no creation date, and a file identifier from the content instead of the clock: the same figure gives the same bytes
  // (PDF 1.3 writes no XMP packet, but PDFKit still builds it from the date: skip that)
  delete (doc.info as { CreationDate?: Date }).CreationDate;
  (doc as unknown as { _addInfo: () => void })._addInfo = () => undefined;
  (doc as unknown as { _id: Buffer })._id = createHash('md5').update(svg).update(JSON.stringify(given)).digest();
  const f = fonts();
  doc.registerFont('DejaVuSans', f.regular);
  doc.registerFont('DejaVuSans-Bold', f.bold);
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', () => resolve());
    doc.on('error', reject);
  });
  SVGtoPDF(doc, svg, 0, 0, {
    width: w,
    height: h,
    assumePt: false,
    fontCallback: (_family: string, bold: boolean) => (bold ? 'DejaVuSans-Bold' : 'DejaVuSans'),
    warningCallback: () => undefined,
  });
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

// ---------- presets ----------

export interface ExportRenderOptions {
  preset: PresetName;
  /** PNG resolution; the PNG is preset inches × dpi wide. */
  dpi: number;
  formats: ('png' | 'svg' | 'pdf')[];
  /** Title, Description (the provenance), Software: into the PNG's text chunks and the PDF's Info dictionary. */
  meta?: { title?: string; description?: string; software?: string };
}

/** Renders a figure at a paper preset into the requested formats. */
export async function renderExport(def: FigureDef, o: ExportRenderOptions): Promise<{ svg?: string; png?: Buffer; pdf?: Buffer; width: number; height: number }> {
  const preset = PRESETS[o.preset];
  const svg = await figureSvg(def, { width: preset.width });
  const size = svgSize(svg);
  const out: { svg?: string; png?: Buffer; pdf?: Buffer; width: number; height: number } = { ...size };
  const m = o.meta ?? {};
  if (o.formats.includes('svg')) out.svg = svg;
  if (o.formats.includes('png')) {
    const text: Record<string, string> = {};
    if (m.title) text.Title = m.title;
    if (m.software) text.Software = m.software;
    if (m.description) text.Description = m.description;
    out.png = await svgToPng(svg, 1, { width: Math.round(preset.widthIn * o.dpi), dpi: o.dpi, text });
  }
  if (o.formats.includes('pdf')) out.pdf = await svgToPdf(svg, { Title: m.title, Subject: m.description, Creator: m.software });
  return out;
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
